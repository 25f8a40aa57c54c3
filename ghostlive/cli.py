"""The ``ghostlive`` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ghostlive import __version__
from ghostlive.errors import ConfigError, GhostliveError, NoFaceError
from ghostlive.faces import DETECTORS, FaceAnalyzer, LbpEmbedder, TargetSelection, asset_path
from ghostlive.media.image import check_output_path, read_image, write_image
from ghostlive.models.registry import SWAPPERS
from ghostlive.ops.color import COLOR_MODES
from ghostlive.pipeline import FramePipeline
from ghostlive.swappers.classic import ClassicOptions
from ghostlive.swappers.factory import build_swapper
from ghostlive.types import KEEP_REGIONS

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
        choices=("all", "largest", "index", "reference"),
        default="all",
        help="which target faces to swap (default: all)",
    )
    g.add_argument("--face-index", type=int, default=0, help="with --faces index: 0 = leftmost face")
    g.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="IMAGE",
        help="with --faces reference: swap the face most like the one in IMAGE (repeatable)",
    )
    g.add_argument(
        "--similarity",
        type=float,
        default=None,
        help="with --faces reference: minimum similarity (default: the matcher's own)",
    )
    g.add_argument("--source-face", type=int, default=None, help="face in the source image (default: largest)")
    g.add_argument("--detector", choices=DETECTORS, default="full", help="BlazeFace variant (default: full)")
    g.add_argument(
        "--tiles",
        type=int,
        default=2,
        metavar="LEVELS",
        help="extra detection passes over magnified tiles for small faces (0 = off, default 2)",
    )
    g.add_argument(
        "--swapper",
        choices=SWAPPERS,
        default="classic",
        help="classic (built in) or a neural model you installed (see: ghostlive models list)",
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ghostlive", description="Real-time and offline face swap.")
    parser.add_argument("--version", action="version", version=f"ghostlive {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)")
    sub = parser.add_subparsers(dest="command", required=True)

    swap = sub.add_parser("swap", help="swap a face into a photo")
    swap.add_argument("--source", required=True, metavar="FACE", help="photo of the face to paste")
    swap.add_argument("--target", required=True, metavar="PHOTO", help="photo whose faces are replaced")
    swap.add_argument("-o", "--output", required=True, metavar="OUT", help="where to write the result")
    _add_swap_options(swap)

    demo = sub.add_parser("demo", help="swap the bundled sample portraits (no files needed)")
    demo.add_argument("-o", "--output", default="ghostlive-demo.jpg", metavar="OUT")
    _add_swap_options(demo)

    bench = sub.add_parser("bench", help="measure per-stage speed on real photos")
    bench.add_argument("--frames", type=int, default=50, help="timed frames per size (default 50)")
    bench.add_argument("--sizes", default="640x480,1280x720", help="comma-separated WxH frame sizes")
    bench.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0 = all cores)")
    bench.add_argument(
        "--tiles",
        type=int,
        default=0,
        metavar="LEVELS",
        help="small-face tile levels, as for swap (default 0, the live setting)",
    )
    bench.add_argument("--generator", metavar="NAME", help="also time a GHOST generator (ghost-1/2/3)")
    bench.add_argument("--batches", default="1,8", help="generator batch sizes (default 1,8)")
    bench.add_argument("--runs", type=int, default=3, help="timed generator runs per batch size (default 3)")
    from ghostlive.models_cli import add_parsers

    add_parsers(sub)
    return parser


def _pipeline(args: argparse.Namespace) -> FramePipeline:
    options = ClassicOptions(blend=args.blend, feather=args.feather, color=args.color, keep=args.keep)
    if args.faces == "reference" and not args.reference:
        raise ConfigError("--faces reference needs at least one --reference IMAGE")
    if args.reference and args.faces != "reference":
        args.faces = "reference"
    analyzer = FaceAnalyzer(args.detector, tile_levels=args.tiles)
    pipe = FramePipeline(analyzer, build_swapper(args.swapper, classic=options), embedder=LbpEmbedder())
    refs = []
    for ref in args.reference:
        img = read_image(ref).bgr
        refs.append(pipe.embedder.embed(img, pipe.find_face(img, None, ref)))
    pipe.selection = TargetSelection(args.faces, args.face_index, tuple(refs), args.similarity)
    return pipe


def run_swap(args: argparse.Namespace, source: str, target: str) -> int:
    out_path = check_output_path(args.output, (source, target, *args.reference))
    src = read_image(source)
    tgt = read_image(target)
    pipe = _pipeline(args)
    pipe.set_source(src.bgr, args.source_face, source)
    result = pipe.process(tgt.bgr)
    if not result.faces:
        raise NoFaceError(f"no face found in {target}")
    if not result.swapped:
        if args.faces == "reference":
            best = ", ".join(f"{s:.2f}" for s in result.best_similarity)
            threshold = pipe.selection.threshold or pipe.embedder.default_threshold
            raise NoFaceError(
                f"no face in {target} matches the reference (best similarity {best}, "
                f"threshold {threshold:.2f}); lower it with --similarity"
            )
        raise NoFaceError(f"{target} has {len(result.faces)} face(s); face index {args.face_index} does not exist")
    write_image(out_path, result.frame, like=tgt)
    t = result.times.ms
    log.info("stages ms: %s", ", ".join(f"{k} {v:.1f}" for k, v in t.items()))
    print(f"swapped {len(result.swapped)} of {len(result.faces)} face(s) → {out_path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "swap":
            return run_swap(args, args.source, args.target)
        if args.command == "demo":
            return run_swap(args, asset_path("samples/grace_hopper.jpg"), asset_path("samples/astronaut.png"))
        if args.command == "bench":
            from ghostlive.bench import run_bench

            return run_bench(args)
        if args.command in ("models", "export"):
            from ghostlive.models_cli import run_export, run_models

            return run_models(args) if args.command == "models" else run_export(args)
    except GhostliveError as exc:
        print(f"ghostlive: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ghostlive: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        log.debug("unexpected error", exc_info=True)
        print(f"ghostlive: unexpected error: {type(exc).__name__}: {exc} (run with -vv for details)", file=sys.stderr)
        return 1
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["Path", "build_parser", "main"]
