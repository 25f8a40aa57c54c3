"""Where live frames go: a virtual camera, an MJPEG-over-HTTP stream, a recording, or nowhere."""

from __future__ import annotations

import glob
import hmac
import ipaddress
import logging
import os
import platform
import secrets
import tempfile
import threading
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

import cv2
import numpy as np

from ghostlive.errors import ConfigError, GhostliveError, OutputError
from ghostlive.media.colour import RANGE_MPEG, UNSPECIFIED, matrix_for
from ghostlive.media.paths import publish
from ghostlive.media.video import SYNTHETIC_NOTE, VIDEO_SUFFIXES, add_video_stream, video_frame
from ghostlive.types import Frame

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
        if frame.shape[:2] != (self.height, self.width):
            frame = cv2.resize(frame, (self.width, self.height), interpolation=cv2.INTER_AREA)
        self.cam.send(np.ascontiguousarray(frame))

    def close(self) -> None:
        cam = getattr(self, "cam", None)
        if cam is not None:
            cam.close()
            self.cam = None


class _JpegBroadcast:
    """The newest JPEG and a condition to wait for the next one."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.jpeg: bytes | None = None
        self.seq = 0
        self.closed = False

    def publish(self, jpeg: bytes) -> None:
        with self.cond:
            self.jpeg, self.seq = jpeg, self.seq + 1
            self.cond.notify_all()

    def wait(self, after: int, timeout: float = 2.0) -> tuple[int, bytes | None]:
        with self.cond:
            self.cond.wait_for(lambda: self.seq > after or self.closed, timeout=timeout)
            return self.seq, self.jpeg


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class MjpegServer:
    """MJPEG over HTTP: ``/stream.mjpg`` (multipart), ``/snapshot.jpg`` and ``/`` (a page showing the stream).

    Bound to 127.0.0.1 by default. Bound to any other address it requires a token (``?token=…`` or
    ``Authorization: Bearer …``); one is generated when none is given.
    """

    repeats = True
    BOUNDARY = "ghostliveframe"

    def __init__(
        self, host: str = "127.0.0.1", port: int = 8080, *, token: str | None = None, quality: int = 85
    ) -> None:
        if not is_loopback(host) and not token:
            token = secrets.token_urlsafe(16)
        self.token = token
        self.quality = quality
        self.frames = _JpegBroadcast()
        try:
            self.server = ThreadingHTTPServer((host, port), self._handler())
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
        self.server.daemon_threads = True
        self.host, self.port = self.server.server_address[:2]
        self.name = f"MJPEG stream {self.url}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="ghostlive-mjpeg", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        q = f"?token={self.token}" if self.token else ""
        return f"http://{self.host}:{self.port}/stream.mjpg{q}"

    def _authorised(self, handler: BaseHTTPRequestHandler) -> bool:
        if not self.token:
            return True
        given = parse_qs(urlparse(handler.path).query).get("token", [""])[0]
        auth = handler.headers.get("Authorization", "")
        bearer = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        return any(hmac.compare_digest(t, self.token) for t in (given, bearer) if t)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if not owner._authorised(self):
                    self.send_error(401, "a valid token is required")
                    return
                path = urlparse(self.path).path
                if path == "/stream.mjpg":
                    self._stream()
                elif path == "/snapshot.jpg":
                    _, jpeg = owner.frames.wait(0, timeout=5.0)
                    if jpeg is None:
                        self.send_error(503, "no frame yet")
                        return
                    self._send(200, "image/jpeg", jpeg)
                elif path == "/":
                    q = urlparse(self.path).query
                    page = f'<html><body style="margin:0;background:#000"><img src="/stream.mjpg?{q}"></body></html>'
                    self._send(200, "text/html", page.encode())
                else:
                    self.send_error(404)

            def _send(self, code: int, ctype: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def _stream(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={owner.BOUNDARY}")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                seq = 0
                try:
                    while not owner.frames.closed:
                        seq, jpeg = owner.frames.wait(seq)
                        if jpeg is None:
                            continue
                        head = (
                            f"--{owner.BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
                        ).encode()
                        self.wfile.write(head + jpeg + b"\r\n")
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return

        return Handler

    def send(self, frame: Frame) -> None:
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if ok:
            self.frames.publish(buf.tobytes())

    def close(self) -> None:
        with self.frames.cond:
            self.frames.closed = True
            self.frames.cond.notify_all()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


def check_record_path(path: str | Path) -> Path:
    """A recording's file name, checked before anything is opened: a video extension, an existing folder, not a
    folder itself."""
    p = Path(path)
    if p.suffix.lower() not in VIDEO_SUFFIXES:
        raise OutputError(
            f"unsupported recording format {p.suffix or '(none)'}; use one of {', '.join(sorted(VIDEO_SUFFIXES))}", p
        )
    if not p.parent.is_dir():
        raise OutputError(f"the folder {p.parent} does not exist", p)
    if p.is_dir():
        raise OutputError("is a folder, not a file name", p)
    return p


class Recorder:
    """Records the swapped output to a video file at the frames' own timing (variable frame rate); the file
    appears under its name only when the recording is closed complete."""

    repeats = False

    def __init__(self, path: str | Path, *, codec: str = "libx264", crf: int = 20) -> None:
        import av

        self.path = check_record_path(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=self.path.suffix, dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        try:
            self.container: Any = av.open(tmp, "w")
        except Exception as exc:  # noqa: BLE001 - PyAV raises per-format errors; nothing may stay behind
            self._tmp.unlink(missing_ok=True)
            raise OutputError(f"cannot record to this file ({exc})", self.path) from None
        self.container.metadata["comment"] = SYNTHETIC_NOTE
        self.codec, self.crf = codec, crf
        self.stream: Any = None
        self._t0: float | None = None
        self._last = -1
        self.name = f"recording {self.path}"

    def send(self, frame: Frame, t: float | None = None) -> None:
        import time

        now = time.monotonic() if t is None else t
        if self.stream is None:
            self.matrix = matrix_for(UNSPECIFIED, RANGE_MPEG, frame.shape[0])
            s = add_video_stream(
                self.container,
                self.codec,
                30,
                (frame.shape[1], frame.shape[0]),
                Fraction(1, 1000),
                self.matrix,
                options={"crf": str(self.crf), "preset": "veryfast"},
            )
            self.stream, self._t0 = s, now
        pts = max(int((now - (self._t0 or now)) * 1000), self._last + 1)
        self._last = pts
        vf = video_frame(frame[: self.stream.height, : self.stream.width], "yuv420p", self.matrix)
        vf.pts, vf.time_base = pts, Fraction(1, 1000)
        for packet in self.stream.encode(vf):
            self.container.mux(packet)

    def close(self) -> None:
        if self.container is None:
            return
        try:
            if self.stream is not None:
                for packet in self.stream.encode():
                    self.container.mux(packet)
            self.container.close()
            if self.stream is not None:
                publish(self._tmp, self.path)
        finally:
            self._tmp.unlink(missing_ok=True)
            self.container = None
