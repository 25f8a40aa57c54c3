"""A signal that was ignored when the program started (``nohup ghostlive swap … &``, ``trap '' HUP``) stays
ignored: the job runs on and writes its output (SIGHUP used to stop it with 129, "stopped by SIGHUP"), also while
the interpreter shuts down after the command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DATA, sample

GRACE, CLIP = sample("grace_hopper.jpg"), DATA / "megamind_3s.mp4"


def ignoring(signum: int):
    """A preexec_fn: the child starts with ``signum`` ignored, as ``nohup`` (SIGHUP) or ``trap ''`` leave it."""
    return lambda: signal.signal(signum, signal.SIG_IGN)


def test_nohup_video_swap_survives_sighup(tmp_path: Path) -> None:
    """SIGHUP sent from outside once the first frame's progress is shown."""
    out = tmp_path / "out.mp4"
    argv = [sys.executable, "-m", "ghostlive", "swap", "--source", str(GRACE), "--target", str(CLIP), "-o", str(out)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=ignoring(signal.SIGHUP))
    assert proc.stderr is not None
    seen = b""
    while b"frame " not in seen:  # the job is running
        chunk = os.read(proc.stderr.fileno(), 4096)
        assert chunk, seen.decode(errors="replace")
        seen += chunk
    proc.send_signal(signal.SIGHUP)
    stdout, stderr = proc.communicate(timeout=600)
    err = (seen + stderr).decode(errors="replace")
    assert proc.returncode == 0, err
    assert "stopped by" not in err and "swapped faces in" in stdout.decode()
    assert out.stat().st_size > 0


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT])
def test_an_ignored_signal_during_the_job_and_at_shutdown_is_ignored(tmp_path: Path, signum: int) -> None:
    """The process sends itself the signal as the swap starts and again at shutdown (the first atexit callback),
    where :func:`ghostlive.interrupts.exit_on_signal` used to end it with 128 + the signal number."""
    out = tmp_path / "out.png"
    script = (
        "import atexit, os, sys\n"
        "import ghostlive.cli as cli\n"
        "swap = cli.run_swap\n"
        "def run_swap(*args):\n"
        f"    os.kill(os.getpid(), {int(signum)})\n"
        "    return swap(*args)\n"
        "cli.run_swap = run_swap\n"
        f"sys.argv = ['ghostlive', 'demo', '-q', '-o', {str(out)!r}]\n"
        "code = cli.main()\n"
        f"atexit.register(lambda: os.kill(os.getpid(), {int(signum)}))\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=ignoring(signum),
    )
    assert proc.returncode == 0, proc.stderr
    assert "swapped 1 of 1" in proc.stdout and "stopped by" not in proc.stderr and out.stat().st_size > 0
