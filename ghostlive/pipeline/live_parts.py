"""The live loop's parts (see :mod:`ghostlive.pipeline.live`): the packet a frame travels in, the depth-1
"newest wins" slot, the outputs, the background swapper and source loads, the rolling statistics and the
options."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ghostlive.errors import GhostliveError
from ghostlive.media.sinks import Sink
from ghostlive.pipeline.chain import Located
from ghostlive.pipeline.frame import FrameDevice, FrameResult
from ghostlive.types import Frame

log = logging.getLogger("ghostlive.pipeline.live")


@dataclass
class Packet:
    seq: int
    image: Frame
    t_capture: float
    stages: dict[str, float] = field(default_factory=dict)
    stages_cpu: dict[str, float] = field(default_factory=dict)
    faces: int = 0
    swapped: int = 0
    shot: int = 0
    """Changes when the source jumped (reopened, or a looping file restarted): faces are not carried over."""
    located: Located | None = None
    """The frame's tracked and chosen faces, on its way from the track thread to the swap thread."""

    def take(self, result: FrameResult) -> None:
        """Carry ``result``'s frame, stage times and face counts on."""
        self.image = result.frame
        self.stages, self.stages_cpu = result.times.ms, result.times.cpu_ms
        self.faces, self.swapped = len(result.faces), len(result.swapped)


