"""Ctrl-C pressed again while a cancelled video job winds down (a real ``ghostlive swap`` process, a real clip,
real signals) still removes the partial video: no hidden temporary file is left beside the output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .conftest import sample
from .media_tools import CLIP, frames_of, write_video


def partial(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".out.")]


def encoding(folder: Path) -> bool:
    """The job's hidden temporary video has frames in it."""
    try:
        return any(p.stat().st_size > 50_000 for p in partial(folder))
    except FileNotFoundError:  # the up-front claim is removed while we look
        return False


def test_a_second_ctrl_c_during_the_cleanup_leaves_no_partial_video(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "long.mp4", frames_of(CLIP) * 4)  # long enough to be stopped mid-encode
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "GHOSTLIVE_HOME": str(tmp_path / "home")}
    argv = [sys.executable, "-m", "ghostlive", "swap", "-q", "--source", str(sample("grace_hopper.jpg"))]
    for _ in range(3):
        proc = subprocess.Popen(
            [*argv, "--target", str(clip), "-o", str(work / "out.mp4")], env=env, stderr=subprocess.PIPE, text=True
        )
        try:
            deadline = time.monotonic() + 120  # a guard against a hang, not a timed assertion
            while not encoding(work) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            proc.send_signal(signal.SIGINT)
            for _ in range(5):  # again and again while the stages wind down (join, abort)
                time.sleep(0.015)
                if proc.poll() is not None:
                    break
                proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode in (130, -signal.SIGINT)
        assert partial(work) == [] and not (work / "out.mp4").exists()
