"""ONNX Runtime's optimised graph saved with the model (engines/cache.py GraphCache, OrtRunner(graph_cache=)):
written once, loaded without optimising again, the same outputs, rebuilt when anything it depends on changes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from ghostlive.engines.cache import GraphCache, machine_id
from ghostlive.engines.ort import OrtRunner
from ghostlive.engines.registry import open_runner
from ghostlive.faces import FaceAnalyzer, asset_path
from ghostlive.media.image import read_image
from ghostlive.models.common import run_on_roi
from ghostlive.models.facemesh import roi_from_detection

ASTRONAUT = asset_path("samples/astronaut.png")


@pytest.fixture
def mesh_model(tmp_path: Path) -> Path:
    """The real face-mesh model, copied where its cache may be written."""
    return Path(shutil.copy(asset_path("facemesh_468.onnx"), tmp_path / "facemesh_468.onnx"))


def _crop_outputs(runner: OrtRunner) -> list[np.ndarray]:
    """The mesh model on the real astronaut face crop."""
    image = read_image(ASTRONAUT).bgr
    det = FaceAnalyzer(tile_levels=0).detect(image)[0]
    return run_on_roi(runner, image, roi_from_detection(det), 192)


def test_optimised_graph_is_saved_then_loaded_with_the_same_outputs(mesh_model: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "engines"
    cache = GraphCache(cache_dir)
    plain = OrtRunner(mesh_model)
    assert cache.lookup(mesh_model, ort.__version__) is None
    first = OrtRunner(mesh_model, graph_cache=cache_dir)  # optimises and saves
    saved = cache.lookup(mesh_model, ort.__version__)
    assert saved is not None and saved.stat().st_size > 0
    assert sorted(p.name for p in cache_dir.iterdir()) == sorted([saved.name, saved.with_suffix(".json").name])
    key = json.loads(saved.with_suffix(".json").read_text())
    assert key["ort_version"] == ort.__version__ and key["machine"] == machine_id() == machine_id()
    assert len(key["onnx_sha256"]) == 64
    mtime = saved.stat().st_mtime_ns
    second = OrtRunner(mesh_model, graph_cache=cache_dir)  # loads the saved graph
    assert saved.stat().st_mtime_ns == mtime  # not written again
    for a, b, c in zip(_crop_outputs(plain), _crop_outputs(first), _crop_outputs(second), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert second.info.inputs == plain.info.inputs and second.info.outputs == plain.info.outputs


def test_a_changed_source_runtime_or_sidecar_rebuilds(mesh_model: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "engines"
    cache = GraphCache(cache_dir)
    OrtRunner(mesh_model, graph_cache=cache_dir)
    saved = cache.lookup(mesh_model, ort.__version__)
    assert saved is not None
    assert cache.lookup(mesh_model, "0.0.1") is None  # another ONNX Runtime
    st = mesh_model.stat()
    os.utime(mesh_model, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # the model file replaced
    assert cache.lookup(mesh_model, ort.__version__) is None
    OrtRunner(mesh_model, graph_cache=cache_dir)  # rebuilt in place: one graph per model
    assert cache.lookup(mesh_model, ort.__version__) == saved
    assert len(list(cache_dir.glob("*.onnx"))) == 1
    saved.with_suffix(".json").write_text("{not json")
    assert cache.lookup(mesh_model, ort.__version__) is None
    saved.with_suffix(".json").unlink()
    assert cache.lookup(mesh_model, ort.__version__) is None
    assert not list(cache_dir.glob(".*partial*"))  # no half-written graph left behind


def test_a_damaged_cached_graph_is_optimised_again(mesh_model: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "engines"
    ref = OrtRunner(mesh_model, graph_cache=cache_dir)
    saved = GraphCache(cache_dir).lookup(mesh_model, ort.__version__)
    assert saved is not None
    whole = saved.read_bytes()
    saved.write_bytes(whole[: len(whole) // 3])  # cut short on disk (its sidecar still valid)
    runner = OrtRunner(mesh_model, graph_cache=cache_dir)  # not an error: the model is optimised again
    for a, b in zip(_crop_outputs(runner), _crop_outputs(ref), strict=True):
        np.testing.assert_array_equal(a, b)
    again = GraphCache(cache_dir).lookup(mesh_model, ort.__version__)
    assert again == saved and abs(again.stat().st_size - len(whole)) < len(whole) // 10  # written again, whole


def test_an_unwritable_cache_costs_only_the_saving(mesh_model: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    runner = OrtRunner(mesh_model, graph_cache=blocked / "engines")  # mkdir fails: the session still opens
    ref = OrtRunner(mesh_model)
    for a, b in zip(_crop_outputs(runner), _crop_outputs(ref), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_cpu_backend_caches_next_to_the_model(mesh_model: Path) -> None:
    runner = open_runner(mesh_model, prefer=["ort-cpu"])
    assert runner.info.backend == "onnxruntime:CPUExecutionProvider"
    assert GraphCache(mesh_model.parent / "engines").lookup(mesh_model, ort.__version__) is not None
