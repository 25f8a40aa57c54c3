"""`ghostlive doctor` and `engines build`, and TensorRT engine builds through a stand-in TensorRT module (no
TensorRT can be installed here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.doctor import report, run_checks
from ghostlive.engines.ort import OrtRunner
from ghostlive.xp import gpu_available

onnx = pytest.importorskip("onnx")
from onnx import TensorProto  # noqa: E402


def test_doctor_reports_with_fixes(capsys) -> None:
    checks = run_checks()
    names = {c.name for c in checks}
    assert {"NVIDIA GPU", "ONNX Runtime", "TensorRT", "cuDNN", "virtual camera"} <= names
    text = report(checks)
    for c in checks:
        assert c.name in text
        if c.status != "ok" and c.fix:
            assert c.fix in text
    assert main(["doctor"]) == 0
    assert "ONNX Runtime" in capsys.readouterr().out


def test_engines_build_explains_missing_tensorrt(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path))
    from . import onnx_graphs

    src = tmp_path / "det.onnx"  # a stand-in SCRFD graph with the real signature (import checks it)
    empty = {s: tuple(np.zeros(((640 // s) ** 2 * 2, w), np.float32) for w in (1, 4, 10)) for s in (8, 16, 32)}
    src.write_bytes(onnx_graphs.scrfd(empty))
    assert main(["models", "import", str(src), "--as", "scrfd_10g_bnkps.onnx"]) == 0
    assert main(["engines", "build"]) == 1
    assert "TensorRT is not installed" in capsys.readouterr().err


class FakeTensorRT:
    """A stand-in for the ``tensorrt`` module (TensorRT cannot be installed here). It records what the builder
    is asked to do; the ONNX it is handed is real and parsed with the onnx package. ``fp16_flag=False`` mimics
    TensorRT 11, which removed ``BuilderFlag.FP16``."""

    class Logger:
        WARNING = 2

        def __init__(self, level: int) -> None:
            self.level = level

    class MemoryPoolType:
        WORKSPACE = "workspace"

    def __init__(self, fp16_flag: bool) -> None:
        self.BuilderFlag = type("BuilderFlag", (), {"FP16": "fp16"} if fp16_flag else {})
        self.seen: dict = {"flags": [], "shapes": {}}
        fake = self

        class Tensor:
            def __init__(self, name: str, shape: list[int]) -> None:
                self.name, self.shape = name, shape

        class Network:
            def __init__(self) -> None:
                self.inputs: list[Tensor] = []

            @property
            def num_inputs(self) -> int:
                return len(self.inputs)

            def get_input(self, i: int) -> Tensor:
                return self.inputs[i]

        class OnnxParser:
            num_errors = 0

            def __init__(self, network: Network, logger: object) -> None:
                self.network = network

            def parse_from_file(self, path: str) -> bool:
                model = onnx.load(path)
                fake.seen["parsed"] = path
                fake.seen["weights"] = sorted({i.data_type for i in model.graph.initializer})
                self.network.inputs = [
                    Tensor(i.name, [d.dim_value or -1 for d in i.type.tensor_type.shape.dim]) for i in model.graph.input
                ]
                return True

        class Profile:
            def set_shape(self, name: str, *shapes: tuple) -> None:
                fake.seen["shapes"][name] = shapes

        class Cache:
            def __init__(self, blob: bytes) -> None:
                self.blob = blob

            def serialize(self) -> bytes:
                return self.blob + b"+"

        class Config:
            def set_memory_pool_limit(self, pool: str, size: int) -> None:
                fake.seen["workspace"] = size

            def set_flag(self, flag: str) -> None:
                fake.seen["flags"].append(flag)

            def add_optimization_profile(self, profile: Profile) -> None:
                pass

            def create_timing_cache(self, blob: bytes) -> Cache:
                return Cache(blob)

            def set_timing_cache(self, cache: Cache, ignore_mismatch: bool) -> None:
                fake.seen["timing_blob"] = cache.blob

        class Builder:
            def __init__(self, logger: object) -> None:
                pass

            def create_network(self, flags: int) -> Network:
                return Network()

            def create_builder_config(self) -> Config:
                return Config()

            def create_optimization_profile(self) -> Profile:
                return Profile()

            def build_serialized_network(self, network: Network, config: Config) -> bytes:
                return b"serialized engine"

        self.Builder, self.OnnxParser = Builder, OnnxParser


@pytest.mark.parametrize("tensorrt_major", [10, 11])
def test_engine_build_sets_fp16_the_way_each_tensorrt_needs(tmp_path: Path, monkeypatch, tensorrt_major: int) -> None:
    pytest.importorskip("onnxconverter_common")
    import sys

    from ghostlive.engines.tensorrt import build_engine

    from . import onnx_graphs

    fake = FakeTensorRT(fp16_flag=tensorrt_major == 10)
    monkeypatch.setitem(sys.modules, "tensorrt", fake)
    model = tmp_path / "arcface.onnx"
    weight = np.random.default_rng(0).standard_normal((3, 512)).astype(np.float32)
    model.write_bytes(onnx_graphs.arcface(weight))
    work = tmp_path / "engines"
    work.mkdir()
    assert build_engine(model, "fp16", (1, 2, 8), work) == b"serialized engine"
    assert fake.seen["shapes"] == {"input.1": ((1, 3, 112, 112), (2, 3, 112, 112), (8, 3, 112, 112))}
    assert (work / "timing.cache").read_bytes() == b"+"  # written after the build, reused by the next one
    if tensorrt_major == 10:
        assert fake.seen["flags"] == ["fp16"] and fake.seen["parsed"] == str(model)
        return
    # TensorRT 11: no flag; the engine is built from an fp16 graph that still takes and gives float32
    half = work / "arcface.fp16.onnx"
    assert fake.seen["flags"] == [] and fake.seen["parsed"] == str(half)
    assert fake.seen["weights"] == [TensorProto.FLOAT16]
    x = np.random.default_rng(1).uniform(-1, 1, (2, 3, 112, 112)).astype(np.float32)
    ref = OrtRunner(model).run({"input.1": x})["683"]
    out = OrtRunner(half).run({"input.1": x})["683"]
    assert out.dtype == np.float32 and np.abs(out - ref).max() < 0.02 * np.abs(ref).max()
    build_engine(model, "fp32", (1, 2, 8), work)
    assert fake.seen["parsed"] == str(model) and fake.seen["timing_blob"] == b"+"


def test_doctor_runs_the_gpu_frame_path(monkeypatch) -> None:
    from ghostlive.doctor import frame_path_check

    from . import fake_cupy

    here = frame_path_check()
    if not gpu_available():
        assert here.status == "warn" and "ghostlive[gpu]" in here.fix
    fake_cupy.install(monkeypatch)  # a working "GPU": the ops run on device arrays and match the host
    ok = frame_path_check()
    assert ok.status == "ok" and "max difference 0.00" in ok.detail
    # a GPU whose kernels cannot compile: reported with the fix, not a crash
    monkeypatch.setattr(fake_cupy.ndimage, "gaussian_filter", _nvrtc_failure, raising=False)
    broken = frame_path_check()
    assert broken.status == "fail" and "NVRTC" in broken.fix and "nvrtc" in broken.detail


def _nvrtc_failure(*args, **kwargs):
    raise RuntimeError("cupy_backends.cuda.libs.nvrtc: libnvrtc.so.12: cannot open shared object file")
