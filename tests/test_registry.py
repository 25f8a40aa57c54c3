"""Registries of named parts (ghostlive.registry): unknown names are one line listing the known ones, ``auto``
takes the best installed part. Checked on the real registries: swappers, backends, detectors (SCRFD chosen
automatically when installed: a stand-in SCRFD graph with the real output signature, planted on the real face)
and embedders (ArcFace for reference matching when its weights are installed: a stand-in ArcFace graph with
w600k's signature)."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from ghostlive.engines.registry import BACKENDS, RUNNERS, backend_choices, open_runner
from ghostlive.enhance import ENHANCERS, EnhanceOptions, build_restorer
from ghostlive.errors import BackendUnavailableError, ConfigError, ModelError
from ghostlive.faces import DETECTORS, FaceAnalyzer, LbpEmbedder, asset_path
from ghostlive.hub import ModelStore
from ghostlive.jobs import Job, PairSpec, SwapSettings, make_analyzer
from ghostlive.masking.mesh import RegionMask
from ghostlive.masking.options import MASKS, MaskOptions, build_providers
from ghostlive.media.sinks import SINKS, open_sinks
from ghostlive.models.registry import RESTORERS, SWAPPERS
from ghostlive.ops.align import norm_crop
from ghostlive.registry import Registry
from ghostlive.swappers.classic import ClassicSwapper
from ghostlive.swappers.embedders import EMBEDDERS, choose_embedder
from ghostlive.swappers.factory import SWAPPER_REGISTRY, build_swapper

from . import onnx_graphs
from .test_neural_keypoints import planted_scrfd

GRACE = asset_path("samples/grace_hopper.jpg")


def test_registry_names_errors_and_best() -> None:
    reg: Registry[str] = Registry("widget")
    reg.register("plain", lambda: "plain")
    reg.register("fancy", lambda: "fancy", installed=lambda have: "fancy" in have, priority=1)
    assert reg.names() == ("plain", "fancy") and reg.create("fancy") == "fancy"
    with pytest.raises(ConfigError, match=r"^unknown widget 'nope'; choose from plain, fancy$"):
        reg.get("nope")
    assert reg.best({"fancy"}) == "fancy" and reg.best(set()) == "plain"
    with pytest.raises(ConfigError, match="already registered"):
        reg.register("plain", lambda: "again")


def test_unknown_swapper_lists_the_swappers(tmp_path: Path) -> None:
    assert SWAPPER_REGISTRY.names() == SWAPPERS
    with pytest.raises(ConfigError, match="unknown swapper 'ghost9'; choose from classic, ghost-1, ghost-2, ghost-3, "):
        build_swapper("ghost9", ModelStore(tmp_path))
    assert not SWAPPER_REGISTRY.installed(ModelStore(tmp_path))[1:]  # nothing but classic without models


def test_backends_in_one_place(tmp_path: Path) -> None:
    assert BACKENDS == ("tensorrt", "ort-cuda", "torch-cuda", "ort-cpu")
    assert backend_choices("all") == ("auto", "all", *BACKENDS, "torch-cpu", "ort-trt")
    assert backend_choices() == ("auto", *RUNNERS.names())
    model = tmp_path / "arc.onnx"
    model.write_bytes(onnx_graphs.arcface(np.ones((3, 512), np.float32)))
    with pytest.raises(BackendUnavailableError, match="nope: unknown backend 'nope'; choose from tensorrt, ort-cuda"):
        open_runner(model, prefer=["nope"])
    assert open_runner(model, prefer=["nope", "ort-cpu"]).info.backend.endswith("CPUExecutionProvider")


def test_unknown_detector_lists_the_detectors() -> None:
    assert DETECTORS == ("auto", "blazeface", "full", "short", "both", "scrfd")
    with pytest.raises(ConfigError, match="unknown detector 'mtcnn'; choose from auto, blazeface, full"):
        FaceAnalyzer("mtcnn")  # type: ignore[arg-type]


def test_scrfd_is_the_auto_detector_when_installed(tmp_path: Path, analyzer, astronaut) -> None:
    """Classic swapper, detector auto: BlazeFace without SCRFD; with SCRFD installed its detections (and five
    keypoints) are what the analyzer returns."""
    store = ModelStore(tmp_path)
    assert make_analyzer(SwapSettings(swapper="classic"), store).scrfd is None
    face = analyzer.analyze(astronaut)[0]
    graph = tmp_path / "det.onnx"
    graph.write_bytes(planted_scrfd(astronaut, face))
    store.import_file(graph, "det_10g.onnx")
    chosen = make_analyzer(SwapSettings(swapper="classic"), store)
    assert chosen.scrfd is not None and chosen.scrfd.min_score == 0.5
    found = chosen.analyze(astronaut)
    assert len(found) == 1 and np.abs(found[0].kps5 - face.keypoints5).max() < 8  # the planted keypoints
    assert make_analyzer(SwapSettings(swapper="classic", detector="blazeface"), store).scrfd is None


def test_arcface_matches_references_when_installed(tmp_path: Path, monkeypatch, analyzer, grace) -> None:
    """The classic swapper has no ArcFace of its own: reference matching uses LBP without models and the
    installed w600k ArcFace (a stand-in graph here) once it is there."""
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path))
    assert choose_embedder(ClassicSwapper(), store=ModelStore(tmp_path)).name == "lbp"
    w = np.random.default_rng(7).standard_normal((3, 512)).astype(np.float32)
    graph = tmp_path / "arc.onnx"
    graph.write_bytes(onnx_graphs.arcface(w))
    ModelStore(tmp_path).import_file(graph, "w600k_r50.onnx")
    assert EMBEDDERS.best(ModelStore(tmp_path)) == "arcface-w600k"
    job = Job(SwapSettings(swapper="classic"), [PairSpec(GRACE, GRACE)])
    assert job.embedder.name == "arcface-w600k" and job.embedder.default_threshold == 0.3
    assert job.embedder._embedder is not None  # the reference photo was embedded with it
    plain = Job(SwapSettings(swapper="classic", faces="all"), [PairSpec(GRACE)])
    assert plain.embedder.name == "arcface-w600k" and plain.embedder._embedder is None  # no matching: never opened
    face = analyzer.analyze(grace)[0]
    crop, _ = norm_crop(grace, face.keypoints5, 112, "arcface")
    want = ((crop[..., ::-1].astype(np.float64) - 127.5) / 127.5).mean((0, 1)) @ w
    assert np.allclose(job.embedder.embed(grace, face), want / np.linalg.norm(want), atol=1e-4)
    assert isinstance(choose_embedder(ClassicSwapper(), "lbp", ModelStore(tmp_path)), LbpEmbedder)
    chosen = Job(SwapSettings(swapper="classic", embedder="lbp"), [PairSpec(GRACE, GRACE)])  # --embedder lbp
    assert chosen.embedder.name == "lbp" and chosen.embedder.default_threshold == 0.88
    with pytest.raises(ConfigError, match="unknown embedder 'dlib'; choose from arcface-w600k, arcface-ghost, lbp"):
        choose_embedder(None, "dlib", ModelStore(tmp_path))


def test_sinks_open_by_name_and_close_on_failure(tmp_path: Path) -> None:
    """Outputs by name (one registry for the live CLI); when one fails the ones already open are closed (the
    stream's real socket is free again) and the error names what is missing."""
    assert SINKS.names() == ("virtual-camera", "stream", "record", "null")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConfigError, match="needs a file name"):
        open_sinks([("stream", {"host": "127.0.0.1", "port": port}), ("record", {})], 64, 48, 30.0)
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # the stream's server was closed
    with pytest.raises(ConfigError, match="unknown output 'ndi'; choose from virtual-camera, stream, record, null"):
        open_sinks([("ndi", {})], 64, 48, 30.0)
    assert open_sinks([], 64, 48, 30.0) == []
    skipped: list[str] = []
    [null] = open_sinks([("record", {}), ("null", {})], 64, 48, 30.0, optional=("record",), on_skip=skipped.append)
    assert null.name == "null" and len(skipped) == 1 and "needs a file name" in skipped[0]
    [stream, rec] = open_sinks([("stream", {"port": 0}), ("record", {"path": tmp_path / "out.mp4"})], 64, 48, 30.0)
    try:
        assert stream.url.startswith("http://127.0.0.1:") and rec.name.endswith("out.mp4")
        rec.send(np.zeros((48, 64, 3), np.uint8))
    finally:
        stream.close()
        rec.close()
    assert (tmp_path / "out.mp4").stat().st_size > 0


