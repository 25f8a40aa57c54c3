"""Live output as MJPEG over HTTP (a browser or OBS opens the URL); off loopback a token is required."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import cv2

from ghostlive.errors import ConfigError
from ghostlive.types import Frame


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
