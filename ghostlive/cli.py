"""The ``ghostlive`` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from ghostlive import __version__
from ghostlive.bench_cli import add_parser as add_bench
from ghostlive.cli_args import MAX_TILES, float_range, int_range
from ghostlive.engines.registry import BACKENDS
from ghostlive.errors import ConfigError, GhostliveError
from ghostlive.faces import DETECTORS, asset_path
from ghostlive.interrupts import exit_code, termination_as_interrupt
from ghostlive.jobs import (
    Job,
    PairSpec,
    SwapSettings,
    check_video_job,
    folder_summary,
    run_folder,
    run_image,
    run_video,
    target_kind,
)
from ghostlive.media.image import check_output_path
from ghostlive.media.paths import check_sinks
from ghostlive.media.video_out import EncodeOptions
from ghostlive.models.personal import swapper_choice
from ghostlive.ops.color import COLOR_MODES
from ghostlive.pipeline.offline import Progress
from ghostlive.stage_cli import add_stage_options, stage_settings
from ghostlive.swappers.classic import ClassicOptions
from ghostlive.tracking import TrackerOptions
from ghostlive.types import KEEP_REGIONS
from ghostlive.xp import DEVICES

log = logging.getLogger("ghostlive")


def _keep(value: str) -> tuple[str, ...]:
    items = tuple(v.strip() for v in value.split(",") if v.strip() and v.strip() != "none")
    bad = [v for v in items if v not in KEEP_REGIONS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown region(s) {', '.join(bad)}; choose from {', '.join(KEEP_REGIONS)}")
    return items


def _add_swap_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("face selection")
    g.add_argument(
        "--faces",
        choices=("all", "largest", "index", "reference", "first"),
        default="all",
        help="which target faces to swap (default: all); first: the first frame's best-detected face, followed "
        "through the video by identity (GHOST's behaviour without a reference)",
    )
    g.add_argument("--face-index", type=int_range(0), default=0, help="with --faces index: 0 = leftmost face")
    g.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="IMAGE",
        help="with --faces reference: swap the face most like the one in IMAGE (repeatable)",
    )
    g.add_argument(
        "--similarity",
        type=float_range(-1.0, 1.0),
        default=None,
        help="with --faces reference: minimum similarity (default: the matcher's own)",
    )
    g.add_argument(
        "--pair",
        action="append",
        default=[],
        type=_pair,
        metavar="FACE=REFERENCE",
        help="paste FACE onto the person shown in REFERENCE (repeatable: several people at once)",
    )
    g.add_argument("--source-face", type=int_range(0), default=None, help="face in the source image (default: largest)")
    g.add_argument(
        "--detector",
        choices=DETECTORS,
        default="auto",
        help="face detector: BlazeFace full/short/both (built in) or scrfd (installed); auto (default): scrfd "
        "for the neural swappers when installed, as they were trained on its keypoints, else full",
    )
    g.add_argument(
        "--tiles",
        type=int_range(0, MAX_TILES),
        default=2,
        metavar="N",
        help="detection passes over magnified tiles for small faces, chosen from the image size (0 = off)",
    )
    g.add_argument(
        "--min-face", type=int_range(1), default=20, metavar="PX", help="smallest face the tiles look for (default 20)"
    )
    g.add_argument(
        "--swapper",
        type=swapper_choice,
        default="classic",
        help="classic (built in), a neural model you installed (see: ghostlive models list) or a personal one",
    )
    v = p.add_argument_group("video")
    v.add_argument("--codec", default="", help="video encoder (default: libx264, libvpx-vp9 for .webm)")
    v.add_argument(
        "--crf", type=int_range(0, 63), default=None, help="quality, lower is better (default: x264 18, VP9 31)"
    )
    v.add_argument("--preset", default="medium", help="x264/x265 speed preset (default medium)")
    v.add_argument("--no-smoothing", action="store_true", help="turn off landmark smoothing")
    v.add_argument(
        "--max-gap", type=int_range(0), default=5, help="frames a lost face is held before it ends (default 5)"
    )
    v.add_argument("--detect-every", type=int_range(1), default=1, help="run the detector every N frames (default 1)")
    v.add_argument("--label", default="", help="burn a visible label into every frame, e.g. 'AI-generated'")
    v.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    g.add_argument(
        "--backend",
        choices=("auto", *BACKENDS, "torch-cpu", "ort-trt"),
        default="auto",
        help="inference backend for neural swappers (default auto: TensorRT → ORT CUDA → torch CUDA → ORT CPU)",
    )
    g.add_argument(
        "--device",
        choices=DEVICES,
        default="auto",
        help="where frames are processed: auto (the GPU when CuPy can use one), cpu, or cuda",
    )
    q = p.add_argument_group("classic swapper quality")
    q.add_argument("--blend", type=float, default=1.0, help="0 = target only … 1 = full swap (default 1)")
    q.add_argument("--feather", type=float, default=0.035, help="mask edge softness, fraction of face width")
    q.add_argument("--color", choices=COLOR_MODES, default="lowfreq", help="colour/lighting transfer")
    q.add_argument(
        "--keep",
        type=_keep,
        default=("mouth",),
        help=f"target regions to keep, comma-separated from {','.join(KEEP_REGIONS)} or 'none'",
    )
    add_stage_options(p)


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

    demo = sub.add_parser("demo", help="swap the bundled sample portraits (no files needed)")
    demo.add_argument("-o", "--output", default="ghostlive-demo.jpg", metavar="OUT")
    _add_swap_options(demo)

    add_bench(sub)
    sub.add_parser("gui", help="open the desktop app (needs the gui extra: PySide6)")
    doctor = sub.add_parser("doctor", help="check GPU, CUDA, cuDNN, TensorRT, ONNX Runtime and virtual cameras")
    doctor.add_argument("--strict", action="store_true", help="exit 1 when any check fails")
    engines = sub.add_parser("engines", help="TensorRT engines for the installed models")
    esub = engines.add_subparsers(dest="engines_command", required=True)
    build = esub.add_parser("build", help="build (or reuse) engines for every installed ONNX model")
    build.add_argument("--precision", choices=("fp16", "fp32"), default="fp16")
    build.add_argument("--max-batch", type=int_range(1, 64), default=8)
    from ghostlive.eval_cli import add_parser as add_eval
    from ghostlive.live_cli import add_parser as add_live
    from ghostlive.models_cli import add_parsers
    from ghostlive.train_cli import add_parser as add_train

    add_parsers(sub)
    add_live(sub, _add_swap_options)
    add_eval(sub)
    add_train(sub)
    return parser


def _pair(value: str) -> PairSpec:
    source, sep, reference = value.partition("=")
    if not sep or not source or not reference:
        raise argparse.ArgumentTypeError(f"expected FACE=REFERENCE, got {value!r}")
    return PairSpec(source, reference)


def _settings(args: argparse.Namespace) -> SwapSettings:
    return SwapSettings(
        swapper=args.swapper,
        backend=args.backend,
        device=args.device,
        classic=ClassicOptions(blend=args.blend, feather=args.feather, color=args.color, keep=args.keep),
        detector=args.detector,
        tiles=args.tiles,
        min_face=args.min_face,
        faces=args.faces,
        face_index=args.face_index,
        similarity=args.similarity,
        source_face=args.source_face,
        tracker=TrackerOptions(detect_every=args.detect_every, max_gap=args.max_gap, smoothing=not args.no_smoothing),
        encode=EncodeOptions(codec=args.codec, crf=args.crf, preset=args.preset),
        label=args.label,
        **stage_settings(args),
    )


def _pairs(args: argparse.Namespace, source: str | None) -> list[PairSpec]:
    if args.faces == "reference" and not args.reference and not args.pair:
        raise ConfigError("--faces reference needs at least one --reference IMAGE")
    pairs = list(args.pair)
    if source:
        pairs += [PairSpec(source, r) for r in args.reference] or [PairSpec(source)]
    return pairs


def _show_progress(p: Progress) -> None:
    eta = f"ETA {int(p.eta) // 60}:{int(p.eta) % 60:02d}" if p.eta is not None else ""
    total = f"/{p.total}" if p.total else ""
    sys.stderr.write(f"\r  frame {p.done}{total}  {p.fps:5.1f} fps  {eta}   ")
    sys.stderr.flush()


def run_swap(args: argparse.Namespace, source: str | None, target: str) -> int:
    pairs = _pairs(args, source)
    inputs = (target, *(p.source for p in pairs), *(p.reference for p in pairs if p.reference))
    kind = target_kind(target)
    if kind == "image":
        check_output_path(args.output, inputs)
    elif kind == "video":
        check_sinks([args.output], inputs)
        check_video_job(target, args.output)
    job = Job(_settings(args), pairs)
    if kind == "folder":
        written, problems = run_folder(job, target, args.output)
        for problem in problems:
            print(f"failed: {problem}", file=sys.stderr)
        print(folder_summary(written, problems, args.output))
        return 1 if problems else 0
    if kind == "video":
        report = run_video(job, target, args.output, progress=None if args.quiet else _show_progress)
        if not args.quiet:
            sys.stderr.write("\n")
        print(
            f"swapped faces in {report.frames_with_faces} of {report.frames} frames "
            f"({report.fps:.1f} fps) → {report.output}"
        )
        return 0
    result = run_image(job, target, args.output, inputs)
    log.info("stages ms: %s", ", ".join(f"{k} {v:.1f}" for k, v in result.times.ms.items()))
    print(f"swapped {len(result.swapped)} of {len(result.faces)} face(s) → {args.output}")
    return 0


@termination_as_interrupt()
def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit codes: 0 done, 1 error, 2 usage, 128 + signal number when stopped by SIGINT (130),
    SIGHUP (129) or SIGTERM (143), after the same cleanup in every case."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        if hasattr(args, "handler"):
            return args.handler(args)
        if args.command == "swap":
            return run_swap(args, args.source, args.target)
        if args.command == "demo":
            return run_swap(args, asset_path("samples/grace_hopper.jpg"), asset_path("samples/astronaut.png"))
        if args.command == "bench":
            from ghostlive.bench import run_bench

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
            from ghostlive.models_cli import build_engines

            return build_engines(args)
        if args.command == "live":
            from ghostlive.live_cli import run_live

            return run_live(args, lambda a: Job(_settings(a), _pairs(a, a.source)))
        if args.command in ("models", "export"):
            from ghostlive.models_cli import run_export, run_models

            return run_models(args) if args.command == "models" else run_export(args)
    except GhostliveError as exc:
        print(f"ghostlive: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"ghostlive: {'stopped by ' + str(exc) if exc.args else 'interrupted'}", file=sys.stderr)
        return exit_code(exc)
    except Exception as exc:
        log.debug("unexpected error", exc_info=True)
        print(f"ghostlive: unexpected error: {type(exc).__name__}: {exc} (run with -vv for details)", file=sys.stderr)
        return 1
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
