"""The MJPEG server against real HTTP clients on real sockets: tokens (non-ASCII ones among them) are answered
401 when wrong, a client that never sends its request or a viewer that stops reading is dropped after the
server's timeout without slowing the live loop's send(), and closing the server leaves no client thread or
socket behind. The frames are the bundled clip's (and noise, whose large JPEGs fill socket buffers fast)."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from ghostlive.media import mjpeg
from ghostlive.media.mjpeg import MjpegServer
from ghostlive.types import Frame

from .media_tools import CLIP

STREAM_REQUEST = b"GET /stream.mjpg HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.fixture(scope="module")
def clip_frame() -> Frame:
    cap = cv2.VideoCapture(str(CLIP))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 40)
    ok, frame = cap.read()
    cap.release()
    assert ok
    return frame


@pytest.fixture
def server() -> Iterator[MjpegServer]:
    srv = MjpegServer("127.0.0.1", 0, token="sécret-ä")
    yield srv
    srv.close()


def get(srv: MjpegServer, path: str, headers: dict[str, str] | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def read_until_eof(sock: socket.socket, within: float) -> bool:
    """Whether the server ends the connection within ``within`` seconds (what it sent is read and dropped)."""
    sock.settimeout(0.2)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if not sock.recv(1 << 20):
                return True
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True
    return False


def client_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ghostlive-mjpeg-client" and t.is_alive()]


@pytest.mark.parametrize("token", ["%C3%A9", "s%C3%A9cret-%C3%A4x", "wrong"])
def test_a_wrong_token_is_401_even_when_not_ascii(server: MjpegServer, clip_frame: Frame, token: str, capfd) -> None:
    server.send(clip_frame)
    assert get(server, f"/snapshot.jpg?token={token}") == 401
    assert get(server, "/snapshot.jpg", {"Authorization": "Bearer sécret".encode().decode("latin-1")}) == 401
    assert "Traceback" not in capfd.readouterr().err


def test_the_right_non_ascii_token_is_accepted(server: MjpegServer, clip_frame: Frame) -> None:
    server.send(clip_frame)
    assert get(server, "/snapshot.jpg?token=s%C3%A9cret-%C3%A4") == 200
    bearer = "Bearer sécret-ä".encode().decode("latin-1")  # HTTP headers travel as bytes, read as Latin-1
    assert get(server, "/snapshot.jpg", {"Authorization": bearer}) == 200


def test_a_client_that_sends_no_request_is_dropped_after_the_timeout() -> None:
    assert MjpegServer.__init__.__kwdefaults__["timeout"] == mjpeg.CLIENT_TIMEOUT == 10.0
    srv = MjpegServer("127.0.0.1", 0, timeout=0.5)
    try:
        silent = socket.create_connection(("127.0.0.1", srv.port))
        start = time.monotonic()
        assert read_until_eof(silent, within=5.0)  # while the server is still open
        assert 0.4 < time.monotonic() - start < 3.0
        silent.close()
    finally:
        srv.close()


def test_a_stalled_viewer_is_dropped_without_slowing_the_loop(clip_frame: Frame) -> None:
    noise = np.random.default_rng(0).integers(0, 255, clip_frame.shape, np.uint8)
    srv = MjpegServer("127.0.0.1", 0, timeout=0.5)
    try:
        stalled = socket.create_connection(("127.0.0.1", srv.port))
        stalled.sendall(STREAM_REQUEST)  # ...and reads nothing while the loop sends (~40 MB of JPEGs)
        took = []
        for i in range(60):
            start = time.perf_counter()
            srv.send(noise if i % 2 else clip_frame)
            took.append(time.perf_counter() - start)
            time.sleep(1 / 30)
        assert max(took) < 0.25, f"send() took up to {max(took):.3f} s with a stalled viewer"
        deadline = time.monotonic() + 5
        while client_threads() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not client_threads()  # dropped by the server, which is still open
        # no frame comes any more: a viewer still connected would wait for one, never see the end
        assert read_until_eof(stalled, within=5.0)
        stalled.close()
    finally:
        srv.close()


def test_close_drops_every_client_and_leaves_no_thread(clip_frame: Frame) -> None:
    before = set(threading.enumerate())
    srv = MjpegServer("127.0.0.1", 0)  # the default timeout: only close() ends these clients
    silent = socket.create_connection(("127.0.0.1", srv.port))
    stalled = socket.create_connection(("127.0.0.1", srv.port))
    stalled.sendall(STREAM_REQUEST)
    viewer = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    viewer.request("GET", "/stream.mjpg")
    srv.send(clip_frame)
    response = viewer.getresponse()
    assert response.status == 200 and response.read(1000)  # it is watching

    def clients() -> list[threading.Thread]:  # one thread each, besides the server's own
        return [t for t in threading.enumerate() if t not in before and t.is_alive() and t is not srv._thread]

    deadline = time.monotonic() + 5
    while len(clients()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(clients()) == 3
    start = time.monotonic()
    srv.close()
    assert time.monotonic() - start < 3.0
    assert not [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for sock in (silent, stalled):
        assert read_until_eof(sock, within=2.0)
        sock.close()
    assert response.read() is not None  # the stream ends instead of waiting for the next frame
    viewer.close()
