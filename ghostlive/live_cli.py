"""``ghostlive live``: the webcam loop from the command line."""

from __future__ import annotations

import argparse
import sys
import time

from ghostlive.errors import ConfigError
from ghostlive.session import Session
from ghostlive.session.live import LiveRequest
from ghostlive.settings import add_arguments
from ghostlive.threads import apply_plan, plan_threads


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``live``: ``--source`` and the live context's settings (see :mod:`ghostlive.settings`)."""
    live = sub.add_parser("live", help="swap faces in a live camera feed")
    live.add_argument("--source", metavar="FACE", help="photo of the face to paste")
    add_arguments(live, "live")


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


def run_live(args: argparse.Namespace, job_factory) -> int:
    request = live_request(args)
    # before anything opens: no file output may be an input, and the recording must be a video file name
    request.check([args.source, *args.reference, *(p.source for p in args.pair), *(p.reference for p in args.pair)])
    plan = apply_plan(plan_threads("live"))  # before any model session opens; shown once the outputs are up
    session = Session()
    pipe = session.go_live(request, job_factory(args))
    print(plan.line(), file=sys.stderr)
    for s in pipe.sinks:
        print(f"output: {s.name}", file=sys.stderr)
    started = time.monotonic()
    try:
        while pipe.running:
            time.sleep(1.0)
            if not args.quiet:
                sys.stderr.write("\r" + pipe.stats().line() + "   ")
                sys.stderr.flush()
            if args.duration and time.monotonic() - started >= args.duration:
                break
    finally:
        session.stop_live()
        if not args.quiet:
            sys.stderr.write("\n")
    stats = pipe.stats()
    print(f"delivered {stats.delivered} frames, dropped {stats.dropped}, reconnects {stats.reconnects}")
    return 0 if not pipe.errors or stats.delivered else 1
