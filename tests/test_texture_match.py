"""The classic swapper matches a blurred or grainy target's texture: a sharp, clean source face pasted into a
soft or noisy head looked stuck on. The swapped skin must be about as soft, or as grainy, as the target's own face
there, and a sharp, clean target must be swapped exactly as before (no blur, no grain)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ghostlive.faces import FaceAnalyzer
from ghostlive.models.facemesh import topology
from ghostlive.ops.raster import triangle_ids
from ghostlive.swappers import classic
from ghostlive.swappers.classic import ClassicSwapper

from .conftest import largest


def _luma(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float32)


def _swap(analyzer: FaceAnalyzer, source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The swapped photo (float) and the skin it shows fully (no eyes, lips, brows, nor the feathered edge)."""
    swapper = ClassicSwapper()
    face = largest(analyzer.analyze(target))
    crop = swapper.render(target, face, swapper.prepare_source(source, largest(analyzer.analyze(source))))
    x0, y0, x1, y1 = crop.roi
    topo = topology()
    order = np.argsort(-np.asarray(face.depth)[topo.triangles].mean(1), kind="stable")
    ids = triangle_ids(face.landmarks, topo.triangles, crop.roi, order)
    skin = np.zeros(target.shape[:2], bool)
    skin[y0:y1, x0:x1] = (ids >= 0) & topo.skin[np.maximum(ids, 0)] & (crop.mask > 0.95)
    skin = cv2.erode(skin.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    out = target.astype(np.float32)
    k = np.asarray(crop.mask, np.float32)[..., None]
    out[y0:y1, x0:x1] = k * np.asarray(crop.face, np.float32) + (1.0 - k) * out[y0:y1, x0:x1]
    return out, skin


def _detail(image: np.ndarray, skin: np.ndarray) -> float:
    """Mean energy of the finer detail (below a 2 px blur) over the skin."""
    lum = _luma(image)
    return float(np.mean((lum - cv2.GaussianBlur(lum, (0, 0), 2.0))[skin] ** 2))


def _grain(image: np.ndarray, skin: np.ndarray) -> float:
    """Noise σ of the finest scale over the skin: the median absolute deviation of the 3×3 Laplacian."""
    lap = cv2.Laplacian(_luma(image), cv2.CV_32F, ksize=1)
    return float(np.median(np.abs(lap[skin])) / 0.6745 / np.sqrt(20.0))


@pytest.mark.parametrize("sigma", [3.0, 6.0])
def test_a_blurred_targets_swapped_face_is_as_soft(analyzer: FaceAnalyzer, astronaut, grace, sigma: float) -> None:
    result, skin = _swap(analyzer, astronaut, cv2.GaussianBlur(grace, (0, 0), sigma))
    assert skin.sum() > 2000
    sharp, _ = _swap(analyzer, astronaut, grace)
    # what the head's blur would have made of the swap: the swap onto the sharp photo, blurred alike
    expected = _detail(cv2.GaussianBlur(sharp, (0, 0), sigma), skin)
    assert 0.5 * expected < _detail(result, skin) < 2.0 * expected


def test_a_grainy_targets_swapped_face_is_as_grainy(analyzer: FaceAnalyzer, astronaut, grace) -> None:
    rng = np.random.default_rng(7)
    target = np.clip(grace + rng.normal(0.0, 20.0, grace.shape), 0, 255).astype(np.uint8)
    result, skin = _swap(analyzer, astronaut, target)
    assert skin.sum() > 2000
    theirs, ours = _grain(target, skin), _grain(result, skin)
    assert theirs > 8.0
    assert 0.75 * theirs < ours < 1.3 * theirs  # was a clean face: a third of it or less


def test_the_grain_is_the_same_on_every_frame(analyzer: FaceAnalyzer, astronaut, grace) -> None:
    rng = np.random.default_rng(7)
    target = np.clip(grace + rng.normal(0.0, 20.0, grace.shape), 0, 255).astype(np.uint8)
    first, _ = _swap(analyzer, astronaut, target)
    second, _ = _swap(analyzer, astronaut, target)
    assert np.array_equal(first, second)


def _refuse(*args: object) -> None:
    raise AssertionError("a sharp, clean target was blurred or given grain")


@pytest.mark.parametrize(
    ("source", "target"),
    [("astronaut", "grace"), ("grace", "astronaut"), ("grace", "cameraman"), ("astronaut", "messi")],
)
def test_a_sharp_clean_target_is_swapped_as_before(
    analyzer: FaceAnalyzer, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, source: str, target: str
) -> None:
    monkeypatch.setattr(classic, "soften", _refuse)
    monkeypatch.setattr(classic, "add_grain", _refuse)
    _swap(analyzer, request.getfixturevalue(source), request.getfixturevalue(target))


def test_no_dark_fleck_beside_the_mouth(analyzer: FaceAnalyzer, astronaut, grace) -> None:
    """The astronaut's smile squeezes a skin sliver at her mouth corner; it was left to Grace Hopper's own skin,
    a fleck of her dark crease a few pixels right of the lips (subject's left corner, mesh point 291)."""
    result, _ = _swap(analyzer, astronaut, grace)
    x, y = largest(analyzer.analyze(grace)).landmarks[291][:2]
    box = result[int(y) - 14 : int(y) + 4, int(x) + 6 : int(x) + 30]
    light = cv2.cvtColor(np.clip(box, 0, 255).astype(np.uint8), cv2.COLOR_BGR2Lab)[..., 0].astype(np.float64)
    darkest = np.sort(light.ravel())[:4].mean()
    assert darkest > 0.75 * np.median(light)  # was 0.67: the fleck; now 0.81, the skin's own shading
