"""The desktop app under a damaged settings file and under termination signals (offscreen): a bad value costs only
its key and the file is never written over unread; SIGINT, SIGTERM and SIGHUP close the window as the user would
(live stopped, settings saved) and exit with 128 + the signal number."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from ghostlive.config import GuiSettings, load_settings
from ghostlive.hub import ModelStore
from ghostlive.ui.main_window import MainWindow

from .conftest import sample
from .media_tools import CLIP

BAD = "blend = 3.0\nkeep_eyes = true\nfeather = 0.1\n"
DEFAULTS = GuiSettings()


def _window(qtbot, tmp_path: Path, text: str | bytes) -> tuple[MainWindow, Path]:
    path = tmp_path / "settings.toml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    w = MainWindow(settings_path=path, store=ModelStore(tmp_path / "home"))
    qtbot.addWidget(w)
    w.show()
    return w, path


def test_a_bad_value_costs_only_its_key_and_the_file_is_kept(qtbot, tmp_path: Path) -> None:
    w, path = _window(qtbot, tmp_path, BAD)
    assert w.keep["eyes"].isChecked() and w.cfg.keep_eyes and w.cfg.feather == 0.1  # the good values are used
    assert w.current_settings().blend == DEFAULTS.blend
    banner = w.error_banner.text()
    assert w.error_banner.isVisible() and f"{path}: blend: must be within [0, 1], got 3.0" in banner
    assert "blend has its default" in banner and "settings.toml.bad" in banner
    w.close()  # nothing changed: the file the user has to fix is left exactly as it was
    assert path.read_text() == BAD and not list(tmp_path.glob("*.bad*"))


def test_a_change_keeps_the_bad_original_aside(qtbot, tmp_path: Path) -> None:
    w, path = _window(qtbot, tmp_path, BAD)
    w.keep["brows"].setChecked(True)
    w.close()
    assert (tmp_path / "settings.toml.bad").read_text() == BAD
    saved = load_settings(path)  # the new file loads cleanly, with the user's good values and the change
    assert saved.keep_eyes and saved.keep_brows and saved.feather == 0.1 and saved.blend == DEFAULTS.blend
    assert not list(tmp_path.glob(".settings.toml.*"))  # no temporary file left behind


def test_an_earlier_bad_copy_is_not_overwritten(qtbot, tmp_path: Path) -> None:
    (tmp_path / "settings.toml.bad").write_text("older\n")
    w, path = _window(qtbot, tmp_path, BAD)
    w.keep["brows"].setChecked(True)
    w.close()
    assert (tmp_path / "settings.toml.bad").read_text() == "older\n"
    assert (tmp_path / "settings.toml.bad.1").read_text() == BAD and load_settings(path).keep_brows


def test_an_unreadable_file_is_not_written_over(qtbot, tmp_path: Path) -> None:
    raw = b"blend = [oops\n\xff keep_eyes = true\n"
    w, path = _window(qtbot, tmp_path, raw)
    assert w.error_banner.isVisible() and str(path) in w.error_banner.text()
    assert "Every setting has its default" in w.error_banner.text() and w.cfg == DEFAULTS
    w.close()
    assert path.read_bytes() == raw


def test_a_signal_stops_live_and_saves_in_process(qtbot, tmp_path: Path) -> None:
    """The handler closes the window through its closeEvent: the running preview is stopped and the settings
    written, and the event loop ends (a local one here: quitting the application would end pytest-qt's too)."""
    from PySide6.QtCore import QEventLoop, QTimer

    from ghostlive.ui.app import close_on_signals

    w, path = _window(qtbot, tmp_path, "feather = 0.1\n")
    w.add_source_photos([str(sample("grace_hopper.jpg"))])
    w.camera.setCurrentText(str(CLIP))
    assert w.start_live()
    pipeline = w.pipeline
    qtbot.waitUntil(lambda: w.bridge.frames_seen > 2, timeout=20_000)
    before = signal.getsignal(signal.SIGINT)
    loop = QEventLoop()
    safety = QTimer(singleShot=True, interval=10_000)  # the test fails instead of hanging
    safety.timeout.connect(loop.quit)
    QTimer.singleShot(50, lambda: os.kill(os.getpid(), signal.SIGINT))
    with close_on_signals(w, loop.quit) as received:
        safety.start()
        loop.exec()
    safety.stop()
    assert received == [signal.SIGINT]
    assert w.pipeline is None and pipeline is not None and not pipeline.running
    assert load_settings(path).camera == str(CLIP)  # saved, with what the window showed
    assert signal.getsignal(signal.SIGINT) is before  # the previous handler is back


@pytest.mark.parametrize(
    "signum",
    [signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
def test_ghostlive_gui_closes_cleanly_on_a_signal(tmp_path: Path, signum: int) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "GHOSTLIVE_HOME": str(tmp_path / "home"),
        "GHOSTLIVE_CONFIG": str(tmp_path / "config"),
    }
    log = tmp_path / "stderr.txt"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ghostlive", "-v", "gui"], env=env, stderr=err, stdout=subprocess.DEVNULL
        )
    try:
        deadline = time.monotonic() + 30
        while "window open" not in log.read_text(errors="replace"):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
        proc.send_signal(signum)
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 128 + signum, log.read_text(errors="replace")
    assert (tmp_path / "config" / "settings.toml").is_file()  # saved by the window's closeEvent


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
def test_nohup_ghostlive_gui_stays_open_on_a_hangup(tmp_path: Path) -> None:
    """Started with SIGHUP ignored (``nohup``), the window does not close when the terminal hangs up; SIGTERM
    still closes it as the user would."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "GHOSTLIVE_HOME": str(tmp_path / "home"),
           "GHOSTLIVE_CONFIG": str(tmp_path / "config")}  # fmt: skip
    log = tmp_path / "stderr.txt"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ghostlive", "-v", "gui"], env=env, stderr=err, stdout=subprocess.DEVNULL,
            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while "window open" not in log.read_text(errors="replace"):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        assert proc.poll() is None, log.read_text(errors="replace")  # still open
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 128 + signal.SIGTERM, log.read_text(errors="replace")
