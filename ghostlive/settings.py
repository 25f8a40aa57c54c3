"""The settings schema: every setting of the commands and the desktop app, declared once (see
:class:`ghostlive.settings_spec.Setting`), in :mod:`ghostlive.settings_swap` (what a swap needs) and
:mod:`ghostlive.settings_apps` (camera and outputs, bench, the app's own). The command-line flags
(:func:`add_arguments`), the GUI's settings file (:mod:`ghostlive.config`) and its widgets
(``ghostlive.ui.schema_widgets``) are generated from it, and :func:`swap_settings` turns values into the
options the pipeline takes.

Per-context defaults are declared here on purpose: the face detector runs on every frame of a file (quality
first, no frame budget) and on every 3rd frame live, where the tracker follows faces in between; small-face
tiles are on for files and off live and in the bench (which measures the live setting).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ghostlive.settings_apps import BENCH_SETTINGS, GUI_SETTINGS, LIVE_SETTINGS
from ghostlive.settings_spec import CONTEXTS, Setting
from ghostlive.settings_swap import SWAP_SETTINGS

if TYPE_CHECKING:
    from ghostlive.jobs import SwapSettings

__all__ = ["CONTEXTS", "SCHEMA", "Setting", "add_arguments", "default", "defaults", "setting", "settings_for"]

SCHEMA: dict[str, Setting] = {s.key: s for s in (*LIVE_SETTINGS, *SWAP_SETTINGS, *BENCH_SETTINGS, *GUI_SETTINGS)}
"""Every setting by key, in declaration order."""


def setting(key: str, context: str | None = None) -> Setting:
    """The setting ``key`` (as ``context`` sees it); KeyError names the known keys."""
    try:
        spec = SCHEMA[key]
    except KeyError:
        raise KeyError(f"unknown setting {key!r}; known: {', '.join(SCHEMA)}") from None
    return spec.at(context) if context else spec


def settings_for(context: str) -> list[Setting]:
    """The settings ``context`` uses, as it sees them, in declaration order."""
    if context not in CONTEXTS:
        raise KeyError(f"unknown context {context!r}; choose from {', '.join(CONTEXTS)}")
    return [s.at(context) for s in SCHEMA.values() if context in s.contexts]


def default(key: str, context: str = "swap") -> Any:
    """The default of ``key`` in ``context`` (the photo and video files' unless told)."""
    return setting(key, context).default


def defaults(context: str = "swap") -> dict[str, Any]:
    """Every setting's default as ``context`` sees it (also the settings it does not show)."""
    return {k: s.at(context).default for k, s in SCHEMA.items()}


def _group(parser: argparse.ArgumentParser, title: str) -> Any:
    if not title:
        return parser
    for group in parser._action_groups:
        if group.title == title:
            return group
    return parser.add_argument_group(title)


def add_arguments(parser: argparse.ArgumentParser, context: str, groups: Iterable[str] | None = None) -> None:
    """Declare the flags of ``context``'s settings on ``parser`` (only those in ``groups`` when given)."""
    wanted = None if groups is None else set(groups)
    for spec in settings_for(context):
        if spec.names and (wanted is None or spec.group in wanted):
            spec.add_to(_group(parser, spec.group))


def values_from_args(args: argparse.Namespace, context: str) -> dict[str, Any]:
    """The values of ``context``'s settings in parsed command-line ``args``, by key; None for a setting that cannot
    be None means "not given" (``--face-index``: told apart from ``--face-index 0``) and is left out."""
    given = [(s, getattr(args, s.arg_dest)) for s in settings_for(context) if s.names and hasattr(args, s.arg_dest)]
    return {s.key: v for s, v in given if v is not None or s.optional or s.default is None}


def swap_settings(values: Mapping[str, Any], context: str = "swap") -> SwapSettings:
    """The pipeline's options from setting ``values`` (by key); what is missing takes ``context``'s default."""
    from ghostlive.enhance import EnhanceOptions
    from ghostlive.jobs import SwapSettings
    from ghostlive.masking.options import MaskOptions
    from ghostlive.media.video_out import EncodeOptions
    from ghostlive.swappers.classic import ClassicOptions
    from ghostlive.tracking import TrackerOptions

    v = {**defaults(context), **values}
    smoothing = float(v["smoothing"])
    return SwapSettings(
        swapper=v["swapper"],
        backend=v["backend"],
        cpu_precision=v["cpu_precision"],
        device=v["device"],
        classic=ClassicOptions(
            blend=v["blend"], feather=v["feather"], color=v["color"], keep=tuple(v["keep"]), shape=v["shape"]
        ),
        detector=v["detector"],
        embedder=v["embedder"],
        tiles=v["tiles"],
        min_face=v["min_face"],
        faces=v["faces"],
        face_index=v["face_index"],
        similarity=v["similarity"],
        source_face=v["source_face"],
        tracker=TrackerOptions(
            detect_every=v["detect_every"], max_gap=v["max_gap"], smoothing=smoothing > 0,
            min_cutoff=max(smoothing, 0.1),
        ),
        encode=EncodeOptions(codec=v["codec"], crf=v["crf"], preset=v["preset"]),
        label=v["label"],
        masks=MaskOptions(
            tuple(v["mask"]), tuple(v["regions"]), dict(v["mask_feather"]), tuple(v["mask_padding"]), v["show_mask"]
        ),
        enhance=EnhanceOptions(v["enhancer"] or "", v["enhance_blend"], v["enhance_fidelity"], v["enhance_budget"]),
    )
