"""A real HTTP file server on 127.0.0.1 for download tests: Range requests, and faults on demand."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Files:
    """What the server serves and how it misbehaves."""

    content: dict[str, bytes] = field(default_factory=dict)
    truncate_at: int | None = None
    """Stop sending after this many body bytes (while announcing the full length)."""
    ranges_seen: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    """The path of every GET, in order."""


def _handler(files: Files) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            files.requests.append(self.path)
            body = files.content.get(self.path)
            if body is None:
                self.send_error(404, "Not Found")
                return
            start = 0
            rng = self.headers.get("Range")
            if rng:
                files.ranges_seen.append(rng)
                start = int(rng.removeprefix("bytes=").split("-")[0])
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            part = body[start:]
            self.send_header("Content-Length", str(len(part)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if files.truncate_at is not None:
                part = part[: max(files.truncate_at - start, 0)]
            self.wfile.write(part)
            self.wfile.flush()
            self.close_connection = True

    return Handler


@contextmanager
def serve(files: Files) -> Iterator[str]:
    """Serve ``files`` on an ephemeral port of 127.0.0.1; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(files))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
