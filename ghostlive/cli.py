"""The ``ghostlive`` command line."""

from __future__ import annotations

import argparse
import logging
import os
import select
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ghostlive import __version__
from ghostlive.bench_cli import add_parser as add_bench
from ghostlive.cli_args import int_range
from ghostlive.cli_faces import demo_source, face_pairs, swap_options
from ghostlive.cli_streams import ProgressLine, prepare_streams
from ghostlive.errors import ConfigError, GhostliveError
from ghostlive.interrupts import exit_code, exit_on_signal, termination_as_interrupt
from ghostlive.settings import add_arguments

if TYPE_CHECKING:  # the pipeline loads OpenCV, SciPy and ONNX Runtime: imported once main() runs, so that even
    # Ctrl-C while they load is handled (an interrupt during module imports would print a traceback)
    from ghostlive.pipeline.offline import Progress

log = logging.getLogger("ghostlive")


def _add_swap_options(p: argparse.ArgumentParser) -> None:
    """The settings of ``swap`` and ``demo`` (see :mod:`ghostlive.settings`)."""
    add_arguments(p, "swap")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ghostlive", description="Real-time and offline face swap.")
    parser.add_argument("--version", action="version", version=f"ghostlive {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)")
    sub = parser.add_subparsers(dest="command", required=True)

    swap = sub.add_parser("swap", help="swap a face into a photo")
    swap.add_argument("--source", metavar="FACE", help="photo of the face to paste")
    swap.add_argument("--target", required=True, metavar="MEDIA", help="photo, video or folder of photos")
    swap.add_argument("-o", "--output", required=True, metavar="OUT", help="output photo, video or folder")
    _add_swap_options(swap)
    swap.set_defaults(usage_error=swap.error)

    demo = sub.add_parser("demo", help="swap the bundled sample portraits (no files needed)")
    demo.add_argument("-o", "--output", default="ghostlive-demo.jpg", metavar="OUT")
    _add_swap_options(demo)
    demo.set_defaults(usage_error=demo.error)

    add_bench(sub)
    sub.add_parser("gui", help="open the desktop app (needs the gui extra: PySide6)")
    doctor = sub.add_parser("doctor", help="check GPU, CUDA, cuDNN, TensorRT, ONNX Runtime and virtual cameras")
    doctor.add_argument("--strict", action="store_true", help="exit 1 when any check fails")
    engines = sub.add_parser("engines", help="TensorRT engines for the installed models")
    esub = engines.add_subparsers(dest="engines_command", required=True)
    build = esub.add_parser("build", help="build (or reuse) engines for every installed ONNX model")
    build.add_argument("--precision", choices=("fp16", "fp32"), default="fp16", help="engine precision (default fp16)")
    build.add_argument(
        "--max-batch", type=int_range(1, 64), default=8, help="largest batch of the engines' profile (default 8)"
    )
    from ghostlive.eval_cli import add_parser as add_eval
    from ghostlive.live_cli import add_parser as add_live
    from ghostlive.models_cli import add_parsers
    from ghostlive.train_cli import add_parser as add_train

    add_parsers(sub)
    add_live(sub)
    add_eval(sub)
    add_train(sub)
    for command in sub.choices.values():  # -v/-vv also after the command; unset there, it keeps the global count
        command.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        if any(a.dest == "face_index" for a in command._actions):
            command.set_defaults(face_index=None)  # not given (None) told apart from --face-index 0 (see cli_faces)
    return parser


class _Progress(ProgressLine):
    """The progress line; once shown, ended (once) before whatever is printed next: the summary, an error, the
    interrupt."""

    shown = False

    def __call__(self, p: Progress) -> None:
        self.shown = True
        super().__call__(p)

    def end(self) -> None:
        if self.shown:
            self.shown = False
            super().end()


def run_swap(args: argparse.Namespace, source: str | None, target: str) -> int:
    from ghostlive.jobs import folder_summary
    from ghostlive.session import Session

    progress = None if args.quiet else _Progress()
    pairs = face_pairs(args, source)
    settings = swap_options(args)
    try:
        done = Session().run_file(settings, pairs, target, args.output, video_progress=progress)
    finally:  # on every way out (done, an error, Ctrl-C, SIGTERM/SIGHUP): what follows on a line of its own
        if progress is not None:
            progress.end()
    if done.kind == "folder":
        for problem in done.problems:
            print(f"failed: {problem}", file=sys.stderr)
        print(folder_summary(done.written, done.problems, args.output))
        return 1 if done.problems else 0
    if done.video is not None:
        report = done.video
        print(
            f"swapped faces in {report.frames_with_faces} of {report.frames} frames "
            f"({report.fps:.1f} fps) → {report.output}"
        )
        return 0
    assert done.image is not None
    log.info("stages ms: %s", ", ".join(f"{k} {v:.1f}" for k, v in done.image.times.ms.items()))
    print(f"swapped {len(done.image.swapped)} of {len(done.image.faces)} face(s) → {args.output}")
    return 0


