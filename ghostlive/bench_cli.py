"""``ghostlive bench``'s options (the command itself is :mod:`ghostlive.bench`)."""

from __future__ import annotations

import argparse

from ghostlive.settings import add_arguments


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``bench`` on the ``ghostlive`` subcommands: the bench context's settings (see
    :mod:`ghostlive.settings`)."""
    bench = sub.add_parser("bench", help="measure per-stage speed on real photos")
    add_arguments(bench, "bench")
    return bench
