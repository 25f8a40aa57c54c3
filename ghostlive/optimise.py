"""The per-machine int8 decision for a GHOST generator (``ghostlive models optimise ghost-N``).

The installed fp32 generator is quantised to static int8 (:func:`ghostlive.engines.quantize.quantize_int8`),
calibrated on real aligned faces (the bundled portraits and their mirror images, each given another person's
identity). Both generators then swap the same faces and the int8 copy must keep identity: the installed GHOST
ArcFace's cosine of each int8 swap to the fp32 swap of the same face at least :data:`COSINE_BOUND` (the smallest
over the faces counts), and the mean absolute difference of each swapped 224 px crop from the fp32 one at most
:data:`ERROR_BOUND` grey levels. Then both are timed on this machine, alternately, and the verdict is stored
beside the model (:class:`ghostlive.engines.int8.Int8Store`); ``--cpu-precision auto`` reads it when the
generator is opened on ONNX Runtime's CPU backend.

Explicit rather than on first use: quantising and calibrating take tens of seconds to minutes on a laptop CPU
(ghost-2: about a minute on 2 busy cores), and timing competes with whatever runs; a live session's first frame
must not wait for that, nor should its timings be taken while it runs.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ghostlive.engines.cache import machine_id, onnx_digest
from ghostlive.engines.int8 import Int8Decision, Int8Store, ort_version
from ghostlive.engines.quantize import reduced_range
from ghostlive.errors import ConfigError, ModelError
from ghostlive.hub import ModelStore
from ghostlive.models.ghost import GhostArcFace, GhostGenerator
from ghostlive.models.registry import BY_NAME
from ghostlive.types import Frame

log = logging.getLogger(__name__)
Say = Callable[[str], None]

COSINE_BOUND = 0.98
"""The issue's identity bar: ArcFace cosine of the int8 swap to the fp32 swap, smallest over the real faces."""
ERROR_BOUND = 4.0
"""Largest mean absolute difference (grey levels 0–255) of an int8 swapped crop from the fp32 one: a bound on
visible change beyond identity (colour casts, blotches): about what one JPEG re-save at quality 75 changes in
these crops (2.3–4.4 levels mean; quality 90: 1.7–2.8)."""
GENERATORS = ("ghost-1", "ghost-2", "ghost-3")


def aligned_faces() -> list[Frame]:
    """GHOST-aligned 224 px crops of the bundled portraits and their mirror images (real faces)."""
    from ghostlive.faces import FaceAnalyzer, asset_path
    from ghostlive.media.image import read_image
    from ghostlive.models.ghost import CROP
    from ghostlive.ops.align import norm_crop

    analyzer = FaceAnalyzer(tile_levels=0)
    crops = []
    for name in ("samples/astronaut.png", "samples/grace_hopper.jpg"):
        image = read_image(asset_path(name)).bgr
        for img in (image, np.ascontiguousarray(image[:, ::-1])):
            face = max(analyzer.analyze(img), key=lambda f: f.detection.area)
            crops.append(norm_crop(img, face.keypoints5, CROP, "ghost")[0])
    return crops


def generator_inputs(gen: GhostGenerator, crop: Frame, identity: np.ndarray) -> dict[str, np.ndarray]:
    """The generator's input dict for one crop, exactly as :meth:`GhostGenerator.swap` feeds it."""
    from ghostlive.models.ghost import GEN_SIZE, bgr_to_signed_nchw
    from ghostlive.ops.filters import resize

    specs = gen.runner.info.inputs
    target = next((s.name for s in specs if len(s.shape) == 4), specs[0].name)
    source = next(s.name for s in specs if s.name != target)
    big = bgr_to_signed_nchw(resize(crop, (GEN_SIZE, GEN_SIZE))[None])
    return {target: np.ascontiguousarray(big), source: identity.reshape(1, 512).astype(np.float32)}


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12))


def identity_check(
    fp32: GhostGenerator, int8: GhostGenerator, arcface: GhostArcFace, swaps: list[tuple[Frame, np.ndarray]]
) -> tuple[list[float], list[float]]:
    """Per swap: ArcFace cosine of the int8 output to the fp32 output, and their mean absolute difference."""
    cosines, errors = [], []
    for crop, ident in swaps:
        a, b = (g.swap(crop[None], ident)[0] for g in (fp32, int8))
        ea, eb = (arcface.embed_one(np.clip(x, 0, 255).astype(np.uint8)) for x in (a, b))
        cosines.append(cosine(ea, eb))
        errors.append(float(np.abs(a - b).mean()))
    return cosines, errors


