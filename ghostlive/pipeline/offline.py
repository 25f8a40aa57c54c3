"""Offline video: decode → swap → encode in three stages joined by bounded queues, in constant memory.

The reader and writer run in threads; swapping runs in the calling thread, so Ctrl-C lands there and stops
everything. The output is written to a temporary file beside the destination and renamed only when complete;
on any error or cancel the temporary file is removed and the destination is untouched.
"""

from __future__ import annotations

import logging
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from ghostlive.errors import CancelledError, GhostliveError, OutputError
from ghostlive.media.paths import publish
from ghostlive.media.video import EncodeOptions, VideoItem, VideoSink, VideoSource
from ghostlive.pipeline.stream import StreamSwapper
from ghostlive.types import Frame

log = logging.getLogger(__name__)

_END = object()
QUEUE_DEPTH = 8


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    fps: float
    eta: float | None


@dataclass(frozen=True)
class VideoReport:
    frames: int
    frames_with_faces: int
    seconds: float
    output: Path

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def draw_label(image: Frame, text: str) -> Frame:
    """A visible disclosure in the bottom-left corner."""
    h = image.shape[0]
    scale = max(0.4, h / 900)
    thickness = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x, y = 10, h - 10
    cv2.rectangle(image, (x - 4, y - th - 6), (x + tw + 4, y + base), (0, 0, 0), -1)
    cv2.putText(image, text, (x, y - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return image


class _Worker(threading.Thread):
    def __init__(self, name: str, target: Callable[[], None]) -> None:
        super().__init__(name=name, daemon=True)
        self._target_fn = target
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._target_fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            self.error = exc


def _put(q: queue.Queue[Any], item: Any, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def swap_video(
    source_path: str | Path,
    output_path: str | Path,
    swapper: StreamSwapper,
    *,
    encode: EncodeOptions | None = None,
    label: str = "",
    progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> VideoReport:
    """Swap faces through a whole video file; see the module docstring."""
    out = Path(output_path)
    if not out.parent.is_dir():
        raise OutputError(f"the folder {out.parent} does not exist", out)
    src = VideoSource(source_path)
    stop = stop or threading.Event()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    decoded: queue.Queue[Any] = queue.Queue(QUEUE_DEPTH)
    swapped: queue.Queue[Any] = queue.Queue(QUEUE_DEPTH)
    swapper.tracker.reset()
    try:
        sink = VideoSink(tmp, src, encode)

        def read() -> None:
            for item in src.items():
                if not _put(decoded, item, stop):
                    return
            _put(decoded, _END, stop)

        def write() -> None:
            while not stop.is_set():
                try:
                    item = swapped.get(timeout=0.1)
                except queue.Empty:
                    continue
                if item is _END:
                    return
                if isinstance(item, VideoItem):
                    sink.write(item.image, item.pts, item.index)
                else:
                    sink.write_audio(item)

        reader, writer = _Worker("ghostlive-decode", read), _Worker("ghostlive-encode", write)
        reader.start()
        writer.start()
        report = _swap_loop(src, swapper, decoded, swapped, label, progress, stop, (reader, writer))
        writer.join()
        if writer.error:
            raise writer.error
        sink.close()
        publish(tmp, out)
        return VideoReport(report[0], report[1], report[2], out)
    except BaseException:
        stop.set()
        tmp.unlink(missing_ok=True)
        raise
    finally:
        src.close()


def _swap_loop(
    src: VideoSource,
    swapper: StreamSwapper,
    decoded: queue.Queue[Any],
    swapped: queue.Queue[Any],
    label: str,
    progress: Callable[[Progress], None] | None,
    stop: threading.Event,
    workers: tuple[_Worker, _Worker],
) -> tuple[int, int, float]:
    start = time.perf_counter()
    frames = with_faces = 0
    total = src.info.frames
    last_report = 0.0
    while True:
        if stop.is_set():
            raise CancelledError("stopped; no output was written")
        for w in workers:
            if w.error is not None:
                stop.set()
                raise w.error
        try:
            item = decoded.get(timeout=0.1)
        except queue.Empty:
            if not workers[0].is_alive() and workers[0].error is None and decoded.empty():
                raise GhostliveError("the video reader stopped unexpectedly") from None
            continue
        if item is _END:
            if not _put(swapped, _END, stop):
                raise CancelledError("stopped; no output was written")
            break
        if isinstance(item, VideoItem):
            result = swapper.process(item.image, item.time)
            image = draw_label(result.frame, label) if label else result.frame
            item = VideoItem(item.index, image, item.pts, item.time)
            frames += 1
            with_faces += bool(result.swapped)
            now = time.perf_counter()
            if progress and (now - last_report > 0.25):
                fps = frames / (now - start)
                eta = (total - frames) / fps if total and fps > 0 and total >= frames else None
                progress(Progress(frames, total, fps, eta))
                last_report = now
        if not _put(swapped, item, stop):
            raise CancelledError("stopped; no output was written")
    elapsed = time.perf_counter() - start
    if progress:
        progress(Progress(frames, max(total, frames), frames / elapsed if elapsed else 0.0, 0.0))
    return frames, with_faces, elapsed
