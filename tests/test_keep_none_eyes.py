"""``--keep none`` on the classic swapper: both eyes come from the same person (the source's only when both of its
eyes are wide open and both of the target's open), never one eye of each; a source eye narrowed by a smile (Grace
Hopper's portrait) is not taken."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ghostlive.faces import FaceAnalyzer
from ghostlive.models.facemesh import topology
from ghostlive.ops.openings import SOURCE_OPEN, lid_gap
from ghostlive.pairs import MEGAMIND_FRAMES, video_frames
from ghostlive.swappers.classic import ClassicOptions, ClassicSwapper
from ghostlive.types import Frame

from .conftest import DATA, largest

SIDES = ("right", "left")


@pytest.fixture(scope="module")
def megamind_front() -> Frame:
    return video_frames(DATA / "megamind_3s.mp4", {"f": MEGAMIND_FRAMES["megamind_front"]})["f"]


def _eye_sources(analyzer: FaceAnalyzer, source: Frame, target: Frame) -> dict[str, str]:
    """Per target eye, whose eye the ``--keep none`` result shows there: "target" where the eye's core equals the
    default swap's (which keeps the target's eyes), "source" where it differs and is nearer the source's eye colour."""
    topo = topology()
    face = largest(analyzer.analyze(target))
    src_face = largest(analyzer.analyze(source))
    renders = {}
    for keep in (("mouth",), ()):
        swapper = ClassicSwapper(ClassicOptions(keep=keep))
        renders[keep] = swapper.render(target, face, swapper.prepare_source(source, src_face))
    default, none = renders[("mouth",)], renders[()]
    assert default.roi == none.roi
    x0, y0 = none.roi[:2]
    out = {}
    for side in SIDES:
        loop = topo.regions[f"{side}_eye"]
        core = np.zeros(target.shape[:2], np.uint8)
        cv2.fillPoly(core, [np.rint(face.landmarks[loop]).astype(np.int32)], 1)
        ys, xs = np.nonzero(cv2.erode(core, np.ones((3, 3), np.uint8)))
        assert len(ys) > 30
        ours, kept = none.face[ys - y0, xs - x0], default.face[ys - y0, xs - x0]
        if np.abs(ours - kept).mean() < 1.0:
            out[side] = "target"
            continue
        s_core = np.zeros(source.shape[:2], np.uint8)
        cv2.fillPoly(s_core, [np.rint(src_face.landmarks[loop]).astype(np.int32)], 1)
        theirs = source[s_core > 0].astype(np.float32)
        near = np.linalg.norm(np.median(ours, 0) - np.median(theirs, 0)) < np.linalg.norm(
            np.median(ours, 0) - np.median(kept, 0)
        )
        out[side] = "source" if near else "neither"
    return out


def test_a_narrowed_source_eye_keeps_both_target_eyes(analyzer: FaceAnalyzer, grace, astronaut) -> None:
    """Grace Hopper's eyes are narrowed by her smile (lid gap 0.26 and 0.27 of the eye's width; inside the outline
    lids, iris and lashes, no white): onto the astronaut both eyes stay the astronaut's (it was her left eye only,
    dark red)."""
    grace_lm = largest(analyzer.analyze(grace)).landmarks
    astro_lm = largest(analyzer.analyze(astronaut)).landmarks
    assert max(lid_gap(grace_lm, s) for s in SIDES) < SOURCE_OPEN <= min(lid_gap(astro_lm, s) for s in SIDES)
    assert _eye_sources(analyzer, grace, astronaut) == {"right": "target", "left": "target"}


def test_a_target_eye_not_fully_open_keeps_both_target_eyes(analyzer: FaceAnalyzer, grace, astronaut) -> None:
    """The astronaut onto Grace Hopper, whose right eye is a little less than fully open: both eyes stay Grace's
    (it was one blue-green eye of the astronaut's beside Grace's brown one)."""
    assert _eye_sources(analyzer, astronaut, grace) == {"right": "target", "left": "target"}


def test_wide_open_eyes_onto_open_eyes_take_both_source_eyes(analyzer: FaceAnalyzer, astronaut, megamind_front) -> None:
    """The astronaut's eyes onto Megamind's front frame (both wide open, facing the camera): both are hers."""
    assert _eye_sources(analyzer, astronaut, megamind_front) == {"right": "source", "left": "source"}
