"""Argument types for the command line: numbers within a range and network addresses, refused by argparse
with a message that names the value (``argument --tiles: must be an integer from 0 to 8, got '-3'``)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from ghostlive.errors import ConfigError


def usage_error(args: argparse.Namespace, message: str, prog: str = "") -> NoReturn:
    """Stop with ``message`` as a usage error of the command ``args`` were parsed for (its usage line, exit status
    2: the command's parser sets ``usage_error`` among its defaults). For ``args`` built without that parser, the
    parser of ``prog`` when given, else a ConfigError (exit status 1)."""
    error = getattr(args, "usage_error", None) or (argparse.ArgumentParser(prog=prog).error if prog else None)
    if error is None:
        raise ConfigError(message)
    error(message)
    raise SystemExit(2)  # error() exits; this is for a replaced one that returns


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


MAX_TILES = 8
"""Upper bound accepted for ``--tiles`` (0 = off; any other value turns on the tiles chosen from the image size)."""


def names(allowed: Callable[[], Sequence[str]], what: str) -> Callable[[str], tuple[str, ...]]:
    """An argparse type: a comma-separated, non-empty list of names from ``allowed()`` (duplicates dropped)."""

    def parse(text: str) -> tuple[str, ...]:
        known = tuple(allowed())
        items = tuple(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))
        bad = [v for v in items if v not in known]
        if bad or not items:
            shown = ", ".join(bad) or repr(text)
            raise argparse.ArgumentTypeError(f"unknown {what} {shown}; choose from {','.join(known)}")
        return items

    return parse


def choice(allowed: Callable[[], Sequence[str]], what: str) -> Callable[[str], str]:
    """An argparse type: one name from ``allowed()`` (``unknown x264 preset 'bogus'; choose from ultrafast, …``)."""

    def parse(text: str) -> str:
        known = tuple(allowed())
        if text not in known:
            raise argparse.ArgumentTypeError(f"unknown {what} {text!r}; choose from {', '.join(known)}")
        return text

    parse.__name__ = what
    return parse


def regions(allowed: Callable[[], Sequence[str]]) -> Callable[[str], tuple[str, ...]]:
    """An argparse type: comma-separated regions from ``allowed()``, or ``none`` alone (an empty tuple: keep
    nothing); ``none`` beside a region is refused rather than read as either."""

    def parse(value: str) -> tuple[str, ...]:
        known = tuple(allowed())
        items = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
        bad = [v for v in items if v not in known and v != "none"]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown region(s) {', '.join(bad)}; choose from {', '.join(known)}")
        if "none" in items and len(items) > 1:
            others = ",".join(v for v in items if v != "none")
            raise argparse.ArgumentTypeError(
                f"'none' means keep nothing and cannot be combined with {others}; give none alone, or regions "
                f"from {','.join(known)}"
            )
        return tuple(v for v in items if v != "none")

    return parse


def feathers(known: Callable[[], Sequence[str]]) -> Callable[[str], dict[str, float]]:
    """An argparse type: ``MASK=SIGMA,...`` with MASK from ``known()`` and SIGMA within 0–1."""

    def parse(text: str) -> dict[str, float]:
        out = {}
        for item in text.split(","):
            name, sep, value = item.partition("=")
            try:
                sigma = float(value)
            except ValueError:
                sigma = -1.0
            if not sep or name not in known() or not 0 <= sigma <= 1:
                shown = ",".join(known())
                raise argparse.ArgumentTypeError(f"expected MASK=SIGMA (MASK from {shown}, SIGMA 0–1), got {item!r}")
            out[name] = sigma
        return out

    return parse


def padding(text: str) -> tuple[float, float, float, float]:
    """An argparse type: one or four (top, right, bottom, left) box paddings within -0.5…1."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) == 1:
        values *= 4
    if len(values) != 4 or not all(-0.5 <= v <= 1.0 for v in values):
        raise argparse.ArgumentTypeError(f"expected one or four (top,right,bottom,left) values in -0.5…1, got {text!r}")
    return (values[0], values[1], values[2], values[3])


def pair(value: str) -> Any:
    """An argparse type: ``FACE=REFERENCE`` as a :class:`ghostlive.jobs.PairSpec`."""
    from ghostlive.jobs import PairSpec

    source, sep, reference = value.partition("=")
    if not sep or not source or not reference:
        raise argparse.ArgumentTypeError(f"expected FACE=REFERENCE, got {value!r}")
    return PairSpec(source, reference)
