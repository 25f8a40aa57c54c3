"""The GUI thread never builds models or detects faces: a real flow through the window (real photos, the real
clip as the camera, a photo job, a swapper change to inswapper with stand-in ONNX models whose sessions ONNX
Runtime really creates) with the work recorded by thread; the window still shows every result."""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from ghostlive import jobs
from ghostlive.faces import FaceAnalyzer
from ghostlive.hub import ModelStore
from ghostlive.session import core as session
from ghostlive.session import live as session_live
from ghostlive.ui.main_window import MainWindow

from .conftest import run_window_job, sample
from .media_tools import CLIP
from .onnx_graphs import arcface as arcface_graph
from .onnx_graphs import inswapper as inswapper_graph

GRACE, ASTRONAUT = str(sample("grace_hopper.jpg")), str(sample("astronaut.png"))


@pytest.fixture
def calls(monkeypatch) -> dict[str, list[threading.Thread]]:
    """The thread of every face detection, swapper construction, stage construction and job construction."""
    seen: dict[str, list[threading.Thread]] = defaultdict(list)

    def record(name: str, fn):
        def run(*args, **kwargs):
            seen[name].append(threading.current_thread())
            return fn(*args, **kwargs)

        return run

    monkeypatch.setattr(FaceAnalyzer, "detect", record("detect", FaceAnalyzer.detect))
    for module in (jobs, session, session_live):  # every module that calls them
        for name in ("build_swapper", "with_stages"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, record(name, getattr(module, name)))
    monkeypatch.setattr(jobs.Job, "__init__", record("job", jobs.Job.__init__))
    return seen


def stand_in_inswapper(store: ModelStore, tmp_path: Path) -> None:
    """Stand-ins for inswapper_128.onnx and w600k_r50.onnx (cannot be downloaded here): the real models' input
    and output signatures, built with onnx.helper."""
    for name, data in (
        ("inswapper_128.onnx", inswapper_graph(np.eye(512, dtype=np.float32))),
        ("w600k_r50.onnx", arcface_graph(np.ones((3, 512), np.float32))),
    ):
        (tmp_path / name).write_bytes(data)
        store.import_file(tmp_path / name)


def test_the_gui_thread_never_builds_models_or_detects(qtbot, tmp_path: Path, calls) -> None:
    store = ModelStore(tmp_path / "home")
    stand_in_inswapper(store, tmp_path)
    w = MainWindow(settings_path=tmp_path / "settings.toml", store=store)
    w.cfg.output_folder = str(tmp_path)
    qtbot.addWidget(w)
    w.show()
    assert w.add_source_photos([GRACE, ASTRONAUT]) == 2  # source photos: thumbnails shown
    assert w.source_list.count() == 2 and not w.source_list.item(1).icon().isNull()
    w.source_list.setCurrentRow(0)
    # a target photo through the Files tab
    out = tmp_path / "swapped.jpg"
    run_window_job(qtbot, w, ASTRONAUT, out)
    assert out.exists() and w.open_button.isEnabled() and w.last_output == out
    assert cv2.imread(str(out)).shape == cv2.imread(ASTRONAUT).shape
    # the live preview, a new source face, a new swapper and a new mask while frames flow
    w.camera.setCurrentText(str(CLIP))
    w.resolution.setCurrentText("640x480")
    assert w.start_live()
    qtbot.waitUntil(lambda: w.preview.pixmap() is not None and not w.preview.pixmap().isNull(), timeout=20_000)
    qtbot.waitUntil(lambda: w.bridge.frames_swapped > 5, timeout=30_000)
    pairs = w.pipeline.swapper.pairs
    w.source_list.setCurrentRow(1)
    qtbot.waitUntil(lambda: w.pipeline.swapper.pairs is not pairs, timeout=20_000)
    w.swapper_combo.setCurrentText("inswapper")
    qtbot.waitUntil(lambda: "inswapper" in w.stats_label.text(), timeout=30_000)
    w.stages.masks["mouth"].setChecked(True)
    qtbot.waitUntil(lambda: type(w.pipeline.swapper.swapper).__name__ == "MaskedSwapper", timeout=20_000)
    seen = w.bridge.frames_seen
    qtbot.waitUntil(lambda: w.bridge.frames_seen > seen + 5, timeout=20_000)
    assert w.error_banner.isHidden(), w.error_banner.text()
    w.stop_live()
    main = threading.main_thread()
    assert threading.current_thread() is main  # the test drives the window from the GUI thread
    assert {"detect", "build_swapper", "with_stages", "job"} <= set(calls)  # each really happened
    assert {name: [t.name for t in threads if t is main] for name, threads in calls.items()} == {
        name: [] for name in calls
    }
