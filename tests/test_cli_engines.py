"""Backend refusals that say what to run: TensorRT missing names its install command (``engines build`` before it
lists any model, ``--backend tensorrt`` when the model opens), and a refused int8 names the model to optimise."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.engines.int8 import Int8Store
from ghostlive.engines.registry import open_runner
from ghostlive.errors import BackendUnavailableError

onnx = pytest.importorskip("onnx")
from . import onnx_graphs  # noqa: E402

no_tensorrt = pytest.mark.skipif(importlib.util.find_spec("tensorrt") is not None, reason="TensorRT is installed")
HINT = "TensorRT is not installed (No module named 'tensorrt'); install it: pip install tensorrt-cu12"


def stand_in_scrfd(path: Path) -> Path:
    """A stand-in SCRFD graph with the real signature (``models import`` checks it)."""
    empty = {s: tuple(np.zeros(((640 // s) ** 2 * 2, w), np.float32) for w in (1, 4, 10)) for s in (8, 16, 32)}
    path.write_bytes(onnx_graphs.scrfd(empty))
    return path


@no_tensorrt
def test_engines_build_says_how_to_install_tensorrt_before_the_list(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    src = stand_in_scrfd(tmp_path / "det.onnx")
    assert main(["models", "import", str(src), "--as", "scrfd_10g_bnkps.onnx"]) == 0
    capsys.readouterr()
    assert main(["engines", "build"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and HINT in err  # no "[1/1] scrfd_10g_bnkps.onnx (fp16)" before it


@no_tensorrt
def test_backend_tensorrt_says_how_to_install_it(tmp_path: Path) -> None:
    model = stand_in_scrfd(tmp_path / "det.onnx")
    with pytest.raises(BackendUnavailableError) as err:
        open_runner(model, prefer=["tensorrt"])
    assert HINT in str(err.value)


@pytest.mark.parametrize(("filename", "name"), [("ghost-2.onnx", "ghost-2"), ("anna.onnx", "anna")])
def test_refused_int8_names_the_model_to_optimise(tmp_path: Path, filename: str, name: str) -> None:
    model = tmp_path / filename
    model.write_bytes(onnx_graphs.arcface(np.ones((3, 512))))
    with pytest.raises(BackendUnavailableError) as err:
        Int8Store(tmp_path / "engines").choose(model, "1.20.0", "int8")
    assert str(err.value) == (
        f"int8 for {filename} is refused: it was not measured here; run: ghostlive models optimise {name} (or use fp32)"
    )
