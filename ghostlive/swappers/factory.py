"""Build a swapper by name from the installed models, or say exactly which command installs what is missing."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ghostlive.engines.base import Runner
from ghostlive.engines.registry import backend_order, open_runner
from ghostlive.errors import ConfigError, ModelError
from ghostlive.hub import ModelStore
from ghostlive.models.registry import BY_NAME, KEYPOINT_DETECTORS, SWAPPERS
from ghostlive.models.scrfd import SCRFD
from ghostlive.registry import Registry
from ghostlive.swappers.base import Swapper
from ghostlive.swappers.classic import ClassicOptions, ClassicSwapper

log = logging.getLogger(__name__)
_warned: set[str] = set()

GHOST_DETECTION_SCORE = 0.6
"""GHOST's face detector threshold (``det_thresh``); insightface's own default, used for inswapper, is 0.5."""


def keypoint_detector(swapper: str, store: ModelStore, backend: str = "auto", *, warn: bool = True) -> SCRFD | None:
    """The SCRFD detector ``swapper`` was trained with, when one is installed (the classic swapper: any installed
    SCRFD); otherwise None, with a warning for the neural swappers (once per swapper) saying what is used instead
    and what that costs."""
    family = "ghost" if swapper.startswith("ghost-") else swapper
    names = KEYPOINT_DETECTORS.get(family, KEYPOINT_DETECTORS["ghost"])
    for name in names:
        if store.has(BY_NAME[name].filename):
            score = GHOST_DETECTION_SCORE if family == "ghost" else 0.5
            return SCRFD(_runner(str(store.path(BY_NAME[name].filename)), backend), min_score=score)
    if warn and family in KEYPOINT_DETECTORS and swapper not in _warned:
        _warned.add(swapper)
        log.warning(
            "%s was trained on faces aligned with SCRFD's five keypoints, and no SCRFD model is installed: "
            "five points derived from the face mesh are used instead, which frame the crop about 6 px (up to 10) "
            "off at 224 px (the mesh nose sits lower and the mouth corners higher than SCRFD's); a calibrated "
            "mapping cannot be made without SCRFD outputs. Install it with: ghostlive models download %s",
            swapper,
            names[0],
        )
    return None


def missing_hint(store: ModelStore, name: str) -> str:
    """The command(s) that make model ``name`` and what it needs usable."""
    steps = []
    for dep in (*BY_NAME[name].needs, name):
        d = BY_NAME[dep]
        if not store.has(d.filename):
            # downloading the main model fetches what it needs (inswapper: its helpers, the model is imported)
            via = name if BY_NAME[name].url or BY_NAME[name].needs else dep
            steps.append(f"ghostlive models download {via}" if d.url else f"ghostlive models import {d.filename}")
        elif d.exports_to and not store.has(d.exports_to):
            steps.append(f"ghostlive export {dep}")
    return " && ".join(dict.fromkeys(steps))


def swapper_problem(store: ModelStore, name: str) -> str:
    """Why swapper ``name`` cannot run with the models installed in ``store`` ('' when it can, as far as a look
    without hashing tells): the commands installing what is missing, a file changed since it was installed, or
    a name that is neither built in nor a personal swapper here (one removed meanwhile)."""
    from ghostlive.models.personal import personal_models

    if name == "classic":
        return ""
    if name in BY_NAME:
        hint = missing_hint(store, name)
        if hint:
            return f"missing — {hint}"
        used = [d.exports_to or d.filename for d in (BY_NAME[dep] for dep in (*BY_NAME[name].needs, name))]
    else:
        entry = personal_models(store).get(name)
        if entry is None:
            return "no such swapper here (removed?); see: ghostlive models list"
        arcface = BY_NAME["ghost-arcface"].exports_to
        if not store.has(arcface):
            return f"missing — {missing_hint(store, 'ghost-arcface')}"
        if store.state(entry.generator) in ("missing", ""):
            return f"{entry.generator} is missing: ghostlive models remove {name}, then fine-tune it again"
        used = [entry.generator, arcface]
    changed = [f for f in used if store.state(f) == "changed"]
    return f"{', '.join(changed)} changed since installed: re-install (ghostlive models verify)" if changed else ""


def _require(store: ModelStore, swapper: str, model: str, filename: str) -> str:
    if not store.has(filename):
        raise ModelError(
            f"the {swapper} swapper needs {filename}, which is not installed; run: {missing_hint(store, model)}"
        )
    return str(store.path(filename))


def _runner(
    path: str, backend: str, torch_factory: Callable[[str], Runner] | None = None, cpu_precision: str = "fp32"
) -> Runner:
    return open_runner(path, prefer=backend_order(backend), torch_factory=torch_factory, cpu_precision=cpu_precision)


def open_model(store: ModelStore, filename: str, backend: str = "auto") -> Runner:
    """A runner for the installed ONNX model ``filename`` on ``backend`` (auto: the fastest available)."""
    return _runner(str(store.path(filename)), backend)


def ghost_torch_factory(store: ModelStore, name: str) -> Callable[[str], Runner] | None:
    """A factory of torch runners from the installed checkpoint (the torch backend), when torch is present."""
    spec = BY_NAME[name]
    if not store.has(spec.filename):
        return None

    def make(device: str) -> Runner:
        from ghostlive.engines.base import TensorSpec
        from ghostlive.engines.torch_runner import TorchRunner
        from ghostlive.export.checkpoint import load_into
        from ghostlive.export.onnx import model_for_checkpoint

        path = store.path(spec.filename)
        _, model = model_for_checkpoint(path)
        load_into(model, path)
        if name == "ghost-arcface":
            return TorchRunner(
                model,
                [TensorSpec("input", (None, 3, 112, 112), "float32")],
                TensorSpec("embedding", (None, 512), "float32"),
                device=device,
                name=name,
            )
        return TorchRunner(
            model,
            [TensorSpec("target", (None, 3, 256, 256), "float32"), TensorSpec("source", (None, 512), "float32")],
            TensorSpec("output", (None, 3, 256, 256), "float32"),
            device=device,
            half=True,
            name=name,
        )

    return make


def _classic(
    name: str, store: ModelStore, classic: ClassicOptions | None, backend: str, cpu_precision: str = "auto"
) -> Swapper:
    return ClassicSwapper(classic)


def _ghost(
    name: str, store: ModelStore, classic: ClassicOptions | None, backend: str, cpu_precision: str = "auto"
) -> Swapper:
    from ghostlive.models.ghost import GhostArcFace, GhostGenerator
    from ghostlive.models.landmark106 import Landmark106
    from ghostlive.swappers.neural import GhostSwapper

    gen = _require(store, name, name, BY_NAME[name].exports_to)
    arc = _require(store, name, "ghost-arcface", BY_NAME["ghost-arcface"].exports_to)
    lm = Landmark106(_runner(str(store.path("2d106det.onnx")), backend)) if store.has("2d106det.onnx") else None
    return GhostSwapper(
        name,
        GhostGenerator(_runner(gen, backend, ghost_torch_factory(store, name), cpu_precision)),
        GhostArcFace(_runner(arc, backend, ghost_torch_factory(store, "ghost-arcface"))),
        lm,
    )


def _inswapper(
    name: str, store: ModelStore, classic: ClassicOptions | None, backend: str, cpu_precision: str = "auto"
) -> Swapper:
    from ghostlive.models.insightface import InsightArcFace, InSwapper
    from ghostlive.swappers.neural import InSwapperSwapper

    model = _require(store, name, "inswapper", BY_NAME["inswapper"].filename)
    arc = _require(store, name, "w600k", BY_NAME["w600k"].filename)
    return InSwapperSwapper(
        InSwapper(_runner(model, backend), InSwapper.read_emap(model)), InsightArcFace(_runner(arc, backend))
    )


def _installed(*names: str) -> Callable[[ModelStore], bool]:
    def check(store: ModelStore) -> bool:
        return all(store.has(BY_NAME[n].exports_to or BY_NAME[n].filename) for n in names)

    return check


SWAPPER_REGISTRY: Registry[Swapper] = Registry("swapper")
"""The built-in swappers by name (``factory(name, store, classic_options, backend, cpu_precision)``), in the order of
:data:`ghostlive.models.registry.SWAPPERS`; personal fine-tuned models are looked up after them."""
SWAPPER_REGISTRY.register("classic", _classic, help="the built-in mesh swapper (no download)")
for _name in SWAPPERS[1:]:
    if _name.startswith("ghost-"):
        SWAPPER_REGISTRY.register(_name, _ghost, installed=_installed(_name, "ghost-arcface"), help="GHOST AEI-Net")
SWAPPER_REGISTRY.register("inswapper", _inswapper, installed=_installed("inswapper", "w600k"), help="inswapper_128")
if SWAPPER_REGISTRY.names() != SWAPPERS:  # a swapper added to the model list needs its factory here
    raise ImportError(f"swapper factories {SWAPPER_REGISTRY.names()} differ from the model list {SWAPPERS}")


def swapper_names(store: ModelStore | None = None) -> list[str]:
    """The registered swappers followed by the personal ones installed (the ``--swapper`` choices)."""
    from ghostlive.models.personal import personal_models

    try:
        return [*SWAPPER_REGISTRY.names(), *sorted(personal_models(store))]
    except ConfigError:
        return list(SWAPPER_REGISTRY.names())


def build_swapper(
    name: str,
    store: ModelStore | None = None,
    classic: ClassicOptions | None = None,
    backend: str = "auto",
    cpu_precision: str = "auto",
) -> Swapper:
    """A ready swapper: ``classic`` needs nothing; ``ghost-N`` and ``inswapper`` need installed models; other
    names are personal models (``ghostlive train finetune``); an unknown name is a ConfigError listing the known.
    ``backend``: auto (TensorRT → ORT CUDA → torch CUDA → ORT CPU) or one of them; ``cpu_precision``: the GHOST
    generator's on ORT CPU (auto: int8 where this machine's stored decision says so, see
    :mod:`ghostlive.engines.int8`; fp32; int8)."""
    if name == "classic":
        return ClassicSwapper(classic)
    store = store or ModelStore()
    if name in SWAPPER_REGISTRY:
        return SWAPPER_REGISTRY.create(name, name, store, classic, backend, cpu_precision)
    return _personal(name, store, backend, cpu_precision)


def _personal(name: str, store: ModelStore, backend: str, cpu_precision: str = "auto") -> Swapper:
    """A generator fine-tuned by ``ghostlive train finetune`` (see :mod:`ghostlive.models.personal`)."""
    from ghostlive.models.ghost import GhostArcFace, GhostGenerator
    from ghostlive.models.landmark106 import Landmark106
    from ghostlive.models.personal import personal_models
    from ghostlive.swappers.neural import GhostSwapper

    entry = personal_models(store).get(name)
    if entry is None:
        raise ConfigError(
            f"unknown swapper {name!r}; choose from {', '.join(SWAPPER_REGISTRY.names())} or a personal model made "
            f"with: ghostlive train finetune --person PHOTOS -o {name}"
        )
    arc = _require(store, name, "ghost-arcface", BY_NAME["ghost-arcface"].exports_to)
    lm = Landmark106(_runner(str(store.path("2d106det.onnx")), backend)) if store.has("2d106det.onnx") else None
    generator = GhostGenerator(_runner(str(store.path(entry.generator)), backend, None, cpu_precision))
    identity = GhostArcFace(_runner(arc, backend, ghost_torch_factory(store, "ghost-arcface")))
    return GhostSwapper(name, generator, identity, lm)
