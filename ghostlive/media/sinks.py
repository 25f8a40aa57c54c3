"""Where live frames go: a virtual camera, an MJPEG-over-HTTP stream, a recording, or nowhere."""

from __future__ import annotations

import glob
import logging
import platform
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ghostlive.errors import ConfigError, GhostliveError
from ghostlive.media.mjpeg import MjpegServer, is_loopback
from ghostlive.media.recorder import Recorder, check_record_path
from ghostlive.media.video_out import EncodeOptions, fit_frame
from ghostlive.registry import Registry
from ghostlive.types import Frame

__all__ = [  # the stream and the recorder live in their own modules; importing them from here still works
    "SINKS",
    "MjpegServer",
    "NullSink",
    "Recorder",
    "Sink",
    "SinkRequest",
    "VirtualCamera",
    "VirtualCameraError",
    "check_record_path",
    "is_loopback",
    "open_sinks",
    "virtual_camera_help",
]
log = logging.getLogger(__name__)


class Sink(Protocol):
    """Receives output frames. ``repeats``: whether to get the last frame again while no new one comes
    (consumers such as browsers and video calls expect a steady stream)."""

    name: str
    repeats: bool

    def send(self, frame: Frame) -> None: ...

    def close(self) -> None: ...


class NullSink:
    name = "null"
    repeats = False

    def __init__(self) -> None:
        self.frames = 0

    def send(self, frame: Frame) -> None:
        self.frames += 1

    def close(self) -> None:
        pass


class VirtualCameraError(GhostliveError, RuntimeError):
    """No virtual camera could be opened; the message says how to set one up."""


def virtual_camera_help(reason: str) -> str:
    """What to do when no virtual camera device is available, for this operating system."""
    if platform.system() == "Linux":
        devices = sorted(glob.glob("/dev/video*"))
        found = ", ".join(devices) if devices else "none"
        return (
            f"no virtual camera ({reason}). Video devices present: {found}. Create a loopback camera with:\n"
            '  sudo modprobe v4l2loopback devices=1 video_nr=10 card_label="ghostlive" exclusive_caps=1\n'
            "then pass --virtual-camera-device /dev/video10. exclusive_caps=1 is what makes Chrome, Zoom and "
            "Teams list it; to keep it after a reboot add the options to /etc/modprobe.d/v4l2loopback.conf and "
            "'v4l2loopback' to /etc/modules-load.d/. Install the module with your distribution's "
            "v4l2loopback-dkms package."
        )
    if platform.system() == "Darwin":
        return f"no virtual camera ({reason}). Install OBS Studio and start its Virtual Camera once."
    return f"no virtual camera ({reason}). Install OBS Studio (its virtual camera) or Unity Capture."


class VirtualCamera:
    """A virtual webcam through pyvirtualcam (v4l2loopback on Linux, OBS on Windows/macOS)."""

    repeats = True

    def __init__(
        self, width: int, height: int, fps: float, *, device: str | None = None, backend: str | None = None
    ) -> None:
        try:
            import pyvirtualcam
        except ImportError:
            raise VirtualCameraError("the virtual camera needs pyvirtualcam; run: pip install pyvirtualcam") from None
        self.width, self.height = width, height
        try:
            self.cam = pyvirtualcam.Camera(
                width, height, fps, fmt=pyvirtualcam.PixelFormat.BGR, device=device, backend=backend
            )
        except Exception as exc:  # noqa: BLE001 - pyvirtualcam raises RuntimeError/ValueError per backend
            raise VirtualCameraError(virtual_camera_help(str(exc))) from None
        self.name = f"virtual camera {self.cam.device}"
        log.info("virtual camera %s (%s) %dx%d", self.cam.device, self.cam.backend, width, height)

    def send(self, frame: Frame) -> None:
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"frame must be H×W×3 uint8, got {frame.shape} {frame.dtype}")
        self.cam.send(np.ascontiguousarray(fit_frame(frame, self.width, self.height)))

    def close(self) -> None:
        cam = getattr(self, "cam", None)
        if cam is not None:
            cam.close()
            self.cam = None


@dataclass(frozen=True)
class SinkRequest:
    """What a sink factory gets: the output size and rate, and the sink's own options (``device`` of the
    virtual camera, ``host``/``port``/``token`` of the stream, ``path`` of the recording, ...)."""

    width: int
    height: int
    fps: float
    options: Mapping[str, Any] = field(default_factory=dict)


def _virtual_camera(req: SinkRequest) -> Sink:
    return VirtualCamera(req.width, req.height, req.fps, device=req.options.get("device"))


def _stream(req: SinkRequest) -> Sink:
    opts = req.options
    return MjpegServer(opts.get("host", "127.0.0.1"), opts.get("port", 8080), token=opts.get("token"))


def _record(req: SinkRequest) -> Sink:
    """A recording to ``path``, encoded with ``encode`` (EncodeOptions) or the ``codec``, ``crf`` and ``preset``
    options (the video files' defaults where missing)."""
    opts = req.options
    if not opts.get("path"):
        raise ConfigError("the record output needs a file name (--record OUT.mp4)")
    encode = opts.get("encode") or EncodeOptions(
        codec=opts.get("codec") or "", crf=opts.get("crf"), preset=opts.get("preset") or EncodeOptions.preset
    )
    return Recorder(opts["path"], encode, fps=req.fps)


SINKS: Registry[Sink] = Registry("output")
"""Live outputs by name: ``factory(SinkRequest) -> Sink``. A new output is one module with a class that has
``name``, ``repeats``, ``send(frame)`` and ``close()``, plus one ``SINKS.register`` line below; ``ghostlive live
--output NAME`` then opens it."""
SINKS.register("virtual-camera", _virtual_camera, help="a virtual webcam (pyvirtualcam: v4l2loopback, OBS)")
SINKS.register("stream", _stream, help="MJPEG over HTTP (--stream HOST:PORT, --token)")
SINKS.register("record", _record, help="a video file (--record OUT.mp4; --codec, --crf, --preset)")
SINKS.register("null", lambda req: NullSink(), help="nowhere (frames are counted)")


def open_sinks(
    wanted: Sequence[tuple[str, Mapping[str, Any]]],
    width: int,
    height: int,
    fps: float,
    *,
    optional: Collection[str] = (),
    on_skip: Callable[[str], None] = log.warning,
) -> list[Sink]:
    """Open the outputs ``wanted`` as (name, options) in order; on a failure the ones already open are closed
    before the error goes on, except that an ``optional`` output that cannot open is reported to ``on_skip`` and
    left out. An empty list when none is wanted (or none opened)."""
    sinks: list[Sink] = []
    try:
        for name, options in wanted:
            try:
                sinks.append(SINKS.create(name, SinkRequest(width, height, fps, options)))
            except GhostliveError as exc:
                if name not in optional:
                    raise
                on_skip(str(exc))
    except BaseException:
        for s in sinks:
            s.close()
        raise
    return sinks