def alternate_ms(
    gens: list[GhostGenerator], crop: Frame, identity: np.ndarray, runs: int
) -> tuple[list[float], list[float]]:
    """Median wall and process-CPU ms per face of each generator, timed in turn (fp32, int8, fp32, …) so that a
    busy machine's load falls on both alike."""
    wall: list[list[float]] = [[] for _ in gens]
    cpu: list[list[float]] = [[] for _ in gens]
    for g in gens:
        g.swap(crop[None], identity)  # warm-up
    for _ in range(runs):
        for i, g in enumerate(gens):
            t0, c0 = time.perf_counter(), time.process_time()
            g.swap(crop[None], identity)
            wall[i].append((time.perf_counter() - t0) * 1000.0)
            cpu[i].append((time.process_time() - c0) * 1000.0)
    return [statistics.median(t) for t in wall], [statistics.median(t) for t in cpu]


BLEND_OPS = ("Conv", "Gemm", "MatMul", "Add", "Mul", "Sigmoid", "LeakyRelu", "Relu", "Concat", "Resize")
"""Quantised in the first variant (with DepthToSpace and Slice of the rewritten transposed convolutions)."""
CANDIDATES: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("convolutions and the AAD blend", (*BLEND_OPS, "DepthToSpace", "Slice")),
    ("convolutions and matrix products only", ("Conv", "ConvTranspose", "Gemm", "MatMul")),
)
"""The int8 variants tried in turn, fastest first; the first that keeps identity is kept. The first leaves only
the normalisations (InstanceNormalization, BatchNormalization), Sub and the final Tanh in float; the second also
keeps the AAD blocks' blending in float, closer to fp32 but slower (see the README's int8 section). Quantising
every operator ONNX Runtime can (the normalisations too) was slower than the first on untrained GHOST-2 (128 ms
against 120 per face, same run) at the same error."""


@dataclass(frozen=True)
class Int8Trials:
    """What :func:`measure_int8` found: each variant tried, in order, with its verdict."""

    tried: tuple[tuple[str, Int8Decision], ...]
    path: Path
    """The int8 model of the last variant tried (the kept one, when one kept identity)."""

    @property
    def decision(self) -> Int8Decision:
        """The last verdict: the first variant that kept identity, else the last refused."""
        return self.tried[-1][1]


def measure_int8(
    fp32_path: Path,
    arcface_path: Path,
    work: Path,
    *,
    runs: int = 9,
    cosine_bound: float = COSINE_BOUND,
    error_bound: float = ERROR_BOUND,
    say: Say = log.info,
) -> Int8Trials:
    """Quantise ``fp32_path`` into the folder ``work`` (each of :data:`CANDIDATES` until one keeps identity),
    judge and time each (see the module)."""
    from ghostlive.engines.ort import OrtRunner

    arcface = GhostArcFace(OrtRunner(arcface_path))
    fp32 = GhostGenerator(OrtRunner(fp32_path))
    crops = aligned_faces()
    idents = [arcface.embed_one(c) for c in crops]
    swaps = [(c, idents[(i + 2) % len(crops)]) for i, c in enumerate(crops)]  # each face gets the other person
    base = Int8Decision(
        model_sha256=onnx_digest(fp32_path), ort_version=ort_version(), machine=machine_id(),
        source_size=fp32_path.stat().st_size, source_mtime_ns=fp32_path.stat().st_mtime_ns, int8_sha256="",
        ops="", faces=len(swaps), min_cosine=0.0, cosine_bound=cosine_bound, max_error=0.0,
        error_bound=error_bound, fp32_ms=0.0, int8_ms=0.0, fp32_cpu_ms=0.0, int8_cpu_ms=0.0,
        arcface=f"{arcface_path.name} {onnx_digest(arcface_path)[:12]}",
    )  # fmt: skip
    tried: list[tuple[str, Int8Decision]] = []
    bits = "; weights in 7 bits: no VNNI on this CPU" if reduced_range() else ""
    for i, (label, ops) in enumerate(CANDIDATES):
        say(f"quantising {fp32_path.name} to int8 ({label}{bits}), calibrated on {len(swaps)} real aligned faces")
        path = work / f"{fp32_path.stem}.int8.{i}.onnx"
        verdict = _judge(base, (fp32_path, fp32), (path, ops), arcface, swaps, runs)
        tried.append((label, verdict))
        say(f"  {label}: {verdict.summary()}")
        if verdict.identity_kept:
            break
    return Int8Trials(tuple(tried), path)


def _judge(
    base: Int8Decision,
    reference: tuple[Path, GhostGenerator],
    variant: tuple[Path, tuple[str, ...] | None],
    arcface: GhostArcFace,
    swaps: list[tuple[Frame, np.ndarray]],
    runs: int,
) -> Int8Decision:
    """One int8 variant (written to its path, quantising its operators) checked on ``swaps`` and timed against
    the fp32 ``reference``."""
    from ghostlive.engines.ort import OrtRunner
    from ghostlive.engines.quantize import quantize_int8

    (source, fp32), (path, ops) = reference, variant
    samples = (generator_inputs(fp32, c, e) for c, e in swaps)
    int8 = GhostGenerator(OrtRunner(quantize_int8(source, path, samples, op_types=ops)))
    cosines, errors = identity_check(fp32, int8, arcface, swaps)
    (ms32, ms8), (cpu32, cpu8) = alternate_ms([fp32, int8], *swaps[0], runs)
    return replace(
        base, int8_sha256=onnx_digest(path), ops=", ".join(ops) if ops else "all",
        min_cosine=round(min(cosines), 5), max_error=round(max(errors), 4), fp32_ms=round(ms32, 2),
        int8_ms=round(ms8, 2), fp32_cpu_ms=round(cpu32, 2), int8_cpu_ms=round(cpu8, 2),
    )  # fmt: skip


