"""The window and the command line drive the same session: a photo job in the Files tab writes the same image as
``ghostlive swap`` with the same settings (real photos, offscreen)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from ghostlive.cli import main
from ghostlive.ui.main_window import MainWindow

from .conftest import run_window_job, sample

GRACE, ASTRONAUT = str(sample("grace_hopper.jpg")), str(sample("astronaut.png"))


def test_a_photo_job_in_the_window_equals_the_command_line(window: MainWindow, qtbot, tmp_path: Path) -> None:
    window.add_source_photos([GRACE])
    window.feather.setValue(60)  # 60 ‰ on the slider: --feather 0.06
    window.keep["eyes"].setChecked(True)
    window.color.setCurrentText("mean")
    out = tmp_path / "window.png"
    run_window_job(qtbot, window, ASTRONAUT, out)
    assert window.error_banner.isHidden(), window.error_banner.text()
    cli = tmp_path / "cli.png"
    args = ["swap", "--source", GRACE, "--target", ASTRONAUT, "-o", str(cli)]
    assert main([*args, "--feather", "0.06", "--keep", "mouth,eyes", "--color", "mean"]) == 0
    a, b = cv2.imread(str(out)), cv2.imread(str(cli))
    original = cv2.imread(ASTRONAUT)
    assert np.abs(a.astype(int) - original).max() > 50  # the window really swapped
    assert np.array_equal(a, b)
