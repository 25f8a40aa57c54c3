"""A model folder for the int8 tests (tests/test_int8.py, tests/test_gui_optimise.py). The released GHOST weights
and ArcFace cannot be downloaded here, so it holds stand-ins, named as such: an untrained GHOST-2 generator at
1/16 width (the real graph's layers and signature, exported by the project's own exporter) and a stand-in ArcFace
graph with the real signature (tests/onnx_graphs.py). Needs torch (the exporter)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ghostlive.hub import ModelStore

from .onnx_graphs import arcface


def stand_in_generator(store: ModelStore, filename: str = "ghost-2.onnx") -> Path:
    """The untrained 1/16-width GHOST-2 generator exported into ``store`` as ``filename``."""
    import torch

    from ghostlive.export.aei_net import AEINet
    from ghostlive.export.onnx import export_generator

    store.staging.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    gen = AEINet(2, width=0.0625).eval()  # untrained stand-in for the released ghost-2
    return store.add_file(export_generator(gen, store.staging / "g.onnx", name="ghost-2"), filename, "test stand-in")


def add_stand_in_arcface(store: ModelStore) -> None:
    """A stand-in for ghost-arcface.onnx: the real model's signature, built with onnx.helper."""
    store.staging.mkdir(parents=True, exist_ok=True)
    stand_in = store.staging / "a.onnx"
    stand_in.write_bytes(arcface(np.random.default_rng(0).standard_normal((3, 512))))
    store.add_file(stand_in, "ghost-arcface.onnx", "test stand-in")


def stand_in_store(root: Path, with_arcface: bool = True) -> ModelStore:
    """A model folder at ``root`` with the stand-in ghost-2 and (unless told otherwise) the stand-in ArcFace."""
    store = ModelStore(root)
    stand_in_generator(store)
    if with_arcface:
        add_stand_in_arcface(store)
    return store