def optimise_generator(
    store: ModelStore,
    name: str,
    *,
    runs: int = 9,
    cosine_bound: float = COSINE_BOUND,
    error_bound: float = ERROR_BOUND,
    say: Say = log.info,
) -> Int8Decision:
    """Measure and store this machine's int8 decision for the installed generator ``name`` (see the module).
    Refused without the installed GHOST ArcFace: identity cannot be checked without it."""
    if name not in GENERATORS:
        raise ConfigError(f"int8 is measured for the GHOST generators ({', '.join(GENERATORS)}), not {name!r}")
    gen_file = BY_NAME[name].exports_to
    if not store.has(gen_file):
        missing = "is not exported to ONNX" if store.has(BY_NAME[name].filename) else "is not installed"
        raise ModelError(f"{name} {missing} ({gen_file}); run: {store.install_hint(gen_file)}")
    return optimise_file(
        store, name, store.path(gen_file), runs=runs, cosine_bound=cosine_bound, error_bound=error_bound, say=say
    )


def optimise_file(
    store: ModelStore,
    name: str,
    fp32_path: Path,
    *,
    runs: int = 9,
    cosine_bound: float = COSINE_BOUND,
    error_bound: float = ERROR_BOUND,
    say: Say = log.info,
) -> Int8Decision:
    """:func:`optimise_generator` for the generator file ``fp32_path`` of swapper ``name`` (ghost-N or a personal
    one), judged with ``store``'s GHOST ArcFace; the decision is stored beside the file."""
    arc_file = BY_NAME["ghost-arcface"].exports_to
    if not store.has(arc_file):
        raise ModelError(
            f"int8 is not offered without the GHOST ArcFace ({arc_file}) to check that identity is kept; "
            f"run: {store.install_hint(arc_file)}"
        )
    cache = Int8Store(fp32_path.parent / "engines")
    cache.root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache.root, prefix=".int8-") as tmp:  # removed on any failure
        trials = measure_int8(
            fp32_path, store.path(arc_file), Path(tmp), runs=runs, cosine_bound=cosine_bound,
            error_bound=error_bound, say=say,
        )  # fmt: skip
        decision = cache.save(fp32_path, trials.decision, trials.path)
    say(f"{name}: {decision.summary()}")
    return decision


def generator_files(store: ModelStore) -> dict[str, str]:
    """Swapper name → generator file name for every GHOST generator int8 is measured for: ghost-N and the
    personal ones made by ``ghostlive train finetune`` (installed or not)."""
    from ghostlive.models.personal import personal_models

    files = {name: BY_NAME[name].exports_to for name in GENERATORS}
    files.update((n, e.generator) for n, e in personal_models(store).items() if n not in BY_NAME)
    return files


def int8_status(store: ModelStore | None = None) -> tuple[str, str, str]:
    """``doctor``'s view of the int8 decisions of the installed GHOST generators (ghost-N and personal ones) on
    this machine: (status 'ok' or 'warn', detail, fix)."""
    from ghostlive.hub import check_models_folder, has_models_folder

    if store is None and not has_models_folder():
        try:
            check_models_folder()  # GHOSTLIVE_HOME naming a file is a finding, not "nothing installed"
        except ConfigError as exc:
            return "warn", str(exc), ""
        return "ok", "no GHOST generator installed", ""
    store = store or ModelStore()
    parts, todo = [], []
    for name, filename in generator_files(store).items():
        if not filename or not store.has(filename):
            continue
        line = decision_line(store.root / filename)
        parts.append(f"{name}: {line}")
        if line.startswith("fp32 (int8"):
            todo.append(f"ghostlive models optimise {name}")
    if not parts:
        return "ok", "no GHOST generator installed", ""
    return ("warn" if todo else "ok"), "; ".join(parts), " && ".join(todo)


def decision_line(model: Path) -> str:
    """What ``--cpu-precision auto`` runs for ``model`` on this machine, and why, in one line."""
    cache = Int8Store(model.parent / "engines")
    found = cache.lookup(model, ort_version())
    if found is not None:
        return found.summary()
    why = "measured for another model file, ONNX Runtime or CPU" if cache.read(model) else "not measured here"
    return f"fp32 (int8 {why})"
