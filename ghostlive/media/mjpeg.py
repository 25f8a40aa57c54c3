"""Live output as MJPEG over HTTP (a browser or OBS opens the URL); off loopback a token is required.

Each viewer has its own thread and never slows the live loop, which only hands the newest JPEG over. A client that
sends no request within the server's ``timeout``, or stops reading for that long, is dropped; closing the server
drops every client, and no client thread or socket outlives :meth:`MjpegServer.close`."""

from __future__ import annotations

import contextlib
import hmac
import html
import ipaddress
import logging
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

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
        if ":" in address[0]:  # an IPv6 address ("::" listens on every address, IPv4 too where the OS allows)
            self.address_family = socket.AF_INET6
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


def is_wildcard(host: str) -> bool:
    """Whether binding to ``host`` listens on every address of this machine (0.0.0.0, ::)."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return host == ""


def this_machine(family: socket.AddressFamily = socket.AF_INET) -> str | None:
    """This machine's address on its default route, found from the routing table alone (a UDP socket that is
    connected but never sends: nothing goes on the network); None without such a route."""
    probe = "192.0.2.1" if family == socket.AF_INET else "2001:db8::1"  # documentation addresses: never reached
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((probe, 9))
            address = sock.getsockname()[0]
    except OSError:
        return None
    return None if is_wildcard(address) or is_loopback(address) else address


def url_host(host: str) -> str:
    """``host`` as written in a URL (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host else host


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
        if is_wildcard(self.host):
            self.name += f" (listening on every address of this machine: {url_host(self.host)}:{self.port})"
        self._jpeg: tuple[Frame, bytes] | None = None
        """The last frame sent and its JPEG: a repeat of the frame is not encoded again."""
        self._thread = threading.Thread(target=self.server.serve_forever, name="ghostlive-mjpeg", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The stream's address for a viewer: the token percent-encoded; listening on every address, this
        machine's address on its default route (or a placeholder to replace when it has none)."""
        host = self.host
        if is_wildcard(host):
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            host = this_machine(family) or this_machine() or "<this machine's address>"
        q = f"?token={quote(self.token, safe='')}" if self.token else ""
        return f"http://{url_host(host)}:{self.port}/stream.mjpg{q}"

    def _authorised(self, handler: BaseHTTPRequestHandler) -> bool:
        if not self.token:
            return True
        given = parse_qs(urlparse(handler.path).query).get("token", [""])[0]
        scheme, _, credentials = handler.headers.get("Authorization", "").strip().partition(" ")
        bearer = credentials.strip() if scheme.lower() == "bearer" else ""  # auth schemes are case-insensitive
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

            def do_HEAD(self) -> None:
                self.do_GET(head=True)

            def do_GET(self, head: bool = False) -> None:
                if not owner._authorised(self):
                    body = b"a valid token is required (?token=... or Authorization: Bearer ...)\n"
                    self._send(401, "text/plain", body, head, {"WWW-Authenticate": 'Bearer realm="ghostlive"'})
                    return
                path = urlparse(self.path).path
                if path == "/stream.mjpg":
                    self._stream(head)
                elif path == "/snapshot.jpg":
                    _, jpeg = owner.frames.wait(0, timeout=5.0)
                    if jpeg is None:
                        self.send_error(503, "no frame yet")
                        return
                    self._send(200, "image/jpeg", jpeg, head)
                elif path == "/":
                    q = html.escape(urlparse(self.path).query, quote=True)
                    page = f'<html><body style="margin:0;background:#000"><img src="/stream.mjpg?{q}"></body></html>'
                    self._send(200, "text/html; charset=utf-8", page.encode(), head)
                else:
                    self.send_error(404)

            def _send(
                self, code: int, ctype: str, body: bytes, head: bool = False, extra: dict[str, str] | None = None
            ) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _stream(self, head: bool = False) -> None:
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={owner.BOUNDARY}")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                if head:
                    return
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
        if self._jpeg is not None and self._jpeg[0] is frame:  # the live loop repeating its last frame
            self.frames.publish(self._jpeg[1])
            return
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if ok:
            self._jpeg = (frame, buf.tobytes())
            self.frames.publish(self._jpeg[1])

    def close(self) -> None:
        with self.frames.cond:
            self.frames.closed = True
            self.frames.cond.notify_all()
        self.server.shutdown()  # no new client after this
        self.server.server_close()
        self.server.close_clients(timeout=5.0)
        self._thread.join(timeout=5)
