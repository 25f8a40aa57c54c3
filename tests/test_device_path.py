"""The device frame path, checked without a GPU.

On a GPU every op takes its array-maths branch (cupyx.scipy.ndimage, vectorised rasters, I/O binding) instead
of OpenCV. ``ghostlive.xp.portable()`` makes numpy take that same branch, so these tests run on a CPU the exact
code a GPU runs, on real photos and the real built-in models, and compare it with the OpenCV host path. The
cupy runs of the same comparisons are in ``test_gpu.py`` (``pytest -m gpu``).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.engines.base import run_any
from ghostlive.engines.ort import OrtRunner, open_onnx
from ghostlive.errors import BackendUnavailableError, ConfigError
from ghostlive.faces import FaceAnalyzer, asset_path
from ghostlive.jobs import Job, PairSpec, SwapSettings
from ghostlive.models.facemesh import topology
from ghostlive.ops import filters
from ghostlive.ops.mask import feathered_mask, fill_polygons, ghost_mask, offset_polygon
from ghostlive.ops.mesh import piecewise_affine, points_roi, triangle_index_map
from ghostlive.ops.raster import polygon_fill
from ghostlive.pipeline import FrameProcessor
from ghostlive.pipeline.frame import FrameResult
from ghostlive.swappers.classic import ClassicSwapper
from ghostlive.tracking import TrackerOptions
from ghostlive.xp import host_fast_path, portable, resolve_device

from .conftest import DATA
from .media_tools import frames_of


def both(fn, *args, **kwargs):
    """``fn`` on the OpenCV host path and on the device path (portable numpy)."""
    host = fn(*args, **kwargs)
    with portable():
        dev = fn(*args, **kwargs)
    return host, dev


def test_portable_is_scoped_and_devices_resolve() -> None:
    assert host_fast_path(np)
    with portable():
        assert not host_fast_path(np)
    assert host_fast_path(np)
    assert resolve_device("cpu") is np
    with pytest.raises(ConfigError, match="device must be one of"):
        resolve_device("tpu")


@pytest.mark.skipif(resolve_device("auto") is not np, reason="this machine has a usable GPU")
def test_cuda_without_a_gpu_says_what_to_install(tmp_path, capsys) -> None:
    with pytest.raises(BackendUnavailableError, match="cupy-cuda12x"):
        resolve_device("cuda")
    out = tmp_path / "o.jpg"
    assert main(["demo", "-o", str(out), "--device", "cuda"]) == 1
    assert "cupy" in capsys.readouterr().err.lower() and not out.exists()


def test_area_resize_matches_opencv(messi: np.ndarray) -> None:
    for size in ((192, 120), (300, 187), (97, 61)):
        host, dev = both(filters.resize, messi, size, interpolation="area")
        assert np.abs(host.astype(int) - dev.astype(int)).max() <= 1


def test_anisotropic_blur_matches_opencv(messi: np.ndarray) -> None:
    img = messi.astype(np.float32)
    host, dev = both(filters.gaussian_blur, img, (5.0, 10.0), truncate=4.0)
    assert np.abs(host - dev).max() < 1e-2


def test_triangle_raster_matches_opencv(astronaut: np.ndarray, analyzer: FaceAnalyzer) -> None:
    big = cv2.resize(astronaut, None, fx=2, fy=2)
    face = analyzer.analyze(big)[0]
    roi = points_roi(face.landmarks, big.shape)
    tris = topology().triangles
    host, dev = both(triangle_index_map, face.landmarks, tris, roi, face.depth)
    assert host.shape == dev.shape and dev.dtype == np.int32
    assert ((host >= 0) == (dev >= 0)).mean() > 0.98  # coverage differs only on the outline
    assert (host == dev).mean() > 0.85  # ids differ only on edges shared by two triangles
    assert set(np.unique(dev)) - {-1} <= set(range(len(tris)))
    # what matters downstream: the warp through either raster is the same picture
    src = big.astype(np.float32)
    (w_h, c_h), (w_d, c_d) = both(piecewise_affine, src, face.landmarks, face.landmarks, tris, roi, depth=face.depth)
    inside = (c_h > 0) & (c_d > 0)
    assert np.abs(w_h - w_d)[inside].mean() < 0.5


def test_polygon_fill_and_feathered_mask_match_opencv(grace: np.ndarray, analyzer: FaceAnalyzer) -> None:
    face = analyzer.analyze(grace)[0]
    oval = face.landmarks[topology().oval]
    mouth = face.landmarks[topology().regions["mouth"]]
    roi = points_roi(face.landmarks, grace.shape)
    shape = (roi[3] - roi[1], roi[2] - roi[0])
    host, dev = both(fill_polygons, shape, roi, [oval])
    assert set(np.unique(dev)) <= {0.0, 1.0}
    # anti-aliased host edge vs sampled centres: they differ only on a ~1 px band along the outline
    band = fill_polygons(shape, roi, [offset_polygon(oval, -1.0)]) - fill_polygons(
        shape, roi, [offset_polygon(oval, 1.0)]
    )
    disagree = np.abs(host - dev) > 0.5
    assert disagree.sum() < 0.05 * dev.sum() and not (disagree & (band == 0)).any()
    outside = polygon_fill(shape, roi, [oval]) == 0  # pixel centres outside the outline
    for feather in (2.0, 6.0):
        host, dev = both(feathered_mask, roi, oval, feather=feather)
        assert abs((host - dev).mean()) < 5e-4  # no bias: the edge sits where OpenCV puts it
        assert np.abs(host - dev).mean() < 0.004 and np.abs(host - dev).max() < 0.25
        assert dev[outside].max() == 0.0  # still exactly zero outside the face outline
        # the kept mouth is a sliver ~5 px tall, where anti-aliasing and centre sampling differ most
        host, dev = both(feathered_mask, roi, oval, [mouth], feather=feather)
        assert np.abs(host - dev).mean() < 0.006


def test_ghost_mask_matches_opencv() -> None:
    rng = np.random.default_rng(0)
    angle = np.linspace(0, 2 * np.pi, 106, endpoint=False)
    pts = np.stack([112 + 70 * np.cos(angle), 112 + 85 * np.sin(angle)], 1) + rng.normal(0, 3, (106, 2))
    for params in ((5, (5.0, 5.0), 2.0), (15, (15.0, 10.0), 2.7), (-5, (5.0, 10.0), 0.5)):
        host, dev = both(ghost_mask, pts, 224, params)
        assert np.abs(host - dev).mean() < 0.002 and np.abs(host - dev).max() < 0.05


def test_ort_io_binding_runs_on_host_arrays() -> None:
    runner = open_onnx(asset_path("facemesh_468.onnx"))
    name = runner.info.inputs[0].name
    x = np.random.default_rng(0).uniform(0, 1, (1, 192, 192, 3)).astype(np.float32)
    flipped = x[..., ::-1]  # not contiguous: the binding must make it so
    plain = runner.run({name: np.ascontiguousarray(flipped)})
    bound = runner.run_device({name: flipped})
    assert set(bound) == set(plain)
    for k in plain:
        assert bound[k].dtype == plain[k].dtype and np.array_equal(bound[k], plain[k])


class CountingRunner:
    """A real ORT runner that records which entry point was used."""

    def __init__(self, runner: OrtRunner) -> None:
        self.inner = runner
        self.info = runner.info
        self.calls: list[str] = []

    def run(self, inputs):
        self.calls.append("run")
        return self.inner.run(inputs)

    def run_device(self, inputs):
        self.calls.append("run_device")
        return self.inner.run_device(inputs)


def test_run_any_takes_the_device_entry_point_in_portable_mode() -> None:
    runner = CountingRunner(open_onnx(asset_path("facemesh_468.onnx")))
    x = {runner.info.inputs[0].name: np.zeros((1, 192, 192, 3), np.float32)}
    host = run_any(runner, x)
    with portable():
        dev = run_any(runner, x)
    assert runner.calls == ["run", "run_device"]
    assert all(np.array_equal(host[k], dev[k]) for k in host)


def test_torch_runner_device_entry_point_matches_run() -> None:
    torch = pytest.importorskip("torch")
    from ghostlive.engines.base import TensorSpec
    from ghostlive.engines.torch_runner import TorchRunner

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.Tanh())
    runner = TorchRunner(
        net, [TensorSpec("x", (None, 3, 16, 16), "float32")], TensorSpec("y", (None, 4, 16, 16), "float32")
    )
    x = np.random.default_rng(0).standard_normal((2, 3, 16, 16)).astype(np.float32)
    out = runner.run_device({"x": x[:, ::-1]})["y"]
    assert isinstance(out, np.ndarray) and np.allclose(out, runner.run({"x": np.ascontiguousarray(x[:, ::-1])})["y"])


def test_photo_pipeline_device_path_matches_host(astronaut, grace, analyzer) -> None:
    def swap() -> FrameResult:
        pipe = FrameProcessor(analyzer, ClassicSwapper())
        pipe.set_source(grace)
        return pipe.process(astronaut)

    host, dev = both(swap)
    assert len(host.faces) == len(dev.faces) == 1
    assert np.allclose(host.faces[0].box, dev.faces[0].box, atol=0.5)
    assert np.abs(host.faces[0].landmarks - dev.faces[0].landmarks).mean() < 0.1
    changed = (host.frame != astronaut).any(2)
    assert changed.mean() > 0.01
    diff = np.abs(host.frame.astype(int) - dev.frame.astype(int))
    # OpenCV's fixed-point (1/32 px) warps against exact bilinear ones: a few levels at sharp edges, more of them
    # where the classic swap reshapes the face (its shape step moves the features: 99th percentile 10)
    assert diff.mean() < 0.2 and np.percentile(diff[changed], 99) <= 12


def test_stream_device_path_matches_host_over_video_frames() -> None:
    settings = SwapSettings(tiles=0, device="cpu", tracker=TrackerOptions(detect_every=2))
    frames = frames_of(DATA / "megamind_3s.mp4")[6:36:6]  # the face is in view from frame 6

    def run() -> list[np.ndarray]:
        stream = Job(settings, [PairSpec(asset_path("samples/grace_hopper.jpg"))]).stream()
        return [stream.process(f, i / 5).frame for i, f in enumerate(frames)]

    host, dev = both(run)
    for f, h, d in zip(frames, host, dev, strict=True):
        changed = (h != f).any(2)
        assert changed.mean() > 0.005
        assert np.abs(h.astype(int) - d.astype(int)).mean() < 0.3
