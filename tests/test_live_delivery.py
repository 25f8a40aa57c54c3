"""The live loop's delivery to outputs that need a steady stream: a copy of the last frame only after a real stall,
seen by a real MJPEG client over a socket."""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("av")

from ghostlive.media.mjpeg import MjpegServer
from ghostlive.media.sources import FileCamera
from ghostlive.pipeline.live import LiveOptions, LivePipeline

from .media_tools import write_video
from .test_live import job


@pytest.fixture(scope="module")
def camera_clip(tmp_path_factory: pytest.TempPathFactory, astronaut: np.ndarray) -> Path:
    """A real portrait filmed by a still camera (sensor noise, a small sway): every frame differs, 24 fps."""
    rng = np.random.default_rng(1)
    frames = [
        np.clip(
            np.roll(astronaut, int(3 * np.sin(i / 5)), axis=1).astype(int) + rng.normal(0, 3, astronaut.shape), 0, 255
        ).astype(np.uint8)
        for i in range(48)
    ]
    return write_video(tmp_path_factory.mktemp("cam") / "still.mp4", frames)


def read_parts(url: str, count: int) -> list[str]:
    """A multipart client: the digests of the first ``count`` JPEG parts it reads."""
    digests: list[str] = []
    with urllib.request.urlopen(url, timeout=30) as resp:
        while len(digests) < count:
            line = resp.readline()
            assert line, "the stream ended"
            if not line.startswith(b"--"):
                continue
            headers = {}
            while h := resp.readline().strip():
                k, _, v = h.decode().partition(":")
                headers[k.lower()] = v.strip()
            digests.append(hashlib.sha1(resp.read(int(headers["content-length"]))).hexdigest())
    return digests


def test_the_stream_carries_no_copies_while_the_camera_keeps_its_rate(camera_clip: Path) -> None:
    """The loop's output rate is the camera's own (as ``live`` sets it); frames that come a little late are not
    preceded by a copy of the previous one (before: ~40 % of the parts were copies)."""
    camera = FileCamera(camera_clip)
    fps = camera.fps
    camera.close()
    server = MjpegServer("127.0.0.1", 0)
    pipe = LivePipeline(lambda: FileCamera(camera_clip), job().stream(), [server], LiveOptions(output_fps=fps))
    pipe.start()
    try:
        parts = read_parts(server.url, 72)  # ~3 s of the camera
        delivered, published = pipe.stats().delivered, server.frames.seq
    finally:
        pipe.stop()
    copies = sum(a == b for a, b in itertools.pairwise(parts))
    assert copies <= 0.2 * len(parts), f"{copies} of {len(parts)} parts repeat the one before"
    assert published - delivered <= 0.2 * delivered  # the server was handed few repeats, not one per late frame


def test_a_camera_that_stalls_still_gets_the_last_frame_repeated(camera_clip: Path) -> None:
    """Repeats remain for real stalls: a camera that gives one frame then stays dark keeps the stream fed."""

    class OneFrame:
        def __init__(self) -> None:
            self.inner, self.ended, self.fps, self.given = FileCamera(camera_clip), False, 24.0, False

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