def test_masks_and_enhancers_by_name(tmp_path: Path) -> None:
    """Masks and enhancers come from their registries: the --mask/--enhancer choices, a named provider built,
    an unknown name listed, a missing model named with the command that installs it."""
    assert MASKS == ("occlusion", "parser", "mouth", "lips", "eyes", "box")
    assert ENHANCERS.names() == tuple(RESTORERS)
    [mouth] = build_providers(MaskOptions(masks=("mouth",)))
    assert isinstance(mouth, RegionMask)
    with pytest.raises(ConfigError, match="unknown mask 'hair'; choose from occlusion, parser, mouth, lips, eyes, box"):
        build_providers(MaskOptions(masks=("hair",)))
    with pytest.raises(ConfigError, match=r"unknown enhancer 'esrgan'; choose from gfpgan-1.4, codeformer"):
        build_restorer(EnhanceOptions(enhancer="esrgan"), ModelStore(tmp_path))
    with pytest.raises(ModelError, match=r"models (download|import)"):
        build_restorer(EnhanceOptions(enhancer="codeformer"), ModelStore(tmp_path))
    assert ENHANCERS.installed(ModelStore(tmp_path)) == ()


def test_live_outputs_by_name_from_the_command_line(tmp_path: Path, capsys) -> None:
    """``live --output NAME`` opens a registered output; one that needs options it was not given is one error
    line (exit 1) and nothing stays open; an unknown name is a usage error listing the names."""
    from ghostlive.cli import main

    from .media_tools import write_video

    clip = write_video(tmp_path / "cam.mp4", [np.zeros((96, 128, 3), np.uint8) + 90] * 12)
    base = ["live", "-q", "--source", GRACE, "--camera", str(clip), "--no-loop", "--duration", "1"]
    assert main([*base, "--stream", "127.0.0.1:0", "--output", "null"]) == 0
    err = capsys.readouterr().err
    assert "output: MJPEG stream http://127.0.0.1:" in err and "output: null" in err
    assert main([*base, "--output", "record"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "ghostlive: error: the record output needs a file name (--record OUT.mp4)"
    )
    with pytest.raises(SystemExit) as usage:
        main([*base, "--output", "ndi"])
    assert usage.value.code == 2 and "invalid choice: 'ndi'" in capsys.readouterr().err
