"""``ghostlive live`` from the command line: ``--duration`` is kept to the fraction, Ctrl-C prints the summary and
the saved recording, bad ``--size`` values are usage errors, and options that need another are warned about."""

from __future__ import annotations

import http.client
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import pytest

from ghostlive import live_cli
from ghostlive.cli import main

from .conftest import DATA, sample

SOURCE = str(sample("astronaut.png"))
CAMERA = str(DATA / "megamind_3s.mp4")


def test_a_fractional_duration_is_kept_and_warnings_name_options_without_effect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog
) -> None:
    """``--duration 0.3``: the command never waits past 0.3 s for its end (before: whole seconds of 1 s);
    ``--token`` without ``--stream`` and ``--virtual-camera-device`` without ``--virtual-camera`` are warned
    about; the saved recording is named with its length."""
    main_thread, waits = threading.current_thread(), []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        if threading.current_thread() is main_thread:
            waits.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(live_cli.time, "sleep", sleep)
    out = tmp_path / "rec.mkv"
    argv = ["live", "-q", "--source", SOURCE, "--camera", CAMERA, "--record", str(out), "--duration", "0.3"]
    with caplog.at_level(logging.WARNING):
        code = main([*argv, "--token", "x", "--virtual-camera-device", "/dev/video99"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert waits and max(waits) <= 0.3 and sum(waits) <= 0.3 + 1e-6
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "--token has no effect without --stream" in warned
    assert "--virtual-camera-device has no effect without --virtual-camera" in warned
    assert out.exists() and re.search(rf"^recorded {re.escape(str(out))} \(\d+\.\d s\)$", captured.out, re.M)


@pytest.mark.parametrize("size", ["1x1", "640x", "99999x99999"])
def test_a_bad_size_is_a_usage_error(size: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["live", "--source", SOURCE, "--camera", CAMERA, "--size", size])
    assert stop.value.code == 2 and "--size" in capsys.readouterr().err


def test_ctrl_c_prints_the_summary_and_the_saved_recording(tmp_path: Path) -> None:
    """Ctrl-C (``--duration 0``): the run ends with 130 as every command does, after the summary and the line
    naming the recording it saved (before: only 'ghostlive: interrupted')."""
    out = tmp_path / "rec.mp4"
    argv = ["live", "-q", "--source", SOURCE, "--camera", CAMERA, "--record", str(out), "--stream", "127.0.0.1:0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ghostlive", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        port = 0
        assert proc.stderr is not None
        for line in proc.stderr:  # the outputs are listed once the loop runs
            if m := re.search(r"MJPEG stream http://127\.0\.0\.1:(\d+)/", line):
                port = int(m.group(1))
                break
        assert port, "the stream was never listed"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/stream.mjpg")
        resp = conn.getresponse()
        parts = 0
        while parts < 4:  # frames were delivered, so the recording has some too
            parts += resp.readline().startswith(b"--ghostliveframe")
        conn.close()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "delivered" in stdout and f"recorded {out} (" in stdout, (stdout, stderr)
    assert "ghostlive: interrupted" in stderr and "Traceback" not in stderr
    with av.open(str(out)) as f:  # fragmented (it plays after a crash): counted by decoding, not from an index
        assert sum(1 for _ in f.decode(video=0)) >= 2
