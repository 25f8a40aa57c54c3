"""The ``ghostlive`` program at its edges: standard output closed by its reader (``ghostlive doctor | head -1``)
ends quietly with 141, and a signal after the command finished (during PyTorch's seconds of teardown) exits with
128 + its number, without a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ghostlive.cli import main

PROGRAM = [sys.executable, "-m", "ghostlive"]


def closed_pipe_run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the program with its standard output a pipe whose reader has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [*PROGRAM, *argv], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120, env=env, check=False
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize("argv", [("doctor",), ("models", "list")])
def test_a_reader_that_left_ends_the_command_quietly(tmp_path: Path, argv: tuple[str, ...]) -> None:
    env = {**os.environ, "GHOSTLIVE_HOME": str(tmp_path)}
    proc = closed_pipe_run(*argv, env=env)
    assert (proc.returncode, proc.stderr) == (141, "")


def test_a_pipe_that_is_not_stdout_breaking_is_still_an_error(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """An encoder's or a client's pipe breaking is a failure of the command, not a reader that left."""
    import ghostlive.doctor

    def broken() -> None:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(ghostlive.doctor, "run_checks", broken)
    assert main(["doctor"]) == 1
    assert "ghostlive: unexpected error: BrokenPipeError" in capsys.readouterr().err


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_teardown_exits_with_its_code(tmp_path: Path, signum: int, code: int) -> None:
    """``models import`` of a checkpoint loads PyTorch, whose teardown runs atexit callbacks for seconds; a signal
    then (sent here from the first callback to run) used to print a KeyboardInterrupt traceback and exit 0."""
    torch = pytest.importorskip("torch")
    from .golden import manifests

    ckpt = tmp_path / "backbone.pth"
    layout = manifests()["arcface_backbone_iresnet100"]
    torch.save({k: torch.zeros((), dtype=getattr(torch, dt)).expand(s) for k, s, dt in layout}, ckpt)
    script = (
        "import atexit, os, sys\n"
        f"sys.argv = ['ghostlive', 'models', 'import', {str(ckpt)!r}]\n"
        "from ghostlive.cli import main\n"
        "code = main()\n"
        f"atexit.register(lambda: os.kill(os.getpid(), {int(signum)}))  # the first callback at shutdown\n"
        "sys.exit(code)\n"
    )
    env = {**os.environ, "GHOSTLIVE_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert "imported" in proc.stdout, proc.stderr
    assert proc.returncode == code and "Traceback" not in proc.stderr, proc.stderr
