"""The live part of :class:`ghostlive.session.Session`: what to open (:class:`LiveRequest`), the checks before
anything opens, the outputs (virtual camera, MJPEG stream, recording) and the running loop (one implementation
for ``ghostlive live`` and the window)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghostlive.enhance import set_live_budget
from ghostlive.errors import ConfigError
from ghostlive.hub import ModelStore
from ghostlive.jobs import Job, SwapSettings, with_stages
from ghostlive.media.paths import check_live_sinks
from ghostlive.media.sinks import SINKS, MjpegServer, NullSink, Sink, SinkRequest, VirtualCamera, check_record_path
from ghostlive.media.sinks import open_sinks as open_outputs
from ghostlive.media.sources import FrameSource, open_source
from ghostlive.media.video_out import EncodeOptions
from ghostlive.pipeline.live import LiveOptions, LivePipeline, Packet
from ghostlive.session.tasks import Event
from ghostlive.swappers.base import Swapper
from ghostlive.swappers.factory import build_swapper
from ghostlive.types import Frame

OUTPUT_KINDS = {"virtual_camera": VirtualCamera, "stream": MjpegServer}


@dataclass(frozen=True)
class LiveRequest:
    """A camera and the outputs to open with it."""

    camera: str = "0"
    """Camera index, /dev/videoN, stream URL, or a video file."""
    width: int = 0
    height: int = 0
    fps: float = 0.0
    loop: bool = True
    """A video file as the camera starts again at its end."""
    virtual_camera: bool = False
    virtual_camera_device: str | None = None
    virtual_camera_optional: bool = False
    """A virtual camera that cannot open is reported (an error event) and the loop starts without it."""
    stream: tuple[str, int] | None = None
    token: str | None = None
    record: str = ""
    outputs: tuple[str, ...] = ()
    """Further outputs by registered name (:data:`ghostlive.media.sinks.SINKS`), opened without options."""
    null_sink: bool = False
    """With no output named, frames still flow (to a sink that drops them): the command line's preview."""

    def open(self) -> FrameSource:
        return open_source(self.camera, loop=self.loop, width=self.width, height=self.height, fps=self.fps)

    def check(self, photos: list[str | None]) -> None:
        """Before anything opens: no file output may be an input, and a recording must be a video file name."""
        device = self.virtual_camera_device if self.virtual_camera else None
        check_live_sinks([self.record, device], self.camera, photos)
        if self.record:
            check_record_path(self.record)


def innermost(swapper: Any) -> Any:
    """The swapper inside any stage wrappers (mask, enhancer)."""
    while "inner" in getattr(swapper, "__dict__", {}):
        swapper = swapper.__dict__["inner"]
    return swapper


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (an empty host is 127.0.0.1, no port 8080) for the window's stream box."""
    host, _, port = text.strip().rpartition(":")
    if port and not port.isdigit():
        raise ConfigError(f"{text!r} is not HOST:PORT with a port number from 0 to 65535")
    return host or "127.0.0.1", int(port or 8080)


def first_frame(request: LiveRequest) -> tuple[Frame, float]:
    """One frame and the frame rate of the camera (opened and closed again)."""
    probe = request.open()
    try:
        frame, fps = probe.read(), probe.fps
    finally:
        probe.close()
    if frame is None:
        raise ConfigError(f"{request.camera}: the camera gave no frame")
    return frame, fps


