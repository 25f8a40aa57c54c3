"""``ghostlive bench``'s options (the command itself is :mod:`ghostlive.bench`)."""

from __future__ import annotations

import argparse

from ghostlive.cli_args import MAX_TILES, add_record_arguments, float_range, int_range
from ghostlive.engines.registry import BACKENDS
from ghostlive.models.personal import swapper_choice
from ghostlive.stage_cli import add_stage_options
from ghostlive.xp import DEVICES


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``bench`` on the ``ghostlive`` subcommands."""
    bench = sub.add_parser("bench", help="measure per-stage speed on real photos")
    add_stage_options(bench)
    bench.add_argument("--frames", type=int_range(1), default=50, help="timed frames per size (default 50)")
    bench.add_argument("--sizes", default="640x480,1280x720", help="comma-separated WxH frame sizes")
    bench.add_argument("--threads", type=int_range(0), default=0, help="model session threads (0 = the thread plan)")
    bench.add_argument(
        "--tiles",
        type=int_range(0, MAX_TILES),
        default=0,
        metavar="N",
        help="small-face tiles as for swap (faces from 20 px; default 0 = off, the live setting)",
    )
    bench.add_argument("--live", action="store_true", help="also measure the threaded live loop")
    bench.add_argument(
        "--live-seconds", type=float_range(0.0, lo_open=True), default=8.0, help="seconds per size for --live"
    )
    add_record_arguments(bench)  # --save FILE, --compare FILE
    bench.add_argument("--video", metavar="N,N", help="also time offline video of these lengths, e.g. 150,600")
    bench.add_argument("--generator", metavar="NAME", help="also time a GHOST generator (ghost-1/2/3)")
    bench.add_argument(
        "--swapper",
        type=swapper_choice,
        default="classic",
        help="swapper for the per-stage table (default classic; ghost-N not installed: untrained export)",
    )
    bench.add_argument(
        "--backend",
        choices=("auto", "all", *BACKENDS, "torch-cpu", "ort-trt"),
        default="auto",
        help="backend for neural models (all: each backend present in turn; default auto)",
    )
    bench.add_argument(
        "--device",
        choices=(*DEVICES, "portable"),
        default="auto",
        help="where frames are processed (portable: the GPU code path on numpy, to check it on a CPU)",
    )
    bench.add_argument("--batches", default="1,8", help="generator batch sizes (default 1,8)")
    bench.add_argument("--runs", type=int_range(1), default=3, help="timed generator runs per batch size (default 3)")
    return bench
