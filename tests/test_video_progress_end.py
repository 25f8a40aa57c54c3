"""A video job's progress counts frames written, not frames swapped (the writer lags the swap by a queue); while
the encoder flushes the frames it still holds the line says "finishing…", and the summary's rate is the whole
job's, the flush included (a long 4K video showed ``216/216 ETA 0:00`` for the last 16 s, at a rate too high).
Whatever ends a video swap, the progress line is ended before the last message: Ctrl-C's and SIGTERM's too
(the real program in a subprocess, stopped by a real signal)."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from ghostlive.cli_streams import ProgressLine
from ghostlive.jobs import Job, PairSpec, SwapSettings, run_video
from ghostlive.media.video_out import VideoSink
from ghostlive.pipeline.offline import Progress

from .conftest import sample, signal_mid_job
from .media_tools import CLIP, frames_of, write_video

GRACE = str(sample("grace_hopper.jpg"))
FLUSH = 1.0
"""Seconds the encoder's flush is made to take (x264 emptying a 4K lookahead takes this and more)."""


def test_progress_counts_written_frames_and_the_rate_covers_the_flush(tmp_path: Path, monkeypatch) -> None:
    written, events = [0], []
    real_write, real_close = VideoSink.write, VideoSink.close

    def write(self, image, pts, index) -> None:  # the real encoder, counted
        real_write(self, image, pts, index)
        if not written[0]:
            events.append(("first write", time.perf_counter()))
        written[0] += 1

    def close(self) -> None:  # the real flush, made as slow as a long 4K one
        events.append(("flush", time.perf_counter()))
        time.sleep(FLUSH)
        real_close(self)
        events.append(("flushed", time.perf_counter()))

    monkeypatch.setattr(VideoSink, "write", write)
    monkeypatch.setattr(VideoSink, "close", close)
    seen: list[tuple[Progress, int]] = []

    def progress(p: Progress) -> None:
        seen.append((p, written[0]))
        events.append(("progress", p))

    report = run_video(Job(SwapSettings(tiles=0), [PairSpec(GRACE)]), str(CLIP), tmp_path / "out.mp4", progress)
    assert report.frames == len(frames_of(report.output)) == 72
    assert all(p.done <= counted for p, counted in seen), [(p.done, n) for p, n in seen]  # never ahead of the file
    names = [e[0] for e in events]
    finishing = [i for i, e in enumerate(events) if e[0] == "progress" and e[1].finishing]
    assert len(finishing) == 1 and finishing[0] < names.index("flush")  # said before the flush starts
    assert events[finishing[0]][1].done == 72
    last = events[-1][1]
    assert names[-1] == "progress" and names.index("flushed") < len(names) - 1  # the final state after the flush
    assert (last.done, last.total, last.eta) == (72, 72, 0.0) and last.fps == pytest.approx(report.fps)
    times = dict(e for e in events if e[0] in ("first write", "flushed"))
    assert report.seconds >= times["flushed"] - times["first write"]  # the flush is inside the job's time


def test_the_finishing_line_covers_the_longer_line_before_it(capsys) -> None:
    line = ProgressLine()
    line(Progress(done=71, total=72, fps=12.5, eta=1.0))
    line(Progress(done=72, total=72, fps=12.5, eta=0.0, finishing=True))
    line(Progress(done=72, total=72, fps=11.0, eta=0.0))
    line.end()
    shown = capsys.readouterr().err.rstrip("\n").split("\r")[1:]
    assert [s.rstrip() for s in shown] == [
        "  frame 71/72   12.5 fps  ETA 0:01",
        "  frame 72/72  finishing…",
        "  frame 72/72   11.0 fps  ETA 0:00",
    ]
    assert len({len(s) for s in shown}) == 1  # each as long as the longest: nothing of the one before is left


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real clip four times over (288 frames): long enough to be stopped in the middle."""
    return write_video(tmp_path_factory.mktemp("long") / "long.mp4", frames_of(CLIP) * 4)


@pytest.mark.parametrize(
    ("signum", "message"), [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "stopped by SIGTERM")]
)
def test_a_stopped_video_swap_says_so_on_a_line_of_its_own(
    long_clip: Path, tmp_path: Path, signum: int, message: str
) -> None:
    out = tmp_path / "out.mp4"
    cmd = [sys.executable, "-m", "ghostlive", "swap", "--tiles", "0", "--source", GRACE, "--target", str(long_clip)]
    code, text = signal_mid_job([*cmd, "-o", str(out)], signum)
    assert code == 128 + signum and "\r  frame " in text, text
    assert text.endswith(f"\nghostlive: {message}\n"), text[-200:]
    assert list(tmp_path.iterdir()) == []
