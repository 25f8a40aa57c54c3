"""The type and range of every training-recipe key, checked when a recipe is read (a ``--config`` TOML file, the
options, a run's ``recipe.json``), before any dataset or network is touched.

:func:`check_table` takes a whole or partial settings table and returns it with every value checked and
normalised (numbers as float, lists as tuples); a bad value is a one-line :class:`ConfigError` naming where it
came from and the key: ``tr/bad.toml: width: must be a number, got 'big'``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from ghostlive.errors import ConfigError

WEIGHTS = ("adv", "attr", "id", "rec", "eyes")
SCHEDULERS = ("none", "step", "cosine")


class BadValueError(Exception):
    """A value that does not fit its key; the message says what it must be."""


Check = Callable[[Any], Any]


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def number(lo: float = 0.0, hi: float | None = None, *, lo_open: bool = False, hi_open: bool = False) -> Check:
    """A finite int or float from ``lo`` to ``hi`` (either end excluded when open), returned as float."""
    bounds = f"{'>' if lo_open else '≥'} {lo:g}" + ("" if hi is None else f" and {'<' if hi_open else '≤'} {hi:g}")

    def check(v: Any) -> float:
        if not _is_number(v):
            raise BadValueError(f"must be a number, got {v!r}")
        below = v <= lo if lo_open else v < lo
        above = hi is not None and (v >= hi if hi_open else v > hi)
        if not math.isfinite(v) or below or above:
            raise BadValueError(f"must be a number {bounds}, got {v!r}")
        return float(v)

    return check


def integer(lo: int = 0) -> Check:
    def check(v: Any) -> int:
        if not isinstance(v, int) or isinstance(v, bool):
            raise BadValueError(f"must be an integer, got {v!r}")
        if v < lo:
            raise BadValueError(f"must be an integer ≥ {lo}, got {v!r}")
        return v

    return check


def choice(*options: str) -> Check:
    def check(v: Any) -> str:
        if v not in options or not isinstance(v, str):
            raise BadValueError(f"must be one of {', '.join(options)}, got {v!r}")
        return v

    return check


def text(v: Any) -> str:
    if not isinstance(v, str):
        raise BadValueError(f"must be a string, got {v!r}")
    return v


def boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise BadValueError(f"must be true or false, got {v!r}")
    return v


def numbers(n: int, item: Check, what: str) -> Check:
    """A list of ``n`` values, each passing ``item``; returned as a tuple."""

    def check(v: Any) -> tuple[Any, ...]:
        if not isinstance(v, list | tuple) or len(v) != n:
            raise BadValueError(f"must be a list of {n} numbers ({what}), got {v!r}")
        try:
            return tuple(item(x) for x in v)
        except BadValueError as exc:
            raise BadValueError(f"{what}: {exc}") from None

    return check


TOP: dict[str, Check] = {
    "model": choice("ghost-1", "ghost-2", "ghost-3"),
    "width": number(0.0, 1.0, lo_open=True),
    "batch_size": integer(1),
    "seed": integer(0),
    "same_person": number(0.0, 1.0),
    "jitter": numbers(4, number(0.0, 1.0), "brightness, contrast, saturation, hue"),
    "num_workers": integer(0),
    "precision": choice("auto", "fp32", "fp16", "bf16"),
    "grad_clip": number(0.0),
    "discriminator_gate": boolean,
    "eye_model": choice("mesh", "fan"),
    "log_every": integer(0),
    "validation_images": integer(0),
    "validate_every": integer(0),
    "preview_every": integer(0),
    "checkpoint_every": integer(0),
    "init_generator": text,
    "init_discriminator": text,
}
OPTIMIZER: dict[str, Check] = {
    "lr_g": number(0.0),
    "lr_d": number(0.0),
    "betas": numbers(2, number(0.0, 1.0, hi_open=True), "Adam's beta1, beta2"),
    "weight_decay": number(0.0),
}
STAGE: dict[str, Check] = {
    "name": text,
    "steps": integer(0),
    "scheduler": choice(*SCHEDULERS),
    "step_size": integer(1),
    "gamma": number(0.0, lo_open=True),
    "min_lr_ratio": number(0.0, 1.0),
}
REQUIRED_STAGE = ("name", "steps")


def _fields(table: Any, checks: Mapping[str, Check], where: str, prefix: str, what: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: {prefix.rstrip('.: ')}: must be a table, got {table!r}")
    unknown = sorted(set(table) - set(checks))
    if unknown:
        raise ConfigError(f"{where}: unknown {what}(s): {', '.join(f'{prefix}{k}' for k in unknown)}")
    out = {}
    for key, value in table.items():
        try:
            out[key] = checks[key](value)
        except BadValueError as exc:
            raise ConfigError(f"{where}: {prefix}{key}: {exc}") from None
    return out


def _stage(raw: Any, where: str, label: str) -> dict[str, Any]:
    checks = {**STAGE, "weights": lambda v: v}
    out = _fields(raw, checks, where, f"{label}: ", "stage setting")
    missing = [k for k in REQUIRED_STAGE if k not in out]
    if missing:
        raise ConfigError(f"{where}: {label}: needs {' and '.join(missing)}")
    if "weights" in out:
        weights = {k: number(0.0) for k in WEIGHTS}
        out["weights"] = _fields(out["weights"], weights, where, f"{label}: weights.", "loss weight")
    return out


def check_table(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``raw`` (any part of a recipe: top-level keys, ``optimizer``, ``stages``) checked and normalised;
    ConfigError ``where: key: what it must be, got …`` on the first bad value."""
    checks: dict[str, Check] = {**TOP, "optimizer": lambda v: v, "stages": lambda v: v}
    out = _fields(dict(raw), checks, where, "", "setting")
    if "optimizer" in out:
        out["optimizer"] = _fields(out["optimizer"], OPTIMIZER, where, "optimizer.", "optimizer setting")
    if "stages" in out:
        stages = out["stages"]
        if not isinstance(stages, list | tuple) or not stages:
            raise ConfigError(f"{where}: stages: must be one or more [[stages]] tables, got {stages!r}")
        out["stages"] = [_stage(s, where, f"[[stages]] #{i}") for i, s in enumerate(stages, 1)]
    return out
