"""The live loop: capture → track → swap → sinks, each in its own thread, joined by depth-1 "newest wins" slots.

A slot holds at most one frame; a new frame replaces an unread one (counted as dropped), so latency never builds
up, and frames leave in capture order. Tracking (which must see frames in order) and swapping overlap: the
track thread locates the newest frame's faces while the swap thread renders the previous one, so on two cores a
frame costs the longer of the two halves instead of their sum (a GPU frame runs whole in the track thread).
Every frame carries its capture time; per-stage milliseconds, end-to-end latency (capture → handed to the
sinks), fps and drops are measured all the time.
Source face, swapper and settings change while frames keep flowing: a new swapper or face is prepared in the
background and switched in when ready, the newest request winning (:class:`~.live_loads.Loads`). A camera that
fails is reopened with backoff while the sinks keep receiving the last good frame. A worker's exception (or a
change's) becomes an error event, never a silently dead thread; a loop that ends by itself tells ``on_end``. An
output that fails is removed and closed (a recording deletes its unfinished file) and named in ``failures``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future

from ghostlive.media.sinks import Sink
from ghostlive.media.sources import FrameSource
from ghostlive.pipeline.chain import FrameProcessor, Pair
from ghostlive.pipeline.live_loads import Done, Loads, Source
from ghostlive.pipeline.live_parts import (
    DeliveryMeter,
    LatestSlot,
    LiveOptions,
    LiveStats,
    Outputs,
    Packet,
    device_label,
    packets,
)
from ghostlive.swappers.base import Swapper

__all__ = ["LatestSlot", "LiveOptions", "LivePipeline", "LiveStats", "Packet"]
log = logging.getLogger(__name__)
STALL_PERIODS = 2.0
"""Frame periods without a new frame after which outputs that need a steady stream get the last one again."""


class LivePipeline(Outputs):
    """See the module docstring (and :class:`~.live_parts.Outputs` for adding and removing outputs)."""

    def __init__(
        self,
        open_source: Callable[[], FrameSource],
        swapper: FrameProcessor,
        sinks: list[Sink],
        options: LiveOptions | None = None,
        on_frame: Callable[[Packet], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        on_end: Callable[[LivePipeline], None] | None = None,
        sources: list[Source] | None = None,
    ) -> None:
        """``sources``: the (image, face, reference) that ``swapper``'s pairs were prepared from. ``on_end(pipeline)``
        is called once, on a loop thread, when the loop ends by itself (a worker stopped on an error, or the camera
        ended), never after :meth:`stop`."""
        super().__init__(sinks)
        self.open_source = open_source
        self.swapper = swapper
        self.options = options or LiveOptions()
        self.on_frame = on_frame
        self.on_error = on_error
        self.on_end = on_end
        self.ended = False
        """The loop ended by itself (``on_end`` was or is being called)."""
        self.errors: deque[str] = deque(maxlen=50)
        self._captured = LatestSlot()
        self._located = LatestSlot()
        self._processed = LatestSlot()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pending: list[Callable[[], None]] = []
        self._stopping = False
        self.loads = Loads(swapper, sources, self._later, self._error)
        self._meter = DeliveryMeter(self.options.window)
        self._captured_count = self.reconnects = 0
        self._threads: list[threading.Thread] = []

    # control --------------------------------------------------------------------------------------------
    def start(self) -> None:
        threads = (("capture", self._capture), ("track", self._track), ("swap", self._swap), ("sink", self._deliver))
        for name, fn in threads:
            t = threading.Thread(target=self._guard(name, fn), name=f"ghostlive-{name}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._stopping = True  # no on_end from here on
        self._close()
        for t in self._threads:
            if t is not threading.current_thread():  # stopped from a loop thread (``on_end``): it ends on return
                t.join(timeout)
        self._close_sinks()

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads) and not self._stop.is_set()

    def _later(self, change: Callable[[], None]) -> None:
        """Apply ``change`` in the track thread between two frames (no locking in the hot path); a frame
        already tracked is swapped as it was located (its sources and stages)."""
        with self._lock:
            self._pending.append(change)

    def set_pairs(self, pairs: list[Pair]) -> None:
        """New source identities, effective from the next frame."""
        self._later(lambda: self.swapper.set_pairs(pairs))

    def set_enabled(self, enabled: bool) -> None:
        """Swap on/off (off = passthrough, e.g. a before/after toggle)."""
        self._later(lambda: setattr(self.swapper, "enabled", enabled))

    def update(self, fn: Callable[[FrameProcessor], None]) -> None:
        """Any other setting change, run in the track thread before the next frame is tracked."""
        self._later(lambda: fn(self.swapper))

    def load_swapper(
        self,
        build: Callable[[], Swapper],
        sources: list[Source] | None = None,
        done: Done = None,
        *,
        report: bool = True,
    ) -> Future[None]:
        """Build a new swapper in the background and switch to it with the newest source faces (``sources`` when
        given) prepared, unless a newer swapper was asked for meanwhile: see :class:`Loads`."""
        return self.loads.load_swapper(build, sources, done, report)

    def load_sources(self, sources: list[Source], done: Done = None) -> Future[None]:
        """New source faces ``[(image, face, reference)]``, prepared with the newest swapper: see :class:`Loads`."""
        return self.loads.load_sources(sources, done)

    # statistics -----------------------------------------------------------------------------------------
    def stats(self) -> LiveStats:
        return self._meter.stats(
            captured=self._captured_count,
            dropped=self._captured.dropped + self._processed.dropped,
            reconnects=self.reconnects,
            swapper=getattr(self.swapper.swapper, "name", "?"),
            device=device_label(self.swapper.device),
        )

    # threads --------------------------------------------------------------------------------------------
    def _error(self, message: str) -> None:
        log.error("%s", message)
        self.errors.append(message)
        if self.on_error:
            self.on_error(message)

    def _guard(self, name: str, fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - becomes an error event
                self._error(f"{name} stopped: {type(exc).__name__}: {exc}")
                self._close()
                self._end()

        return run

    def _close(self) -> None:
        self._stop.set()
        for slot in (self._captured, self._located, self._processed):
            slot.close()

    def _end(self) -> None:
        """The loop ended by itself: tell ``on_end`` (once, and not when :meth:`stop` began)."""
        with self._lock:
            if self.ended or self._stopping:
                return
            self.ended = True
        if self.on_end:
            self.on_end(self)

    def _capture(self) -> None:
        seq = shot = 0
        source: FrameSource | None = None
        attempt = 0
        while not self._stop.is_set():
            if source is None:
                try:
                    source = self.open_source()
                    shot += 1
                    cuts = getattr(source, "cuts", 0)
                except Exception as exc:  # noqa: BLE001 - any open failure: retry with backoff
                    delay = self.options.reconnect_backoff[min(attempt, len(self.options.reconnect_backoff) - 1)]
                    self._error(f"source unavailable ({exc}); retrying in {delay:.2f} s")
                    attempt += 1
                    self._stop.wait(delay)
                    continue
            frame = source.read()
            if frame is None:
                ended = source.ended
                source.close()
                source = None
                if ended:
                    log.info("source ended")
                    self._captured.close()
                    return
                self.reconnects += 1
                delay = self.options.reconnect_backoff[min(attempt, len(self.options.reconnect_backoff) - 1)]
                self._error(f"source stopped delivering frames; reconnecting in {delay:.2f} s")
                attempt += 1
                self._stop.wait(delay)
                continue
            attempt = 0  # it delivers again: a later outage starts the backoff over
            if getattr(source, "cuts", 0) != cuts:
                cuts = source.cuts
                shot += 1
            self._captured_count += 1
            self._captured.put(Packet(seq, frame, time.monotonic(), shot=shot))
            seq += 1
        if source is not None:
            source.close()

    def _track(self) -> None:
        """Track and choose the faces of the newest frame while the swap thread renders the previous one. The
        next frame is taken only once the swap thread has taken this one, so no tracked frame waits long or
        is thrown away."""
        shot = 0
        for packet in packets(self._captured, self._located, self._stop, ready=self._located.wait_empty):
            with self._lock:
                pending, self._pending = self._pending, []
            for change in pending:
                try:
                    change()
                except Exception as exc:  # noqa: BLE001 - one bad change is reported; the loop goes on
                    self._error(f"a live change failed: {type(exc).__name__}: {exc}")
            if packet.shot != shot:  # a signalled cut (lost frames cannot hide it: the number just changes)
                shot = packet.shot
                self.swapper.tracker.cut()
            try:
                if self.swapper.splits:
                    packet.located = self.swapper.locate(packet.image, packet.t_capture)
                else:  # a GPU frame goes through whole here
                    packet.take(self.swapper.process(packet.image, packet.t_capture))
            except Exception as exc:  # noqa: BLE001 - the feed goes on unswapped; the error is reported
                self._error(f"tracking failed on frame {packet.seq}: {type(exc).__name__}: {exc}")
            self._located.put(packet)

    def _swap(self) -> None:
        for packet in packets(self._located, self._processed, self._stop):
            located, packet.located = packet.located, None
            if located is not None:
                try:
                    packet.take(self.swapper.render(located))
                except Exception as exc:  # noqa: BLE001 - the feed goes on unswapped; the error is reported
                    self._error(f"swap failed on frame {packet.seq}: {type(exc).__name__}: {exc}")
            self._processed.put(packet)

    def _deliver(self) -> None:
        """Hand each processed frame to every output. Outputs that need a steady stream (``repeats``) get the
        last frame again only after a real stall: no new frame for :data:`STALL_PERIODS` frame periods (then one
        a period), so a frame that is merely a little late is never preceded by a copy of the one before (an
        MJPEG reader that assumes the nominal rate would fall behind by every copy)."""
        last: Packet | None = None
        period = 1.0 / max(self.options.output_fps, 1.0)
        repeat_at = 0.0
        while not self._stop.is_set():
            timeout = period if last is None else max(repeat_at - time.monotonic(), 0.0)
            packet: Packet | None = self._processed.get(timeout=timeout)
            if packet is None:
                if self._processed.closed:  # the camera ended (or a worker stopped): every frame was delivered
                    self._end()
                    return
                if last is not None and time.monotonic() >= repeat_at:  # keep steady consumers fed
                    for sink in list(self.sinks):
                        if sink.repeats:
                            self._send(sink, last.image)
                    repeat_at = time.monotonic() + period
                continue
            self._meter.record(packet, time.monotonic())
            for sink in list(self.sinks):
                self._send(sink, packet.image)
            if self.on_frame:
                self.on_frame(packet)
            last = packet
            repeat_at = time.monotonic() + STALL_PERIODS * period
