"""What a run killed outright (SIGKILL: nothing of ours runs) leaves beside its output, and what the next run
writing that output does with it: a live recording cut off plays up to its last keyframe and is kept under a
visible name; a video job's unfinished output is removed. Real subprocesses, the real clip as camera and target,
real SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest

from ghostlive.cli import main
from ghostlive.media.leftovers import STALE_SECONDS, leftovers, recover_recordings
from ghostlive.media.recorder import Recorder

from .conftest import sample
from .media_tools import CLIP, frames_of

GRACE = str(sample("grace_hopper.jpg"))


def decodable_frames(path: Path) -> int:
    """Frames a player gets from ``path`` before it stops (0 when it cannot be opened)."""
    n = 0
    try:
        with av.open(str(path)) as c:
            for _ in c.decode(video=0):
                n += 1
    except av.error.FFmpegError:
        pass
    return n


def temporaries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if ".ghostlive-" in p.name)


def age(path: Path, seconds: float) -> None:
    """Make ``path`` look last written ``seconds`` ago (the killed run is long gone)."""
    t = time.time() - seconds
    os.utime(path, (t, t))


def kill_when(cmd: list[str], ready, timeout: float = 120.0) -> None:
    """Run ``cmd``, SIGKILL it once ``ready()`` holds."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


@pytest.mark.parametrize("suffix", [".mp4", ".mov"])
def test_a_killed_live_recording_plays_and_the_next_run_keeps_it(tmp_path: Path, caplog, suffix: str) -> None:
    out = tmp_path / f"call{suffix}"
    live = [sys.executable, "-m", "ghostlive", "live", "-q", "--source", GRACE, "--camera", str(CLIP)]
    rec = ["--duration", "120", "--record", str(out), "--preset", "ultrafast"]

    def recorded_a_while() -> bool:  # a few seconds of frames muxed (keyframes every 2 s)
        parts = temporaries(tmp_path)
        return bool(parts) and parts[0].stat().st_size > 600_000

    kill_when(live + rec, recorded_a_while)
    (part,) = temporaries(tmp_path)
    assert decodable_frames(part) >= 30  # an MP4 whose index came only at the end played nothing
    age(part, STALE_SECONDS + 60)

    code = main(["live", "-q", "--source", GRACE, "--camera", str(CLIP), "--duration", "1", "--record", str(out)])
    assert code == 0
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("call (unfinished ") and p.suffix == suffix]
    assert len(kept) == 1 and decodable_frames(kept[0]) >= 30
    assert kept[0].name in caplog.text
    assert temporaries(tmp_path) == [] and len(frames_of(out)) >= 5


def test_a_recording_still_being_written_is_left_alone(tmp_path: Path) -> None:
    """Another run recording to the same file now (its temporary file written a moment ago) is not disturbed."""
    out = tmp_path / "call.mp4"
    first = Recorder(out)
    frame = frames_of(CLIP)[0]
    for i in range(10):
        first.send(frame, float(i) / 30)
    second = Recorder(out)  # finds the first's temporary file fresh: leaves it
    assert len(temporaries(tmp_path)) == 2
    second.close()
    first.close()
    assert decodable_frames(out) == 10 and temporaries(tmp_path) == []


