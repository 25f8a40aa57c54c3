"""``ghostlive models …`` and ``ghostlive export …``: the command-line side of the model manager."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from ghostlive.errors import ConfigError, ModelError
from ghostlive.hub import ModelStore
from ghostlive.models.registry import BY_NAME, MODELS


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    models = sub.add_parser("models", help="list, download, import and verify neural models")
    msub = models.add_subparsers(dest="models_command", required=True)
    msub.add_parser("list", help="known models and what is installed")
    dl = msub.add_parser(
        "download", help="download a model and everything its swapper uses (resumes, verifies SHA-256)"
    )
    dl.add_argument("name", choices=[m.name for m in MODELS if m.url or m.needs])
    dl.add_argument("--url", help="download from this address instead of the registry's")
    dl.add_argument("--no-export", action="store_true", help="do not convert .pth checkpoints to ONNX")
    imp = msub.add_parser("import", help="copy a model file you already have into the model folder")
    imp.add_argument("path")
    imp.add_argument("--as", dest="filename", help="store under this file name (default: the file's own)")
    msub.add_parser("verify", help="re-hash every installed model and compare with the recorded SHA-256")

    exp = sub.add_parser("export", help="convert a GHOST/ArcFace .pth checkpoint to ONNX")
    exp.add_argument("name", nargs="?", help="an installed checkpoint: ghost-1, ghost-2, ghost-3, ghost-arcface")
    exp.add_argument("--checkpoint", help="any .pth file instead of an installed one")
    exp.add_argument("-o", "--output", help="with --checkpoint: where to write the ONNX file")
    exp.add_argument("--fp16", action="store_true", help="half-precision weights (float32 inputs and outputs)")


def _progress(name: str):
    def show(done: int, total: int | None) -> None:
        if total:
            sys.stderr.write(f"\r  {name}: {done / 1e6:8.1f} / {total / 1e6:.1f} MB {100 * done / total:5.1f}%")
        else:
            sys.stderr.write(f"\r  {name}: {done / 1e6:8.1f} MB")
        sys.stderr.flush()

    return show


def run_models(args: argparse.Namespace, store: ModelStore | None = None) -> int:
    store = store or ModelStore()
    cmd = args.models_command
    if cmd == "list":
        installed = store.manifest()
        print(f"model folder: {store.root}")
        for m in MODELS:
            state = "installed" if m.filename in installed else ("download" if m.url else "import only")
            if m.exports_to:
                state += ", exported" if m.exports_to in installed else ", not exported"
            print(f"  {m.name:14} {m.filename:24} {state:28} {m.description}")
            if m.needs:
                have = {d: "installed" if BY_NAME[d].filename in installed else "missing" for d in m.needs}
                deps = ", ".join(f"{d} ({state})" for d, state in have.items())
                print(f"  {'':14} uses: {deps}")
            print(f"  {'':14} licence: {m.licence}")
        return 0
    if cmd == "download":
        spec = BY_NAME[args.name]
        for dep in (*spec.needs, spec.name):
            d = BY_NAME[dep]
            if not store.has(d.filename):
                if not d.url:
                    raise ModelError(f"{d.filename} cannot be downloaded; run: ghostlive models import PATH")
                store.download(d, args.url if dep == spec.name else None, progress=_progress(d.name))
                sys.stderr.write("\n")
            print(f"{d.name}: {store.root / d.filename}")
            if d.exports_to and not args.no_export and not store.has(d.exports_to):
                export_installed(store, dep, fp16=False)
        return 0
    if cmd == "import":
        print(f"imported {store.import_file(args.path, args.filename)}")
        return 0
    results = store.verify()
    for name, state in sorted(results.items()):
        print(f"  {state:8} {name}")
    bad = [n for n, s in results.items() if s != "ok"]
    if bad:
        raise ModelError(f"{len(bad)} model file(s) failed verification: {', '.join(bad)}")
    print(f"{len(results)} model file(s) verified")
    return 0


def _torch_export():
    try:
        from ghostlive.export import onnx as exporter
    except ImportError as exc:
        raise ModelError(f"exporting needs PyTorch and onnx ({exc}); run: pip install 'ghostlive[torch]'") from None
    return exporter


def export_installed(store: ModelStore, name: str, fp16: bool) -> Path:
    """Export an installed checkpoint into the model folder as ONNX (fp32: NAME.onnx, fp16: NAME-fp16.onnx)."""
    spec = BY_NAME.get(name)
    if spec is None or not spec.exports_to:
        raise ConfigError(
            f"{name!r} is not an exportable checkpoint; choose from "
            + ", ".join(m.name for m in MODELS if m.exports_to)
        )
    exporter = _torch_export()
    checkpoint = store.path(spec.filename)
    target = spec.exports_to if not fp16 else spec.exports_to.replace(".onnx", "-fp16.onnx")
    store.staging.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=store.staging) as tmp:
        out = exporter.export_checkpoint(checkpoint, Path(tmp) / target, "fp16" if fp16 else "fp32")
        path = store.add_file(out, target, f"export:{spec.filename}")
    print(f"exported {name} → {path}")
    return path


def run_export(args: argparse.Namespace, store: ModelStore | None = None) -> int:
    if args.checkpoint:
        if not args.output:
            raise ConfigError("--checkpoint needs --output OUT.onnx")
        out = _torch_export().export_checkpoint(args.checkpoint, args.output, "fp16" if args.fp16 else "fp32")
        print(f"exported {args.checkpoint} → {out}")
        return 0
    if not args.name:
        raise ConfigError("name an installed checkpoint (e.g. ghost-2) or give --checkpoint PATH")
    export_installed(store or ModelStore(), args.name, args.fp16)
    return 0


def build_engines(args: argparse.Namespace, store: ModelStore | None = None) -> int:
    """Pre-build TensorRT engines for every installed ONNX model, with visible progress."""
    from ghostlive.engines.tensorrt import TensorRTRunner

    store = store or ModelStore()
    models = sorted(name for name in store.manifest() if name.endswith(".onnx"))
    if not models:
        raise ModelError("no ONNX models are installed; see: ghostlive models list")
    for i, name in enumerate(models, 1):
        print(f"[{i}/{len(models)}] {name} ({args.precision})", flush=True)
        runner = TensorRTRunner(
            store.path(name),
            store.root / "engines",
            precision=args.precision,
            batch=(1, 1, max(1, args.max_batch)),
            progress=lambda m: print(f"    {m}", flush=True),
        )
        print(f"    ready: {runner.info.backend}")
    return 0
