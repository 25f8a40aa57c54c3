"""The window at a small size, output toggles on a running preview, and a failed job shown as failed
(pytest-qt, offscreen; real photos, the real clip as the camera, a real MJPEG socket)."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")
pytest.importorskip("av")

from PySide6.QtWidgets import QScrollArea

from ghostlive.media.sinks import MjpegServer
from ghostlive.ui.main_window import MainWindow

from .conftest import sample
from .media_tools import CLIP
from .test_live import read_mjpeg

GRACE = str(sample("grace_hopper.jpg"))


def test_the_side_panel_scrolls_in_a_1024x640_window(window: MainWindow, qtbot) -> None:
    window.resize(1024, 640)
    qtbot.waitUntil(lambda: window.size().width() == 1024 and window.size().height() == 640, timeout=5_000)
    area = window.centralWidget().findChild(QScrollArea)
    assert area is not None and area.verticalScrollBar().maximum() > 0  # more than fits: it scrolls
    assert area.widget().width() >= area.widget().minimumSizeHint().width()  # never squeezed sideways
    last = window.stages  # the bottom of the panel can be reached and is then really visible
    area.ensureWidgetVisible(last)
    qtbot.waitUntil(lambda: not last.visibleRegion().isEmpty(), timeout=5_000)


def start_preview(window: MainWindow, qtbot) -> None:
    window.add_source_photos([GRACE])
    window.camera.setCurrentText(str(CLIP))
    window.resolution.setCurrentText("640x480")
    assert window.start_live()
    qtbot.waitUntil(lambda: window.bridge.frames_seen > 5, timeout=30_000)


def test_stream_box_acts_on_a_running_preview(window: MainWindow, qtbot) -> None:
    window.stream_address.setText("127.0.0.1:0")  # any free port
    start_preview(window, qtbot)
    assert not any(isinstance(s, MjpegServer) for s in window.pipeline.sinks)
    window.stream_check.setChecked(True)
    servers = [s for s in window.pipeline.sinks if isinstance(s, MjpegServer)]
    assert len(servers) == 1 and window.stream_status.text() == servers[0].url
    frames = read_mjpeg(servers[0].url, 3)
    assert all(f is not None and f.shape[:2] == (528, 720) for f in frames)
    running = window.pipeline
    window.stream_check.setChecked(False)
    assert window.pipeline is running and not any(isinstance(s, MjpegServer) for s in running.sinks)
    assert window.stream_status.text() == "off"
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(servers[0].url, timeout=2)
    assert running.running  # the preview never stopped


def test_virtual_camera_box_reports_when_unavailable(window: MainWindow, qtbot) -> None:
    start_preview(window, qtbot)
    window.vcam_check.setChecked(True)  # no v4l2loopback device here: an error, the box unticks, frames go on
    assert not window.vcam_check.isChecked() and window.vcam_status.text() == "unavailable"
    assert not window.error_banner.isHidden()
    seen = window.bridge.frames_seen
    qtbot.waitUntil(lambda: window.bridge.frames_seen > seen + 5, timeout=20_000)


def run_photo_job(window: MainWindow, qtbot, target: Path, out: Path) -> None:
    window.job_input.setText(str(target))
    window.job_output.setText(str(out))
    task = window.run_job()
    assert task is not None
    qtbot.waitUntil(task.isFinished, timeout=60_000)
    qtbot.wait(50)  # deliver the queued signals


def test_a_failed_job_is_shown_as_failed(window: MainWindow, qtbot, tmp_path: Path, astronaut) -> None:
    window.add_source_photos([GRACE])
    run_photo_job(window, qtbot, sample("astronaut.png"), tmp_path / "ok.jpg")
    assert window.open_button.isEnabled() and window.job_progress.value() == window.job_progress.maximum()
    faceless = tmp_path / "faceless.png"
    cv2.imwrite(str(faceless), cv2.resize(astronaut[300:], (512, 300)))
    run_photo_job(window, qtbot, faceless, tmp_path / "no.jpg")
    assert not (tmp_path / "no.jpg").exists()
    assert not window.open_button.isEnabled()  # nothing to open from this job
    assert window.job_progress.value() == 0 and window.job_progress.text() == "failed"
    assert not window.error_banner.isHidden() and "face" in window.error_banner.text()
    run_photo_job(window, qtbot, sample("astronaut.png"), tmp_path / "again.jpg")
    assert window.open_button.isEnabled() and window.job_progress.text() == "100%"
    assert np.asarray(cv2.imread(str(tmp_path / "again.jpg"))).shape == astronaut.shape
