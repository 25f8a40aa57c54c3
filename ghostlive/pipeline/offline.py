"""Offline video: decode → swap → encode in three stages joined by bounded queues, in constant memory.

The reader and writer run in threads; swapping runs in the calling thread, so Ctrl-C (and SIGTERM/SIGHUP, which
the CLI turns into the same interrupt) lands there and stops everything. The output is written to a temporary file
beside the destination, claimed before anything is decoded (so an unwritable folder fails at once), and renamed
only when complete; on any error, in any stage, or a cancel the temporary file is removed and the destination is
untouched. Damaged packets the decoder rejects are skipped; skipped and missing frames are reported as warnings.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghostlive.errors import CancelledError, GhostliveError, OutputError
from ghostlive.media.leftovers import remove_leftovers
from ghostlive.media.paths import check_name_length, check_replaceable, mkstemp_beside, publish
from ghostlive.media.video import VideoItem, VideoSource
from ghostlive.media.video_out import EncodeOptions, VideoSink
from ghostlive.pipeline.chain import FrameProcessor
from ghostlive.pipeline.decode_warnings import decode_warnings
from ghostlive.pipeline.video_progress import Meter, Progress
from ghostlive.types import Frame

log = logging.getLogger(__name__)

_END = object()
QUEUE_DEPTH = 8


@dataclass(frozen=True)
class VideoReport:
    frames: int
    frames_with_faces: int
    seconds: float
    """The whole job, up to the finished file (the encoder's flush included)."""
    output: Path
    warnings: tuple[str, ...] = ()
    """What the user should know about the result (frames missing or skipped, streams left out)."""
    most_faces: int = 0
    """The most faces found in one frame."""

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class _Worker(threading.Thread):
    def __init__(self, name: str, target: Callable[[], None], q: queue.Queue[Any]) -> None:
        super().__init__(name=name, daemon=True)
        self._target_fn = target
        self.queue = q
        """The reader's output queue, or the writer's input queue."""
        self.error: BaseException | None = None
        self.written = 0
        """Frames the writer has handed to the encoder (only the writer counts them)."""

    def run(self) -> None:
        try:
            self._target_fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            self.error = exc


def _put(q: queue.Queue[Any], item: Any, stop: threading.Event, consumer: threading.Thread | None = None) -> bool:
    """Put ``item`` into the bounded queue ``q``; False when the job was stopped or the ``consumer`` of the queue
    has ended (an encoder that failed on a write must not leave the swap loop waiting on a full queue)."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            if consumer is not None and not consumer.is_alive():
                return False
    return False


MIN_FREE = 64 * 1024
"""Less free space than this in the output folder counts as a full disk before anything is decoded."""


def claim_output(out: Path) -> Path:
    """An empty hidden temporary file beside ``out``: proof that the folder exists and takes a new file (the
    real test, also for root on a read-only mount), checked before any work. Errors name ``out``."""
    if not out.parent.is_dir():
        raise OutputError(f"the folder {out.parent} does not exist", out)
    check_name_length(out)
    check_replaceable(out)  # through a symbolic link; never a FIFO, a device or a write-protected file
    remove_leftovers(out)  # a killed job's unfinished output (nothing runs on SIGKILL)
    try:
        fd, name = mkstemp_beside(out, keep_suffix=True)
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write in the folder {out.parent} ({exc.strerror})", out) from None
    try:
        os.close(fd)
        st = os.statvfs(name)
        if st.f_bavail * st.f_frsize < MIN_FREE:
            raise OutputError(f"the disk holding {out.parent} is full", out)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def swap_video(
    source_path: str | Path,
    output_path: str | Path,
    swapper: FrameProcessor,
    *,
    encode: EncodeOptions | None = None,
    progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    check: Callable[[VideoReport, Frame | None], None] | None = None,
) -> VideoReport:
    """Swap faces through a whole video file; see the module docstring. ``check`` is called once every frame is
    swapped, with the report and the first frame with the most faces (None: no face anywhere); an error it raises
    discards the output (a video in which no face was chosen)."""
    out = Path(output_path)
    stop = stop or threading.Event()
    start = time.perf_counter()
    tmp: Path | None = None
    src: VideoSource | None = None
    sink: VideoSink | None = None
    workers: tuple[_Worker, ...] = ()
    try:
        tmp = claim_output(out)
        src = VideoSource(source_path)
        sink = VideoSink(tmp, src, encode, name=out)
        swapper.tracker.reset()
        workers = _start_stages(src, sink, stop)
        # the frame count the file announces; else the length times the rate (a fragmented MP4, as live records,
        # and WebM announce none), so that progress and ETA still mean something
        meter = Meter(progress, src.info.frames or int(src.info.duration * src.info.fps), start)
        frames, with_faces, most, busiest = _swap_loop(swapper, *workers, meter, stop)
        if check is not None:
            check(VideoReport(frames, with_faces, time.perf_counter() - start, out, most_faces=most), busiest)
        _drain(workers[1], meter, stop)
        meter.finishing(frames)
        sink.close()
        if stop.is_set():  # cancelled while the encoder flushed: the job's output is not wanted
            raise CancelledError("stopped; no output was written")
        try:
            publish(tmp, out)
        except OutputError:
            raise
        except OSError as exc:
            raise OutputError(f"cannot put the finished video in place ({exc.strerror})", out) from None
        warnings = (*decode_warnings(src, frames), *(f"{out}: left out: {d}" for d in sink.dropped))
        seconds = time.perf_counter() - start
        meter.done(frames, seconds)
        return VideoReport(frames, with_faces, seconds, out, warnings, most)
    except BaseException:
        try:
            stop.set()
            for w in workers:
                w.join(timeout=5.0)
            if sink is not None and not any(w.is_alive() for w in workers):
                sink.abort()
        finally:  # a second Ctrl-C while the stages wind down must not leave the partial video behind
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        raise
    finally:
        if src is not None and not any(w.is_alive() for w in workers):
            src.close()


def _start_stages(src: VideoSource, sink: VideoSink, stop: threading.Event) -> tuple[_Worker, _Worker]:
    """Reader and writer threads joined to the swap loop by two bounded queues (each worker holds its own)."""
    decoded: queue.Queue[Any] = queue.Queue(QUEUE_DEPTH)
    swapped: queue.Queue[Any] = queue.Queue(QUEUE_DEPTH)

    def read() -> None:
        items = src.items()
        try:
            for item in items:
                if not _put(decoded, item, stop):
                    return
            _put(decoded, _END, stop)
        finally:
            items.close()  # the demuxer is let go here, in this thread, before the source may be closed

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
                writer.written += 1
            else:
                sink.write_packet(item)

    reader, writer = _Worker("ghostlive-decode", read, decoded), _Worker("ghostlive-encode", write, swapped)
    reader.start()
    writer.start()
    return reader, writer


def _raise_stopped(writer: _Worker, stop: threading.Event) -> None:
    """The writer's own error when it ended on one (a full disk, a failed write), else the cancel."""
    stop.set()
    if writer.error is not None:
        raise writer.error
    raise CancelledError("stopped; no output was written")


def _drain(writer: _Worker, meter: Meter, stop: threading.Event) -> None:
    """Wait for the writer to write the frames still queued (progress goes on); its error, or the cancel."""
    while writer.is_alive():
        writer.join(timeout=0.1)
        meter.update(writer.written)
    if writer.error is not None:
        raise writer.error
    if stop.is_set():  # the writer stops early for a cancel: what it wrote is not the whole video
        raise CancelledError("stopped; no output was written")


def _swap_loop(
    swapper: FrameProcessor,
    reader: _Worker,
    writer: _Worker,
    meter: Meter,
    stop: threading.Event,
) -> tuple[int, int, int, Frame | None]:
    """Frames swapped, frames with a swapped face, the most faces in one frame and its first frame."""
    decoded, swapped, workers = reader.queue, writer.queue, (reader, writer)
    frames = with_faces = most = 0
    busiest: Frame | None = None
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
            if stop.is_set():  # cancelled while waiting (the reader stops for it): said at the top of the loop
                continue
            if not workers[0].is_alive() and workers[0].error is None and decoded.empty():
                raise GhostliveError("the video reader stopped unexpectedly") from None
            continue
        if item is _END:
            if not _put(swapped, _END, stop, writer):
                _raise_stopped(writer, stop)
            break
        if isinstance(item, VideoItem):
            result = swapper.process(item.image, item.time)
            if len(result.faces) > most:
                most, busiest = len(result.faces), item.image
            item = VideoItem(item.index, result.frame, item.pts, item.time)
            frames += 1
            with_faces += bool(result.swapped)
            meter.update(writer.written)
        if not _put(swapped, item, stop, writer):
            _raise_stopped(writer, stop)
    return frames, with_faces, most, busiest
