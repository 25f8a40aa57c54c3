"""The mask and enhancer stages on the GPU frame path, checked on a CPU with the stand-in cupy (device arrays
that refuse implicit host/device moves; see fake_cupy): no fallback to the CPU, and the same frame as the
portable numpy run."""

from __future__ import annotations

import numpy as np

from ghostlive.engines import OrtRunner
from ghostlive.enhance import EnhancedSwapper
from ghostlive.masking.combine import MaskedSwapper
from ghostlive.masking.mesh import BoxMask, RegionMask
from ghostlive.masking.neural import OcclusionMask, ParserMask
from ghostlive.models.masks import FaceParser, Occluder
from ghostlive.models.registry import RESTORERS
from ghostlive.models.restorers import Restorer
from ghostlive.pipeline.chain import FrameProcessor
from ghostlive.pipeline.frame import FrameDevice
from ghostlive.swappers.classic import ClassicSwapper
from ghostlive.xp import portable
from tests import mask_graphs, restorer_graphs


def staged() -> MaskedSwapper:
    spec = RESTORERS["codeformer"]
    restorer = Restorer(OrtRunner(restorer_graphs.restorer(spec.size, -np.eye(3), weighted=True)), spec, 0.7)
    providers = [
        RegionMask("mouth"),
        BoxMask((0.1, 0.1, -0.1, 0.1)),
        OcclusionMask(Occluder(OrtRunner(mask_graphs.occluder((2.0, -3.0, 1.0), 1.0)))),
        ParserMask(FaceParser(OrtRunner(mask_graphs.parser({1: 0, 10: 1, 17: 2}))), ("skin", "nose")),
    ]
    return MaskedSwapper(EnhancedSwapper(ClassicSwapper(), restorer, 0.6), providers)


def test_stages_on_a_stand_in_gpu_equal_portable(astronaut, grace, analyzer, monkeypatch) -> None:
    from . import fake_cupy

    with portable():
        expected = FrameProcessor(analyzer, staged())
        expected.set_source(grace)
        want = expected.process(astronaut).frame
    fake_cupy.install(monkeypatch)
    device = FrameDevice("cuda")
    pipe = FrameProcessor(analyzer, staged(), device=device)
    with portable():
        pipe.set_source(grace)
    got = pipe.process(astronaut)
    assert device.name == "cuda" and device.fell_back is None
    assert type(got.frame) is np.ndarray
    assert np.abs(got.frame.astype(int) - want.astype(int)).max() <= 1
    assert not np.array_equal(want, astronaut)
