"""Mask settings, their command-line options, and the providers they build."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from ghostlive.errors import ConfigError, ModelError
from ghostlive.hub import ModelStore
from ghostlive.masking.mesh import DEFAULT_FEATHER, MESH_MASKS, BoxMask, RegionMask
from ghostlive.models.masks import DEFAULT_REGIONS, PARSER_REGIONS

MASKS: tuple[str, ...] = ("occlusion", "parser", *MESH_MASKS, "box")
MASK_MODELS = {"occlusion": "occluder", "parser": "parser"}
"""The registry model each model-backed mask needs."""


@dataclass(frozen=True)
class MaskOptions:
    """Which masks to combine with the swap mask, and how."""

    masks: tuple[str, ...] = ()
    regions: tuple[str, ...] = DEFAULT_REGIONS
    """Face-parser regions swapped with the ``parser`` mask."""
    feather: dict[str, float] = field(default_factory=dict)
    """Per-mask edge σ overrides (see :data:`ghostlive.masking.mesh.DEFAULT_FEATHER`)."""
    padding: tuple[float, float, float, float] = (0.1, 0.1, 0.1, 0.1)
    show: bool = False
    """Show the combined mask over the output instead of a plain swap (a debug view)."""


def _names(allowed: tuple[str, ...], what: str):  # an argparse type
    def parse(text: str) -> tuple[str, ...]:
        items = tuple(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))
        bad = [v for v in items if v not in allowed]
        if bad or not items:
            shown = ", ".join(bad) or repr(text)
            raise argparse.ArgumentTypeError(f"unknown {what} {shown}; choose from {','.join(allowed)}")
        return items

    return parse


def _feathers(text: str) -> dict[str, float]:
    out = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        try:
            sigma = float(value)
        except ValueError:
            sigma = -1.0
        if not sep or name not in DEFAULT_FEATHER or not 0 <= sigma <= 1:
            names = ",".join(DEFAULT_FEATHER)
            raise argparse.ArgumentTypeError(f"expected MASK=SIGMA (MASK from {names}, SIGMA 0–1), got {item!r}")
        out[name] = sigma
    return out


def _padding(text: str) -> tuple[float, float, float, float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) == 1:
        values *= 4
    if len(values) != 4 or not all(-0.5 <= v <= 1.0 for v in values):
        raise argparse.ArgumentTypeError(f"expected one or four (top,right,bottom,left) values in -0.5…1, got {text!r}")
    return (values[0], values[1], values[2], values[3])


def add_mask_options(p: argparse.ArgumentParser) -> None:
    """The mask options of ``swap`` and ``live``."""
    g = p.add_argument_group("masks (combined with every swapper's own mask)")
    g.add_argument(
        "--mask",
        type=_names(MASKS, "mask"),
        default=(),
        help="comma-separated: occlusion (keeps hands etc. in front of the face; needs the occluder model), "
        "parser (swaps only --regions; needs the parser model), mouth, lips, eyes (keep the target's own), "
        "box (the face box grown by --mask-padding)",
    )
    g.add_argument(
        "--regions",
        type=_names(tuple(PARSER_REGIONS), "region"),
        default=DEFAULT_REGIONS,
        help=f"face-parser regions to swap with --mask parser (default {','.join(DEFAULT_REGIONS)})",
    )
    g.add_argument(
        "--mask-feather", type=_feathers, default={}, help="per-mask edge softness, e.g. mouth=0.03,box=0.08"
    )
    g.add_argument("--mask-padding", type=_padding, default=(0.1, 0.1, 0.1, 0.1), help="box growth: f or t,r,b,l")
    g.add_argument("--show-mask", action="store_true", help="show the combined mask in green over the output")


def mask_options(args: argparse.Namespace) -> MaskOptions:
    """The :class:`MaskOptions` of parsed command-line ``args``."""
    return MaskOptions(args.mask, args.regions, args.mask_feather, args.mask_padding, args.show_mask)


def build_providers(options: MaskOptions, store: ModelStore | None = None, backend: str = "auto") -> list[Any]:
    """The mask providers ``options`` name; a model-backed mask whose model is not installed is a
    :class:`ModelError` naming the command that installs it."""
    from ghostlive.models.registry import BY_NAME
    from ghostlive.swappers.factory import missing_hint, open_model

    out: list[Any] = []
    for name in options.masks:
        feather = options.feather.get(name)
        if name in MESH_MASKS:
            out.append(RegionMask(name, feather))
        elif name == "box":
            out.append(BoxMask(options.padding, feather))
        elif name in MASK_MODELS:
            store = store or ModelStore()
            model = MASK_MODELS[name]
            filename = BY_NAME[model].filename
            if not store.has(filename):
                raise ModelError(
                    f"--mask {name} needs {filename}, which is not installed; run: {missing_hint(store, model)}"
                )
            out.append(_model_mask(name, open_model(store, filename, backend), options, feather))
        else:
            raise ConfigError(f"unknown mask {name!r}; choose from {', '.join(MASKS)}")
    return out


def _model_mask(name: str, runner: Any, options: MaskOptions, feather: float | None) -> Any:
    from ghostlive.masking.neural import OcclusionMask, ParserMask
    from ghostlive.models.masks import FaceParser, Occluder

    if name == "occlusion":
        return OcclusionMask(Occluder(runner), feather)
    return ParserMask(FaceParser(runner), options.regions, feather)
