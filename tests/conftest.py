"""Shared fixtures: real photos (bundled samples and tests/data), the built-in analyzer, helpers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from ghostlive.faces import FaceAnalyzer, asset_path
from ghostlive.types import Face, Frame

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # GUI tests run without a display

DATA = Path(__file__).parent / "data"


def sample(name: str) -> Path:
    return Path(asset_path(f"samples/{name}"))


@pytest.fixture(scope="session")
def analyzer() -> FaceAnalyzer:
    return FaceAnalyzer()


@pytest.fixture(scope="session")
def astronaut() -> Frame:
    return cv2.imread(str(sample("astronaut.png")))


@pytest.fixture(scope="session")
def grace() -> Frame:
    return cv2.imread(str(sample("grace_hopper.jpg")))


@pytest.fixture(scope="session")
def cameraman() -> Frame:
    return cv2.imread(str(DATA / "cameraman_gray.png"))


@pytest.fixture(scope="session")
def messi() -> Frame:
    return cv2.imread(str(DATA / "messi5.jpg"))


def compose(*images: Frame, height: int = 400, gap: int = 40) -> tuple[Frame, list[tuple[int, int]]]:
    """Real portraits side by side on one canvas (a licence-clean multi-face photo); returns the canvas and
    each tile's x-range."""
    tiles = [cv2.resize(im, (round(im.shape[1] * height / im.shape[0]), height)) for im in images]
    width = sum(t.shape[1] for t in tiles) + gap * (len(tiles) + 1)
    canvas = np.full((height + 2 * gap, width, 3), 127, np.uint8)
    spans = []
    x = gap
    for t in tiles:
        canvas[gap : gap + height, x : x + t.shape[1]] = t
        spans.append((x, x + t.shape[1]))
        x += t.shape[1] + gap
    return canvas, spans


@pytest.fixture(scope="session")
def group(astronaut: Frame, grace: Frame, cameraman: Frame) -> tuple[Frame, list[tuple[int, int]]]:
    return compose(astronaut, grace, cameraman)


def largest(faces: list[Face]) -> Face:
    return max(faces, key=lambda f: f.detection.area)


@pytest.fixture
def window(qtbot, tmp_path: Path):
    """The desktop window (offscreen) with its settings and model store in ``tmp_path``; GUI tests only."""
    from ghostlive.hub import ModelStore
    from ghostlive.ui.main_window import MainWindow

    w = MainWindow(settings_path=tmp_path / "settings.toml", store=ModelStore(tmp_path / "home"))
    w.cfg.output_folder = str(tmp_path)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.stop_live(wait=True)


def run_window_job(qtbot, window, target: str, output: Path) -> None:
    """Run one file job through the window's Files tab and wait until it has finished."""
    window.job_input.setText(target)
    window.job_output.setText(str(output))
    task = window.run_job()
    assert task is not None
    qtbot.waitUntil(task.isFinished, timeout=60_000)
    qtbot.wait(50)


def read_only_mount(folder: Path) -> bool:
    """``folder`` bound read-only onto itself (root ignores permission bits); False where that cannot be done."""
    if shutil.which("mount") is None or os.geteuid() != 0:
        return False
    if subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode:
        return False
    if subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True).returncode:
        subprocess.run(["umount", str(folder)], capture_output=True)
        return False
    return True


@pytest.fixture(scope="module")
def portrait_clip(tmp_path_factory: pytest.TempPathFactory, astronaut: np.ndarray) -> Path:
    """A real portrait filmed by a still camera: sensor noise and a tiny sway (every frame differs), 24 fps, 2 s."""
    from .media_tools import write_video  # PyAV: only for the tests that film

    rng = np.random.default_rng(0)
    frames = [
        np.clip(
            np.roll(astronaut, int(3 * np.sin(i / 5)), axis=1).astype(int) + rng.normal(0, 3, astronaut.shape), 0, 255
        ).astype(np.uint8)
        for i in range(48)
    ]
    return write_video(tmp_path_factory.mktemp("cam") / "portrait.mp4", frames)


def signal_mid_job(cmd: list[str], signum: int, before: Callable[[], None] | None = None) -> tuple[int, str]:
    """Run the video job ``cmd`` (its progress line on, stderr read as it comes), send ``signum`` once it has
    encoded a few frames (``before()`` runs just before); its exit status and everything it wrote to stderr."""
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    err = bytearray()

    def read() -> None:
        while chunk := proc.stderr.read1(256):
            err.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        frames = re.findall(rb"frame (\d+)/", bytes(err))
        if frames and int(frames[-1]) >= 3:
            break
        time.sleep(0.02)
    try:
        assert proc.poll() is None, "the job ended before it could be stopped"
        if before is not None:
            before()
        proc.send_signal(signum)
        code = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(5)
    return code, err.decode()