class LatestSlot:
    """Holds the newest item only; ``put`` over an unread item drops it (and counts the drop)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: Any = None
        self.dropped = 0
        self.closed = False

    def put(self, item: Any) -> None:
        with self._cond:
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._cond.notify_all()

    def get(self, timeout: float | None = None) -> Any:
        with self._cond:
            self._cond.wait_for(lambda: self._item is not None or self.closed, timeout=timeout)
            item, self._item = self._item, None
            self._cond.notify_all()
            return item

    def wait_empty(self, timeout: float | None = None) -> bool:
        """Wait until the item has been taken (or the slot closed); whether it is empty."""
        with self._cond:
            return self._cond.wait_for(lambda: self._item is None or self.closed, timeout=timeout) and not self.closed

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def packets(
    slot: LatestSlot, downstream: LatestSlot, stop: threading.Event, ready: Callable[[float], bool] | None = None
) -> Iterator[Packet]:
    """A live thread's input: packets from ``slot`` until ``stop`` is set, each taken once ``ready`` (if given)
    says the next stage can take it; when ``slot`` closes, so does ``downstream``."""
    while not stop.is_set():
        if ready is not None and not ready(0.5):
            if downstream.closed:
                return
            continue
        packet: Packet | None = slot.get(timeout=0.5)
        if packet is not None:
            yield packet
        elif slot.closed:
            downstream.close()
            return


class Outputs:
    """The live loop's outputs (a base of :class:`~ghostlive.pipeline.live.LivePipeline`): added and removed while
    frames flow; one that fails is removed and closed (a recording deletes its unfinished file) and named in
    ``failures``."""

    def __init__(self, sinks: list[Sink]) -> None:
        self.sinks = list(sinks)
        self.failures: list[str] = []
        """One line for each output that failed (its name or file, and the reason); it was removed and closed."""
        self._sink_lock = threading.Lock()
        self._sinks_closed = False
        """Set once the outputs are being closed: no frame reaches them any more (a loop thread that outlived
        ``stop``'s wait would otherwise write into a recording as it closes)."""

    def _error(self, message: str) -> None:
        raise NotImplementedError

    def add_sink(self, sink: Sink) -> None:
        with self._sink_lock:
            self.sinks.append(sink)

    def remove_sink(self, sink: Sink) -> None:
        """Detach ``sink`` (it is closed by the caller, after the last frame it will get)."""
        with self._sink_lock:
            if sink in self.sinks:
                self.sinks.remove(sink)

    def output_failed(self, sink: Sink, exc: BaseException) -> None:
        """Report that ``sink`` failed with ``exc`` (it is no longer fed): kept in ``failures``, and an error."""
        line = failure(sink.name, exc)
        self.failures.append(line)
        self._error(line)

    def _send(self, sink: Sink, image: Frame) -> None:
        with self._sink_lock:
            if sink not in self.sinks or self._sinks_closed:
                return
            try:
                sink.send(image)
                return
            except Exception as exc:  # noqa: BLE001 - a broken sink is removed, the others go on
                self.sinks.remove(sink)
                error: BaseException = exc
        try:  # outside the lock (a server's threads may take a while): a failed recording deletes its file
            sink.close()
        except Exception:  # the failure that matters is the one reported below
            log.debug("closing the failed output %s failed", sink.name, exc_info=True)
        self.output_failed(sink, error)

    def _close_sinks(self) -> None:
        with self._sink_lock:  # after the frame being sent, if any
            self._sinks_closed = True
            sinks = list(self.sinks)
        for sink in sinks:
            try:
                sink.close()
            except Exception as exc:  # noqa: BLE001 - closing must not hide other sinks
                self.output_failed(sink, exc)


@dataclass(frozen=True)
class LiveStats:
    fps: float
    latency_p50: float
    latency_p95: float
    captured: int
    delivered: int
    dropped: int
    stages: dict[str, float]
    faces: int
    reconnects: int
    swapper: str
    device: str = "cpu"
    """Where frames are processed: cpu, cuda, or "cpu (GPU failed: …)" after a fallback."""
    stages_cpu: dict[str, float] = field(default_factory=dict)
    """CPU milliseconds per stage on the thread that ran it (track or swap; rolling average, like ``stages``)."""

    @property
    def drop_rate(self) -> float:
        return self.dropped / self.captured if self.captured else 0.0

    def line(self) -> str:
        return (
            f"{self.fps:5.1f} fps | latency p50 {self.latency_p50:5.0f} ms p95 {self.latency_p95:5.0f} ms | "
            f"dropped {self.dropped} ({100 * self.drop_rate:.1f}%) | faces {self.faces} | {self.swapper} "
            f"on {self.device}"
            + "".join(f" | {k} {self.stages[k]:.0f} ms" for k in ("enhance", "mask") if k in self.stages)
        )


class DeliveryMeter:
    """What the sink thread measures of the frames it delivers: capture-to-output latency and delivery times over
    the last ``window`` frames, the count, the faces of the last frame, and per-stage wall and CPU milliseconds
    as exponential averages."""

    def __init__(self, window: int) -> None:
        self.latency: deque[float] = deque(maxlen=window)
        self.delivered_at: deque[float] = deque(maxlen=window)
        self.stages: dict[str, float] = {}
        self.stages_cpu: dict[str, float] = {}
        self.delivered = self.faces = 0

    def record(self, packet: Packet, now: float) -> None:
        """``packet`` delivered at monotonic time ``now``."""
        self.latency.append((now - packet.t_capture) * 1000.0)
        self.delivered_at.append(now)
        self.delivered += 1
        self.faces = packet.faces
        for avg, values in ((self.stages, packet.stages), (self.stages_cpu, packet.stages_cpu)):
            for k, v in values.items():
                avg[k] = v if k not in avg else 0.8 * avg[k] + 0.2 * v

    def stats(self, **loop: Any) -> LiveStats:
        """The statistics so far, with the ``loop``'s own fields (captured, dropped, reconnects, swapper, device)."""
        lat = np.array(self.latency) if self.latency else np.zeros(1)
        times = list(self.delivered_at)
        fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
        return LiveStats(
            fps=fps,
            latency_p50=float(np.percentile(lat, 50)),
            latency_p95=float(np.percentile(lat, 95)),
            delivered=self.delivered,
            stages=dict(self.stages),
            faces=self.faces,
            stages_cpu=dict(self.stages_cpu),
            **loop,
        )


def failure(output: str, exc: BaseException) -> str:
    """One line that names the failed ``output`` and why: the error's own message when it names its file."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, GhostliveError) and exc.path is not None:
        return text
    return f"{output} failed: {text}"


def device_label(device: FrameDevice) -> str:
    """The frame device for the statistics line (``cpu (GPU failed: …)`` after a fallback)."""
    return f"cpu (GPU failed: {device.fell_back[:60]})" if device.fell_back else device.name


@dataclass(frozen=True)
class LiveOptions:
    reconnect_backoff: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
    output_fps: float = 30.0
    """How often sinks that need a steady stream get the last frame again while no new frame comes."""
    window: int = 120
    """Frames in the rolling statistics."""
