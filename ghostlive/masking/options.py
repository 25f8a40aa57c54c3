"""Mask settings, their command-line options, and the providers they build."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from ghostlive.errors import ModelError
from ghostlive.hub import ModelStore
from ghostlive.masking.mesh import MESH_MASKS, BoxMask, RegionMask
from ghostlive.models.masks import DEFAULT_REGIONS
from ghostlive.registry import Registry

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


def mask_options(args: argparse.Namespace) -> MaskOptions:
    """The :class:`MaskOptions` of parsed command-line ``args``."""
    return MaskOptions(args.mask, args.regions, args.mask_feather, args.mask_padding, args.show_mask)


def build_providers(options: MaskOptions, store: ModelStore | None = None, backend: str = "auto") -> list[Any]:
    """The mask providers ``options`` name; a model-backed mask whose model is not installed is a
    :class:`ModelError` naming the command that installs it; an unknown name lists the known ones."""
    return [MASK_REGISTRY.create(n, options, options.feather.get(n), store, backend) for n in options.masks]


def _model_mask(name: str) -> Any:
    def make(options: MaskOptions, feather: float | None, store: ModelStore | None, backend: str) -> Any:
        from ghostlive.masking.neural import OcclusionMask, ParserMask
        from ghostlive.models.masks import FaceParser, Occluder
        from ghostlive.models.registry import BY_NAME
        from ghostlive.swappers.factory import missing_hint, open_model

        store = store or ModelStore()
        model = MASK_MODELS[name]
        filename = BY_NAME[model].filename
        if not store.has(filename):
            raise ModelError(
                f"--mask {name} needs {filename}, which is not installed; run: {missing_hint(store, model)}"
            )
        runner = open_model(store, filename, backend)
        if name == "occlusion":
            return OcclusionMask(Occluder(runner), feather)
        return ParserMask(FaceParser(runner), options.regions, feather)

    return make


def _region(name: str) -> Any:
    return lambda options, feather, store, backend: RegionMask(name, feather)


MASK_REGISTRY: Registry[Any] = Registry("mask")
"""Mask providers by name: ``factory(options, feather, store, backend)``. A new mask is one module with a provider
(see :mod:`ghostlive.masking.combine`) plus one ``MASK_REGISTRY.register`` line here."""
MASK_REGISTRY.register("occlusion", _model_mask("occlusion"), help="keeps hands etc. in front of the face (occluder)")
MASK_REGISTRY.register("parser", _model_mask("parser"), help="swaps only --regions (face parser model)")
for _name in MESH_MASKS:
    MASK_REGISTRY.register(_name, _region(_name), help=f"keeps the target's own {_name}")
MASK_REGISTRY.register("box", lambda options, feather, store, backend: BoxMask(options.padding, feather), help="box")
MASKS: tuple[str, ...] = MASK_REGISTRY.names()
