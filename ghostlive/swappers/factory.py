"""Build a swapper by name from the installed models, or say exactly which command installs what is missing."""

from __future__ import annotations

from ghostlive.engines.ort import open_onnx
from ghostlive.errors import ConfigError, ModelError
from ghostlive.hub import ModelStore
from ghostlive.models.registry import BY_NAME, SWAPPERS
from ghostlive.swappers.base import Swapper
from ghostlive.swappers.classic import ClassicOptions, ClassicSwapper


def missing_hint(store: ModelStore, name: str) -> str:
    """The command(s) that make model ``name`` and what it needs usable."""
    steps = []
    for dep in (*BY_NAME[name].needs, name):
        d = BY_NAME[dep]
        if not store.has(d.filename):
            via = name if BY_NAME[name].url else dep  # downloading the main model fetches what it needs
            steps.append(f"ghostlive models download {via}" if d.url else f"ghostlive models import {d.filename}")
        elif d.exports_to and not store.has(d.exports_to):
            steps.append(f"ghostlive export {dep}")
    return " && ".join(dict.fromkeys(steps))


def _require(store: ModelStore, swapper: str, model: str, filename: str) -> str:
    if not store.has(filename):
        raise ModelError(
            f"the {swapper} swapper needs {filename}, which is not installed; run: {missing_hint(store, model)}"
        )
    return str(store.path(filename))


def build_swapper(name: str, store: ModelStore | None = None, classic: ClassicOptions | None = None) -> Swapper:
    """A ready swapper: ``classic`` needs nothing; ``ghost-N`` and ``inswapper`` need installed models."""
    if name not in SWAPPERS:
        raise ConfigError(f"unknown swapper {name!r}; choose from {', '.join(SWAPPERS)}")
    if name == "classic":
        return ClassicSwapper(classic)
    store = store or ModelStore()
    if name.startswith("ghost-"):
        from ghostlive.models.ghost import GhostArcFace, GhostGenerator
        from ghostlive.models.landmark106 import Landmark106
        from ghostlive.swappers.neural import GhostSwapper

        gen = _require(store, name, name, BY_NAME[name].exports_to)
        arc = _require(store, name, "ghost-arcface", BY_NAME["ghost-arcface"].exports_to)
        lm = Landmark106(open_onnx(store.path("2d106det.onnx"))) if store.has("2d106det.onnx") else None
        return GhostSwapper(name, GhostGenerator(open_onnx(gen)), GhostArcFace(open_onnx(arc)), lm)
    from ghostlive.models.insightface import InsightArcFace, InSwapper
    from ghostlive.swappers.neural import InSwapperSwapper

    model = _require(store, name, "inswapper", BY_NAME["inswapper"].filename)
    arc = _require(store, name, "w600k", BY_NAME["w600k"].filename)
    return InSwapperSwapper(InSwapper(open_onnx(model), InSwapper.read_emap(model)), InsightArcFace(open_onnx(arc)))
