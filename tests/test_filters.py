"""The array-module ops agree with OpenCV (the host fast path is OpenCV, the device path is ndimage)."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from ghostlive.ops import filters as F  # noqa: N812


@pytest.mark.parametrize("border", ["constant", "replicate"])
def test_warp_affine_matches_opencv(astronaut: np.ndarray, border: str) -> None:
    m = np.array([[0.9, 0.25, 10.0], [-0.25, 0.9, 40.0]])
    cv = F.warp_affine(astronaut, m, (300, 280), border=border)
    nd = F.warp_affine(astronaut, m, (300, 280), border=border, backend="ndimage")
    d = np.abs(cv.astype(int) - nd.astype(int))
    assert d.max() <= 1 and d.mean() < 0.01


def test_remap_matches_opencv(grace: np.ndarray) -> None:
    ys, xs = np.mgrid[0:200, 0:150].astype(np.float32)
    mx, my = xs * 1.3 + 100.5 + 3 * np.sin(ys / 9), ys * 1.1 + 120.25
    cv = F.remap(grace, mx, my)
    nd = F.remap(grace, mx, my, backend="ndimage")
    assert np.abs(cv.astype(int) - nd.astype(int)).max() <= 1


def test_gaussian_blur_matches_opencv_and_has_compact_support(grace: np.ndarray) -> None:
    img = grace.astype(np.float32)
    assert np.abs(F.gaussian_blur(img, 3.3) - F.gaussian_blur(img, 3.3, backend="ndimage")).max() < 1e-3
    spot = np.zeros((64, 64), np.float32)
    spot[32, 32] = 1.0
    for backend in ("opencv", "ndimage"):
        out = F.gaussian_blur(spot, 2.0, backend=backend)  # type: ignore[arg-type]
        assert out[32, 32 + 7] == 0.0 and out[32, 32 + 6] > 0.0  # truncated at 3σ
        assert abs(out.sum() - 1.0) < 1e-5


def test_resize_matches_opencv(astronaut: np.ndarray) -> None:
    for size in ((200, 150), (700, 650)):
        d = np.abs(F.resize(astronaut, size).astype(int) - F.resize(astronaut, size, backend="ndimage").astype(int))
        assert d.max() <= 1 and d.mean() < 0.2


def test_channel_helpers_give_numpys_values_on_both_paths(grace: np.ndarray) -> None:
    """The planar and expanded forms the colour transfer uses for speed compute exactly what numpy's
    broadcasting gives, on the OpenCV host path and in portable mode (the GPU code path on numpy)."""
    from ghostlive.xp import portable

    img = grace.astype(np.float32) - 20.0
    w = img[..., 1] / 255.0
    lo, hi = np.float32([10.5, 30.25, 50.125]), np.float32([90.5, 120.0, 200.75])
    for host in (True, False):
        with contextlib.nullcontext() if host else portable():
            planes = F.split_channels(img)
            assert all(p.flags.c_contiguous and np.array_equal(p, img[..., c]) for c, p in enumerate(planes))
            assert np.array_equal(F.merge_channels(planes), img)
            assert np.array_equal(img * F.expand(w), img * w[..., None])
            assert np.array_equal(F.clip_channels(img, lo, hi), np.clip(img, lo, hi))



def test_model_inputs_are_numpys_values_on_both_paths(grace: np.ndarray) -> None:
    """The RGB float inputs of the built-in models (mesh: [0, 1]; BlazeFace: [-1, 1]) are exactly what the
    reversed-view numpy expression gives, on the OpenCV host path and in portable mode, for a real photo and
    a crop of it (a non-contiguous view, as the letterbox and the mesh crop are not)."""
    from ghostlive.xp import portable

    for img in (grace, grace[40:232, 30:222]):
        for scale, offset in ((1.0 / 255.0, 0.0), (2.0 / 255.0, -1.0)):
            want = img[None, ..., ::-1].astype(np.float32) * np.float32(scale) + np.float32(offset)
            for host in (True, False):
                with contextlib.nullcontext() if host else portable():
                    got = F.rgb_input(img, scale, offset)
                assert got.shape == (1, *img.shape) and got.dtype == np.float32 and got.flags.c_contiguous
                assert np.array_equal(got, want)
