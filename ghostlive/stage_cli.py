"""Command-line options of the stages around the swap (extra masks, face enhancer), shared by swap, live and
bench."""

from __future__ import annotations

import argparse
from typing import Any

from ghostlive.enhance import enhance_options
from ghostlive.masking.options import mask_options
from ghostlive.settings import add_arguments
from ghostlive.settings_swap import ENHANCE_GROUP, MASKS_GROUP
from ghostlive.swappers.base import Swapper


def add_stage_options(p: argparse.ArgumentParser, context: str = "swap") -> None:
    """The mask and enhancer option groups of ``swap``, ``live`` and ``bench`` (declared in
    :mod:`ghostlive.settings_swap`)."""
    add_arguments(p, context, groups=(MASKS_GROUP, ENHANCE_GROUP))


def stage_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The ``masks`` and ``enhance`` fields of :class:`ghostlive.jobs.SwapSettings` from parsed ``args``."""
    return {"masks": mask_options(args), "enhance": enhance_options(args)}


def bench_stages(args: argparse.Namespace) -> tuple[str, ...]:
    """The stage columns ``--mask`` and ``--enhancer`` add to the table."""
    return (("mask",) if getattr(args, "mask", ()) else ()) + (("enhance",) if getattr(args, "enhancer", "") else ())


def with_bench_stages(swapper: Swapper, args: argparse.Namespace, backend: str) -> Swapper:
    """``swapper`` with the masks and enhancer of ``args`` (installed models; a missing one is an error)."""
    if not bench_stages(args):
        return swapper
    from ghostlive.jobs import SwapSettings, with_stages

    return with_stages(swapper, SwapSettings(backend=backend, **stage_settings(args)))
