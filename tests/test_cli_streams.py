"""Standard streams that cannot be written never cost the job: a video swap whose progress display fails (a closed
terminal: EIO; a full disk: ENOSPC; stderr closed) writes its video and exits 0; a result line that cannot be
printed (stdout on a full disk or closed) leaves a written output with exit status 0 and no traceback; a locale
whose encoding lacks "→" (LC_ALL=C without UTF-8 mode) escapes it. Each runs the real program in a subprocess."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ghostlive.cli_streams import ProgressLine
from ghostlive.pipeline.offline import Progress

from .conftest import DATA, sample

GRACE, CLIP = sample("grace_hopper.jpg"), DATA / "megamind_3s.mp4"
PROGRAM = [sys.executable, "-m", "ghostlive"]


def closing(fd: int) -> Callable[[], None]:
    """A preexec_fn: the program starts with descriptor ``fd`` closed (``2>&-``, ``>&-``)."""
    return lambda: os.close(fd)


def video_swap(out: Path) -> list[str]:
    return [*PROGRAM, "swap", "--source", str(GRACE), "--target", str(CLIP), "-o", str(out)]


def test_a_terminal_closed_during_a_video_swap_does_not_cancel_it(tmp_path: Path) -> None:
    """stderr is a terminal whose other end is closed once the first frame's progress shows: writes fail with
    EIO (it is not the job's controlling terminal, so no SIGHUP comes)."""
    out = tmp_path / "out.mp4"
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(video_swap(out), stdout=subprocess.PIPE, stderr=slave, text=True)
    finally:
        os.close(slave)
    seen = b""
    try:
        while b"frame " not in seen:
            seen += os.read(master, 4096)
    finally:
        os.close(master)
    stdout, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, seen
    assert "swapped faces in" in stdout and out.stat().st_size > 0


def test_a_video_swap_with_stderr_on_a_full_disk_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with open("/dev/full", "w") as full:
        proc = subprocess.run(video_swap(out), stdout=subprocess.PIPE, stderr=full, text=True, timeout=600)
    assert proc.returncode == 0 and proc.stdout.startswith("swapped faces in"), proc.stdout
    assert out.stat().st_size > 0


def test_a_video_swap_with_stderr_closed_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    proc = subprocess.run(video_swap(out), stdout=subprocess.PIPE, text=True, timeout=600, preexec_fn=closing(2))
    assert proc.returncode == 0, proc.stdout
    lines = proc.stdout.splitlines()  # the result line alone: no error message landed on stdout
    assert len(lines) == 1 and lines[0].startswith("swapped faces in") and lines[0].endswith(f"→ {out}")
    assert out.stat().st_size > 0


def test_a_result_line_on_a_full_disk_is_not_a_failure(tmp_path: Path) -> None:
    out = tmp_path / "x9.png"
    with open("/dev/full", "w") as full:
        proc = subprocess.run([*PROGRAM, "demo", "-o", str(out)], stdout=full, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (
        "ghostlive: cannot write to standard output ([Errno 28] No space left on device); the results are not shown\n"
    )
    assert out.stat().st_size > 0


def test_a_result_line_with_stdout_closed_is_not_a_failure(tmp_path: Path) -> None:
    out = tmp_path / "x10.png"
    proc = subprocess.run([*PROGRAM, "demo", "-o", str(out)], stderr=subprocess.PIPE, text=True, preexec_fn=closing(1))
    assert (proc.returncode, proc.stderr) == (0, "")
    assert out.stat().st_size > 0


def test_an_ascii_locale_escapes_what_it_cannot_show(tmp_path: Path) -> None:
    out = tmp_path / "x11.png"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "LANG", "LC_CTYPE")}
    env.update(LC_ALL="C", PYTHONUTF8="0")
    proc = subprocess.run([*PROGRAM, "demo", "-o", str(out)], capture_output=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode("ascii") == f"swapped 1 of 1 face(s) \\u2192 {out}\n"
    assert out.stat().st_size > 0


@pytest.mark.parametrize("stream", ["full", "closed", "none"])
def test_a_progress_line_that_cannot_be_written_turns_itself_off(monkeypatch, stream: str) -> None:
    stderr = None if stream == "none" else open("/dev/full", "w")  # noqa: SIM115 - closed below
    if stream == "closed" and stderr is not None:
        stderr.close()
    monkeypatch.setattr(sys, "stderr", stderr)
    line = ProgressLine()
    line(Progress(done=1, total=72, fps=8.0, eta=9.0))
    assert line.off
    line(Progress(done=2, total=72, fps=8.0, eta=8.0))
    line.end()
    monkeypatch.undo()
    if stderr is not None:
        with contextlib.suppress(OSError):  # what /dev/full still holds
            stderr.close()
