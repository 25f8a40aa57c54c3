"""What is made from a model file goes with it (QA pass 16, defects 3 and 4): a checkpoint replaced by other
content takes its ONNX exports (fp32, fp16) with it, and an ONNX model replaced or removed takes what the
runtimes keep for it in ``engines/`` (int8 variant and decision, ONNX Runtime's optimised graph, TensorRT
engines). Stand-in files: tiny checkpoints with the released keys and shapes, and small ONNX graphs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.hub import ModelStore
from ghostlive.models.derived import cached_files, export_source
from ghostlive.models.registry import BY_NAME

from .golden import manifests
from .onnx_graphs import arcface as arcface_graph
from .test_hub import ghost_checkpoint


def cache_names(stem: str) -> list[str]:
    """What the runtimes keep for ``stem``.onnx, named as engines/int8.py, engines/cache.py (GraphCache and
    EngineCache) and engines/tensorrt.py name them."""
    return [
        f"{stem}.int8.onnx", f"{stem}.int8.json",  # models optimise
        f"{stem}.ort-0123456789abcdef.onnx", f"{stem}.ort-0123456789abcdef.json",  # ORT optimised graph
        f"{stem}.int8.ort-fedcba9876543210.onnx", f"{stem}.int8.ort-fedcba9876543210.json",  # the int8 one's
        f"{stem}.fp16.0123456789abcdef0123.engine", f"{stem}.fp16.0123456789abcdef0123.json",  # TensorRT
        f"{stem}.fp16.onnx",  # the fp16 graph TensorRT 11 builds from
    ]  # fmt: skip


NOT_CACHES = ["ghost-10.int8.json", "ghost-1-fp16x.ort-0123456789abcdef.onnx", "ghost-1.ort-xyz.onnx", "timing.cache"]
"""Files in engines/ that belong to no model named ghost-1 (another model's, or the shared timing cache)."""


def plant(store: ModelStore, names: list[str]) -> None:
    engines = store.root / "engines"
    engines.mkdir(exist_ok=True)
    for name in names:
        (engines / name).write_text("{}")


def engines(store: ModelStore) -> list[str]:
    return sorted(p.name for p in (store.root / "engines").iterdir())


def add_export(store: ModelStore, filename: str, source: str) -> None:
    """An export recorded as made from ``source`` (a stand-in file: nothing loads it here): ``export:NAME`` as
    earlier versions recorded it, ``export:NAME@SHA`` as ``ghostlive export`` does now."""
    staged = store.staging / filename
    staged.write_bytes(f"exported from {source}".encode())
    store.add_file(staged, filename, source if source.startswith("export:") else f"export:{source}")


def test_cached_files_match_the_runtimes_names(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    plant(store, cache_names("ghost-1") + cache_names("ghost-1-fp16") + NOT_CACHES)
    found = [p.name for p in cached_files(store.root, "ghost-1.onnx")]
    assert found == sorted(cache_names("ghost-1"))
    assert cached_files(store.root, "G_unet_1block.pth") == []


@pytest.fixture
def checkpoints(tmp_path: Path) -> tuple[Path, Path]:
    """Two G_unet_1block.pth files with the released keys and shapes and different weights."""
    pytest.importorskip("torch")
    entries = manifests()["G_unet_1block"]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    return (
        ghost_checkpoint(tmp_path / "a" / "G_unet_1block.pth", entries, fill=0.0),
        ghost_checkpoint(tmp_path / "b" / "G_unet_1block.pth", entries, fill=1.0),
    )


def test_reimporting_a_checkpoint_removes_its_old_exports(
    checkpoints: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    """The QA case: import, export, import another checkpoint of the same name → the list said "installed,
    exported" and swaps ran the old weights."""
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    first, second = checkpoints
    assert main(["models", "import", str(first)]) == 0
    store = ModelStore(tmp_path / "home")
    add_export(store, "ghost-1.onnx", "G_unet_1block.pth")
    add_export(store, "ghost-1-fp16.onnx", "G_unet_1block.pth")
    plant(store, cache_names("ghost-1") + cache_names("ghost-1-fp16") + NOT_CACHES)
    capsys.readouterr()

    assert main(["models", "import", str(first)]) == 0  # the same content again: the exports still fit
    assert "replaced" not in capsys.readouterr().out
    assert {"ghost-1.onnx", "ghost-1-fp16.onnx"} <= set(store.manifest())

    assert main(["models", "import", str(second)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "G_unet_1block.pth is replaced: removed ghost-1.onnx, ghost-1-fp16.onnx, exported from the earlier one; "
        "make them again: ghostlive export ghost-1 and ghostlive export ghost-1 --fp16"
    )
    assert set(store.manifest()) == {"G_unet_1block.pth"}
    assert not (store.root / "ghost-1.onnx").exists() and not (store.root / "ghost-1-fp16.onnx").exists()
    assert engines(store) == sorted(NOT_CACHES)
    assert main(["models", "list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("  ghost-1 "))
    assert re.search(r" installed, not exported ", row)


def test_a_checkpoint_removed_by_file_name_then_imported_again(checkpoints: tuple[Path, Path], tmp_path: Path) -> None:
    """The exports recorded as made from a checkpoint of that name go too when it was forgotten in between;
    an ONNX file imported under the export's name (not made from it) stays."""
    first, second = checkpoints
    store = ModelStore(tmp_path / "home")
    store.import_file(first)
    made_from = export_source("G_unet_1block.pth", store.manifest()["G_unet_1block.pth"].sha256)
    add_export(store, "ghost-1.onnx", made_from)  # as ghostlive export records it
    store.remove(["G_unet_1block.pth"])  # freeing the disk: the export is what runs
    said: list[str] = []
    store.import_file(first, say=said.append)  # the same checkpoint again: its export still fits
    assert "ghost-1.onnx" in store.manifest() and said == []
    store.remove(["G_unet_1block.pth"])
    store.import_file(second, say=said.append)
    assert "ghost-1.onnx" not in store.manifest() and said and "ghostlive export ghost-1" in said[0]

    other = ModelStore(tmp_path / "other")
    add_export(other, "ghost-1.onnx", "a file the user imported")
    other.import_file(second, say=said.append)
    assert set(other.manifest()) == {"ghost-1.onnx", "G_unet_1block.pth"}


def test_a_download_over_a_lost_checkpoint_replaces_its_exports(checkpoints: tuple[Path, Path], tmp_path: Path) -> None:
    """A recorded checkpoint whose file went is downloaded again (``models download`` then exports it anew)."""
    first, second = checkpoints
    store = ModelStore(tmp_path / "home")
    store.import_file(first)
    add_export(store, "ghost-1.onnx", "G_unet_1block.pth")
    (store.root / "G_unet_1block.pth").unlink()
    said: list[str] = []
    store.download(BY_NAME["ghost-1"], url=second.as_uri(), say=said.append)
    assert set(store.manifest()) == {"G_unet_1block.pth"} and store.verify() == {"G_unet_1block.pth": "ok"}
    assert said == [
        "G_unet_1block.pth is replaced: removed ghost-1.onnx, exported from the earlier one; make it again: "
        "ghostlive export ghost-1"
    ]


def test_replacing_an_onnx_model_drops_what_was_cached_for_it(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "home")
    for i, weight in enumerate((1.0, 1.0, 2.0)):
        (tmp_path / str(i)).mkdir()
        src = tmp_path / str(i) / "w600k_r50.onnx"
        src.write_bytes(arcface_graph(np.full((3, 512), weight, np.float32)))
        store.import_file(src)
        if i == 0:
            plant(store, cache_names("w600k_r50") + NOT_CACHES)
        if i == 1:  # the same model again: what was cached for it still holds
            assert engines(store) == sorted(cache_names("w600k_r50") + NOT_CACHES)
    assert engines(store) == sorted(NOT_CACHES)
    assert store.verify() == {"w600k_r50.onnx": "ok"}


# defect 4: remove -------------------------------------------------------------------------------------------
def test_remove_deletes_the_runtimes_caches(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    store = ModelStore(tmp_path / "home")
    add_export(store, "ghost-1.onnx", "G_unet_1block.pth")  # the checkpoint itself was never installed
    plant(store, cache_names("ghost-1") + cache_names("ghost-1-fp16") + NOT_CACHES)
    assert main(["models", "remove", "ghost-1"]) == 0
    assert capsys.readouterr().out == "removed ghost-1: ghost-1.onnx\n"
    assert engines(store) == sorted(NOT_CACHES)  # the fp16 export's caches too, though the file was gone

    src = tmp_path / "My Model.onnx"
    src.write_bytes(arcface_graph(np.ones((3, 512), np.float32)))
    store.import_file(src)
    plant(store, cache_names("My Model"))
    assert main(["models", "remove", "My Model.onnx"]) == 0
    assert engines(store) == sorted(NOT_CACHES)
