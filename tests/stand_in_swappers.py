"""Stand-ins for GHOST and inswapper (their weights cannot be fetched here): ONNX graphs with the real models'
signatures (tests/onnx_graphs.py) that mix colour channels and add an identity-dependent offset, so a wrong
colour order, scale, normalisation or identity vector changes their output. Shared by the parity tests and
``tools/compare_outputs.py``."""

from __future__ import annotations

import numpy as np

from ghostlive.engines.ort import OrtRunner
from ghostlive.models.ghost import GhostArcFace, GhostGenerator
from ghostlive.models.insightface import InsightArcFace, InSwapper
from ghostlive.models.landmark106 import Landmark106
from ghostlive.swappers.neural import GhostSwapper, InSwapperSwapper

from . import onnx_graphs

MIX = np.array([[0.7, 0.2, 0.05], [0.1, 0.6, 0.25], [0.3, -0.1, 0.75]])
RNG = np.random.default_rng(18)
ARC_W = RNG.standard_normal((3, 512)).astype(np.float32)
GEN_V = RNG.normal(0.0, 0.02, (512, 3)).astype(np.float32)
SWAP_V = RNG.normal(0.0, 0.1, (512, 3)).astype(np.float32)
EMAP = RNG.standard_normal((512, 512)).astype(np.float32)
_ANGLE = np.linspace(0, 2 * np.pi, 106, endpoint=False)
LM_PLANTED = np.stack([0.45 * np.cos(_ANGLE), 0.1 + 0.55 * np.sin(_ANGLE)], 1).astype(np.float32)
LM_SHIFT = 0.0005  # the 106 points move by 0.0005 · mean red level (0–255): ≈ 10 crop px, colour order matters

GRAPHS = {
    "arc": onnx_graphs.arcface(ARC_W),
    "gen": onnx_graphs.channel_mixer(("target", "source", "output"), 256, MIX, GEN_V, tanh=True, emap=None),
    "lm": onnx_graphs.landmark106(LM_PLANTED, shift=LM_SHIFT),
    "swap": onnx_graphs.channel_mixer(("target", "source", "output"), 128, MIX, SWAP_V, tanh=False, emap=EMAP),
}


def ghost_stand_in() -> GhostSwapper:
    """GHOST-2's pipeline (ArcFace, generator, 106-point landmarks for its mask) on the stand-in graphs."""
    return GhostSwapper(
        "ghost-2",
        GhostGenerator(OrtRunner(GRAPHS["gen"])),
        GhostArcFace(OrtRunner(GRAPHS["arc"])),
        Landmark106(OrtRunner(GRAPHS["lm"])),
    )


def inswapper_stand_in() -> InSwapperSwapper:
    """inswapper's pipeline (w600k ArcFace, emap, 128 px generator) on the stand-in graphs."""
    return InSwapperSwapper(InSwapper(OrtRunner(GRAPHS["swap"]), EMAP), InsightArcFace(OrtRunner(GRAPHS["arc"])))
