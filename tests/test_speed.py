"""The thread budget and bench --live's CPU-time record (the colour conversion of frames: test_frame_colour)."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import cv2
import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.engines.base import CpuThreads, default_threads, set_default_threads
from ghostlive.engines.ort import open_onnx
from ghostlive.faces import FaceAnalyzer, asset_path
from ghostlive.media.image import read_image
from ghostlive.threads import PIPELINE_THREADS, apply_plan, plan_threads

ASTRONAUT = asset_path("samples/astronaut.png")


@pytest.fixture
def restore_plan():
    before, cv_threads = default_threads(), cv2.getNumThreads()
    yield
    set_default_threads(before)
    cv2.setNumThreads(cv_threads)


@pytest.mark.parametrize("cores", [1, 2, 3, 4, 8, 16, 64])
def test_plan_never_oversubscribes(cores: int) -> None:
    photo = plan_threads("photo", cores)
    assert photo.ort_intra == photo.opencv == cores  # one frame at a time: every core to each stage
    for mode in ("video", "live"):
        plan = plan_threads(mode, cores)
        busy = PIPELINE_THREADS[mode] - 1 + max(plan.ort_intra, plan.opencv)  # pipeline threads + one pool
        assert busy <= max(cores, PIPELINE_THREADS[mode]) and plan.ort_intra >= 1 and plan.opencv >= 1
        assert not plan.ort_spin and plan.decode >= 1 and 1 <= plan.encode <= max(cores, 1)
    assert plan_threads("live", cores, ort_threads=3).ort_intra == 3  # --threads overrides
    with pytest.raises(ValueError):
        plan_threads("batch", cores)  # type: ignore[arg-type]


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through Linux /proc")
def test_sessions_follow_the_applied_plan(restore_plan, tmp_path) -> None:
    """A real model session opened under the 2-core live plan starts no pool thread; under a 3-thread plan a
    large model's session starts two and a small built-in model's none (one thread is faster for it), unless
    asked for more; the landmarks are the same either way."""
    plan = apply_plan(plan_threads("live", cores=2))
    assert (plan.ort_intra, cv2.getNumThreads()) == (1, 1)
    open_onnx(asset_path("blazeface_short_range.onnx"))  # ONNX Runtime's process-wide setup, done once
    before = _threads()
    single = FaceAnalyzer(tile_levels=0)  # three sessions: two detectors' worth of threads would show
    assert _threads() == before
    apply_plan(plan_threads("live", cores=5))
    before = _threads()
    small = open_onnx(asset_path("facemesh_468.onnx"))
    assert _threads() == before and small.info.inputs  # a small built-in model: the calling thread only
    mesh = open_onnx(asset_path("facemesh_468.onnx"), threads=3)
    assert _threads() - before == 2  # intra-op 3 = the calling thread + a pool of 2
    large = tmp_path / "large.onnx"
    _matmul_graph(large, 1100)  # 4.8 MB of weights: above SMALL_MODEL_BYTES, so the plan's 3 threads
    before = _threads()
    held = open_onnx(large)  # a session's pool lives as long as the session
    assert _threads() - before == 2 and held.info.inputs[0].name == "x"
    photo = read_image(ASTRONAUT).bgr
    faces = single.analyze(photo)
    assert len(faces) == 1
    xy = mesh.run({mesh.info.inputs[0].name: np.zeros((1, 192, 192, 3), np.float32)})
    assert all(np.isfinite(v).all() for v in xy.values())
    explicit = open_onnx(asset_path("facemesh_468.onnx"), threads=CpuThreads(1))
    a = explicit.run({explicit.info.inputs[0].name: np.full((1, 192, 192, 3), 0.5, np.float32)})
    b = mesh.run({mesh.info.inputs[0].name: np.full((1, 192, 192, 3), 0.5, np.float32)})
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-4, atol=1e-3)


def test_bench_live_saves_and_compares(capsys, tmp_path, restore_plan) -> None:
    record = tmp_path / "live.json"
    args = ["bench", "--frames", "1", "--sizes", "320x240", "--live", "--live-seconds", "2"]
    assert main([*args, "--save", str(record)]) == 0
    out = capsys.readouterr().out
    assert "thread plan (live" in out and "CPU ms/frame" in out
    saved = json.loads(record.read_text())
    run = saved["sizes"]["320x240"]
    assert saved["plan"]["mode"] == "live" and not saved["plan"]["ort_spin"]
    assert run["fps"] > 0 and run["cpu_ms_per_frame"]["process"] > 0 and run["cpu_ms_per_frame"]["swap"] > 0
    assert run["stages_cpu_ms"]["track"] > 0
    assert main([*args, "--compare", str(record)]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.strip().startswith("320x240 fps"))
    assert "cpu process" in line and "×" in line
    record.write_text("{not json")
    assert main([*args, "--compare", str(record)]) == 1
    assert "not a bench --live record" in capsys.readouterr().err
    assert main(["bench", "--frames", "1", "--save", str(record)]) == 1  # needs --live
    assert main(["bench", "--frames", "1", "--int8"]) == 1  # needs --generator
    assert "--generator" in capsys.readouterr().err


def _real_frames() -> list[np.ndarray]:
    """Every 4th frame of the real test clip, and the real photos (samples and tests/data)."""
    from ghostlive.media.video import VideoItem, VideoSource

    data = Path(__file__).parent / "data"
    with VideoSource(data / "megamind_3s.mp4") as video:
        frames = [item.image for item in video.items() if isinstance(item, VideoItem)][::4]
    photos = [ASTRONAUT, asset_path("samples/grace_hopper.jpg"), data / "messi5.jpg", data / "cameraman_gray.png"]
    return frames + [read_image(p).bgr for p in photos]


def test_fast_paths_keep_landmarks_of_the_full_path(restore_plan) -> None:
    """Every 4th frame of the real test clip and the real photos through the face models as the photo path
    opened them before (every core per session) and as the photo and 2-core live plans open them now (one
    thread per built-in model, no spinning): landmarks within 0.5 px (the bound for anything done to save
    time; different thread counts only reorder float sums)."""
    apply_plan(plan_threads("photo"))
    full = FaceAnalyzer(tile_levels=0, threads=max(plan_threads("photo").ort_intra, 2))
    photo = FaceAnalyzer(tile_levels=0)
    apply_plan(plan_threads("live", cores=2))
    live = FaceAnalyzer(tile_levels=0)
    compared = 0
    frames = _real_frames()
    for frame in frames:
        a = full.analyze(frame)
        for fast in (photo, live):
            b = fast.analyze(frame)
            assert len(a) == len(b)
            for fa, fb in zip(a, b, strict=True):
                assert np.linalg.norm(fa.landmarks - fb.landmarks, axis=1).max() < 0.5
                compared += 1
    assert compared >= 2 * (len(frames) - 2)  # the face is found in (nearly) every frame


def test_int8_falls_back_to_min_max_calibration(tmp_path, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    """ONNX Runtime 1.19 (the lower bound) fails the percentile calibration on some tensors ("autodetected range
    of [nan, nan] is not finite"; newer releases do not): the model is then calibrated on min and max instead.
    The failure is forced here on the installed release, whose own quantiser then runs the fallback."""
    import onnxruntime.quantization as q

    from ghostlive.engines.quantize import quantize_int8

    real, methods = q.quantize_static, []

    def percentile_fails(*args, **kwargs):
        methods.append(kwargs["calibrate_method"])
        if kwargs["calibrate_method"] == q.CalibrationMethod.Percentile:
            raise ValueError("autodetected range of [nan, nan] is not finite")
        return real(*args, **kwargs)

    monkeypatch.setattr(q, "quantize_static", percentile_fails)
    model = tmp_path / "g.onnx"
    _conv_graph(model)
    calib = np.random.default_rng(1).normal(0, 1, (1, 3, 64, 64)).astype(np.float32)
    with caplog.at_level("INFO", logger="ghostlive.engines.quantize"):
        out = quantize_int8(model, tmp_path / "g8.onnx", iter([{"x": calib}, {"x": -calib}]))
    assert methods == [q.CalibrationMethod.Percentile, q.CalibrationMethod.MinMax]
    assert "calibrated on min and max" in caplog.text
    assert np.isfinite(open_onnx(out).run({"x": calib})["y"]).all()


def test_int8_weights_in_7_bits_only_on_x86_without_vnni() -> None:
    """ONNX Runtime's quantisation guide: 7-bit weights (reduce_range) on x86 CPUs without VNNI, whose AVX2
    u8×s8 pair sums saturate at 16 bits; CPUs with VNNI and ARM keep 8 bits. This machine's own flags decide."""
    from ghostlive.engines.cache import cpu_info
    from ghostlive.engines.quantize import reduced_range

    avx2 = {"sse4_2", "avx", "avx2", "fma", "avx512f"}
    assert reduced_range("x86_64", avx2) and reduced_range("AMD64", set())  # unreadable flags: the safe choice
    assert not reduced_range("x86_64", avx2 | {"avx512_vnni"}) and not reduced_range("x86_64", avx2 | {"avx_vnni"})
    assert not reduced_range("aarch64", {"asimd", "asimddp"}) and not reduced_range("arm64", set())
    here = cpu_info()[1]
    assert reduced_range() == (
        platform.machine().lower() in ("x86_64", "amd64") and not here & {"avx512_vnni", "avx_vnni"}
    )


def _matmul_graph(path: Path, n: int) -> None:
    """A stand-in model of a given weight size: one n×n MatMul."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.eye(n, dtype=np.float32), "w")
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    graph = helper.make_graph(
        [node],
        "stand_in",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])],
        [w],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def _conv_graph(path: Path) -> None:
    """A stand-in for a generator: conv (3→8, 3×3) → ReLU → conv (8→3), fixed random weights."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w1 = numpy_helper.from_array(rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.normal(0, 0.3, (3, 8, 3, 3)).astype(np.float32), "w2")
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["h"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Conv", ["r", "w2"], ["y"], pads=[1, 1, 1, 1]),
    ]
    graph = helper.make_graph(
        nodes,
        "stand_in",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 64, 64])],
        [w1, w2],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_int8_quantisation_calibrated_on_real_faces(tmp_path) -> None:
    """Static int8 of a stand-in conv graph calibrated on real face crops: written atomically, runs, and stays
    close to fp32 on a face it was not calibrated on, with 8-bit weights and with 7-bit ones (for x86 CPUs
    without VNNI); a broken model leaves no file behind."""
    import onnx
    from onnx import numpy_helper

    from ghostlive.engines.quantize import quantize_int8
    from ghostlive.errors import ModelError

    model = tmp_path / "g.onnx"
    _conv_graph(model)
    faces = FaceAnalyzer(tile_levels=0)

    def crop(name: str) -> np.ndarray:
        img = read_image(asset_path(name)).bgr
        x0, y0, x1, y1 = (int(v) for v in faces.analyze(img)[0].box)
        face = cv2.resize(img[y0:y1, x0:x1], (64, 64)).astype(np.float32) / 127.5 - 1.0
        return np.ascontiguousarray(face.transpose(2, 0, 1)[None])

    calib, held_out = crop("samples/astronaut.png"), crop("samples/grace_hopper.jpg")
    out = quantize_int8(model, tmp_path / "g8.onnx", [{"x": calib}, {"x": calib[..., ::-1].copy()}])
    assert out.is_file() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    fp32, int8 = open_onnx(model), open_onnx(out)
    a, b = fp32.run({"x": held_out})["y"], int8.run({"x": held_out})["y"]
    assert np.abs(a - b).mean() < 0.05 * np.abs(a).mean() + 1e-3
    assert float((a * b).sum() / (np.linalg.norm(a) * np.linalg.norm(b))) > 0.99
    seven = quantize_int8(model, tmp_path / "g7.onnx", [{"x": calib}], reduce_range=True)
    def widest(path: Path) -> int:
        tensors = [numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer]
        weights = [w for w in tensors if w.dtype == np.int8 and w.ndim == 4]  # the two convolutions' kernels
        assert len(weights) == 2
        return max(int(np.abs(w.astype(np.int32)).max()) for w in weights)

    assert widest(out) > 100 and widest(seven) <= 64  # 8-bit weights span ±127 per channel, 7-bit ones ±64
    c, d = fp32.run({"x": held_out})["y"], open_onnx(seven).run({"x": held_out})["y"]
    assert np.abs(c - d).mean() < 0.05 * np.abs(c).mean() + 1e-3
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelError):
        quantize_int8(broken, tmp_path / "b8.onnx", [{"x": calib}])
    assert not (tmp_path / "b8.onnx").exists() and not (tmp_path / ".b8.onnx.partial").exists()


