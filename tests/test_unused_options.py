"""Mask and enhancer options that need another option warn (one line each, not an error: a settings file may hold
them) when given without it, in ``swap`` and ``live``; ``bench --mask parser`` (or ``--enhancer``) without the
model fails with its one line before printing anything."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ghostlive.cli import main

from .conftest import sample

GRACE, ASTRONAUT = str(sample("grace_hopper.jpg")), str(sample("astronaut.png"))
UNUSED = ["--regions", "skin", "--mask-padding", "0.3", "--mask-feather", "box=0.1,lips=0.02", "--mask", "lips",
          "--enhance-blend", "0.5", "--enhance-fidelity", "0.3"]
NOTES = [
    "--regions has no effect without --mask parser",
    "--mask-padding has no effect without --mask box",
    "--mask-feather box=… has no effect without --mask box",
    "--enhance-blend has no effect without --enhancer",
    "--enhance-fidelity has no effect without --enhancer",
]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "no effect" in r.getMessage()]


def test_swap_warns_about_each_option_that_needs_another(tmp_path: Path, caplog) -> None:
    out = tmp_path / "x.png"
    with caplog.at_level(logging.WARNING):
        assert main(["swap", "-q", "--source", GRACE, "--target", ASTRONAUT, "-o", str(out), *UNUSED]) == 0
    assert _warnings(caplog) == NOTES
    assert out.exists()


def test_options_with_what_they_need_are_not_warned_about(tmp_path: Path, caplog) -> None:
    out = tmp_path / "x.png"
    argv = ["swap", "-q", "--source", GRACE, "--target", ASTRONAUT, "-o", str(out), "--mask", "box,lips",
            "--mask-padding", "0.3", "--mask-feather", "box=0.1,lips=0.02"]
    with caplog.at_level(logging.WARNING):
        assert main(argv) == 0
    assert _warnings(caplog) == []


def test_live_warns_too(caplog, capsys) -> None:
    with caplog.at_level(logging.WARNING):
        main(["live", "-q", "--source", GRACE, "--camera", "/nonexistent/cam.mp4", "--regions", "skin"])
    assert _warnings(caplog) == ["--regions has no effect without --mask parser"]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--mask", "parser"], "--mask parser needs bisenet_resnet_34.onnx, which is not installed; run: "),
        (["--enhancer", "gfpgan-1.4"], "--enhancer gfpgan-1.4 needs gfpgan_1.4.onnx, which is not installed; run: "),
    ],
)
def test_bench_checks_its_stage_models_before_printing(
    tmp_path: Path, monkeypatch, capsys, option: list[str], message: str
) -> None:
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))  # an empty model store
    assert main(["bench", "--frames", "1", *option]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"ghostlive: error: {message}"), err
