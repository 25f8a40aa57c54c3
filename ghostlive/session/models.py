"""Model downloads, exports, engine builds and int8 decisions: the one implementation the CLI (``ghostlive
models download``, ``optimise``, ``export``, ``engines build``) and the session (the window's Download and
Build engines and Optimise for this CPU buttons) share.

Messages go to ``say`` (the CLI prints them, the session turns them into info events); nothing here prints.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ghostlive.errors import ConfigError, ModelError
from ghostlive.hub import ModelStore
from ghostlive.models.derived import export_source
from ghostlive.models.registry import BY_NAME, MODELS, fp16_name
from ghostlive.session.tasks import Report

log = logging.getLogger(__name__)
Say = Callable[[str], None]
DownloadProgress = Callable[[str, int, int | None], None]
"""``progress(model name, bytes done, bytes total or None)``."""


def _torch_export() -> Any:
    try:
        from ghostlive.export import onnx as exporter
    except ImportError as exc:
        raise ModelError(f"exporting needs PyTorch and onnx ({exc}); run: pip install 'ghostlive[torch]'") from None
    return exporter


def export_checkpoint(checkpoint: str | Path, output: str | Path, fp16: bool) -> Path:
    """Any GHOST/ArcFace ``.pth`` checkpoint to ONNX at ``output``."""
    return Path(_torch_export().export_checkpoint(checkpoint, output, "fp16" if fp16 else "fp32"))


def export_installed(store: ModelStore, name: str, fp16: bool, say: Say = log.info) -> Path:
    """Export an installed checkpoint into the model folder as ONNX (fp32: NAME.onnx, fp16: NAME-fp16.onnx)."""
    spec = BY_NAME.get(name)
    if spec is None or not spec.exports_to:
        raise ConfigError(
            f"{name!r} is not an exportable checkpoint; choose from "
            + ", ".join(m.name for m in MODELS if m.exports_to)
        )
    exporter = _torch_export()
    checkpoint = store.path(spec.filename)
    source = export_source(spec.filename, store.manifest()[spec.filename].sha256)  # which content it came from
    target = fp16_name(spec.exports_to) if fp16 else spec.exports_to
    store.staging.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=store.staging) as tmp:
        out = exporter.export_checkpoint(checkpoint, Path(tmp) / target, "fp16" if fp16 else "fp32")
        path = store.add_file(out, target, source, say=say)
    say(f"exported {name} → {path}")
    return path


def download_model(
    store: ModelStore,
    name: str,
    url: str | None = None,
    *,
    export: bool = True,
    progress: DownloadProgress | None = None,
    say: Say = log.info,
) -> list[Path]:
    """Download model ``name`` and everything its swapper uses (resumed; each file checked to be the model it
    names before it is installed, its SHA-256 recorded for later loads), then export checkpoints to ONNX unless
    ``export`` is False. ``url`` replaces the registry's address of ``name`` itself, and is refused when ``name``
    is installed already (remove it first: nothing is replaced behind the user's back). Returns the installed
    files, each also told to ``say`` as ``NAME: PATH``."""
    spec = BY_NAME[name]
    if url and store.has(spec.filename):
        raise ModelError(
            f"{name} is installed already ({store.root / spec.filename}), so --url was not used; to replace it, "
            f"run: ghostlive models remove {name}, then download it again"
        )
    paths = []
    for dep in (*spec.needs, spec.name):
        d = BY_NAME[dep]
        if not store.has(d.filename):
            if not d.url:
                raise ModelError(f"{d.filename} cannot be downloaded; run: ghostlive models import PATH")
            show = (lambda done, total, n=d.name: progress(n, done, total)) if progress else None
            store.download(d, url if dep == spec.name else None, progress=show, say=say)
        paths.append(store.root / d.filename)
        say(f"{d.name}: {paths[-1]}")
        if d.exports_to and export and not store.has(d.exports_to):
            say(f"exporting {dep} to ONNX")
            export_installed(store, dep, fp16=False, say=say)
    return paths


OPTIMISE_STEPS = 5
"""The messages of one int8 measurement at most (quantising and verdict of each of the two variants, then the
stored verdict): the length of its progress bar."""


def ghost_generator_file(store: ModelStore, name: str) -> Path | None:
    """The installed ONNX generator of swapper ``name`` (ghost-N, or a personal one made by ``ghostlive train
    finetune``); None for another swapper or one not installed."""
    from ghostlive.optimise import generator_files

    filename = generator_files(store).get(name)
    return store.root / filename if filename and store.has(filename) else None


def int8_line(store: ModelStore, name: str) -> str | None:
    """What ``--cpu-precision auto`` runs for the generator of swapper ``name`` on this machine, and why
    (``doctor``'s "GHOST int8 (CPU)" line); None when ``name`` has no installed GHOST generator."""
    from ghostlive.optimise import decision_line

    path = ghost_generator_file(store, name)
    return decision_line(path) if path is not None else None


def optimise_int8(
    store: ModelStore, name: str, runs: int = 9, say: Say = log.info, report: Report | None = None
) -> str:
    """Measure and store this machine's int8 decision for GHOST generator ``name``: ghost-N
    (:func:`ghostlive.optimise.optimise_generator`) or a personal one (the same measurement on its file);
    returns the verdict line. ``report(done, total, "")`` counts its messages (:data:`OPTIMISE_STEPS`)."""
    from ghostlive.optimise import GENERATORS, optimise_generator

    if report is not None:
        step = _counting(say, report)
        line = optimise_int8(store, name, runs, step)
        report(OPTIMISE_STEPS, OPTIMISE_STEPS, "")
        return line
    if name in GENERATORS:
        return optimise_generator(store, name, runs=runs, say=say).summary()
    path = ghost_generator_file(store, name)
    if path is None:
        raise ConfigError(
            f"int8 is measured for the GHOST generators ({', '.join(GENERATORS)}) and installed personal ones "
            f"(ghostlive train finetune), not {name!r}"
        )
    from ghostlive.optimise import optimise_file

    return optimise_file(store, name, path, runs=runs, say=say).summary()


def _counting(say: Say, report: Report) -> Say:
    said = [0]

    def step(message: str) -> None:
        said[0] += 1
        report(min(said[0], OPTIMISE_STEPS - 1), OPTIMISE_STEPS, "")
        say(message)

    return step


def build_engines(
    store: ModelStore,
    precision: str = "fp16",
    max_batch: int = 8,
    progress: Callable[[int, int, str], None] | None = None,
    say: Say = log.info,
) -> list[str]:
    """Build (or reuse) TensorRT engines for every installed ONNX model; ``progress(i, n, text)`` before each and
    at the end; returns the backend of each engine."""
    from ghostlive.engines.tensorrt import TensorRTRunner, require_tensorrt

    require_tensorrt()  # said once, with the install command, before any model is listed
    models = sorted(n for n in store.manifest() if n.endswith(".onnx"))
    if not models:
        raise ModelError("no ONNX models are installed; download a neural swapper first (see: ghostlive models list)")
    backends = []
    for i, name in enumerate(models):
        if progress:
            progress(i, len(models), f"building engine for {name}")
        say(f"[{i + 1}/{len(models)}] {name} ({precision})")
        runner = TensorRTRunner(
            store.path(name),
            store.root / "engines",
            precision=precision,
            batch=(1, 1, max(1, max_batch)),
            progress=lambda m: say(f"    {m}"),
        )
        backends.append(runner.info.backend)
        say(f"    ready: {runner.info.backend}")
    if progress:
        progress(len(models), len(models), "engines ready")
    return backends
