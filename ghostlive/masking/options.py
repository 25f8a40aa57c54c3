"""Mask settings, their command-line options, and the providers they build."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ghostlive.errors import ConfigError, ModelError
from ghostlive.hub import ModelStore
from ghostlive.masking.mesh import MESH_MASKS, BoxMask, RegionMask
from ghostlive.models.masks import DEFAULT_REGIONS

MASK_MODELS = {"occlusion": "occluder", "parser": "parser"}
"""The registry model each model-backed mask needs."""
PROVIDERS: dict[str, Callable[[MaskOptions, float | None], Any]] = {
    **{name: lambda options, feather, name=name: RegionMask(name, feather) for name in MESH_MASKS},
    "box": lambda options, feather: BoxMask(options.padding, feather),
}
"""The model-free mask providers by ``--mask`` name: (options, edge σ override or None) → provider."""
MASKS: tuple[str, ...] = (*MASK_MODELS, *PROVIDERS)


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


def add_mask_options(p: argparse.ArgumentParser, context: str = "swap") -> None:
    """The mask options of ``swap``, ``live`` and ``bench`` (declared in :mod:`ghostlive.settings_swap`)."""
    from ghostlive.settings import add_arguments
    from ghostlive.settings_swap import MASKS_GROUP

    add_arguments(p, context, groups=(MASKS_GROUP,))


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
        if name in PROVIDERS:
            out.append(PROVIDERS[name](options, feather))
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
