"""Live recordings: encoded with the video settings (codec per container, --codec, --crf, --preset), refused
before the loop starts when the container cannot hold the codec, and cleaned up when writing fails while live
runs or when they are finished, from the command line and from the session the window drives. The real clip is
the camera; the write failures are real: a file-size limit (RLIMIT_FSIZE, as a quota or a full disk: the kernel
refuses the write with EFBIG) and the recording's folder deleted while it records."""

from __future__ import annotations

import contextlib
import resource
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.errors import OutputError
from ghostlive.hub import ModelStore
from ghostlive.jobs import Job, PairSpec, SwapSettings
from ghostlive.media.recorder import Recorder
from ghostlive.media.video_out import EncodeOptions
from ghostlive.session import Session
from ghostlive.session.live import LiveRequest
from ghostlive.tracking import TrackerOptions
from ghostlive.types import Frame

from .conftest import sample
from .media_tools import CLIP, frames_of

GRACE = str(sample("grace_hopper.jpg"))
LIMIT = 16 * 1024
"""Bytes a file may grow to while a test limits file sizes: far less than FFmpeg's first write (its 256 KiB
buffer), which the recordings below reach within a second."""
FAST = ("--preset", "ultrafast")
"""No look-ahead: x264 hands out each frame's packet at once, so writing starts (and fails) while live runs."""
LOOP_THREADS = {"ghostlive-capture", "ghostlive-track", "ghostlive-swap", "ghostlive-sink"}


@contextlib.contextmanager
def file_size_limit(size: int) -> Iterator[None]:
    """Writes beyond ``size`` bytes fail with EFBIG (File too large) in this process, as on a full disk (Python
    ignores the SIGXFSZ the kernel also sends, so the write just fails)."""
    if signal.getsignal(signal.SIGXFSZ) != signal.SIG_IGN:
        pytest.skip("SIGXFSZ is not ignored here: exceeding the limit would kill the test process")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def wait_until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def live(*extra: str) -> list[str]:
    return ["live", "-q", "--source", GRACE, "--camera", str(CLIP), "--duration", "1", *extra]


def codec_of(path: Path) -> str:
    with av.open(str(path)) as c:
        return c.streams.video[0].codec_context.name


