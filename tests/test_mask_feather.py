"""Mask softness over its whole accepted range: a larger ``--feather`` or ``--mask-feather`` gives a softer edge
around the same region, never an empty swap (the outline pulled in by 3σ past its own middle) nor a kept
region that floods the face (a mesh region grown by 2σ)."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.engines import OrtRunner
from ghostlive.faces import FaceAnalyzer
from ghostlive.masking.mesh import BoxMask, RegionMask
from ghostlive.masking.neural import ParserMask
from ghostlive.models.facemesh import topology
from ghostlive.models.masks import FaceParser
from ghostlive.pipeline.chain import FrameProcessor, render_face
from ghostlive.settings import setting
from ghostlive.swappers.classic import ClassicOptions, ClassicSwapper
from tests import mask_graphs
from tests.conftest import largest, sample

FULL = (0, 0, 512, 512)
SIGMAS = (0.0, 0.01, 0.03, 0.1, 0.3, 0.6, 1.0)
"""``--mask-feather`` values across its accepted range (0–1)."""


@pytest.fixture(scope="module")
def face(analyzer: FaceAnalyzer, astronaut: np.ndarray):
    return largest(analyzer.analyze(astronaut))


def feathers() -> list[float]:
    spec = setting("feather", "swap")
    assert spec.lo is not None and spec.hi is not None
    return [round(float(v), 4) for v in np.linspace(spec.lo, spec.hi, 9)[1:]] + [setting("feather", "gui").hi]


def test_feather_softens_the_swap_edge_over_its_whole_range(analyzer, astronaut, grace, face) -> None:
    steepest, halves = [], []
    for value in sorted(set(feathers())):
        pipe = FrameProcessor(analyzer, ClassicSwapper(ClassicOptions(feather=float(value))))
        pipe.set_source(grace)
        paste = render_face(pipe.swapper, astronaut, face, pipe.source)
        assert paste.mask.max() > 0.99, value  # the middle of the face is swapped in full (was 0 from 0.15 on)
        halves.append(int((paste.mask > 0.5).sum()))
        gy, gx = np.gradient(paste.mask.astype(np.float64))
        steepest.append(float(np.percentile(np.hypot(gx, gy)[paste.mask > 0], 99)))
    assert min(halves) > 0.3 * max(halves)  # a visible swap, not a faint ghost
    assert all(a > b for a, b in itertools.pairwise(steepest)), steepest  # softer as it rises


def test_the_largest_feather_still_swaps_a_photo(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.png"
    hi = setting("feather", "swap").hi
    args = ["swap", "--source", str(sample("grace_hopper.jpg")), "--target", str(sample("astronaut.png"))]
    assert main([*args, "-o", str(out), "-q", "--feather", str(hi)]) == 0
    changed = np.abs(cv2.imread(str(out)).astype(int) - cv2.imread(str(sample("astronaut.png"))).astype(int))
    assert (changed.max(2) > 10).sum() > 1000  # was 0: the output was the target


@pytest.mark.parametrize("region", ["mouth", "lips", "eyes"])
def test_mesh_region_softness_is_monotonic_and_local(face, astronaut, region: str) -> None:
    topo = topology()
    loops = [face.landmarks[topo.regions[r]] for r in {"eyes": ("right_eye", "left_eye")}.get(region, (region,))]
    pts = np.concatenate(loops)
    reach = 1.5 * np.ptp(pts, axis=0).max()  # a region's edge stays within this of it
    ys, xs = np.mgrid[0:512, 0:512]
    dist = np.min([np.hypot(xs - x, ys - y) for x, y in pts], axis=0)
    kept = []
    for sigma in SIGMAS:
        m = RegionMask(region, sigma)(astronaut, face, FULL)
        kept.append(float((1.0 - m).sum()))
        assert np.all(m[dist > reach] == 1.0), (region, sigma)  # the rest of the face is swapped as before
    assert all(a < b for a, b in itertools.pairwise(kept)), kept  # strictly softer, never back


def test_box_and_parser_softness_keep_a_swap(face, astronaut) -> None:
    parser = FaceParser(OrtRunner(mask_graphs.parser({1: 0, 17: 2})))  # skin = red-dominant pixels
    for make in (lambda s: BoxMask(feather=s), lambda s: ParserMask(parser, ("skin",), feather=s)):
        shown = []
        for sigma in SIGMAS:
            m = make(sigma)(astronaut, face, FULL)
            assert m.max() > 0.99, sigma  # was 0 from box=0.3 on: nothing swapped
            shown.append(float(m.sum()))
        assert all(a >= b for a, b in itertools.pairwise(shown)), shown
        assert shown[-1] > 0.3 * shown[0]
