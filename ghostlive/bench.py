"""``ghostlive bench``: per-stage milliseconds and frames per second on real photos."""

from __future__ import annotations

import argparse
import contextlib
import logging
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ghostlive.bench_live import bench_live, check_record_paths
from ghostlive.bench_video import bench_video, fit_frame
from ghostlive.engines.cache import cpu_info
from ghostlive.engines.registry import BACKENDS, backend_order
from ghostlive.errors import BackendUnavailableError, ConfigError, ModelError
from ghostlive.faces import FaceAnalyzer, asset_path
from ghostlive.hub import ModelStore
from ghostlive.media.image import read_image
from ghostlive.models.registry import BY_NAME
from ghostlive.pipeline import FrameProcessor
from ghostlive.pipeline.frame import STAGES, FrameDevice
from ghostlive.stage_cli import bench_stages, with_bench_stages
from ghostlive.swappers.base import Swapper
from ghostlive.swappers.factory import build_swapper, ghost_torch_factory
from ghostlive.threads import apply_plan, available_cores, plan_threads
from ghostlive.types import Frame
from ghostlive.xp import device_memory_used_mb, portable

log = logging.getLogger(__name__)


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``"640x480,1280x720"`` → [(640, 480), (1280, 720)]."""
    sizes = []
    for item in text.split(","):
        try:
            w, h = (int(v) for v in item.lower().split("x"))
        except ValueError:
            raise ConfigError(f"frame size {item!r} is not WIDTHxHEIGHT") from None
        if not (32 <= w <= 8192 and 32 <= h <= 8192):
            raise ConfigError(f"frame size {item!r} is outside 32..8192")
        sizes.append((w, h))
    return sizes


def run_bench(args: argparse.Namespace) -> int:
    if getattr(args, "train", False):
        from ghostlive.train_cli import bench_train_report

        return bench_train_report(args)
    sizes = parse_sizes(args.sizes)
    if args.frames < 1:
        raise ConfigError("--frames must be at least 1")
    if (args.save or args.compare) and not args.live:
        raise ConfigError("--save and --compare record the live loop: add --live")
    if args.int8 and not args.generator:
        raise ConfigError("--int8 quantises a GHOST generator: add --generator ghost-N")
    previous = check_record_paths(args.save, args.compare)
    print(apply_plan(plan_threads("photo", ort_threads=args.threads)).line())
    with tempfile.TemporaryDirectory() as tmp:
        bench_frames(args, sizes, tmp)
        if args.generator:
            batches = [int(b) for b in args.batches.split(",")]
            bench_generator(args.generator, batches, max(1, args.runs), args.backend, tmp)
            if args.int8:
                from ghostlive.bench_int8 import bench_int8

                bench_int8(args.generator, max(1, args.runs), tmp, *_swapper_store(args.generator, tmp))
    if args.live:
        plan = apply_plan(plan_threads("live", ort_threads=args.threads))
        bench_live(sizes, args.live_seconds, plan, save=args.save, compare=args.compare, previous=previous)
    if args.video:
        bench_video([int(n) for n in args.video.split(",")], args.threads)
    return 0


def _backends(choice: str) -> list[str]:
    """``all`` → every backend in the automatic order plus torch on the CPU; otherwise just ``choice``."""
    return [*BACKENDS, "torch-cpu"] if choice == "all" else [choice]


def bench_frames(args: argparse.Namespace, sizes: list[tuple[int, int]], tmp: str) -> None:
    """Per-stage median ms, end-to-end ms and fps of the photo pipeline, per backend and frame size."""
    source = read_image(asset_path("samples/grace_hopper.jpg")).bgr
    photo = read_image(asset_path("samples/astronaut.png")).bgr
    analyzer = FaceAnalyzer(threads=args.threads, tile_levels=args.tiles)
    store, origin = (None, "built in") if args.swapper == "classic" else _swapper_store(args.swapper, tmp)
    portable_run = args.device == "portable"
    classic = args.swapper == "classic"
    host_first, attempts = _attempts(args.swapper, store, ["auto"] if classic else _backends(args.backend))
    device = FrameDevice("cpu" if portable_run else args.device, host_first=host_first)
    where = "numpy through the GPU code path (portable)" if portable_run else device.name
    print(
        f"ghostlive bench: {args.swapper} swapper ({origin}), frames on {where}, "
        f"{cpu_info()[0]} ({available_cores()} cores), small-face tiles {'on' if args.tiles else 'off'}, "
        f"{args.frames} frames per size (median ms; CPU ms: all threads of this process)"
    )
    if classic and args.backend != "auto":
        print(f"--backend {args.backend}: the classic swapper has no network to run on a backend (its face models run "
              "on ONNX Runtime's CPU); backends apply to --swapper ghost-N and inswapper")
    stages = (*STAGES, *bench_stages(args))
    header = f"{'backend':>22} {'frame':>10} {'faces':>5} " + " ".join(f"{s:>9}" for s in stages)
    print(header + f" {'total':>8} {'fps':>7} {'GPU MB':>7} {'CPU ms':>7}")
    for backend, swapper in attempts:
        if isinstance(swapper, BackendUnavailableError):
            _unavailable(backend, swapper)
            continue
        label = _backend_label(swapper, backend)
        swapper = with_bench_stages(swapper, args, backend)
        with portable() if portable_run else contextlib.nullcontext():
            pipe = FrameProcessor(analyzer, swapper, device=device)
            pipe.set_source(source)
            for size in sizes:
                _time_size(pipe, fit_frame(photo, size), size, args.frames, label, stages)
        if device.fell_back:
            print(f"{'':>22} the GPU path failed and the run moved to the CPU: {device.fell_back}")


Built = tuple[str, Swapper | BackendUnavailableError]


def _attempts(name: str, store: ModelStore | None, backends: list[str]) -> tuple[bool, Iterator[Built]]:
    """The first built swapper's ``host_frames`` (where ``--device auto`` puts frames, as for a job), and every
    attempt in order: the swappers up to that one are built already, the others when reached."""

    def build(backend: str) -> Swapper | BackendUnavailableError:
        try:
            return build_swapper(name, store, backend=backend)
        except BackendUnavailableError as exc:
            return exc

    built = ((b, build(b)) for b in backends)
    taken: list[Built] = []
    for item in built:
        taken.append(item)
        if not isinstance(item[1], BackendUnavailableError):
            break
    host_first = bool(getattr(taken[-1][1], "host_frames", False)) if taken else False

    def replay() -> Iterator[Built]:
        while taken:  # handed over, not kept: one swapper is held at a time
            yield taken.pop(0)
        yield from built

    return host_first, replay()


def _time_size(
    pipe: FrameProcessor, frame: Frame, size: tuple[int, int], frames: int, label: str, stages: tuple[str, ...] = STAGES
) -> None:
    pipe.process(frame)  # warm-up (engine/kernel caches, first allocations)
    per_stage: dict[str, list[float]] = {s: [] for s in stages}
    totals, cpu = [], []
    faces = 0
    for _ in range(frames):
        t0, c0 = time.perf_counter(), time.process_time()
        result = pipe.process(frame)
        totals.append((time.perf_counter() - t0) * 1000.0)
        cpu.append((time.process_time() - c0) * 1000.0)
        faces = len(result.swapped)
        for s in stages:
            per_stage[s].append(result.times.ms.get(s, 0.0))
    med = statistics.median(totals)
    cells = " ".join(f"{statistics.median(per_stage[s]):9.2f}" for s in stages)
    line = f"{label:>22} {size[0]:>5}x{size[1]:<4} {faces:>5} {cells} {med:8.2f} {1000.0 / med:7.1f} {_gpu_mb()}"
    print(f"{line} {statistics.median(cpu):7.2f}")  # CPU ms: every thread of the process, barely moved by load


def _gpu_mb() -> str:
    """GPU memory in use (MB) as a 7-wide cell, '-' without a GPU."""
    used = device_memory_used_mb()
    return f"{used:7.0f}" if used is not None else f"{'-':>7}"


def _unavailable(backend: str, exc: Exception) -> None:
    print(f"{backend:>22} unavailable: {str(exc).splitlines()[-1].strip()}")


def _backend_label(swapper: object, requested: str) -> str:
    """What actually ran the swap model (the generator for GHOST), e.g. ``onnxruntime:CPUExecutionProvider``."""
    for attr in ("generator", "model"):
        runner = getattr(getattr(swapper, attr, None), "runner", None)
        if runner is not None:
            return runner.info.backend.replace("ExecutionProvider", "")
    return "onnxruntime:CPU"  # the classic swapper has no model; the built-in face models run on ORT CPU


def _swapper_store(name: str, tmp: str) -> tuple[ModelStore, str]:
    """The user's model folder when ``name`` is installed there; for GHOST otherwise a temporary folder with
    untrained exports of the same graphs (same cost, meaningless faces: for timing only)."""
    store = ModelStore()
    try:
        build_swapper(name, store, backend="ort-cpu")
        return store, "installed weights"
    except ModelError:
        if not name.startswith("ghost-"):
            raise
    temp = ModelStore(Path(tmp) / "models")
    origin = "untrained weights: same graphs and cost as the released models, for timing only"
    if all(temp.has(BY_NAME[m].exports_to) for m in (name, "ghost-arcface")):
        return temp, origin  # exported earlier in this run (the stage table and --generator share them)
    try:
        from ghostlive.export.aei_net import AEINet
        from ghostlive.export.iresnet import iresnet100
        from ghostlive.export.onnx import export_arcface, export_generator
    except ImportError:
        raise ConfigError(
            f"{name} is not installed and PyTorch is missing to export an untrained copy for timing; run: "
            f"ghostlive models download {name}"
        ) from None
    from ghostlive.export.checkpoint import save_checkpoint

    temp.staging.mkdir(parents=True, exist_ok=True)
    log.info("exporting untrained %s and ArcFace graphs for timing", name)
    for model_name, net in ((name, AEINet(int(name[-1])).eval()), ("ghost-arcface", iresnet100().eval())):
        spec = BY_NAME[model_name]
        checkpoint = save_checkpoint(net, temp.staging / spec.filename)  # the torch backends load this
        temp.add_file(checkpoint, spec.filename, "untrained weights for bench")
        export = export_generator if model_name == name else export_arcface
        onnx_path = export(net, temp.staging / spec.exports_to, name=model_name)  # type: ignore[operator]
        temp.add_file(onnx_path, spec.exports_to, "untrained export for bench")
    return temp, origin


def bench_generator(name: str, batches: list[int], runs: int, backend: str, tmp: str) -> None:
    """Per-face milliseconds of a GHOST generator for each batch size, on each chosen backend."""
    from ghostlive.engines.registry import open_runner
    from ghostlive.models.ghost import GhostGenerator

    spec = BY_NAME.get(name)
    if spec is None or not spec.exports_to or name not in ("ghost-1", "ghost-2", "ghost-3"):
        raise ConfigError(f"--generator takes ghost-1, ghost-2 or ghost-3, got {name!r}")
    store, origin = _swapper_store(name, tmp)
    path = store.path(spec.exports_to)
    crops = np.random.default_rng(0).integers(0, 255, (max(batches), 224, 224, 3), dtype=np.uint8)
    ident = np.random.default_rng(1).standard_normal((1, 512)).astype(np.float32)
    print(f"\n{name} generator alone, {origin}")
    print(f"{'backend':>22} {'batch':>6} {'ms/batch':>10} {'ms/face':>9} {'faces/s':>8} {'GPU MB':>7}")
    for choice in _backends(backend):
        t0 = time.perf_counter()
        try:
            prefer = backend_order(choice)
            runner = open_runner(path, prefer=prefer, torch_factory=ghost_torch_factory(store, name))
        except BackendUnavailableError as exc:
            _unavailable(choice, exc)
            continue
        opened = (time.perf_counter() - t0) * 1000.0
        gen = GhostGenerator(runner)
        label = runner.info.backend.replace("ExecutionProvider", "")
        if label.endswith(":CPU"):  # its optimised graph is saved beside the model: what opening again costs
            t0 = time.perf_counter()
            open_runner(path, prefer=["ort-cpu"])
            again = (time.perf_counter() - t0) * 1000.0
            print(f"{label:>22} session opened in {opened:.0f} ms, again in {again:.0f} ms (optimised graph saved)")
            from ghostlive.optimise import decision_line

            print(f"{label:>22} --cpu-precision auto runs: {decision_line(path)}")
        for b in batches:
            gen.swap(crops[:b], ident)  # warm-up
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                gen.swap(crops[:b], ident)
                times.append((time.perf_counter() - t0) * 1000.0)
            med = statistics.median(times)
            print(f"{label:>22} {b:>6} {med:10.1f} {med / b:9.1f} {1000.0 * b / med:8.2f} {_gpu_mb()}")
