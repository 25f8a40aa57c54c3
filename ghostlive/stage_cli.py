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


def _changed(args: argparse.Namespace, key: str) -> bool:
    """Whether ``args`` give ``key`` a value other than its default (what the command line was told)."""
    from ghostlive.settings import setting

    value = getattr(args, key, None)
    return value is not None and value != setting(key).default


def unused_stage_options(args: argparse.Namespace) -> list[str]:
    """The mask and enhancer options of ``args`` that have no effect without another option (a warning each: a
    settings file may hold them, so they are not refused)."""
    masks = set(getattr(args, "mask", ()) or ())
    notes = []
    if _changed(args, "regions") and "parser" not in masks:
        notes.append("--regions has no effect without --mask parser")
    if _changed(args, "mask_padding") and "box" not in masks:
        notes.append("--mask-padding has no effect without --mask box")
    for name in getattr(args, "mask_feather", None) or {}:
        if name not in masks:
            notes.append(f"--mask-feather {name}=… has no effect without --mask {name}")
    if not getattr(args, "enhancer", ""):
        for key in ("enhance_blend", "enhance_fidelity", "enhance_budget"):
            if _changed(args, key):
                notes.append(f"--{key.replace('_', '-')} has no effect without --enhancer")
    return notes


def check_stage_models(args: argparse.Namespace, store: Any = None) -> None:
    """Before any output: a :class:`ModelError` naming the install command when a model that ``--mask`` or
    ``--enhancer`` of ``args`` needs is not installed (each named, in one line)."""
    from ghostlive.errors import ModelError
    from ghostlive.hub import ModelStore
    from ghostlive.masking.options import MASK_MODELS
    from ghostlive.models.registry import BY_NAME, RESTORERS
    from ghostlive.swappers.factory import missing_hint

    store = store or ModelStore()
    needs = [(f"--mask {m}", MASK_MODELS[m]) for m in getattr(args, "mask", ()) or () if m in MASK_MODELS]
    if getattr(args, "enhancer", ""):
        needs.append((f"--enhancer {args.enhancer}", args.enhancer))
    missing = []
    for option, model in needs:
        filename = RESTORERS[model].filename if model in RESTORERS else BY_NAME[model].filename
        if not store.has(filename):
            missing.append(f"{option} needs {filename}, which is not installed; run: {missing_hint(store, model)}")
    if missing:
        raise ModelError("; ".join(missing))
