"""The MJPEG server's printed address and its HTTP details, against real clients on real sockets: a token with
URL-special characters, every-address binding, IPv6, the page's query, HEAD, the 401's challenge and the
authorisation scheme's case."""

from __future__ import annotations

import http.client
import socket
import urllib.request
from collections.abc import Iterator

import cv2
import pytest

from ghostlive.cli_args import address
from ghostlive.media.mjpeg import MjpegServer
from ghostlive.types import Frame

from .conftest import sample


@pytest.fixture(scope="module")
def frame() -> Frame:
    return cv2.imread(str(sample("astronaut.png")))


@pytest.fixture
def server(frame: Frame) -> Iterator[MjpegServer]:
    srv = MjpegServer("127.0.0.1", 0, token="a+b/c=")
    srv.send(frame)
    yield srv
    srv.close()


def request(
    srv: MjpegServer, method: str, path: str, headers: dict[str, str] | None = None, host: str = "127.0.0.1"
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(host, srv.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read() if method != "GET" or "stream" not in path else resp.read(0)
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def test_the_printed_url_opens_with_a_token_that_has_url_special_characters(server: MjpegServer) -> None:
    """``+`` in a query means a space: the token is percent-encoded in the URL (before: 401 when opened)."""
    snapshot = server.url.replace("/stream.mjpg", "/snapshot.jpg")
    with urllib.request.urlopen(snapshot, timeout=10) as resp:
        assert resp.status == 200 and resp.headers.get_content_type() == "image/jpeg"
    assert "a+b/c=" not in server.url


def test_listening_on_every_address_prints_an_address_to_open() -> None:
    srv = MjpegServer("0.0.0.0", 0)
    try:
        assert "0.0.0.0" not in srv.url.split("(")[0]
        assert "every address" in srv.name and srv.token
    finally:
        srv.close()


def ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_an_ipv6_address_is_served(frame: Frame) -> None:
    """``--stream [::1]:PORT`` (accepted by the command line) listens (before: 'Address family for hostname not
    supported')."""
    host, port = address("[::1]:0")
    srv = MjpegServer(host, port)
    try:
        srv.send(frame)
        assert srv.url.startswith(f"http://[::1]:{srv.port}/")
        status, _, body = request(srv, "GET", "/snapshot.jpg", host="::1")
        assert status == 200 and body[:2] == b"\xff\xd8"
    finally:
        srv.close()


def test_the_page_escapes_the_query(server: MjpegServer) -> None:
    status, _, body = request(server, "GET", '/?token=a%2Bb%2Fc%3D&x="><script>alert(1)</script>')
    assert status == 200 and b"<script>" not in body and body.count(b'"') == 4  # style="…", src="…"
    assert b"&quot;&gt;&lt;script&gt;" in body


@pytest.mark.parametrize("path", ["/", "/stream.mjpg", "/snapshot.jpg"])
def test_head_gives_the_headers_of_each_page(server: MjpegServer, path: str) -> None:
    status, headers, body = request(server, "HEAD", f"{path}?token=a%2Bb%2Fc%3D")
    assert status == 200 and body == b""
    assert headers["content-type"].split(";")[0] in ("text/html", "multipart/x-mixed-replace", "image/jpeg")


def test_a_401_says_how_to_authenticate_and_the_scheme_is_case_insensitive(server: MjpegServer) -> None:
    status, headers, _ = request(server, "GET", "/snapshot.jpg")
    assert status == 401 and headers["www-authenticate"].lower().startswith("bearer")
    for scheme in ("Bearer", "bearer", "BEARER"):
        assert request(server, "GET", "/snapshot.jpg", {"Authorization": f"{scheme} a+b/c="})[0] == 200
    assert request(server, "GET", "/snapshot.jpg", {"Authorization": "Basic a+b/c="})[0] == 401
