"""Shared pieces of the training tests: a tiny dataset prepared from the repository's real faces and a recipe
of reduced width (same keys as the released networks, ~1/16 of the channels) that trains fast on a CPU."""

from __future__ import annotations

from pathlib import Path

import torch

from tests.conftest import DATA, sample

TINY_TOML = """\
width = 0.0625
batch_size = 2
num_workers = 0
log_every = 1
preview_every = 0
checkpoint_every = 0
[[stages]]
name = "base"
steps = 2
weights = { adv = 1.0, attr = 10.0, id = 20.0, rec = 10.0, eyes = 0.0 }
[[stages]]
name = "eyes"
steps = 100
scheduler = "step"
step_size = 50
weights = { adv = 1.0, attr = 10.0, id = 20.0, rec = 10.0, eyes = 800.0 }
"""

SOURCES = [str(sample("astronaut.png")), str(sample("grace_hopper.jpg")), str(DATA / "megamind_3s.mp4")]


def prepare(root: Path) -> Path:
    from ghostlive.training.prepare import PrepareOptions, Preparer

    Preparer(root, PrepareOptions(every=15)).run(SOURCES)
    return root


def tiny_config(folder: Path, batch_size: int = 2) -> Path:
    path = folder / "tiny.toml"
    path.write_text(TINY_TOML.replace("batch_size = 2", f"batch_size = {batch_size}"))
    return path


def batch_of(data, keys: list[tuple[int, int]]) -> dict[str, torch.Tensor]:
    items = [data[k] for k in keys]
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}