def test_live_records_webm_in_vp9(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r.webm"
    code = main(live("--record", str(out)))
    assert code == 0, capsys.readouterr().err
    assert codec_of(out) == "vp9" and len(frames_of(out)) >= 5
    assert [p.name for p in tmp_path.iterdir()] == ["r.webm"]


def test_live_recording_honours_crf_and_preset(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r.mp4"
    code = main(live("--record", str(out), "--crf", "40", "--preset", "ultrafast"))
    assert code == 0, capsys.readouterr().err
    settings = out.read_bytes()  # x264 writes the settings it encoded with into the stream
    assert codec_of(out) == "h264" and b" crf=40.0 " in settings and b" subme=0 " in settings  # ultrafast: subme 0


def test_recorder_uses_the_codec_asked_for(tmp_path: Path, astronaut: Frame) -> None:
    out = tmp_path / "r.mkv"
    rec = Recorder(out, EncodeOptions(codec="libvpx-vp9"))
    for i in range(5):
        rec.send(np.roll(astronaut, 8 * i, axis=1), t=i / 30)
    rec.close()
    assert codec_of(out) == "vp9" and len(frames_of(out)) == 5


def test_a_codec_the_container_cannot_hold_is_refused_before_live_starts(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r.webm"
    assert main(live("--record", str(out), "--codec", "libx264")) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        f"ghostlive: error: {out}: cannot record .webm with --codec libx264 "
        "(libx264: 'webm' format does not support 'libx264' codec)"
    )
    assert "output:" not in captured.err and "delivered" not in captured.out  # nothing ran
    assert list(tmp_path.iterdir()) == []


def test_a_recording_that_fails_while_live_runs_is_deleted_and_the_command_fails(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r.mp4"
    with file_size_limit(LIMIT):
        code = main(live("--record", str(out), *FAST, "--stream", "127.0.0.1:0"))
    captured = capsys.readouterr()
    line = f"ghostlive: error: {out}: recording failed: File too large; the unfinished file was deleted"
    assert code == 1 and line in captured.err.splitlines(), captured.err
    assert "delivered" in captured.out  # the loop and the stream went on without the recording
    assert list(tmp_path.iterdir()) == []  # no hidden temporary file either


def test_a_failed_recorder_deletes_its_file_and_closing_it_is_harmless(tmp_path: Path, astronaut: Frame) -> None:
    rec = Recorder(tmp_path / "r.mp4", EncodeOptions(preset="ultrafast"))
    rng = np.random.default_rng(0)
    with file_size_limit(LIMIT), pytest.raises(OutputError) as err:
        for i in range(100):  # written from the first fragment's end (the keyframe 2 s in): past the limit
            rec.send(rng.integers(0, 256, astronaut.shape, dtype=np.uint8), t=i / 30)
    assert str(err.value) == f"{tmp_path / 'r.mp4'}: recording failed: File too large; the unfinished file was deleted"
    assert rec.failed and list(tmp_path.iterdir()) == []
    rec.close()
    with pytest.raises(OutputError, match="recording failed"):
        rec.send(astronaut)
    assert list(tmp_path.iterdir()) == []


def test_a_write_that_fails_as_the_recording_closes_is_not_published(tmp_path: Path) -> None:
    """A short MP4 recording is written when it closes (its one fragment): FFmpeg's file output reported success
    though the disk refused part of it, and a cut-off file was published as saved."""
    rec = Recorder(tmp_path / "r.mp4", EncodeOptions(preset="ultrafast"))
    for i, frame in enumerate(frames_of(CLIP)[:24]):
        rec.send(frame, t=i / 30)
    with file_size_limit(LIMIT), pytest.raises(OutputError, match="recording failed: File too large"):
        rec.close()
    assert not rec.saved and list(tmp_path.iterdir()) == []


@pytest.fixture
def session(tmp_path: Path) -> Iterator[tuple[Session, list[str], list[bool]]]:
    """A session live on the clip (the window's path), with its error and live events collected."""
    s = Session(ModelStore(tmp_path / "home"))
    errors: list[str] = []
    states: list[bool] = []
    s.events.error.connect(errors.append)
    s.events.live.connect(states.append)
    settings = SwapSettings(tiles=0, tracker=TrackerOptions(detect_every=3), encode=EncodeOptions(preset="ultrafast"))
    job = Job(settings, [PairSpec(GRACE)])
    s.go_live(LiveRequest(str(CLIP)), job)
    yield s, errors, states
    s.stop_live()


def test_session_reports_a_recording_that_failed_while_live_ran(session, tmp_path: Path) -> None:
    s, errors, states = session
    folder = tmp_path / "rec"
    folder.mkdir()
    pipeline = s.pipeline
    with file_size_limit(LIMIT):
        path = s.start_recording(folder)
        wait_until(lambda: errors)
    assert errors == [f"{path}: recording failed: File too large; the unfinished file was deleted"]
    assert list(folder.iterdir()) == [] and pipeline.running
    assert s.stop_recording() is None  # the failed recorder closes quietly
    s.stop_live()
    assert states == [True, False] and not pipeline.running and len(errors) == 1


def test_session_stops_live_when_finishing_the_recording_fails(session, tmp_path: Path) -> None:
    s, errors, states = session
    folder = tmp_path / "rec"
    folder.mkdir()
    pipeline = s.pipeline
    path = s.start_recording(folder)
    wait_until(lambda: pipeline.stats().delivered >= 30)
    shutil.rmtree(folder)  # the folder goes while recording: the finished file has nowhere to go
    s.stop_live()
    assert states == [True, False] and not pipeline.running and s.pipeline is None
    assert not [t for t in threading.enumerate() if t.name in LOOP_THREADS and t.is_alive()]
    assert len(errors) == 1 and errors[0].startswith(f"{path}: recording failed: ")
    assert errors[0].endswith("; the unfinished file was deleted") and "\n" not in errors[0]
    assert not folder.exists()


def test_session_stop_recording_reports_a_failed_finish(session, tmp_path: Path) -> None:
    s, errors, _ = session
    folder = tmp_path / "rec"
    folder.mkdir()
    path = s.start_recording(folder)
    wait_until(lambda: s.pipeline.stats().delivered >= 30)
    shutil.rmtree(folder)
    assert s.stop_recording() is None
    assert len(errors) == 1 and errors[0].startswith(f"{path}: recording failed: ") and s.pipeline.running