def _stdout_gone() -> bool:
    """Whether the reader of standard output has gone (``ghostlive doctor | head -1``): the pipe reports an
    error. Where that cannot be asked (no poll, stdout not a file) any BrokenPipeError is taken as stdout's."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced (captured) or closed: not a pipe of ours
        return False
    if not hasattr(select, "poll"):
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def _stopped(exc: KeyboardInterrupt) -> int:
    print(f"ghostlive: {'stopped by ' + str(exc) if exc.args else 'interrupted'}", file=sys.stderr)
    return exit_code(exc)


def _unexpected(exc: Exception) -> int:
    log.debug("unexpected error", exc_info=True)
    print(f"ghostlive: unexpected error: {type(exc).__name__}: {exc} (run with -vv for details)", file=sys.stderr)
    return 1


@termination_as_interrupt()
def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command in ("swap", "demo", "live", "bench"):
            from ghostlive.stage_cli import unused_stage_options

            for note in unused_stage_options(args):
                log.warning("%s", note)
        if hasattr(args, "handler"):
            return args.handler(args)
        if args.command == "swap":
            return run_swap(args, args.source, args.target)
        if args.command == "demo":
            from ghostlive.faces import asset_path

            return run_swap(args, demo_source(args), asset_path("samples/astronaut.png"))
        if args.command == "bench":
            from ghostlive.bench import run_bench
            from ghostlive.stage_cli import bench_stages, check_stage_models

            if bench_stages(args) and not getattr(args, "train", False):
                check_stage_models(args)  # before the thread plan and the table's header are printed
            return run_bench(args)
        if args.command == "gui":
            import importlib.util

            if importlib.util.find_spec("PySide6") is None:
                raise ConfigError("the GUI needs PySide6; run: pip install 'ghostlive[gui]'")
            from ghostlive.ui.app import run_gui

            return run_gui()
        if args.command == "doctor":
            from ghostlive.doctor import report, run_checks

            checks = run_checks()
            print(report(checks))
            return 1 if args.strict and any(c.status == "fail" for c in checks) else 0
        if args.command == "engines":
            from ghostlive.engines.tensorrt import require_tensorrt
            from ghostlive.models_cli import build_engines

            require_tensorrt()  # said before the list of models starts, with the install command
            return build_engines(args)
        if args.command == "live":
            from ghostlive.jobs import Job
            from ghostlive.live_cli import run_live

            pairs = face_pairs(args, args.source)
            settings = swap_options(args, "live")  # its usage errors before the camera opens
            return run_live(args, lambda a: Job(settings, pairs))
        if args.command in ("models", "export"):
            from ghostlive.models_cli import run_export, run_models

            return run_models(args) if args.command == "models" else run_export(args)
    except GhostliveError as exc:
        print(f"ghostlive: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        return _stopped(exc)
    except BrokenPipeError as exc:
        if _stdout_gone():
            raise  # the reader left: main() ends quietly
        return _unexpected(exc)  # another pipe (an encoder's, a client's) broke: a real error
    except Exception as exc:  # noqa: BLE001 - one line; _unexpected logs the traceback for -vv
        return _unexpected(exc)
    parser.error(f"unknown command {args.command}")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit codes: 0 done, 1 error, 2 usage, 128 + signal number when stopped by SIGINT (130),
    SIGHUP (129) or SIGTERM (143), after the same cleanup in every case. When the reader of standard output left
    early (``ghostlive doctor | head -1``) it ends quietly as Python's documentation of SIGPIPE shows
    (BrokenPipeError caught, stdout pointed at devnull, SIGPIPE left ignored), with 141: 128 + SIGPIPE, what a
    shell reports for a tool that SIGPIPE ended, in line with the codes above (the documentation's example
    exits 1, which here means an error).

    ``argv`` None means this is the program (the ``ghostlive`` command, ``python -m ghostlive``): once the
    command is done, a signal during the interpreter's shutdown (PyTorch's teardown takes seconds) ends the
    process at once with 128 + its number instead of printing a traceback (see
    :func:`ghostlive.interrupts.exit_on_signal`); its standard streams cannot fail the command (see
    :func:`ghostlive.cli_streams.prepare_streams`): a result that cannot be shown is not a failed job."""
    if argv is None:
        prepare_streams()
    try:
        try:
            code = _run(argv)
        finally:
            if sys.stdout is not None:
                sys.stdout.flush()  # here, not at exit, so that a reader that left is found by the handler below
        return code
    except BrokenPipeError as exc:
        if not _stdout_gone():
            return _unexpected(exc)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's own flush at exit finds nowhere to fail
        os.close(devnull)
        return 141
    except KeyboardInterrupt as exc:  # outside the command's own handling: while starting or flushing
        if argv is None:
            exit_on_signal()
        return _stopped(exc)
    finally:
        if argv is None:
            exit_on_signal()


if __name__ == "__main__":
    sys.exit(main())
