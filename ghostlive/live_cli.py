"""``ghostlive live``: the webcam loop from the command line."""

from __future__ import annotations

import argparse
import sys
import time

from ghostlive.enhance import set_live_budget
from ghostlive.errors import ConfigError
from ghostlive.media.paths import check_live_sinks
from ghostlive.media.sinks import MjpegServer, NullSink, Recorder, Sink, VirtualCamera, check_record_path
from ghostlive.media.sources import open_source
from ghostlive.pipeline.live import LiveOptions, LivePipeline
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


def check_live_outputs(args: argparse.Namespace) -> None:
    """Before anything opens: no file output may be an input, and the recording must be a video file name."""
    photos = [args.source, *args.reference, *(p.source for p in args.pair), *(p.reference for p in args.pair)]
    device = args.virtual_camera_device if args.virtual_camera else None
    check_live_sinks([args.record, device], args.camera, photos)
    if args.record:
        check_record_path(args.record)


def run_live(args: argparse.Namespace, job_factory) -> int:
    width, height = _size(args.size)
    check_live_outputs(args)
    plan = apply_plan(plan_threads("live"))  # before any model session opens; shown once the outputs are up
    job = job_factory(args)
    probe = open_source(args.camera, loop=not args.no_loop, width=width, height=height, fps=args.fps)
    first = probe.read()
    fps = probe.fps
    probe.close()
    if first is None:
        raise ConfigError(f"{args.camera}: the camera gave no frame")
    set_live_budget(job.swapper, fps or 30.0)
    sinks: list[Sink] = []
    try:
        if args.virtual_camera:
            sinks.append(VirtualCamera(first.shape[1], first.shape[0], fps, device=args.virtual_camera_device))
        if args.stream:
            host, port = args.stream
            sinks.append(MjpegServer(host, port, token=args.token))
        if args.record:
            sinks.append(Recorder(args.record))
    except Exception:
        for s in sinks:
            s.close()
        raise
    sinks = sinks or [NullSink()]
    print(plan.line(), file=sys.stderr)
    for s in sinks:
        print(f"output: {s.name}", file=sys.stderr)
    pipe = LivePipeline(
        lambda: open_source(args.camera, loop=not args.no_loop, width=width, height=height, fps=args.fps),
        job.stream(),
        sinks,
        LiveOptions(output_fps=fps or 30.0),
    )
    pipe.start()
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
        pipe.stop()
        if not args.quiet:
            sys.stderr.write("\n")
    stats = pipe.stats()
    print(f"delivered {stats.delivered} frames, dropped {stats.dropped}, reconnects {stats.reconnects}")
    return 0 if not pipe.errors or stats.delivered else 1
