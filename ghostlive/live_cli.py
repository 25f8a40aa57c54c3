"""``ghostlive live``: the webcam loop from the command line."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from ghostlive.errors import ConfigError
from ghostlive.media.recorder import check_recording
from ghostlive.session import Session
from ghostlive.session.live import LiveRequest
from ghostlive.settings import add_arguments, swap_settings, values_from_args
from ghostlive.threads import apply_plan, plan_threads


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``live``: ``--source`` and the live context's settings (see :mod:`ghostlive.settings`)."""
    live = sub.add_parser("live", help="swap faces in a live camera feed")
    live.add_argument("--source", metavar="FACE", help="photo of the face to paste")
    add_arguments(live, "live")
    live.set_defaults(usage_error=live.error)  # face and reference checks in ghostlive.cli: exit status 2


def _size(text: str) -> tuple[int, int]:
    if not text:
        return 0, 0
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--size {text!r} is not WIDTHxHEIGHT") from None
    if not (16 <= w <= 16384 and 16 <= h <= 16384):
        raise ConfigError(f"--size {text!r} is outside 16x16 … 16384x16384")
    return w, h


def live_request(args: argparse.Namespace) -> LiveRequest:
    """The camera and outputs that ``ghostlive live`` asks for."""
    width, height = _size(args.size)
    return LiveRequest(
        camera=args.camera,
        width=width,
        height=height,
        fps=args.fps,
        loop=not args.no_loop,
        virtual_camera=args.virtual_camera,
        virtual_camera_device=args.virtual_camera_device,
        stream=args.stream,
        token=args.token,
        record=args.record,
        outputs=tuple(args.output),
        null_sink=True,
    )


class StatusLine(logging.Filter):
    """The status line that ``\\r`` rewrites in place on stderr; as a filter on the log handlers it makes a log
    record written meanwhile start on a line of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.shown = False

    def show(self, text: str) -> None:
        sys.stderr.write("\r" + text + "   ")
        sys.stderr.flush()
        self.shown = True

    def end(self) -> None:
        if self.shown:
            self.shown = False
            sys.stderr.write("\n")
            sys.stderr.flush()

    def filter(self, record: logging.LogRecord) -> bool:
        self.end()
        return True


def run_live(args: argparse.Namespace, job_factory) -> int:
    """Run the live loop until the camera ends, ``--duration`` passes or Ctrl+C; 1 when an output that was asked
    for failed (each named on a line of its own) or no frame came through errors."""
    request = live_request(args)
    # before anything opens: no file output may be an input, and the recording must be a video file name that its
    # container can hold in the video settings' codec (checked again when it opens, before the camera)
    request.check([args.source, *args.reference, *(p.source for p in args.pair), *(p.reference for p in args.pair)])
    if request.record:
        check_recording(request.record, swap_settings(values_from_args(args, "live"), "live").encode)
    plan = apply_plan(plan_threads("live"))  # before any model session opens; shown once the outputs are up
    session = Session()
    pipe = session.go_live(request, job_factory(args))
    print(plan.line(), file=sys.stderr)
    for s in pipe.sinks:
        print(f"output: {s.name}", file=sys.stderr)
    started = time.monotonic()
    status = StatusLine()
    handlers = list(logging.getLogger().handlers)
    for h in handlers:
        h.addFilter(status)
    try:
        while pipe.running:
            time.sleep(1.0)
            if not args.quiet:
                status.show(pipe.stats().line())
            if args.duration and time.monotonic() - started >= args.duration:
                break
    finally:
        try:
            session.stop_live()
        finally:
            status.end()
            for h in handlers:
                h.removeFilter(status)
    stats = pipe.stats()
    print(f"delivered {stats.delivered} frames, dropped {stats.dropped}, reconnects {stats.reconnects}")
    for line in pipe.failures:
        print(f"ghostlive: error: {line}", file=sys.stderr)
    if pipe.failures:
        return 1
    return 0 if not pipe.errors or stats.delivered else 1
