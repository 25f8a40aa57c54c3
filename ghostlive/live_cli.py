"""``ghostlive live``: the webcam loop from the command line."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from ghostlive.cli_args import usage_error
from ghostlive.errors import ConfigError
from ghostlive.interrupts import exit_code
from ghostlive.media.recorder import Recorder, check_recording
from ghostlive.pipeline.live import LivePipeline
from ghostlive.session import Session
from ghostlive.session.live import LiveRequest
from ghostlive.settings import add_arguments, swap_settings, values_from_args
from ghostlive.threads import apply_plan, plan_threads

log = logging.getLogger(__name__)
STATUS_EVERY = 1.0
"""Seconds between two updates of the status line."""
TICK = 0.05
"""Seconds between two looks at the loop, the clock and Ctrl-C: ``--duration`` ends within one of them."""


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


def _check_usage(args: argparse.Namespace) -> None:
    """Usage errors of ``live`` (exit status 2) before anything opens, and a warning for each option that has no
    effect without another."""
    try:
        _size(args.size)
    except ConfigError as exc:
        usage_error(args, str(exc))
    if args.virtual_camera_device and not args.virtual_camera:
        log.warning("--virtual-camera-device has no effect without --virtual-camera")
    if args.token and not args.stream:
        log.warning("--token has no effect without --stream")


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
    for failed (each named on a line of its own) or no frame came through errors. However it stops, the summary
    and each saved recording are printed (then Ctrl-C or a signal goes on to its own exit status)."""
    _check_usage(args)
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
    status = StatusLine()
    handlers = list(logging.getLogger().handlers)
    for h in handlers:
        h.addFilter(status)
    stopped: KeyboardInterrupt | None = None
    try:
        _wait(pipe, args.duration, None if args.quiet else status)
    except KeyboardInterrupt as exc:  # Ctrl-C (or SIGTERM, SIGHUP): the documented way to stop
        stopped = exc
    finally:
        try:
            session.stop_live()
        finally:
            status.end()
            for h in handlers:
                h.removeFilter(status)
    code = _summary(pipe)
    if stopped is not None:
        print(f"ghostlive: {'stopped by ' + str(stopped) if stopped.args else 'interrupted'}", file=sys.stderr)
        return exit_code(stopped)
    return code


def _wait(pipe: LivePipeline, duration: float, status: StatusLine | None) -> None:
    """Until the loop ends or ``duration`` seconds (0: none) have passed, showing the status line every
    :data:`STATUS_EVERY` seconds."""
    started = shown = time.monotonic()
    while pipe.running:
        now = time.monotonic()
        left = started + duration - now if duration else TICK
        if left <= 0:
            return
        time.sleep(min(TICK, left))
        if status is not None and time.monotonic() - shown >= STATUS_EVERY:
            shown = time.monotonic()
            status.show(pipe.stats().line())


def _summary(pipe: LivePipeline) -> int:
    """Print what the loop delivered and each recording it saved (standard output), then each failed output
    (standard error); the exit status: 1 when an output failed or errors let no frame through."""
    stats = pipe.stats()
    print(f"delivered {stats.delivered} frames, dropped {stats.dropped}, reconnects {stats.reconnects}")
    for sink in pipe.sinks:
        if isinstance(sink, Recorder) and sink.saved:
            print(f"recorded {sink.path} ({sink.seconds:.1f} s)")
    for line in pipe.failures:
        print(f"ghostlive: error: {line}", file=sys.stderr)
    if pipe.failures:
        return 1
    return 0 if not pipe.errors or stats.delivered else 1
