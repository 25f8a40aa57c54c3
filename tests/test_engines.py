"""Backends: choice and its reasons, the TensorRT engine cache (no TensorRT here), the fp16 guard, OOM batch
splitting, the torch backend against ONNX Runtime, and the environment doctor."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ghostlive.engines.cache import EngineCache, EngineKey, onnx_digest
from ghostlive.engines.ort import OrtRunner
from ghostlive.engines.registry import guarded, open_runner, output_problem, run_in_batches
from ghostlive.errors import BackendUnavailableError

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def scale_model(factor: float, dtype: int = TensorProto.FLOAT, broken: bool = False) -> bytes:
    """y = x · factor² computed in ``dtype``. ``broken`` stands in for what some GPUs do in fp16 (NaN faces,
    which ONNX Runtime's CPU kernels do not reproduce): y = sqrt(−x · factor²)."""
    np_dtype = np.float16 if dtype == TensorProto.FLOAT16 else np.float32
    nodes = [
        helper.make_node("Cast", ["x"], ["xc"], to=dtype),
        helper.make_node("Mul", ["xc", "f"], ["y1"]),
        helper.make_node("Mul", ["y1", "f"], ["y2"]),
    ]
    last = "y2"
    if broken:
        nodes += [helper.make_node("Neg", ["y2"], ["y3"]), helper.make_node("Sqrt", ["y3"], ["y4"])]
        last = "y4"
    nodes.append(helper.make_node("Cast", [last], ["y"], to=TensorProto.FLOAT))
    graph = helper.make_graph(
        nodes,
        "scale",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 16, 16])],
        [numpy_helper.from_array(np.array(factor, np_dtype), "f")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def key(**changes: object) -> EngineKey:
    base = dict(
        onnx_sha256="a" * 64,
        trt_version="10.13.0",
        gpu_name="NVIDIA H100",
        compute_capability="9.0",
        precision="fp16",
        batch=(1, 1, 8),
    )
    base.update(changes)
    return EngineKey(**base)  # type: ignore[arg-type]


class Builds:
    """Counts builds; stands in for TensorRT's builder, which cannot be installed here."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> bytes:
        self.count += 1
        return f"engine-{self.count}".encode()


def test_engine_is_built_once_then_reused(tmp_path: Path) -> None:
    cache, build = EngineCache(tmp_path), Builds()
    data, built = cache.get_or_build("ghost-2", key(), build)
    assert built and data == b"engine-1"
    data, built = cache.get_or_build("ghost-2", key(), build)
    assert not built and data == b"engine-1" and build.count == 1
    meta = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert meta["gpu_name"] == "NVIDIA H100" and meta["batch"] == [1, 1, 8]


@pytest.mark.parametrize(
    "change",
    [
        {"onnx_sha256": "b" * 64},
        {"trt_version": "11.0.0"},
        {"gpu_name": "NVIDIA L4"},
        {"compute_capability": "8.9"},
        {"precision": "fp32"},
        {"batch": (1, 4, 16)},
    ],
)
def test_any_key_change_rebuilds_and_drops_the_old_engine(tmp_path: Path, change: dict) -> None:
    cache, build = EngineCache(tmp_path), Builds()
    cache.get_or_build("ghost-2", key(), build)
    _, built = cache.get_or_build("ghost-2", key(**change), build)
    assert built and build.count == 2
    assert len(list(tmp_path.glob("ghost-2.*.engine"))) == 1  # the outdated engine is gone


def test_damaged_cache_entries_are_rebuilt(tmp_path: Path) -> None:
    cache, build = EngineCache(tmp_path), Builds()
    cache.get_or_build("m", key(), build)
    engine, meta = cache.paths("m", key())
    engine.write_bytes(b"")
    assert cache.get_or_build("m", key(), build)[1]
    meta.write_text("{not json")
    assert cache.get_or_build("m", key(), build)[1]
    cache.invalidate("m", key())  # e.g. deserialisation failed: built for another GPU
    assert not engine.exists() and cache.get_or_build("m", key(), build)[1]
    assert build.count == 4


def test_onnx_digest_follows_content(tmp_path: Path) -> None:
    a, b = tmp_path / "a.onnx", tmp_path / "b.onnx"
    a.write_bytes(scale_model(2.0))
    b.write_bytes(scale_model(3.0))
    assert onnx_digest(a) != onnx_digest(b) and len(onnx_digest(a)) == 64


def test_backend_choice_lists_every_reason(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(scale_model(2.0))
    runner = open_runner(path)  # auto: on this machine only the CPU provider is there
    assert runner.info.backend == "onnxruntime:CPUExecutionProvider"
    with pytest.raises(BackendUnavailableError) as err:
        open_runner(path, prefer=["tensorrt", "ort-cuda", "torch-cuda"])
    text = str(err.value)
    assert "tensorrt: TensorRT is not installed" in text
    assert "ort-cuda: ONNX Runtime has no CUDAExecutionProvider" in text
    assert "torch-cuda: no PyTorch definition for this model" in text


def test_fp16_guard_falls_back_to_fp32(tmp_path: Path) -> None:
    p16, p32 = tmp_path / "m16.onnx", tmp_path / "m32.onnx"
    p16.write_bytes(scale_model(3.0, TensorProto.FLOAT16, broken=True))
    p32.write_bytes(scale_model(3.0))
    probe = {"x": np.ones((1, 3, 16, 16), np.float32)}
    assert "NaN or infinity" in (output_problem(OrtRunner(p16).run(dict(probe))) or "")
    warnings: list[str] = []
    chosen = guarded(lambda: OrtRunner(p16), lambda: OrtRunner(p32), probe, warn=warnings.append)
    assert chosen.info.model == str(p32) and "fp16 output is broken" in warnings[0]
    fine = tmp_path / "fine16.onnx"
    fine.write_bytes(scale_model(2.0, TensorProto.FLOAT16))
    assert guarded(lambda: OrtRunner(fine), lambda: OrtRunner(p32), probe).info.model == str(fine)
    assert output_problem({"y": np.zeros((1, 3, 32, 32))}) == "y is constant (a black or flat image)"


def test_out_of_memory_halves_the_batch() -> None:
    calls: list[int] = []

    def fn(chunk: np.ndarray) -> np.ndarray:
        calls.append(len(chunk))
        if len(chunk) > 2:
            raise RuntimeError("CUDA error: out of memory")
        return chunk * 2

    items = np.arange(7, dtype=np.float32)
    warnings: list[str] = []
    out = run_in_batches(fn, items, 8, warn=warnings.append)
    assert np.array_equal(out, items * 2)
    assert calls[:3] == [7, 4, 2] and "batch 4" in warnings[0]
    with pytest.raises(BackendUnavailableError, match="out of GPU memory even with batch 1"):
        run_in_batches(lambda c: (_ for _ in ()).throw(RuntimeError("out of memory")), items, 1)
    with pytest.raises(ValueError, match="other"):
        run_in_batches(lambda c: (_ for _ in ()).throw(ValueError("other")), items, 4)


def test_torch_backend_matches_onnx_runtime(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from ghostlive.engines.base import TensorSpec
    from ghostlive.engines.torch_runner import TorchRunner
    from ghostlive.export.iresnet import iresnet100
    from ghostlive.export.onnx import export_arcface

    from .golden import arcface_golden, fill

    model = fill(iresnet100())
    x = arcface_golden()["x"]
    via_torch = TorchRunner(
        model,
        [TensorSpec("input", (None, 3, 112, 112), "float32")],
        TensorSpec("embedding", (None, 512), "float32"),
        device="cpu",
    )
    assert via_torch.info.backend == "torch:cpu:fp32"
    path = export_arcface(model, tmp_path / "arc.onnx")
    a = via_torch.run({"input": x})["embedding"]
    b = open_runner(path, prefer=["ort-cpu"]).run({"input": x})["embedding"]
    assert np.linalg.norm(a - b) / np.linalg.norm(b) < 1e-4
    chosen = open_runner(path, prefer=["torch-cuda", "torch-cpu"], torch_factory=lambda d: via_torch)
    assert chosen is via_torch
    del torch