def wanted_outputs(request: LiveRequest, encode: EncodeOptions | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The outputs ``request`` asks for, as (registered name, options); a recording encoded with ``encode``
    (the job's codec, crf and preset)."""
    wanted: list[tuple[str, dict[str, Any]]] = []
    if request.virtual_camera:
        wanted.append(("virtual-camera", {"device": request.virtual_camera_device}))
    if request.stream:
        host, port = request.stream
        wanted.append(("stream", {"host": host, "port": port, "token": request.token}))
    if request.record:
        wanted.append(("record", {"path": request.record, "encode": encode}))
    return wanted + [(name, {}) for name in request.outputs if name not in {n for n, _ in wanted}]


def open_sinks(
    request: LiveRequest, frame: Frame, fps: float, errors: Event, encode: EncodeOptions | None = None
) -> list[Sink]:
    """The outputs of ``request`` (by name from :data:`ghostlive.media.sinks.SINKS`); all closed again when one
    fails (an optional virtual camera only reports)."""
    optional = ("virtual-camera",) if request.virtual_camera_optional else ()
    wanted = wanted_outputs(request, encode)
    sinks = open_outputs(wanted, frame.shape[1], frame.shape[0], fps, optional=optional, on_skip=errors.emit)
    return sinks or ([NullSink()] if request.null_sink else [])


def live_swapper(name: str, store: ModelStore, settings: SwapSettings, fps: float) -> Swapper:
    """Swapper ``name`` with the enhancer and masks ``settings`` ask for, its enhancer budgeted for a live loop
    at ``fps`` (a swapper switched in while live keeps the stages the loop started with)."""
    base = build_swapper(name, store, settings.classic, settings.backend, settings.cpu_precision)
    swapper = with_stages(base, settings, store)
    set_live_budget(swapper, fps)
    return swapper


def start_pipeline(
    request: LiveRequest, job: Job, events: LiveEvents, on_end: Callable[[LivePipeline], None] | None = None
) -> LivePipeline:
    """Open the camera and outputs of ``request`` and start the live loop with ``job``'s swapper and sources;
    ``on_end``: see :class:`~ghostlive.pipeline.live.LivePipeline`."""
    frame, fps = first_frame(request)
    set_live_budget(job.swapper, fps or 30.0)
    sinks = open_sinks(request, frame, fps, events.error, job.settings.encode)
    pipeline = LivePipeline(
        request.open,
        job.stream(),
        sinks,
        LiveOptions(output_fps=fps or 30.0),
        on_frame=events.on_frame,
        on_error=events.error.emit,
        on_end=on_end,
        sources=job.sources,
    )
    events.pipeline = pipeline
    pipeline.start()
    return pipeline


def make_output(kind: str, address: str, pipeline: LivePipeline, last_frame: Frame | None) -> Sink:
    """A virtual camera or an MJPEG server to add to a running loop (``kind``: see :data:`OUTPUT_KINDS`), opened
    through the output registry (:data:`ghostlive.media.sinks.SINKS`) like ``ghostlive live --output``."""
    if kind == "stream":
        host, port = parse_address(address)
        return SINKS.create("stream", SinkRequest(0, 0, pipeline.options.output_fps, {"host": host, "port": port}))
    if last_frame is None:
        raise ConfigError("wait for the first frame before turning the virtual camera on")
    height, width = last_frame.shape[:2]
    return SINKS.create("virtual-camera", SinkRequest(width, height, pipeline.options.output_fps))


def recording_path(folder: str | Path, camera: str, photos: list[str]) -> Path:
    """A time-stamped recording in ``folder``, checked never to overwrite the camera file or a photo."""
    path = Path(folder or Path.home()) / time.strftime("ghostlive-%Y%m%d-%H%M%S.mp4")
    check_live_sinks([path], camera, photos)
    return path


class LiveEvents:
    """The live loop's callbacks as events: ``frame(image, packet)`` at most ``preview_fps`` a second,
    ``stats(LiveStats)`` every ``stats_every`` seconds, ``error(message)``; counts every frame."""

    def __init__(self, preview_fps: float = 30.0, stats_every: float = 0.5) -> None:
        self.frame, self.stats, self.error = Event(), Event(), Event()
        self.pipeline: LivePipeline | None = None
        self.preview_fps, self.stats_every = preview_fps, stats_every
        self._last_emit = self._last_stats = 0.0
        self.last_frame: Frame | None = None
        self.frames_seen = self.frames_swapped = 0

    def on_frame(self, packet: Packet) -> None:
        self.frames_seen += 1
        self.frames_swapped += packet.swapped > 0
        self.last_frame = packet.image
        now = time.monotonic()
        if now - self._last_emit >= 1 / self.preview_fps:
            self._last_emit = now
            self.frame.emit(packet.image, packet)
        if self.pipeline is not None and now - self._last_stats >= self.stats_every:
            self._last_stats = now
            self.stats.emit(self.pipeline.stats())
