"""The live loop's delivery to outputs that need a steady stream: a copy of the last frame only after a real stall,
seen by a real MJPEG client over a socket."""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("av")

from ghostlive.media.mjpeg import MjpegServer
from ghostlive.media.sources import FileCamera
from ghostlive.pipeline.live import LiveOptions, LivePipeline

from .test_live import job, mjpeg_parts


def read_parts(url: str, count: int) -> list[str]:
    """The digests of the first ``count`` JPEG parts of the stream."""
    return [hashlib.sha1(part).hexdigest() for part in mjpeg_parts(url, count, timeout=30)]


def test_the_stream_carries_no_copies_while_the_camera_keeps_its_rate(portrait_clip: Path) -> None:
    """The loop's output rate is the camera's own (as ``live`` sets it); frames that come a little late are not
    preceded by a copy of the previous one (before: ~40 % of the parts were copies)."""
    camera = FileCamera(portrait_clip)
    fps = camera.fps
    camera.close()
    server = MjpegServer("127.0.0.1", 0)
    pipe = LivePipeline(lambda: FileCamera(portrait_clip), job().stream(), [server], LiveOptions(output_fps=fps))
    pipe.start()
    try:
        parts = read_parts(server.url, 72)  # ~3 s of the camera
        delivered, published = pipe.stats().delivered, server.frames.seq
    finally:
        pipe.stop()
    copies = sum(a == b for a, b in itertools.pairwise(parts))
    assert copies <= 0.2 * len(parts), f"{copies} of {len(parts)} parts repeat the one before"
    assert published - delivered <= 0.2 * delivered  # the server was handed few repeats, not one per late frame


def test_a_camera_that_stalls_still_gets_the_last_frame_repeated(portrait_clip: Path) -> None:
    """Repeats remain for real stalls: a camera that gives one frame then stays dark keeps the stream fed."""

    class OneFrame:
        def __init__(self) -> None:
            self.inner, self.ended, self.fps, self.given = FileCamera(portrait_clip), False, 24.0, False

        def read(self) -> np.ndarray | None:
            if self.given:
                time.sleep(0.05)
                return None
            self.given = True
            return self.inner.read()

        def close(self) -> None:
            self.inner.close()

    server = MjpegServer("127.0.0.1", 0)
    pipe = LivePipeline(OneFrame, job().stream(), [server], LiveOptions(reconnect_backoff=(60.0,), output_fps=50))
    pipe.start()
    got: list[list[str]] = []
    reader = threading.Thread(target=lambda: got.append(read_parts(server.url, 5)), daemon=True)
    reader.start()
    reader.join(60)
    pipe.stop()
    assert got and len(set(got[0])) == 1 and pipe.stats().delivered == 1


def test_no_frame_reaches_an_output_once_the_outputs_are_closed(portrait_clip: Path, tmp_path: Path) -> None:
    """A loop thread that outlives ``stop``'s wait (a slow encode) must not write into a recording as it closes:
    once the outputs are being closed, a frame handed to one is dropped (before: it reached the closed recording,
    which failed and was reported as a failed output after a good recording)."""
    from ghostlive.media.recorder import Recorder

    rec = Recorder(tmp_path / "rec.mp4", fps=24.0)
    pipe = LivePipeline(lambda: FileCamera(portrait_clip), job().stream(), [rec], LiveOptions(output_fps=24.0))
    pipe.start()
    deadline = time.monotonic() + 30
    while pipe.stats().delivered < 3:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    pipe.stop()
    assert rec.saved
    pipe._send(rec, np.zeros((64, 64, 3), np.uint8))  # what that late thread would do
    assert pipe.failures == [] and rec in pipe.sinks
