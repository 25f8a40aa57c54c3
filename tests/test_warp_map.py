"""The mesh warp's per-triangle affines (ghostlive/ops/mesh.py) against OpenCV's, on real face meshes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ghostlive.faces import FaceAnalyzer, asset_path
from ghostlive.media.image import read_image
from ghostlive.models.facemesh import topology
from ghostlive.ops.mesh import triangle_affines


@pytest.fixture(scope="module")
def meshes() -> tuple[np.ndarray, np.ndarray]:
    analyzer = FaceAnalyzer(tile_levels=0)
    a = analyzer.analyze(read_image(asset_path("samples/astronaut.png")).bgr)[0].landmarks
    b = analyzer.analyze(read_image(asset_path("samples/grace_hopper.jpg")).bgr)[0].landmarks
    return a, b


def _opencv_affines(dst: np.ndarray, src: np.ndarray, tris: np.ndarray, src_tris: np.ndarray) -> np.ndarray:
    return np.stack([cv2.getAffineTransform(dst[t].astype(np.float32), src[s].astype(np.float32)) for t, s in
                     zip(tris, src_tris, strict=True)])  # fmt: skip


def test_affines_match_opencv_on_real_meshes(meshes) -> None:
    """Each destination triangle maps onto its source triangle (the same one, or another per row such as its
    mirror image): the closed form agrees with OpenCV's solver, and the vertices land within 1e-3 px."""
    dst, src = meshes
    tris = topology().triangles
    for src_tris in (tris, tris[::-1]):
        got = triangle_affines(dst, src, tris, src_tris)
        want = _opencv_affines(dst, src, tris, src_tris)
        assert got.shape == (len(tris), 2, 3)
        scale = np.abs(want).max(axis=(1, 2), keepdims=True)
        assert np.abs(got - want).max() / scale.max() < 1e-4
        corners = np.concatenate([dst[tris], np.ones((len(tris), 3, 1))], axis=2)  # T×3×3
        landed = np.einsum("tij,tkj->tki", got, corners)
        assert np.abs(landed - src[src_tris]).max() < 1e-3


def test_degenerate_triangles_get_a_finite_least_squares_map(meshes) -> None:
    dst, src = meshes
    tris = topology().triangles
    flat = dst.copy()
    a, b = tris[10][:2]
    flat[b] = flat[a]  # two vertices merged: the triangles on that edge are squashed to lines
    got = triangle_affines(flat, src, tris)
    assert np.isfinite(got).all()
    d = flat[tris]
    e1, e2 = d[:, 1] - d[:, 0], d[:, 2] - d[:, 0]
    area2 = np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])
    assert (area2 == 0).sum() >= 1
    ok = area2 > 1e-2
    corners = np.concatenate([d[ok], np.ones((int(ok.sum()), 3, 1))], axis=2)
    landed = np.einsum("tij,tkj->tki", got[ok], corners)
    assert np.abs(landed - src[tris[ok]]).max() < 1e-2  # every proper triangle is still exact
