"""Live recordings in containers that cannot store variable timing (AVI, MPEG-TS) are recorded at a fixed rate,
frames placed by their capture time; variable-rate containers keep each frame's own time."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from ghostlive.media.recorder import Recorder

from .conftest import DATA

av = pytest.importorskip("av")


def camera_frames(count: int) -> list[np.ndarray]:
    """Real frames of the test clip (a camera's view)."""
    frames = []
    with av.open(str(DATA / "megamind_3s.mp4")) as f:
        for frame in f.decode(video=0):
            frames.append(frame.to_ndarray(format="bgr24"))
            if len(frames) == count:
                break
    return frames


def decoded(path: Path) -> tuple[float, int, Fraction | None]:
    """What players see: OpenCV's frame rate, the frames PyAV decodes and the stream's own rate."""
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    with av.open(str(path)) as f:
        stream = f.streams.video[0]
        n = sum(1 for _ in f.decode(stream))
        return fps, n, stream.base_rate


@pytest.mark.parametrize("suffix", [".avi", ".ts"])
def test_a_fixed_rate_container_is_recorded_at_the_camera_rate(tmp_path: Path, suffix: str) -> None:
    """24 frames captured over one second at 24 fps: the file says 24 fps and holds 24 frames (before: 1000 or
    240 fps, as the frames were timed in milliseconds)."""
    frames = camera_frames(24)
    rec = Recorder(tmp_path / f"rec{suffix}", fps=24.0)
    for i, frame in enumerate(frames):
        rec.send(frame, 50.0 + i / 24 + (0.01 if i % 2 else -0.01))  # a camera's jitter
    rec.close()
    fps, n, rate = decoded(tmp_path / f"rec{suffix}")
    assert fps == pytest.approx(24.0, abs=0.01) and n == 24 and rate == 24


def test_frames_are_placed_by_time_held_over_a_gap_and_dropped_when_too_many(tmp_path: Path) -> None:
    """At 10 fps: frames at 0, 0.1, 0.12 (same period: dropped), then 0.5 (a stall: the frame of 0.1 held over
    0.2-0.4 by the muxer, not encoded again, so a long outage holds no output up) → 0.6 s in 6 frame slots;
    without a rate given the recording holds the nominal 30 fps."""
    frames = camera_frames(4)
    rec = Recorder(tmp_path / "rec.avi", fps=10.0)
    for frame, t in zip(frames, (0.0, 0.1, 0.12, 0.5), strict=True):
        rec.send(frame, 7.0 + t)
    rec.close()
    fps, n, _ = decoded(tmp_path / "rec.avi")
    assert fps == pytest.approx(10.0) and n == 3 and rec.seconds == pytest.approx(0.6)
    cap = cv2.VideoCapture(str(tmp_path / "rec.avi"))
    slots = cap.get(cv2.CAP_PROP_FRAME_COUNT)  # what a player shows: the held frame over the empty slots
    cap.release()
    assert slots == 6
    with av.open(str(tmp_path / "rec.avi")) as f:
        assert f.duration == pytest.approx(600_000, abs=1000)  # µs
        slots_used = [packet.dts for packet in f.demux(video=0) if packet.size]
    assert slots_used == [0, 1, 5]  # the frames of 0, 0.1 and 0.5 s in their index slots

    rec = Recorder(tmp_path / "default.avi")
    for i, frame in enumerate(camera_frames(3)):
        rec.send(frame, 3.0 + i / 30)
    rec.close()
    assert decoded(tmp_path / "default.avi")[:2] == (pytest.approx(30.0), 3)


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_variable_rate_containers_keep_each_frames_time(tmp_path: Path, suffix: str) -> None:
    frames = camera_frames(4)
    rec = Recorder(tmp_path / f"rec{suffix}", fps=24.0)
    for frame, t in zip(frames, (0.0, 0.05, 0.4, 0.45), strict=True):
        rec.send(frame, 2.0 + t)
    rec.close()
    assert rec.saved and rec.seconds == pytest.approx(0.45 + 1 / 24, abs=0.002)
    with av.open(str(tmp_path / f"rec{suffix}")) as f:
        times = [round(fr.time, 3) for fr in f.decode(video=0)]
    assert times == pytest.approx([0.0, 0.05, 0.4, 0.45], abs=0.002)


def test_an_x265_recording_prints_nothing_of_its_own(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """x265 writes its settings and summary straight to the console ('x265 [info]: ...'), past ``-q``: the
    recording's encoder is kept as quiet as its pre-check."""
    from ghostlive.media.video_out import EncodeOptions

    capfd.readouterr()
    rec = Recorder(tmp_path / "rec.mp4", EncodeOptions(codec="libx265", preset="ultrafast"))
    for i, frame in enumerate(camera_frames(3)):
        rec.send(frame, i / 24)
    rec.close()
    err = capfd.readouterr().err
    assert "x265 [" not in err and (tmp_path / "rec.mp4").exists()
    assert decoded(tmp_path / "rec.mp4")[1] == 3


def test_a_folder_is_named_as_a_folder(tmp_path: Path) -> None:
    """``--record rec`` where rec is a folder: before, 'unsupported recording format (none)'."""
    from ghostlive.errors import OutputError
    from ghostlive.media.recorder import check_record_path

    (tmp_path / "rec").mkdir()
    (tmp_path / "clips.mp4").mkdir()
    for folder in ("rec", "clips.mp4"):
        with pytest.raises(OutputError, match="is a folder"):
            check_record_path(tmp_path / folder)
