"""Live output as MJPEG over HTTP (a browser or OBS opens the URL); off loopback a token is required.

Each viewer has its own thread and never slows the live loop, which only hands the newest JPEG over. A client that
sends no request within the server's ``timeout``, or stops reading for that long, is dropped; closing the server
drops every client, and no client thread or socket outlives :meth:`MjpegServer.close`."""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import logging
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import cv2

from ghostlive.errors import ConfigError
from ghostlive.types import Frame

log = logging.getLogger(__name__)
CLIENT_TIMEOUT = 10.0
"""Seconds a client may take to send its request, or a viewer to take in one frame, before it is dropped."""


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


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that knows its clients' sockets and threads, so that closing it drops them."""

    daemon_threads = True
    block_on_close = False  # close_clients() joins them, with a time limit

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._clients: dict[Any, threading.Thread] = {}
        self._clients_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="ghostlive-mjpeg-client",
            daemon=True,
        )
        with self._clients_lock:  # before it starts: once shutdown() returns, every client is known
            self._clients[request] = thread
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._clients_lock:
            self._clients.pop(request, None)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.warning("MJPEG client %s: the request failed", client_address[0], exc_info=True)

    def close_clients(self, timeout: float) -> None:
        """Shut every client's socket (which ends its blocked read or write) and wait for its thread."""
        with self._clients_lock:
            clients = dict(self._clients)
        for sock in clients:
            with contextlib.suppress(OSError):  # it has just gone
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in clients.values():
            thread.join(timeout=max(deadline - time.monotonic(), 0.0))
            if thread.is_alive():
                log.warning("an MJPEG client thread did not end within %.0f s", timeout)


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
        self,
        host: str = "127.0.0.1",
        port: int = 8080,
        *,
        token: str | None = None,
        quality: int = 85,
        timeout: float = CLIENT_TIMEOUT,
    ) -> None:
        if not is_loopback(host) and not token:
            token = secrets.token_urlsafe(16)
        self.token = token
        self.quality = quality
        self.timeout = timeout
        """Seconds a client may take to send its request, or a viewer to take in one frame (see CLIENT_TIMEOUT)."""
        self.frames = _JpegBroadcast()
        try:
            self.server = _Server((host, port), self._handler())
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
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
        # compared as UTF-8 bytes (compare_digest refuses non-ASCII text): the query is decoded from UTF-8, a
        # header from Latin-1 (its bytes as sent)
        given_bytes = given.encode("utf-8", "surrogatepass")
        bearer_bytes = bearer.encode("latin-1", "replace")
        token = self.token.encode("utf-8", "surrogatepass")
        return any(hmac.compare_digest(t, token) for t in (given_bytes, bearer_bytes) if t)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            timeout = owner.timeout  # the socket's: a silent client or a viewer that stops reading is dropped

            def log_message(self, *args: object) -> None:
                pass

            def handle(self) -> None:
                try:
                    super().handle()
                except OSError:  # the client went, stopped reading (the write timed out) or the server closed
                    self.close_connection = True

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
                except OSError:  # the viewer went, stopped reading (the write timed out) or the server closed
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
        self.server.shutdown()  # no new client after this
        self.server.server_close()
        self.server.close_clients(timeout=5.0)
        self._thread.join(timeout=5)
