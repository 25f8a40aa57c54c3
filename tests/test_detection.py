"""Built-in detector and face mesh on real photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ghostlive.faces import FaceAnalyzer
from ghostlive.models.blazeface import FULL_RANGE, SHORT_RANGE, anchors, weighted_nms
from ghostlive.models.facemesh import five_points, topology
from ghostlive.types import Face

from .conftest import largest


def assert_plausible(face: Face) -> None:
    """Eyes above nose above mouth, all inside the (slightly grown) box, eyes in left-right order."""
    x1, y1, x2, y2 = face.box
    grow = 0.15 * (x2 - x1)
    for pts in (face.detection.keypoints[:4], five_points(face.landmarks)):
        assert np.all(pts[:, 0] > x1 - grow) and np.all(pts[:, 0] < x2 + grow)
        assert np.all(pts[:, 1] > y1 - grow) and np.all(pts[:, 1] < y2 + grow)
    kp = five_points(face.landmarks)
    eyes_y, nose_y, mouth_y = kp[:2, 1].mean(), kp[2, 1], kp[3:, 1].mean()
    assert eyes_y < nose_y < mouth_y
    assert kp[0, 0] < kp[1, 0] and kp[3, 0] < kp[4, 0]
    det = face.detection.keypoints
    assert det[:2, 1].mean() < det[2, 1] < det[3, 1] + 1.0


@pytest.mark.parametrize("name", ["astronaut", "grace", "cameraman", "messi"])
def test_one_face_in_each_portrait(name: str, request: pytest.FixtureRequest, analyzer: FaceAnalyzer) -> None:
    image = request.getfixturevalue(name)
    faces = analyzer.analyze(image)
    assert len(faces) == 1
    face = faces[0]
    assert face.score > 0.5 and face.presence > 0.9
    assert_plausible(face)
    assert face.landmarks.shape == (468, 2)


def test_small_face_is_found(messi: np.ndarray, analyzer: FaceAnalyzer) -> None:
    face = analyzer.analyze(messi)[0]
    assert face.detection.width < 45  # a ~30 px face in a 548 px photo
    x1, y1, x2, y2 = face.box
    assert 200 < (x1 + x2) / 2 < 280 and 90 < (y1 + y2) / 2 < 140


def test_greyscale_photo(cameraman: np.ndarray, analyzer: FaceAnalyzer) -> None:
    assert np.array_equal(cameraman[..., 0], cameraman[..., 2])  # truly grey
    assert len(analyzer.analyze(cameraman)) == 1


def test_every_face_in_a_composed_group(group: tuple[np.ndarray, list], analyzer: FaceAnalyzer) -> None:
    canvas, spans = group
    faces = analyzer.analyze(canvas)
    assert len(faces) == 3
    for face, (x0, x1) in zip(faces, spans, strict=True):  # ordered left to right, one per portrait
        cx = (face.box[0] + face.box[2]) / 2
        assert x0 < cx < x1
        assert_plausible(face)


def test_rotated_face_mesh_follows_rotation(grace: np.ndarray, analyzer: FaceAnalyzer) -> None:
    h, w = grace.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 30, 1.0)
    rotated = cv2.warpAffine(grace, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    upright = largest(analyzer.analyze(grace))
    turned = largest(analyzer.analyze(rotated))
    expected = five_points(upright.landmarks) @ m[:, :2].T + m[:, 2]
    err = np.linalg.norm(five_points(turned.landmarks) - expected, axis=1)
    iod = np.linalg.norm(expected[0] - expected[1])
    assert err.max() < 0.08 * iod


def test_mesh_is_scale_consistent(astronaut: np.ndarray, analyzer: FaceAnalyzer) -> None:
    big = cv2.resize(astronaut, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
    a = analyzer.analyze(astronaut)[0].landmarks * 2.0
    b = analyzer.analyze(big)[0].landmarks
    iod = np.linalg.norm(five_points(a)[0] - five_points(a)[1])
    assert np.median(np.linalg.norm(a - b, axis=1)) < 0.05 * iod


def test_detector_variants_agree(astronaut: np.ndarray) -> None:
    boxes = []
    for kind in ("full", "short", "both"):
        faces = FaceAnalyzer(kind).analyze(astronaut)
        assert len(faces) == 1
        boxes.append(np.array(faces[0].box))
    assert np.abs(boxes[0] - boxes[1]).max() < 25


def test_anchor_layouts() -> None:
    short, full = anchors(SHORT_RANGE), anchors(FULL_RANGE)
    assert short.shape == (896, 2) and full.shape == (2304, 2)
    assert np.allclose(short[0], [0.5 / 16, 0.5 / 16]) and np.allclose(short[1], short[0])
    assert np.allclose(short[512], [0.5 / 8, 0.5 / 8])
    assert np.allclose(full[1], [1.5 / 48, 0.5 / 48])


def test_weighted_nms_merges_overlaps() -> None:
    rows = np.array([[0, 0, 10, 10] + [1] * 12, [1, 1, 11, 11] + [3] * 12, [50, 50, 60, 60] + [0] * 12], float)
    kept = weighted_nms(rows, np.array([0.9, 0.3, 0.8]))
    assert len(kept) == 2
    merged, score = kept[0]
    assert score == 0.9
    assert np.allclose(merged[:4], [0.25, 0.25, 10.25, 10.25]) and np.allclose(merged[4], 1.5)


def test_topology() -> None:
    topo = topology()
    assert 850 <= len(topo.triangles) <= 860
    assert len(topo.oval) == 36 and len(topo.regions["mouth"]) == 20
    assert topo.triangles.max() < 468


def face_patch(image: np.ndarray, width: int) -> np.ndarray:
    """The face of a real portrait scaled so that its detected box is ``width`` px wide, in a square 1.6× that."""
    x1, y1, x2, y2 = FaceAnalyzer(tile_levels=0).detect(image)[0].box
    s, half = width / (x2 - x1), round(0.8 * width)
    m = np.float32([[s, 0, half - s * (x1 + x2) / 2], [0, s, half - s * (y1 + y2) / 2]])
    return cv2.warpAffine(image, m, (2 * half, 2 * half), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)


# README ("Swapping faces in photos"): with the default tiles, faces from 20 px up to 1920×1080, from 40 px in a
# 4000×3000 photo (the tile budget)
CLAIMED = {(1280, 720): (20, 40, 100, 200), (1920, 1080): (20, 40, 100, 200), (4000, 3000): (40, 100, 200)}


@pytest.mark.parametrize("size", sorted(CLAIMED), ids=lambda s: f"{s[0]}x{s[1]}")
def test_small_faces_in_large_frames(size, astronaut: np.ndarray, grace: np.ndarray, analyzer) -> None:
    """Real faces of every claimed width pasted into one large frame (a faceless part of a real photo): each is
    found, with landmarks, at its place, and nothing else is."""
    w, h = size
    frame = cv2.resize(astronaut[300:], (w, h), interpolation=cv2.INTER_CUBIC)
    centres = []
    x = round(0.04 * w)
    for width in CLAIMED[size]:
        for portrait, top in ((astronaut, True), (grace, False)):
            patch = face_patch(portrait, width)
            side = patch.shape[0]
            y = round(0.03 * h) if top else h - side - round(0.03 * h)
            frame[y : y + side, x : x + side] = patch
            centres.append((x + side / 2, y + side / 2, width))
        x += side + round(0.04 * w)
    faces = analyzer.analyze(frame)
    for cx, cy, width in centres:
        near = [
            f
            for f in faces
            if max(abs((f.box[0] + f.box[2]) / 2 - cx), abs((f.box[1] + f.box[3]) / 2 - cy)) < 0.5 * width
        ]
        assert len(near) == 1, f"{width} px face at ({cx:.0f}, {cy:.0f}): {len(near)} found"
        assert 0.7 * width < near[0].detection.width < 1.4 * width
    assert len(faces) == len(centres)


def test_swap_command_finds_a_small_face_with_its_default_tiles(tmp_path, astronaut: np.ndarray, capsys) -> None:
    from ghostlive.cli import main

    from .conftest import sample

    frame = cv2.resize(astronaut[300:], (1280, 720), interpolation=cv2.INTER_CUBIC)
    patch = face_patch(astronaut, 40)
    frame[300 : 300 + patch.shape[0], 700 : 700 + patch.shape[0]] = patch
    target = tmp_path / "wide.png"
    cv2.imwrite(str(target), frame)
    source = str(sample("grace_hopper.jpg"))
    assert main(["swap", "-q", "--source", source, "--target", str(target), "-o", str(tmp_path / "a.png")]) == 0
    swapped = cv2.imread(str(tmp_path / "a.png"))
    changed = np.argwhere((swapped != frame).any(2))
    assert len(changed) > 200 and np.all((changed >= [300, 700]) & (changed < [364, 764]))  # only the small face
    args = ["swap", "-q", "--source", source, "--target", str(target), "-o", str(tmp_path / "b.png"), "--tiles", "0"]
    assert main(args) == 1 and "no face" in capsys.readouterr().err
