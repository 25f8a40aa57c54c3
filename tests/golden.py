"""The fill rule of the golden references (tests/data/golden/README.md) and loaders for the golden data."""

from __future__ import annotations

import json
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).parent / "data" / "golden"


def fill_value(key: str, shape: tuple[int, ...]) -> np.ndarray:
    """The deterministic value of one float tensor of a state_dict."""
    n = np.random.RandomState(zlib.crc32(key.encode("utf-8"))).standard_normal(shape)
    leaf = key.rsplit(".", 1)[-1]
    if leaf == "running_var":
        v = 1 + 0.1 * np.abs(n)
    elif leaf == "running_mean":
        v = 0.05 * n
    elif leaf == "bias":
        v = 0.02 * n
    elif len(shape) == 1:
        v = 1 + 0.1 * n
    else:
        v = n / np.sqrt(np.prod(shape[1:]))
    return v.astype(np.float32)


def filled_state_dict(model):
    import torch

    out = {}
    for key, t in model.state_dict().items():
        if not t.is_floating_point():
            out[key] = torch.zeros_like(t)
        else:
            out[key] = torch.from_numpy(fill_value(key, tuple(t.shape)))
    return out


def fill(model):
    model.load_state_dict(filled_state_dict(model))
    return model.eval()


@lru_cache(maxsize=1)
def manifests() -> dict[str, list]:
    return json.loads((GOLDEN / "ghost_state_dict_manifests.json").read_text())


def aei_golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN / "aei_net_golden.npz") as z:
        return {k: z[k] for k in z.files}


def arcface_golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN / "arcface_golden.npz") as z:
        return {k: z[k] for k in z.files}