def test_bench_video_reports_fps_and_memory(capsys, restore_plan) -> None:
    """``bench --video``: a real 1280×720 clip swapped offline; its row has the rate and resident memory."""
    assert main(["bench", "--frames", "1", "--sizes", "160x120", "--video", "12"]) == 0
    row = next(ln.split() for ln in capsys.readouterr().out.splitlines() if ln.split()[:1] == ["12"])
    frames, fps, start, peak, end = (float(x) for x in row)
    assert frames == 12 and fps > 0 and peak >= start > 0 and end > 0


def test_a_video_job_opens_its_models_under_the_video_plan(restore_plan, tmp_path) -> None:
    """The models of a video job (a GHOST generator's session, an enhancer's) open under the video plan, whose
    model pools leave cores to the reader and writer threads: it is applied before the job builds them."""
    from ghostlive.jobs import Job, PairSpec, SwapSettings
    from ghostlive.session.files import run_file

    from .media_tools import CLIP

    apply_plan(plan_threads("photo"))
    seen = []

    def job(settings, pairs):
        seen.append(default_threads())
        return Job(settings, pairs)

    out = tmp_path / "out.mp4"
    run_file(SwapSettings(tiles=0), [PairSpec(str(ASTRONAUT))], str(CLIP), out, job=job)
    video = plan_threads("video")
    assert seen == [CpuThreads(video.ort_intra, video.ort_inter, video.ort_spin)] and out.is_file()


def test_bench_checks_its_record_paths_before_measuring(capsys, tmp_path, restore_plan) -> None:
    """A --save folder that does not exist, a folder as --save or --compare, a missing --compare record: one line
    naming the path before anything is measured (no table printed), not a failure after the whole run."""
    args = ["bench", "--frames", "1", "--sizes", "320x240", "--live", "--live-seconds", "1"]
    cases = [
        (["--save", str(tmp_path / "nowhere" / "run.json")], "does not exist"),
        (["--save", str(tmp_path)], "is a folder"),
        (["--compare", str(tmp_path)], "is a folder"),
        (["--compare", str(tmp_path / "missing.json")], "no such bench record"),
    ]
    for extra, message in cases:
        assert main([*args, *extra]) == 1
        captured = capsys.readouterr()
        assert message in captured.err and "unexpected" not in captured.err
        assert "detect" not in captured.out  # the photo table's header: nothing was measured
    assert not any(p.name.endswith(".part") or p.name.startswith(".") for p in tmp_path.iterdir())
