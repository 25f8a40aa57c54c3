"""Mask providers on real faces: mesh regions cover the right pixels, the box stops at its edge, the occlusion
path keeps a hand-shaped occluder pasted over a real face, the parser wrapper feeds the model exactly, and
all of them reach the output through the one combining wrapper."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.engines import OrtRunner
from ghostlive.errors import ModelError
from ghostlive.faces import FaceAnalyzer
from ghostlive.hub import ModelStore
from ghostlive.masking.combine import MaskedSwapper, with_masks
from ghostlive.masking.mesh import BoxMask, RegionMask, region_cover
from ghostlive.masking.neural import OcclusionMask, ParserMask, crop_matrix
from ghostlive.masking.options import MaskOptions, build_providers
from ghostlive.models.facemesh import topology
from ghostlive.models.masks import FaceParser, Occluder
from ghostlive.ops.align import invert_affine, transform_points
from ghostlive.pipeline.chain import FrameProcessor, render_face
from ghostlive.swappers.classic import ClassicSwapper
from tests import mask_graphs
from tests.conftest import largest, sample

FULL = (0, 0, 512, 512)


def inside(shape: tuple[int, int], polygon: np.ndarray, grow: float = 0.0) -> np.ndarray:
    """Pixels whose centre lies inside ``polygon`` dilated by ``grow`` px."""
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.rint(polygon * 16).astype(np.int32)], 1, shift=4)
    if grow > 0:
        r = int(np.ceil(grow))
        m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    return m.astype(bool)


@pytest.fixture(scope="module")
def face(analyzer: FaceAnalyzer, astronaut: np.ndarray):
    return largest(analyzer.analyze(astronaut))


def test_mouth_mask_lies_inside_the_lips_and_covers_the_open_mouth(face, astronaut) -> None:
    topo = topology()
    lips = face.landmarks[topo.regions["lips"]]
    mouth = face.landmarks[topo.regions["mouth"]]
    cover = region_cover(face, "mouth", FULL, 0.0, like=astronaut)
    assert inside((512, 512), mouth).sum() > 100  # the astronaut smiles with her teeth showing
    assert np.all(cover[~inside((512, 512), lips, grow=1.0)] == 0)  # nothing outside the outer lips
    assert np.all(cover[inside((512, 512), mouth)] > 0.99)  # all of the inner mouth
    keep = RegionMask("mouth")(astronaut, face, FULL)
    assert np.all(keep[inside((512, 512), mouth)] < 0.01)
    assert keep[int(face.landmarks[1, 1]), int(face.landmarks[1, 0])] == 1.0  # the nose tip is swapped


def test_lips_and_eyes_regions(face, astronaut) -> None:
    topo = topology()
    lips = region_cover(face, "lips", FULL, 0.0, like=astronaut)
    assert np.all(lips[inside((512, 512), face.landmarks[topo.regions["lips"]])] > 0.99)
    assert lips.sum() > region_cover(face, "mouth", FULL, 0.0, like=astronaut).sum() * 1.5
    eyes = region_cover(face, "eyes", FULL, 0.0, like=astronaut)
    loops = [face.landmarks[topo.regions[f"{s}_eye"]] for s in ("right", "left")]
    both = inside((512, 512), loops[0]) | inside((512, 512), loops[1])
    assert np.all(eyes[both] > 0.99)
    grown = inside((512, 512), loops[0], 1.0) | inside((512, 512), loops[1], 1.0)
    assert np.all(eyes[~grown] == 0)
    # the feathered edge (grown by 2σ, blurred with a 3σ kernel) reaches a bounded distance and no further
    sigma = 4.0
    soft = region_cover(face, "eyes", FULL, sigma, like=astronaut)
    reach = inside((512, 512), loops[0], 6 * sigma + 2) | inside((512, 512), loops[1], 6 * sigma + 2)
    assert np.all(soft[~reach] == 0) and np.all(soft[both] == 1.0)
    assert 0 < soft[~grown].max() <= 1.0


def test_box_mask_stops_at_the_padded_box(face, astronaut) -> None:
    box = BoxMask((0.0, 0.0, -0.2, 0.0), feather=0.02)
    m = box(astronaut, face, FULL)
    x0, y0, x1, y1 = box.outline(face)[[0, 2]].ravel()
    assert y1 < face.box[3]  # cut in at the bottom
    ys, xs = np.nonzero(m)
    assert xs.min() >= np.floor(x0) and xs.max() <= np.ceil(x1) and ys.max() <= np.ceil(y1)
    assert m[int((y0 + y1) / 2), int((x0 + x1) / 2)] == pytest.approx(1.0, abs=1e-6)


def hand_over(image: np.ndarray, face) -> tuple[np.ndarray, np.ndarray]:
    """``image`` with a green glove (a palm and four fingers) held over the mouth and chin; its pixels."""
    out = image.copy()
    glove = np.zeros(image.shape[:2], np.uint8)
    cx, cy = face.landmarks[14]  # lower lip centre
    w = face.box[2] - face.box[0]
    cv2.ellipse(glove, (int(cx), int(cy + 0.12 * w)), (int(0.2 * w), int(0.14 * w)), 0, 0, 360, 1, -1)
    for i in range(4):
        x = int(cx - 0.15 * w + i * 0.1 * w)
        cv2.rectangle(glove, (x, int(cy - 0.18 * w)), (x + int(0.06 * w), int(cy + 0.05 * w)), 1, -1)
    out[glove > 0] = (30, 200, 40)
    return out, glove > 0


def test_occlusion_keeps_a_hand_over_a_real_face(analyzer, astronaut, grace, face) -> None:
    occluded, glove = hand_over(astronaut, face)
    # stand-in occluder with the real signature: visible = clip(1 + 2B - 3G + 1R): the glove gives 0, skin 1
    occ = Occluder(OrtRunner(mask_graphs.occluder((2.0, -3.0, 1.0), 1.0)))
    swapper = ClassicSwapper()
    plain = FrameProcessor(analyzer, swapper)
    masked = FrameProcessor(analyzer, MaskedSwapper(swapper, [OcclusionMask(occ)]))
    for p in (plain, masked):
        p.set_source(grace)
    a = render_face(plain.swapper, occluded, face, plain.source)
    b = render_face(masked.swapper, occluded, face, masked.source)
    x0, y0, x1, y1 = a.roi
    core = cv2.erode(glove.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)[y0:y1, x0:x1]
    covered = core & (a.mask > 0.5)
    assert covered.sum() > 200  # the swap would paint over the glove (a 105 px wide face)
    assert np.all(b.mask[covered] == 0)  # with the occlusion mask it stays
    cheek = ~cv2.dilate(glove.astype(np.uint8), np.ones((41, 41), np.uint8)).astype(bool)[y0:y1, x0:x1]
    assert np.allclose(b.mask[cheek & (a.mask > 0)], a.mask[cheek & (a.mask > 0)], atol=0.3)
    out = FrameProcessor(analyzer, MaskedSwapper(swapper, [OcclusionMask(occ)]))
    out.set_source(grace)
    frame = out.process(occluded).frame
    assert np.array_equal(frame[y0:y1, x0:x1][covered], occluded[y0:y1, x0:x1][covered])


def test_occluder_wrapper_feeds_bgr_nhwc_in_unit_range() -> None:
    crop = np.random.default_rng(0).integers(0, 256, (256, 256, 3), np.uint8)
    for channel in range(3):
        weights = tuple(1.0 if i == channel else 0.0 for i in range(3))
        got = Occluder(OrtRunner(mask_graphs.occluder(weights, 0.0)))(crop)
        np.testing.assert_allclose(got, crop[..., channel] / 255.0, atol=1e-6)


def test_parser_wrapper_feeds_rgb_imagenet_normalised() -> None:
    parser = FaceParser(OrtRunner(mask_graphs.parser({1: 0, 10: 1, 17: 2})))  # skin=R, nose=G, hair=B
    crop = np.zeros((512, 512, 3), np.uint8)
    crop[:, :170] = (0, 0, 255)  # red
    crop[:, 170:340] = (0, 255, 0)  # green
    crop[:, 340:] = (255, 0, 0)  # blue
    labels = parser.labels(crop)
    assert np.all(labels[:, :170] == 1) and np.all(labels[:, 170:340] == 10) and np.all(labels[:, 340:] == 17)
    # normalisation: mid grey has R, G, B scores (0.5-mean)/std = 0.066, 0.196, 0.418: blue wins (hair)
    assert np.all(parser.labels(np.full((512, 512, 3), 128, np.uint8)) == 17)


def test_parser_mask_keeps_only_chosen_regions(face, astronaut) -> None:
    parser = FaceParser(OrtRunner(mask_graphs.parser({1: 0, 17: 2})))  # skin = red-dominant pixels
    m = ParserMask(parser, ("skin",), feather=0.0)(astronaut, face, FULL)
    assert m.shape == (512, 512) and m.min() == 0.0 and m.max() == 1.0
    rgb = astronaut.astype(np.float32)[..., ::-1] / 255.0
    norm = (rgb - (0.485, 0.456, 0.406)) / (0.229, 0.224, 0.225)
    red = norm[..., 0] > norm[..., 2] + 0.2
    y, x = np.nonzero(m > 0.99)
    assert red[y, x].mean() > 0.95
    to_crop = crop_matrix(face, 512)
    corners = transform_points(np.array([[0, 0], [512, 0], [512, 512], [0, 512]], np.float32), invert_affine(to_crop))
    assert np.all(m[~inside((512, 512), corners, grow=1.0)] == 0)  # outside the model's crop nothing is swapped


def test_show_mask_view(analyzer, astronaut, grace) -> None:
    pipe = FrameProcessor(analyzer, with_masks(ClassicSwapper(), [RegionMask("mouth")], show=True))
    pipe.set_source(grace)
    out = pipe.process(astronaut).frame.astype(int)
    f = largest(analyzer.analyze(astronaut))
    mouth = inside((512, 512), f.landmarks[topology().regions["mouth"]])
    assert np.abs(out[mouth] - astronaut[mouth]).max() <= 2  # kept: not tinted
    cheek = tuple(np.rint(f.landmarks[50]).astype(int))[::-1]  # right cheek
    assert out[cheek][1] > max(out[cheek][0], out[cheek][2]) + 25  # tinted green (skin is red-dominant)


def test_missing_mask_model_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"ghostlive models import xseg_1\.onnx"):
        build_providers(MaskOptions(("occlusion",)), ModelStore(tmp_path))


def test_imported_occluder_is_checked_and_used(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    good = tmp_path / "xseg_1.onnx"
    good.write_bytes(mask_graphs.occluder((0.0, 0.0, 0.0), 1.0))
    store.import_file(good)
    [provider] = build_providers(MaskOptions(("occlusion",)), store, backend="ort-cpu")
    assert isinstance(provider, OcclusionMask) and provider.model.size == 256
    wrong = tmp_path / "other.onnx"
    wrong.write_bytes(mask_graphs.parser({1: 0}))
    with pytest.raises(ModelError, match="not the occluder model"):
        store.import_file(wrong, "xseg_1.onnx")


def test_cli_mask_options(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    out = tmp_path / "out.png"
    src, tgt = sample("grace_hopper.jpg"), sample("astronaut.png")
    args = ["swap", "--source", str(src), "--target", str(tgt), "-o", str(out), "-q"]
    assert main([*args, "--mask", "lips,box", "--mask-feather", "lips=0.01"]) == 0 and out.exists()
    assert main([*args, "--mask", "occlusion"]) == 1
    assert "ghostlive models import xseg_1.onnx" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*args, "--mask", "hands"])


def test_bench_times_the_mask_stage(capsys) -> None:
    assert main(["bench", "--frames", "1", "--sizes", "320x240", "--mask", "mouth,box"]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    at = next(i for i, words in enumerate(lines) if words[:1] == ["backend"])  # after the plan and title lines
    header, row = lines[at], lines[at + 1]
    assert "mask" in header
    values = dict(zip(header[3:], row[3:], strict=False))
    assert float(values["mask"]) > 0