def test_a_killed_video_jobs_unfinished_output_goes_with_the_next_run(tmp_path: Path) -> None:
    out = tmp_path / "swapped.mp4"
    cmd = [sys.executable, "-m", "ghostlive", "swap", "-q", "--source", GRACE, "--target", str(CLIP), "-o", str(out)]
    kill_when(cmd, lambda: any(p.stat().st_size > 0 for p in temporaries(tmp_path)))
    (part,) = temporaries(tmp_path)
    age(part, STALE_SECONDS + 60)
    assert leftovers(out) == [part]
    assert main(["swap", "-q", "--source", GRACE, "--target", str(CLIP), "-o", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["swapped.mp4"]


def killed_recording(path: Path) -> Path:
    """Record three loops of the clip to ``path`` in a subprocess and SIGKILL it: the temporary file it left,
    aged past :data:`STALE_SECONDS`."""
    script = (
        "import os, sys\n"
        "from ghostlive.media.recorder import Recorder\n"
        "from tests.media_tools import CLIP, frames_of\n"
        "rec = Recorder(sys.argv[1])\n"
        "for i, f in enumerate(frames_of(CLIP) * 3):\n"
        "    rec.send(f, 1 + i / 30)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=False)
    (part,) = temporaries(path.parent)
    age(part, STALE_SECONDS + 60)
    return part


def test_a_cut_off_recording_with_a_long_name_is_kept_under_a_name_that_fits(tmp_path: Path) -> None:
    """Temporary names are shortened to fit the file system, and so is the kept recording's name."""
    out = tmp_path / ("a" * 240 + ".mp4")
    part = killed_recording(out)
    assert len(part.name.encode()) <= 255
    (kept,) = recover_recordings(out)
    assert kept.name.startswith("aaaa") and "(unfinished " in kept.name and len(kept.name.encode()) <= 255
    assert decodable_frames(kept) >= 60 and temporaries(tmp_path) == []


def test_the_apps_next_recording_keeps_a_cut_off_one_in_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desktop app records to a new time-stamped name each time: the next recording into the folder finds any
    recording there that a killed run left (the session the window drives, the real clip as camera). With no
    folder set it records in the home folder, and looks there (not in the folder it was started from)."""
    from ghostlive.hub import ModelStore
    from ghostlive.jobs import Job, PairSpec, SwapSettings
    from ghostlive.session import Session
    from ghostlive.session.live import LiveRequest

    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    killed_recording(folder / "ghostlive-20261129-100000.mp4")
    s = Session(ModelStore(tmp_path / "models"))
    infos: list[str] = []
    s.events.info.connect(infos.append)
    s.go_live(LiveRequest(str(CLIP)), Job(SwapSettings(tiles=0), [PairSpec(GRACE)]))
    try:
        s.start_recording("")  # the app's default: no folder set
        s.stop_recording()
    finally:
        s.stop_live()
    (kept,) = folder.glob("ghostlive-20261129-100000 (unfinished *).mp4")
    assert decodable_frames(kept) >= 60 and any(kept.name in line for line in infos)
    assert temporaries(folder) == []


def test_a_leftover_that_does_not_play_is_removed_not_kept(tmp_path: Path) -> None:
    """A killed video job's output (its index comes at the end) holds nothing a player can show: not offered to
    the user as a recording."""
    out = tmp_path / "call.mp4"
    part = tmp_path / ".call.ghostlive-abcd1234.part.mp4"
    data = CLIP.read_bytes()
    part.write_bytes(data[: len(data) // 2])  # a plain MP4 cut in half: no index
    age(part, STALE_SECONDS + 60)
    rec = Recorder(out)
    rec.close()
    assert list(tmp_path.iterdir()) == []


def test_a_job_whose_encoder_has_not_written_yet_is_not_taken_for_a_leftover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A video job's temporary file is touched while the job runs, even when nothing is written to it for minutes
    (x264's look-ahead holds ~50 frames; a neural swapper on the CPU takes seconds a frame): another run writing
    the same output leaves it alone."""
    import ghostlive.media.leftovers as leftovers_module
    from ghostlive.media.video import VideoSource
    from ghostlive.media.video_out import VideoSink

    monkeypatch.setattr(leftovers_module, "FRESH_EVERY", 0.05)  # the clock, not the logic, is shortened
    out = tmp_path / "swapped.mp4"
    part = tmp_path / ".swapped.ghostlive-abcd1234.part.mp4"
    with VideoSource(CLIP) as source:
        sink = VideoSink(part, source, name=out)
        age(part, STALE_SECONDS + 60)  # as if the encoder had held its packets that long
        deadline = time.monotonic() + 30
        while leftovers(out) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert leftovers(out) == []
        sink.abort()
    part.unlink()


def test_a_recording_swapped_later_shows_progress_and_an_eta(tmp_path: Path) -> None:
    """A fragmented MP4 announces no frame count: the length times the rate stands in, so a video job on a live
    recording shows how far it is and how long is left."""
    from ghostlive.jobs import Job, PairSpec, SwapSettings, run_video
    from ghostlive.media.video import VideoSource

    rec = Recorder(tmp_path / "call.mp4", fps=30)
    for i, frame in enumerate(frames_of(CLIP)):
        rec.send(frame, 1 + i / 30)
    rec.close()
    with VideoSource(tmp_path / "call.mp4") as source:
        assert source.info.frames == 0  # nothing announced
    seen = []
    run_video(Job(SwapSettings(tiles=0), [PairSpec(GRACE)]), str(tmp_path / "call.mp4"), tmp_path / "out.mp4",
              progress=seen.append)  # fmt: skip
    n = len(frames_of(CLIP))
    assert len(seen) >= 2 and all(n - 1 <= p.total <= n + 1 for p in seen)  # before: 0 until the last
    assert all(p.eta is not None for p in seen)
