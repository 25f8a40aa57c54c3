"""Alignment geometry: similarity fits, templates, crop warps and their inverses."""

from __future__ import annotations

import numpy as np
import pytest

from ghostlive.faces import FaceAnalyzer
from ghostlive.ops.align import (
    ARCFACE_112,
    GHOST_TEMPLATES_112,
    estimate_norm,
    invert_affine,
    norm_crop,
    similarity_transform,
    template,
    transform_points,
)
from ghostlive.ops.filters import warp_affine


def test_similarity_recovers_a_known_transform() -> None:
    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 200, (5, 2))
    angle, scale, t = 0.4, 1.7, np.array([12.0, -30.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = pts @ rot.T + t
    m = similarity_transform(pts, moved)
    assert np.allclose(m[:, :2], rot, atol=1e-9) and np.allclose(m[:, 2], t, atol=1e-9)


def test_similarity_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="matching N×2"):
        similarity_transform(np.zeros((5, 2)), np.zeros((4, 2)))


def test_templates() -> None:
    assert np.allclose(template("arcface", 224), ARCFACE_112 * 2)
    assert np.allclose(template("ghost", 224)[0], [79.46, 102.276])
    assert np.allclose(template("inswapper", 128)[0], ARCFACE_112[0] + [8, 0], atol=1e-4)
    assert GHOST_TEMPLATES_112.shape == (5, 5, 2)
    with pytest.raises(ValueError):
        template("nope", 112)


def test_ghost_alignment_picks_frontal_for_a_frontal_face(grace: np.ndarray, analyzer: FaceAnalyzer) -> None:
    kp = analyzer.analyze(grace)[0].keypoints5
    m = estimate_norm(kp, 224, "ghost")
    frontal = similarity_transform(kp, GHOST_TEMPLATES_112[2] * 2)
    assert np.allclose(m, frontal)


@pytest.mark.parametrize(("kind", "size"), [("arcface", 112), ("ghost", 224), ("inswapper", 128)])
def test_alignment_round_trip_within_a_pixel(
    kind: str, size: int, astronaut: np.ndarray, analyzer: FaceAnalyzer
) -> None:
    kp = analyzer.analyze(astronaut)[0].keypoints5
    crop, m = norm_crop(astronaut, kp, size, kind)
    assert crop.shape == (size, size, 3)
    aligned = transform_points(kp, m)
    targets = GHOST_TEMPLATES_112 * size / 112 if kind == "ghost" else template(kind, size)[None]
    assert min(np.abs(aligned - t).max() for t in targets) < size * 0.08
    back = transform_points(aligned, invert_affine(m))
    assert np.abs(back - kp).max() < 1e-3
    # pixels: warping the crop back onto the frame reproduces the face region to within interpolation error
    restored = warp_affine(crop, invert_affine(m), (astronaut.shape[1], astronaut.shape[0]))
    x0, y0 = np.floor(kp.min(0)).astype(int)
    x1, y1 = np.ceil(kp.max(0)).astype(int)
    diff = np.abs(restored[y0:y1, x0:x1].astype(int) - astronaut[y0:y1, x0:x1].astype(int))
    assert diff.mean() < (12 if size < 200 else 6)
