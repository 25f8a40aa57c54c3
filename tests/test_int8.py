"""The per-machine int8 decision for GHOST (``ghostlive models optimise``) and its use on ONNX Runtime's CPU.

The released GHOST weights and ArcFace cannot be downloaded here, so the model folder holds stand-ins, named as
such: an untrained GHOST-2 generator at 1/16 width (the real graph's layers and signature, exported by the
project's own exporter) and a stand-in ArcFace graph with the real signature (tests/onnx_graphs.py). The faces
are real (the bundled portraits). What is checked is the machinery: quantisation, the gate, the record, its
keying and its use; whether the released model keeps identity is measured by users with the weights installed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

torch = pytest.importorskip("torch")

from ghostlive.cli import main  # noqa: E402
from ghostlive.engines.cache import machine_id  # noqa: E402
from ghostlive.engines.int8 import Int8Decision, Int8Store  # noqa: E402
from ghostlive.errors import BackendUnavailableError, ModelError  # noqa: E402
from ghostlive.hub import ModelStore  # noqa: E402
from ghostlive.optimise import CANDIDATES, aligned_faces, optimise_generator  # noqa: E402
from ghostlive.swappers.factory import build_swapper  # noqa: E402

from .int8_stand_ins import stand_in_store as _stand_in_store  # noqa: E402
from .onnx_graphs import arcface  # noqa: E402


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelStore, object]:
    """One real measurement, shared: quantise, gate on the real faces, time, store."""
    store = _stand_in_store(tmp_path_factory.mktemp("int8home"))
    lines: list[str] = []
    decision = optimise_generator(store, "ghost-2", runs=2, say=lines.append)
    assert any("calibrated on 4 real aligned faces" in m for m in lines)
    assert logging.root.manager.disable == logging.NOTSET  # the quantiser's chatter was silenced only meanwhile
    model, cache = _paths(store)
    (store.root / "pristine.json").write_bytes(cache.paths(model)[1].read_bytes())
    if cache.paths(model)[0].is_file():
        (store.root / "pristine.int8.onnx").write_bytes(cache.paths(model)[0].read_bytes())
    return store, decision


def _paths(store: ModelStore) -> tuple[Path, Int8Store]:
    model = store.root / "ghost-2.onnx"
    return model, Int8Store(store.root / "engines")


def test_decision_is_stored_keyed_and_consistent(measured) -> None:
    store, decision = measured
    model, cache = _paths(store)
    int8, meta = cache.paths(model)
    record = json.loads(meta.read_text())
    assert record["machine"] == machine_id() and record["ort_version"] == ort.__version__
    assert record["faces"] == len(aligned_faces()) == 4
    assert decision.max_error > 0.0 and decision.fp32_ms > 0 and decision.int8_ms > 0
    assert decision.use_int8 == (decision.identity_kept and decision.int8_ms <= 0.9 * decision.fp32_ms)
    assert cache.lookup(model, ort.__version__) == decision  # reused as stored
    assert decision.ops == ", ".join(CANDIDATES[0][1])  # the fastest variant kept identity on the stand-in
    # the stored int8 model really is quantised, and nothing half-written is left in the folder
    assert decision.identity_kept == int8.is_file()
    if int8.is_file():
        nodes = [n.op_type for n in __import__("onnx").load(str(int8)).graph.node]
        assert {"QuantizeLinear", "DequantizeLinear", "DepthToSpace"} <= set(nodes)
        assert nodes.count("ConvTranspose") == 1  # the encoder's six were rewritten (then quantised); not 1×1 → 2×2
    leftovers = [p.name for p in cache.root.iterdir() if p.name.startswith(".") or "partial" in p.name]
    assert not leftovers


def _with(store: ModelStore, **changes: object) -> None:
    """Store the measured record with ``changes`` planted, and the measured int8 model beside it."""
    model, cache = _paths(store)
    measured = Int8Decision(**json.loads((store.root / "pristine.json").read_text()))
    pristine = store.root / "pristine.int8.onnx"
    assert pristine.is_file(), "the stand-in's int8 model did not pass the gate: nothing to plant timings on"
    kept = cache.root / "kept.int8.onnx"
    kept.write_bytes(pristine.read_bytes())
    cache.save(model, replace(measured, **changes), kept)


def _generator_file(store: ModelStore, precision: str = "auto") -> str:
    swapper = build_swapper("ghost-2", store, backend="ort-cpu", cpu_precision=precision)
    return Path(swapper.generator.runner.info.model).name


def test_int8_runs_only_where_identity_kept_and_faster(measured) -> None:
    store, _ = measured
    # planted timings on the real measured record: the choice follows them
    _with(store, min_cosine=0.999, max_error=0.5, fp32_ms=100.0, int8_ms=50.0)
    assert _generator_file(store) == "ghost-2.int8.onnx"
    swappers = [build_swapper("ghost-2", store, backend="ort-cpu", cpu_precision=p) for p in ("auto", "fp32")]
    faces = aligned_faces()
    ident = swappers[1].arcface.embed_one(faces[2])  # another person's identity, as calibrated
    a, b = (s.generator.swap(faces[0][None], ident)[0] for s in swappers)
    assert 0.0 < float(np.abs(a - b).mean()) < 4.0  # the quantised network runs, close to fp32
    assert _generator_file(store, "fp32") == "ghost-2.onnx"
    _with(store, fp32_ms=100.0, int8_ms=95.0)  # not faster by the margin: fp32
    assert _generator_file(store) == "ghost-2.onnx"
    assert _generator_file(store, "int8") == "ghost-2.int8.onnx"  # forced: allowed, identity was kept
    _with(store, min_cosine=0.9, fp32_ms=100.0, int8_ms=50.0)  # identity not kept: fp32, and no int8 file kept
    assert _generator_file(store) == "ghost-2.onnx"
    assert not _paths(store)[1].paths(_paths(store)[0])[0].exists()
    with pytest.raises(BackendUnavailableError, match="did not keep identity"):
        _generator_file(store, "int8")


def test_gate_that_cannot_be_met_stores_fp32(tmp_path: Path) -> None:
    store = _stand_in_store(tmp_path)
    lines: list[str] = []
    decision = optimise_generator(store, "ghost-2", runs=1, error_bound=0.0, say=lines.append)
    assert len([m for m in lines if m.startswith("quantising")]) == len(CANDIDATES) == 2  # each variant tried
    assert decision.ops == "Conv, ConvTranspose, Gemm, MatMul"
    model, cache = _paths(store)
    assert not decision.identity_kept and not decision.use_int8 and decision.int8_sha256 == ""
    assert not cache.paths(model)[0].exists() and cache.lookup(model, ort.__version__) == decision
    assert _generator_file(store) == "ghost-2.onnx"
    assert sorted(p.name for p in cache.root.iterdir() if p.name.startswith("ghost-2.int8")) == ["ghost-2.int8.json"]


def test_stale_or_damaged_records_are_ignored(measured, tmp_path: Path) -> None:
    store, _ = measured
    _with(store, min_cosine=0.999, max_error=0.5, fp32_ms=100.0, int8_ms=50.0)
    model, cache = _paths(store)
    assert cache.lookup(model, ort.__version__) is not None
    assert cache.lookup(model, "0.0.0") is None  # another ONNX Runtime
    found = cache.read(model)
    _with(store, model_sha256="0" * 64, source_size=1)  # made for another file
    assert cache.lookup(model, ort.__version__) is None and _generator_file(store) == "ghost-2.onnx"
    _with(store, machine="another-cpu", model_sha256=found.model_sha256, source_size=found.source_size)
    assert cache.lookup(model, ort.__version__) is None
    _with(store, machine=machine_id(), source_mtime_ns=1)  # touched but unchanged: rehashed, still valid
    assert cache.lookup(model, ort.__version__) is not None
    int8 = cache.paths(model)[0]
    int8.write_bytes(int8.read_bytes()[:-10])  # the int8 model damaged: ignored, fp32 runs
    assert cache.lookup(model, ort.__version__) is None and _generator_file(store) == "ghost-2.onnx"
    cache.paths(model)[1].write_text("{not json")
    assert cache.read(model) is None and _generator_file(store) == "ghost-2.onnx"


def test_failed_quantisation_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _stand_in_store(tmp_path)
    import ghostlive.optimise as optimise

    def broken(*args: object, **kwargs: object) -> object:
        raise ModelError("int8 quantisation failed: planted")

    monkeypatch.setattr("ghostlive.engines.quantize.quantize_int8", broken)
    with pytest.raises(ModelError, match="planted"):
        optimise.optimise_generator(store, "ghost-2", runs=1)
    assert list((store.root / "engines").iterdir()) == []


def test_cli_optimise_and_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    _stand_in_store(home, with_arcface=False)
    monkeypatch.setenv("GHOSTLIVE_HOME", str(home))
    assert main(["models", "optimise", "ghost-2", "--runs", "1"]) == 1
    err = capsys.readouterr().err
    assert "int8 is not offered without the GHOST ArcFace" in err and err.count("\n") == 1
    assert not (ModelStore(home).root / "engines").exists()
    stand_in = tmp_path / "a.onnx"
    stand_in.write_bytes(arcface(np.random.default_rng(0).standard_normal((3, 512))))
    ModelStore(home).add_file(stand_in, "ghost-arcface.onnx", "test stand-in")
    assert main(["models", "optimise", "ghost-2", "--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "quantising ghost-2.onnx" in out and ("ghost-2: fp32 used" in out or "ghost-2: int8 used" in out)
    assert "ArcFace cosine min" in out and "ms/face" in out


def test_doctor_shows_the_decision(measured, tmp_path: Path) -> None:
    from ghostlive.optimise import int8_status

    store, decision = measured
    _with(store)  # the measured record as it was stored
    status, detail, fix = int8_status(store)
    assert status == "ok" and detail == f"ghost-2: {decision.summary()}" and not fix
    status, detail, fix = int8_status(_stand_in_store(tmp_path))
    assert (status, fix) == ("warn", "ghostlive models optimise ghost-2") and "int8 not measured here" in detail


def test_cli_cpu_precision_flag(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--cpu-precision int8`` without a decision is refused and writes nothing; auto swaps with fp32."""
    from ghostlive.faces import asset_path

    home = tmp_path / "home"
    _stand_in_store(home)
    monkeypatch.setenv("GHOSTLIVE_HOME", str(home))
    out = tmp_path / "out.jpg"
    args = ["swap", "--swapper", "ghost-2", "--source", str(asset_path("samples/grace_hopper.jpg")),
            "--target", str(asset_path("samples/astronaut.png")), "-o", str(out)]  # fmt: skip
    assert main([*args, "--cpu-precision", "int8"]) == 1
    assert "int8 for ghost-2.onnx is refused: it was not measured here" in capsys.readouterr().err
    assert not out.exists()
    assert main([*args, "--cpu-precision", "auto"]) == 0 and out.is_file()
