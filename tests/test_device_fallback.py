"""The GPU frame path's fallback to the CPU, and the frame path on a stand-in GPU (tests/fake_cupy.py) that
moves the frame once."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from ghostlive.engines.ort import OrtRunner
from ghostlive.errors import NoFaceError
from ghostlive.faces import asset_path
from ghostlive.jobs import Job, PairSpec, SwapSettings
from ghostlive.models.facemesh import topology
from ghostlive.ops.mesh import points_roi
from ghostlive.pipeline import FrameProcessor
from ghostlive.pipeline.frame import FrameDevice, FrameResult, StageTimes
from ghostlive.swappers.classic import ClassicSwapper
from ghostlive.tracking import TrackerOptions
from ghostlive.xp import on_device, portable, resolve_device, to_host

from .conftest import DATA
from .media_tools import frames_of


class FakeGpu(SimpleNamespace):
    """Stands in for cupy (no GPU here): ``asarray`` copies, so the frame handed to the device path is a
    different array from the host frame."""


def test_a_failing_gpu_path_falls_back_to_the_cpu_once(astronaut: np.ndarray, caplog) -> None:
    device = FrameDevice("cpu")
    device.xp = FakeGpu(asarray=lambda a: np.array(a, copy=True))
    seen: list[bool] = []

    def swap(frame: np.ndarray) -> FrameResult:
        on_device = frame is not astronaut
        seen.append(on_device)
        if on_device:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return FrameResult(frame.copy(), [], [], StageTimes())

    with caplog.at_level("WARNING"):
        result = device.run(astronaut, swap)
    assert seen == [True, False] and np.array_equal(result.frame, astronaut)
    assert device.name == "cpu" and "illegal memory access" in (device.fell_back or "")
    assert "continuing on the CPU" in caplog.text
    device.run(astronaut, swap)
    assert seen == [True, False, False]  # stays on the CPU


def test_a_failing_upload_falls_back_too(astronaut: np.ndarray) -> None:
    def out_of_memory(_a: np.ndarray) -> np.ndarray:
        raise MemoryError("cudaErrorMemoryAllocation: out of memory")

    device = FrameDevice("cpu")
    device.xp = FakeGpu(asarray=out_of_memory)
    assert device.apply(astronaut, lambda img: img.shape) == astronaut.shape
    assert device.name == "cpu" and "out of memory" in (device.fell_back or "")


def test_ghostlive_errors_are_not_hidden_by_the_fallback(astronaut: np.ndarray) -> None:
    device = FrameDevice("cpu")
    device.xp = FakeGpu(asarray=lambda a: np.array(a, copy=True))

    def swap(frame: np.ndarray) -> FrameResult:
        raise NoFaceError("no face found in the frame")

    with pytest.raises(NoFaceError):
        device.run(astronaut, swap)
    assert device.fell_back is None


def test_photo_pipeline_on_a_stand_in_gpu_moves_the_frame_once(astronaut, grace, analyzer, monkeypatch) -> None:
    """The whole photo pipeline on device arrays that refuse every implicit host/device move (see fake_cupy):
    it must not fall back, must equal the portable numpy run, and must upload and download the frame once."""
    from . import fake_cupy

    with portable():
        expected = FrameProcessor(analyzer, ClassicSwapper())
        expected.set_source(grace)
        want = expected.process(astronaut).frame
    fake_cupy.install(monkeypatch)
    # ONNX Runtime here has only the CPU provider, so model inputs/outputs cross to the host inside the runner
    # (on a GPU they are bound in place); count those apart
    model_io: list[int] = []
    bound = OrtRunner.run_device

    def run_device(self, inputs):
        before = len(fake_cupy.transfers)
        out = bound(self, inputs)
        model_io.extend(range(before, len(fake_cupy.transfers)))
        return out

    monkeypatch.setattr(OrtRunner, "run_device", run_device)
    device = FrameDevice("cuda")
    pipe = FrameProcessor(analyzer, ClassicSwapper(), device=device)
    with portable():  # the source photo is analysed on the host: the same way as for the expected frame
        pipe.set_source(grace)
    pipe.process(astronaut)  # the first frame also uploads per-size tables (resampling weights), once
    fake_cupy.transfers.clear()
    model_io.clear()
    got = pipe.process(astronaut)
    assert device.name == "cuda" and device.fell_back is None
    assert type(got.frame) is np.ndarray and np.array_equal(got.frame, want)
    frame_bytes = astronaut.nbytes
    big = [t for t in fake_cupy.transfers if t[1] >= frame_bytes]
    assert big == [("up", frame_bytes), ("down", frame_bytes)]
    # everything else that crosses is small: per-triangle tables (~100 KB for the 854-triangle mesh) up,
    # landmark-sized results down
    other = [n for i, (_, n) in enumerate(fake_cupy.transfers) if i not in model_io and n < frame_bytes]
    assert sum(other) < 150_000, sorted(other)[-5:]


def test_stream_on_a_stand_in_gpu_equals_portable(monkeypatch) -> None:
    from . import fake_cupy

    frames = frames_of(DATA / "megamind_3s.mp4")[6:24:6]

    def run(device: str) -> list[np.ndarray]:
        settings = SwapSettings(tiles=0, device=device, tracker=TrackerOptions(detect_every=2))
        job = Job(settings, [PairSpec(asset_path("samples/grace_hopper.jpg"))])
        out = [job.stream().process(f, i / 5).frame for i, f in enumerate(frames)]
        assert job.device.fell_back is None
        return out

    with portable():
        want = run("cpu")
    fake_cupy.install(monkeypatch)
    with portable():  # host-side work (the source photo) as above; device arrays are unaffected
        got = run("cuda")
    assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))


def test_triangle_raster_is_the_same_in_many_chunks(astronaut, analyzer, monkeypatch) -> None:
    from ghostlive.ops import raster

    face = analyzer.analyze(astronaut)[0]
    roi = points_roi(face.landmarks, astronaut.shape)
    tris = topology().triangles
    order = np.argsort(-face.depth[tris].mean(1), kind="stable")
    whole = raster.triangle_ids(face.landmarks, tris, roi, order)
    monkeypatch.setattr(raster, "CANDIDATE_BUDGET", 500)  # forces dozens of chunks
    assert np.array_equal(raster.triangle_ids(face.landmarks, tris, roi, order), whole)


def test_the_stand_in_gpu_refuses_what_cupy_refuses(monkeypatch) -> None:
    """The stand-in is only useful if it is strict: each refusal it promises, checked."""
    from . import fake_cupy

    cp = fake_cupy.install(monkeypatch)
    dev = cp.asarray(np.arange(6, dtype=np.float32))
    host = np.ones(6, np.float32)
    assert resolve_device("cuda") is cp and on_device(dev) and not on_device(host)
    for bad in (
        lambda: np.clip(dev, 0, 1),
        lambda: np.asarray(dev),
        lambda: dev + host,
        lambda: dev[np.array([0, 1])],
        lambda: dev.__setitem__(slice(0, 6), host),
        lambda: float(dev),
    ):
        with pytest.raises(TypeError):
            bad()
    assert np.array_equal(to_host(cp.clip(dev, 0, 1) + 1), np.clip(np.arange(6), 0, 1) + 1)
    assert fake_cupy.transfers == [("up", 24), ("down", 24)]


def test_auto_keeps_the_classic_swapper_on_the_host(monkeypatch) -> None:
    """``--device auto`` on a machine with a (stand-in) GPU: the classic swapper's frames stay on the CPU, where
    it is faster (its ``host_frames``); a swapper without that flag gets the GPU; ``--device cuda`` is obeyed."""
    from . import fake_cupy

    fake_cupy.install(monkeypatch)
    source = asset_path("samples/grace_hopper.jpg")
    assert Job(SwapSettings(device="auto"), [PairSpec(source)]).device.name == "cpu"
    assert Job(SwapSettings(device="cuda"), [PairSpec(source)]).device.name == "cuda"

    class DeviceFirst(ClassicSwapper):
        host_frames = False

    assert Job(SwapSettings(device="auto"), [PairSpec(source)], DeviceFirst()).device.name == "cuda"
    assert FrameDevice("auto").name == "cuda" and FrameDevice("auto", host_first=True).name == "cpu"


def test_bench_auto_reads_the_built_swappers_host_frames(monkeypatch, capsys) -> None:
    """``bench --device auto`` places frames as a job does: by the built swapper's ``host_frames``, not by its
    name (a classic-named swapper that prefers the GPU gets it; the classic one stays on the host)."""
    from ghostlive import bench
    from ghostlive.cli import main

    from . import fake_cupy

    class DeviceFirst(ClassicSwapper):
        host_frames = False

    fake_cupy.install(monkeypatch)
    used: list[str] = []  # where each timed pipeline swaps (the timing itself is not what is tested here)
    monkeypatch.setattr(bench, "_time_size", lambda pipe, *a, **k: used.append(pipe.device.name))
    args = ["bench", "--frames", "1", "--sizes", "160x120", "--device", "auto"]
    assert main(args) == 0 and used == ["cpu"]
    assert "classic swapper (built in), frames on cpu," in capsys.readouterr().out
    monkeypatch.setattr(bench, "build_swapper", lambda *a, **k: DeviceFirst())
    assert main(args) == 0 and used == ["cpu", "cuda"]
    assert "classic swapper (built in), frames on cuda," in capsys.readouterr().out
