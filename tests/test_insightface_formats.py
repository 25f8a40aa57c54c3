"""Wrappers for insightface-format models, run by ONNX Runtime on stand-in graphs with the real signatures
(tests/onnx_graphs.py), including decoding of planted detections."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")

from ghostlive.engines import OrtRunner
from ghostlive.errors import ModelError
from ghostlive.faces import FaceAnalyzer
from ghostlive.models.insightface import InsightArcFace, InSwapper, l2_normalise
from ghostlive.models.landmark106 import Landmark106
from ghostlive.models.scrfd import SCRFD
from ghostlive.ops.blend import paste
from ghostlive.swappers.neural import InSwapperSwapper

from . import onnx_graphs


def empty_scrfd() -> dict[int, list[np.ndarray]]:
    return {s: [np.zeros(((640 // s) ** 2 * 2, w), np.float32) for w in (1, 4, 10)] for s in (8, 16, 32)}


def test_scrfd_decodes_planted_faces() -> None:
    planted = empty_scrfd()
    # face A: stride 16, cell (x=10, y=12), second anchor; box distances (l, t, r, b) in stride units
    a = (12 * 40 + 10) * 2 + 1
    planted[16][0][a] = 0.92
    planted[16][1][a] = [2.0, 2.5, 2.0, 2.5]
    planted[16][2][a] = np.array([[-1, -1], [1, -1], [0, 0], [-0.8, 1.2], [0.8, 1.2]]).ravel()
    # a weaker, overlapping duplicate of A one cell to the right: removed by NMS
    planted[16][0][a + 2] = 0.7
    planted[16][1][a + 2] = [3.0, 2.5, 1.0, 2.5]
    # face B: stride 32, cell (x=15, y=5), first anchor
    b = (5 * 20 + 15) * 2
    planted[32][0][b] = 0.8
    planted[32][1][b] = [1.5, 1.5, 1.5, 1.5]
    # below the threshold: ignored
    planted[8][0][100] = 0.3
    det = SCRFD(OrtRunner(onnx_graphs.scrfd({s: tuple(v) for s, v in planted.items()})), min_score=0.5)
    image = np.zeros((720, 1280, 3), np.uint8)  # letterboxed into 640: scale 0.5
    faces = det.detect(image)
    assert len(faces) == 2
    fa, fb = faces
    assert fa.score == pytest.approx(0.92) and fb.score == pytest.approx(0.8)
    assert np.allclose(fa.box, [(160 - 32) * 2, (192 - 40) * 2, (160 + 32) * 2, (192 + 40) * 2], atol=1e-3)
    assert np.allclose(fa.keypoints[0], [(160 - 16) * 2, (192 - 16) * 2], atol=1e-3)
    assert np.allclose(fa.keypoints[4], [(160 + 12.8) * 2, (192 + 19.2) * 2], atol=1e-3)
    assert np.allclose(fb.box, [(480 - 48) * 2, (160 - 48) * 2, (480 + 48) * 2, (160 + 48) * 2], atol=1e-3)


def test_scrfd_refuses_a_model_without_keypoints() -> None:
    runner = OrtRunner(onnx_graphs.landmark106(np.zeros(212)))
    with pytest.raises(ModelError, match="9 outputs"):
        SCRFD(runner)


def test_landmark106_maps_points_back_to_the_frame() -> None:
    rng = np.random.default_rng(1)
    values = rng.uniform(-0.9, 0.9, (106, 2)).astype(np.float32)
    lm = Landmark106(OrtRunner(onnx_graphs.landmark106(values)))
    box = (100.0, 120.0, 200.0, 240.0)  # 100×120: crop is 1.5×120 = 180 px around the centre (150, 180)
    pts = lm.landmarks(np.zeros((400, 400, 3), np.uint8), box)
    expected = (values + 1) * 96 / (192 / 180) + np.array([150 - 90, 180 - 90])
    assert pts.shape == (106, 2) and np.allclose(pts, expected, atol=1e-3)


def test_arcface_preprocessing(grace: np.ndarray, analyzer: FaceAnalyzer) -> None:
    from ghostlive.ops.align import norm_crop

    w = np.random.default_rng(2).standard_normal((3, 512)).astype(np.float32)
    arc = InsightArcFace(OrtRunner(onnx_graphs.arcface(w)))
    crop, _ = norm_crop(grace, analyzer.analyze(grace)[0].keypoints5, 112, "arcface")
    rgb = (crop[..., ::-1].astype(np.float64) - 127.5) / 127.5
    assert np.allclose(arc.embed(crop), rgb.mean((0, 1)) @ w, atol=1e-4)


def test_inswapper_uses_the_last_initializer_and_pastes_back(tmp_path: Path, grace, astronaut, analyzer) -> None:
    rng = np.random.default_rng(3)
    emap = rng.standard_normal((512, 512)).astype(np.float32)
    model_path = tmp_path / "inswapper_128.onnx"
    model_path.write_bytes(onnx_graphs.inswapper(emap))
    assert np.array_equal(InSwapper.read_emap(str(model_path)), emap)
    model = InSwapper(OrtRunner(model_path), InSwapper.read_emap(str(model_path)))
    w = rng.standard_normal((3, 512)).astype(np.float32)
    swapper = InSwapperSwapper(model, InsightArcFace(OrtRunner(onnx_graphs.arcface(w))))
    src = swapper.prepare_source(grace, analyzer.analyze(grace)[0])
    from ghostlive.ops.align import norm_crop

    crop, _ = norm_crop(grace, analyzer.analyze(grace)[0].keypoints5, 112, "arcface")
    emb = swapper.arcface.embed(crop)
    assert np.allclose(src.identity, l2_normalise(l2_normalise(emb) @ emap).reshape(1, -1), atol=1e-5)
    assert abs(np.linalg.norm(src.identity) - 1) < 1e-5
    # the stand-in network returns its input, so pasting it back must reproduce the frame
    target = analyzer.analyze(astronaut)[0]
    item = swapper.render(astronaut, target, src)
    assert item is not None and item.mask.max() > 0.99
    out = paste(astronaut.copy(), item)
    diff = np.abs(out.astype(int) - astronaut.astype(int))
    assert diff.mean() < 0.5 and np.percentile(diff, 99) < 12  # only resampling loss of the 128 px round trip


def test_inswapper_device_path_matches_host(tmp_path: Path, grace, astronaut, analyzer) -> None:
    from ghostlive.xp import portable

    rng = np.random.default_rng(4)
    model_path = tmp_path / "inswapper_128.onnx"
    model_path.write_bytes(onnx_graphs.inswapper(rng.standard_normal((512, 512)).astype(np.float32)))
    w = rng.standard_normal((3, 512)).astype(np.float32)
    swapper = InSwapperSwapper(
        InSwapper(OrtRunner(model_path), InSwapper.read_emap(str(model_path))),
        InsightArcFace(OrtRunner(onnx_graphs.arcface(w))),
    )
    target = analyzer.analyze(astronaut)[0]

    def render() -> tuple[np.ndarray, np.ndarray]:
        src = swapper.prepare_source(grace, analyzer.analyze(grace)[0])
        return src.identity, paste(astronaut.copy(), swapper.render(astronaut, target, src))

    (id_h, out_h) = render()
    with portable():
        (id_d, out_d) = render()
    assert np.abs(id_h - id_d).max() < 1e-3  # the stand-in ArcFace averages a crop that differs by ±1 level
    assert np.abs(out_h.astype(int) - out_d.astype(int)).mean() < 0.2


def test_inswapper_on_a_stand_in_gpu_equals_portable(tmp_path: Path, grace, astronaut, analyzer, monkeypatch) -> None:
    from ghostlive.pipeline import FrameProcessor
    from ghostlive.pipeline.frame import FrameDevice
    from ghostlive.xp import portable

    from . import fake_cupy

    rng = np.random.default_rng(5)
    model_path = tmp_path / "inswapper_128.onnx"
    model_path.write_bytes(onnx_graphs.inswapper(rng.standard_normal((512, 512)).astype(np.float32)))
    arc = onnx_graphs.arcface(rng.standard_normal((3, 512)).astype(np.float32))

    def swap(device: str) -> np.ndarray:
        model = InSwapper(OrtRunner(model_path), InSwapper.read_emap(str(model_path)))
        dev = FrameDevice(device)
        with portable():
            pipe = FrameProcessor(analyzer, InSwapperSwapper(model, InsightArcFace(OrtRunner(arc))), device=dev)
            pipe.set_source(grace)
            out = pipe.process(astronaut).frame
        assert dev.fell_back is None
        return out

    want = swap("cpu")
    fake_cupy.install(monkeypatch)
    assert np.array_equal(swap("cuda"), want)
