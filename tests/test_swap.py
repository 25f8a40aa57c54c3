"""The classic swapper on real portraits."""

from __future__ import annotations

import numpy as np
import pytest

from ghostlive.errors import ConfigError, NoFaceError
from ghostlive.faces import FaceAnalyzer, TargetSelection
from ghostlive.models.facemesh import topology
from ghostlive.ops.mesh import piecewise_affine, points_roi
from ghostlive.pipeline import FrameProcessor
from ghostlive.swappers.classic import ClassicOptions, ClassicSwapper

from .identity import distance


@pytest.fixture(scope="module")
def swapped(analyzer: FaceAnalyzer, grace: np.ndarray, astronaut: np.ndarray):
    pipe = FrameProcessor(analyzer, ClassicSwapper())
    pipe.set_source(grace)
    target = analyzer.analyze(astronaut)[0]
    paste = pipe.swapper.render(astronaut, target, pipe.source)
    return pipe.process(astronaut), paste


def test_swap_changes_face_and_nothing_outside_the_mask(swapped, astronaut: np.ndarray) -> None:
    result, paste = swapped
    out = result.frame
    assert out.shape == astronaut.shape and out.dtype == np.uint8
    full_mask = np.zeros(astronaut.shape[:2], np.float32)
    x0, y0, x1, y1 = paste.roi
    full_mask[y0:y1, x0:x1] = paste.mask
    outside = full_mask == 0
    assert np.array_equal(out[outside], astronaut[outside])
    inside = full_mask > 0.9
    assert inside.sum() > 3000
    assert np.abs(out[inside].astype(int) - astronaut[inside].astype(int)).mean() > 8


def test_swapped_face_is_still_a_face(swapped, analyzer: FaceAnalyzer) -> None:
    faces = analyzer.analyze(swapped[0].frame)
    assert len(faces) == 1 and faces[0].presence > 0.9


def test_identity_moves_toward_the_source(swapped, grace: np.ndarray, astronaut: np.ndarray) -> None:
    out = swapped[0].frame
    before = distance(astronaut, grace)
    after = distance(out, grace)
    assert after < before - 0.1
    assert after < distance(out, astronaut)


def test_inner_mouth_is_kept(analyzer: FaceAnalyzer, grace: np.ndarray, astronaut: np.ndarray) -> None:
    swapper = ClassicSwapper(ClassicOptions(keep=("mouth",)))
    target = analyzer.analyze(astronaut)[0]
    paste = swapper.render(astronaut, target, swapper.prepare_source(grace, analyzer.analyze(grace)[0]))
    mouth = target.landmarks[topology().regions["mouth"]]
    cx, cy = np.rint(mouth.mean(0)).astype(int)
    assert paste.mask[cy - paste.roi[1], cx - paste.roi[0]] == 0.0
    source = swapper.prepare_source(grace, analyzer.analyze(grace)[0])
    none = ClassicSwapper(ClassicOptions(keep=())).render(astronaut, target, source)
    assert none.mask[cy - none.roi[1], cx - none.roi[0]] > 0.5


def test_blend_amount_scales_the_change(analyzer: FaceAnalyzer, grace: np.ndarray, astronaut: np.ndarray) -> None:
    diffs = []
    for amount in (0.0, 0.5, 1.0):
        pipe = FrameProcessor(analyzer, ClassicSwapper(ClassicOptions(blend=amount)))
        pipe.set_source(grace)
        diffs.append(np.abs(pipe.process(astronaut).frame.astype(int) - astronaut.astype(int)).sum())
    assert diffs[0] == 0 and diffs[0] < diffs[1] < diffs[2]


def test_colour_transfer_takes_the_target_skin_tone(analyzer: FaceAnalyzer, grace, astronaut) -> None:
    target = analyzer.analyze(astronaut)[0]
    src = analyzer.analyze(grace)[0]
    means = {}
    for mode in ("none", "lowfreq"):
        swapper = ClassicSwapper(ClassicOptions(color=mode))  # type: ignore[arg-type]
        p = swapper.render(astronaut, target, swapper.prepare_source(grace, src))
        inside = p.mask > 0.9
        means[mode] = p.face[inside].mean(0)
    x0, y0, x1, y1 = p.roi
    skin = astronaut[y0:y1, x0:x1][inside].astype(float).mean(0)
    assert np.linalg.norm(means["lowfreq"] - skin) < 0.5 * np.linalg.norm(means["none"] - skin)


def test_piecewise_affine_with_identical_meshes_is_identity(analyzer: FaceAnalyzer, grace: np.ndarray) -> None:
    face = analyzer.analyze(grace)[0]
    roi = points_roi(face.landmarks, grace.shape)
    warped, covered = piecewise_affine(
        grace.astype(np.float32), face.landmarks, face.landmarks, topology().triangles, roi
    )
    x0, y0, x1, y1 = roi
    inside = covered > 0
    assert inside.mean() > 0.5
    assert np.abs(warped[inside] - grace[y0:y1, x0:x1][inside]).max() < 1e-3


def test_options_are_validated() -> None:
    with pytest.raises(ConfigError, match="blend"):
        ClassicOptions(blend=1.5)
    with pytest.raises(ConfigError, match="keep"):
        ClassicOptions(keep=("nose",))
    with pytest.raises(ConfigError, match="color"):
        ClassicOptions(color="sepia")  # type: ignore[arg-type]


def test_selection_modes(analyzer: FaceAnalyzer, group, grace: np.ndarray) -> None:
    canvas, spans = group
    pipe = FrameProcessor(analyzer, ClassicSwapper())
    pipe.set_source(grace)
    changed = {}
    for mode, index in (("all", 0), ("largest", 0), ("index", 2), ("index", 7)):
        pipe.selection = TargetSelection(mode, index)  # type: ignore[arg-type]
        out = pipe.process(canvas).frame
        changed[(mode, index)] = [bool((out[:, a:b] != canvas[:, a:b]).any()) for a, b in spans]
    assert changed[("all", 0)] == [True, True, True]
    assert sum(changed[("largest", 0)]) == 1 and changed[("largest", 0)][1]  # Grace's tile has the largest face
    assert changed[("index", 2)] == [False, False, True]
    assert changed[("index", 7)] == [False, False, False]


def test_reference_selection_picks_the_right_person(analyzer: FaceAnalyzer, group, grace, astronaut) -> None:
    canvas, spans = group
    pipe = FrameProcessor(analyzer, ClassicSwapper())
    pipe.set_source(grace)
    reference = np.ascontiguousarray(astronaut[:, ::-1])  # another view of the astronaut: mirrored
    ref = pipe.embedder.embed(reference, analyzer.analyze(reference)[0])
    pipe.selection = TargetSelection("reference", references=(ref,))
    result = pipe.process(canvas)
    changed = [bool((result.frame[:, a:b] != canvas[:, a:b]).any()) for a, b in spans]
    assert changed == [True, False, False]
    assert result.best_similarity[0] > pipe.embedder.default_threshold


def test_source_without_a_face(analyzer: FaceAnalyzer, astronaut: np.ndarray) -> None:
    pipe = FrameProcessor(analyzer, ClassicSwapper())
    with pytest.raises(NoFaceError, match=r"sky\.png: no face found"):
        pipe.set_source(np.ascontiguousarray(astronaut[300:, 300:]), label="sky.png")
