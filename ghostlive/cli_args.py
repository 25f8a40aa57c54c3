"""Argument types for the command line: numbers within a range and network addresses, refused by argparse
with a message that names the value (``argument --tiles: must be an integer from 0 to 8, got '-3'``)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _bounds(lo: float | None, hi: float | None, lo_open: bool = False) -> str:
    if hi is None:
        return f"{'>' if lo_open else '≥'} {lo:g}"
    if lo is None:
        return f"≤ {hi:g}"
    return f"from {lo:g} to {hi:g}" if not lo_open else f"above {lo:g} and at most {hi:g}"


def int_range(lo: int | None = 0, hi: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer within [lo, hi] (None: unbounded on that side)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or (lo is not None and value < lo) or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"must be an integer {_bounds(lo, hi)}, got {text!r}")
        return value

    parse.__name__ = "integer"
    return parse


def float_range(lo: float | None = 0.0, hi: float | None = None, *, lo_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number within [lo, hi] ((lo, hi] with ``lo_open``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        below = lo is not None and (value <= lo if lo_open else value < lo)
        if not math.isfinite(value) or below or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"must be a number {_bounds(lo, hi, lo_open)}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


def address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``:PORT``, meaning 127.0.0.1; IPv6 hosts in brackets) as (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT with a port number from 0 to 65535")
    return host.removeprefix("[").removesuffix("]") or "127.0.0.1", int(port)


def add_record_arguments(parser: argparse.ArgumentParser) -> None:
    """``--save FILE`` and ``--compare FILE`` of ``bench --live`` (see :mod:`ghostlive.bench_live`), and
    ``--int8`` of ``bench --generator``."""
    parser.add_argument("--save", metavar="FILE", help="with --live: write the live results as JSON")
    parser.add_argument("--compare", metavar="FILE", help="with --live: ratios against a run saved with --save")
    parser.add_argument(
        "--int8", action="store_true", help="with --generator: also time a static int8 copy, calibrated on real faces"
    )


MAX_TILES = 8
"""Upper bound accepted for ``--tiles`` (0 = off; any other value turns on the tiles chosen from the image size)."""
