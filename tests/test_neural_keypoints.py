"""Where the neural swappers' keypoints and faces come from: SCRFD as the detector (decoded as insightface
decodes it, checked against tests/reference_pipelines.py with a stand-in SCRFD graph of the real signature
whose keypoints move with the input's colour and scale), keypoints followed between detections, the automatic
detector choice and its warning, ArcFace face choice with GHOST's rule, and one-command model installs."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.engines.ort import OrtRunner
from ghostlive.errors import ConfigError
from ghostlive.faces import FaceAnalyzer, TargetSelection, select_faces
from ghostlive.hub import ModelStore
from ghostlive.jobs import SwapSettings, make_analyzer
from ghostlive.models.ghost import GhostArcFace
from ghostlive.models.registry import BY_NAME
from ghostlive.models.scrfd import SCRFD
from ghostlive.ops.align import norm_crop
from ghostlive.swappers import factory
from ghostlive.swappers.neural import GhostEmbedder
from ghostlive.tracking import FaceTracker, TrackerOptions
from ghostlive.types import Face, Frame

from . import onnx_graphs
from . import reference_pipelines as ref
from .http_server import Files, serve

KPS_SHIFT = 2.0  # keypoint offsets move by 2 strides · mean of the blob's first channel (normalised red)


def planted_scrfd(image: Frame, face: Face) -> bytes:
    """A stand-in SCRFD that finds ``face`` (placed from another detector's box and five points) in
    ``image``, on one stride-16 anchor, as insightface's letterbox maps it."""
    h, w = image.shape[:2]
    nh = 640 if h > w else int(640 * h / w)
    scale = nh / h
    planted = {s: [np.zeros(((640 // s) ** 2 * 2, k), np.float32) for k in (1, 4, 10)] for s in (8, 16, 32)}
    x1, y1, x2, y2 = np.array(face.box) * scale
    col, row = int((x1 + x2) / 32), int((y1 + y2) / 32)
    a, ax, ay = (row * 40 + col) * 2, col * 16.0, row * 16.0
    planted[16][0][a] = 0.9
    planted[16][1][a] = [(ax - x1) / 16, (ay - y1) / 16, (x2 - ax) / 16, (y2 - ay) / 16]
    planted[16][2][a] = ((face.keypoints5 * scale - [ax, ay]) / 16).ravel()
    return onnx_graphs.scrfd({s: tuple(v) for s, v in planted.items()}, kps_shift=KPS_SHIFT)


def scrfd_analyzer(graph: bytes, min_score: float = 0.5) -> FaceAnalyzer:
    return FaceAnalyzer("scrfd", scrfd=SCRFD(OrtRunner(graph), min_score=min_score))


@pytest.fixture(scope="module")
def wide(grace: Frame) -> Frame:
    """A landscape frame (insightface truncates the letterboxed height): grace on a 1000 px wide canvas."""
    canvas = np.full((600, 1000, 3), 90, np.uint8)
    canvas[:, 300:812] = grace
    return canvas


@pytest.mark.parametrize("name", ["astronaut", "grace", "wide"])
def test_scrfd_keypoints_are_insightfaces(name, request, analyzer) -> None:
    image = request.getfixturevalue(name)
    graph = planted_scrfd(image, analyzer.analyze(image)[0])
    faces = scrfd_analyzer(graph).analyze(image)
    boxes, kpss = ref.scrfd_detect(ref.session(graph), image, 0.5)
    assert len(faces) == 1 and len(boxes) == 1
    assert np.abs(faces[0].kps5 - kpss[0]).max() < 1e-3 and np.abs(np.array(faces[0].box) - boxes[0, :4]).max() < 1e-3
    assert faces[0].keypoints5 is faces[0].kps5  # what the swappers align on
    # the stand-in made the keypoints depend on the input: a red-blue swap would have moved them 100× the
    # tolerance above, and a blob without the 127.5 mean (x/128) by tens of pixels
    flipped = ref.scrfd_detect(ref.session(graph), np.ascontiguousarray(image[..., ::-1]), 0.5)[1][0]
    assert np.abs(flipped - kpss[0]).max() > 0.1
    crop, _ = norm_crop(image, faces[0].keypoints5, 224, "ghost")
    assert np.array_equal(crop, ref.ghost_crop(image, kpss[0])[0])


def test_tracks_keep_detector_keypoints_between_detections(analyzer, astronaut) -> None:
    graph = planted_scrfd(astronaut, analyzer.analyze(astronaut)[0])
    want = ref.scrfd_detect(ref.session(graph), astronaut, 0.5)[1][0]
    tracker = FaceTracker(scrfd_analyzer(graph), TrackerOptions(detect_every=3, smoothing=False))
    first = tracker.update(astronaut, 0.0)[0].face
    assert np.abs(first.kps5 - want).max() < 1e-3
    # the next frame is the same picture moved by (6, 4) px; the detector does not run, the mesh follows it
    moved = cv2.warpAffine(astronaut, np.array([[1.0, 0, 6], [0, 1.0, 4]]), (512, 512), borderMode=cv2.BORDER_REFLECT)
    followed = tracker.update(moved, 1 / 30)[0].face
    assert followed.kps5 is not None and np.abs(followed.kps5 - want - np.array([6, 4])).max() < 1.0
    smooth = FaceTracker(scrfd_analyzer(graph))  # the default: detector every frame, keypoints smoothed
    for i in range(3):
        face = smooth.update(astronaut, i / 30)[0].face
    assert np.abs(face.kps5 - want).max() < 1e-3


def test_detector_auto_choice(tmp_path: Path, analyzer, astronaut, monkeypatch, caplog) -> None:
    store = ModelStore(tmp_path)
    monkeypatch.setattr(factory, "_warned", set())
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            assert make_analyzer(SwapSettings(swapper="ghost-2"), store).scrfd is None
    warnings = [r.getMessage() for r in caplog.records if "SCRFD" in r.getMessage()]
    assert len(warnings) == 1 and "face mesh" in warnings[0] and "6 px" in warnings[0]
    assert "ghostlive models download scrfd" in warnings[0]
    with pytest.raises(ConfigError, match="models download scrfd"):
        make_analyzer(SwapSettings(swapper="classic", detector="scrfd"), store)
    assert make_analyzer(SwapSettings(swapper="classic")).scrfd is None  # classic: BlazeFace, no model folder
    model = tmp_path / "det.onnx"
    model.write_bytes(planted_scrfd(astronaut, analyzer.analyze(astronaut)[0]))
    store.import_file(model, "scrfd_10g_bnkps.onnx")
    ghost = make_analyzer(SwapSettings(swapper="ghost-2"), store)
    assert ghost.scrfd is not None and ghost.scrfd.min_score == 0.6  # GHOST's det_thresh
    assert make_analyzer(SwapSettings(swapper="inswapper"), store).scrfd.min_score == 0.5
    assert make_analyzer(SwapSettings(swapper="ghost-2", detector="full"), store).scrfd is None
    assert make_analyzer(SwapSettings(swapper="classic", detector="scrfd"), store).scrfd is not None


def test_ghost_face_choice_is_ghosts_rule(group, grace, analyzer) -> None:
    """GHOST embeds the candidate faces and the reference from BGR crops, L2-normalises, takes the argmax and
    keeps it above 0.15; the embedder gives the same vectors and the same choice."""
    w = np.random.default_rng(7).standard_normal((3, 512)).astype(np.float32)
    embedder = GhostEmbedder(GhostArcFace(OrtRunner(onnx_graphs.arcface(w))))
    assert embedder.default_threshold == 0.15
    arc = ref.session(onnx_graphs.arcface(w))

    def reference(image: Frame, face: Face) -> np.ndarray:
        import torch
        import torch.nn.functional as F  # noqa: N812

        crop = ref.ghost_crop(image, face.keypoints5)[0]
        x = (torch.tensor(crop, dtype=torch.float32).permute(2, 0, 1)[None] / 255.0 - 0.5) / 0.5
        e = ref.run1(arc, F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=True).numpy())[0]
        return e / np.linalg.norm(e)

    image, spans = group
    faces = analyzer.analyze(image)
    mine = analyzer.analyze(grace)[0]
    r = embedder.embed(grace, mine)
    assert np.abs(r - reference(grace, mine)).max() < 1e-4
    sims = [float(reference(image, f) @ reference(grace, mine)) for f in faces]
    chosen = select_faces(image, faces, TargetSelection("reference", references=(r,)), embedder)
    assert chosen.faces == [faces[int(np.argmax(sims))]] and max(sims) > 0.15
    x0, x1 = spans[1]
    assert x0 < (chosen.faces[0].box[0] + chosen.faces[0].box[2]) / 2 < x1  # Grace Hopper's tile


def test_one_command_installs_what_a_swapper_uses(tmp_path: Path, monkeypatch, capsys) -> None:
    """Stand-ins with the real signatures and state_dict keys: downloads are checked as imports are."""
    pytest.importorskip("torch")
    from .golden import manifests
    from .test_hub import BUFFALO, buffalo_zip, ghost_checkpoint, scrfd_model

    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    files = {"/buffalo_l.zip": buffalo_zip(BUFFALO), "/scrfd_10g_bnkps.onnx": scrfd_model(padding=0)}
    for name, key in (("ghost-1", "G_unet_1block"), ("ghost-arcface", "arcface_backbone_iresnet100")):
        filename = BY_NAME[name].filename
        files[f"/{filename}"] = ghost_checkpoint(tmp_path / filename, manifests()[key]).read_bytes()
    with serve(Files(files)) as base:
        for name, spec in list(BY_NAME.items()):
            if spec.url:
                path = "buffalo_l.zip" if spec.archive_member else spec.filename
                monkeypatch.setitem(BY_NAME, name, dataclasses.replace(spec, url=f"{base}/{path}"))
        assert main(["models", "list"]) == 0
        assert "uses: ghost-arcface (missing), 2d106det (missing), scrfd (missing)" in capsys.readouterr().out
        assert main(["models", "download", "ghost-1", "--no-export"]) == 0
        assert main(["models", "download", "inswapper"]) == 1  # its helpers came with the pack; it is import only
    assert "inswapper_128.onnx cannot be downloaded; run: ghostlive models import PATH" in capsys.readouterr().err
    installed = set(ModelStore(tmp_path / "home").manifest())
    assert installed == {
        "G_unet_1block.pth", "backbone.pth", "2d106det.onnx", "w600k_r50.onnx", "det_10g.onnx", "scrfd_10g_bnkps.onnx"
    }  # fmt: skip
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    arcface = "ghost-arcface (installed, not exported: run ghostlive export ghost-arcface)"  # --no-export
    assert f"uses: {arcface}, 2d106det (installed), scrfd (installed)" in out
    assert "uses: w600k (installed), det_10g (installed)" in out


def test_first_mode_follows_the_first_frames_face(astronaut, grace, cameraman, analyzer) -> None:
    """GHOST without a reference: the first frame's best-detected face is the target; later frames with several
    faces swap only the one most like it. The same three-person frame gets a different face swapped depending
    on who was alone in the first frame."""
    from ghostlive.pipeline.chain import FrameProcessor, Pair
    from ghostlive.swappers.classic import ClassicSwapper

    from .conftest import compose

    w = np.random.default_rng(8).standard_normal((3, 512)).astype(np.float32)
    embedder = GhostEmbedder(GhostArcFace(OrtRunner(onnx_graphs.arcface(w))))
    swapper = ClassicSwapper()
    source = swapper.prepare_source(grace, analyzer.analyze(grace)[0])
    people = {"astronaut": astronaut, "grace": grace, "cameraman": cameraman}

    def swapped_people(stream: FrameProcessor, order: list[str], t: float) -> list[str]:
        image, spans = compose(*(people[p] for p in order))
        result = stream.process(image, t)
        assert len(result.faces) == len(order)
        centres = [(f.box[0] + f.box[2]) / 2 for f in result.swapped]
        return [order[i] for c in centres for i, (x0, x1) in enumerate(spans) if x0 < c < x1]

    for alone in ("cameraman", "astronaut"):
        stream = FrameProcessor(analyzer, swapper, selection=TargetSelection("first"), embedder=embedder)
        stream.set_pairs([Pair(source)])
        assert swapped_people(stream, [alone], 0.0) == [alone]
        stream.tracker.reset()  # a cut: new tracks
        assert swapped_people(stream, ["astronaut", "grace", "cameraman"], 1.0) == [alone]
