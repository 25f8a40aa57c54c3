"""``ghostlive models …`` and ``ghostlive export …``: the command-line side of the model manager."""

from __future__ import annotations

import argparse
import sys

from ghostlive.cli_args import int_range
from ghostlive.errors import ConfigError, ModelError
from ghostlive.hub import ModelStore
from ghostlive.models.personal import swapper_choice
from ghostlive.models.registry import BY_NAME, MODELS
from ghostlive.session.models import build_engines as build_engines_in
from ghostlive.session.models import download_model, export_checkpoint, export_installed, optimise_int8


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
    opt = msub.add_parser(
        "optimise",
        help="quantise a GHOST generator to int8, check identity with ArcFace and time both here; the CPU backend "
        "then runs int8 where it kept identity and was faster (--cpu-precision auto)",
    )
    opt.add_argument("name", type=swapper_choice, help="ghost-1, ghost-2, ghost-3 or a personal swapper's name")
    opt.add_argument("--runs", type=int_range(1, 100), default=9, help="timed runs of each (default 9)")

    exp = sub.add_parser("export", help="convert a GHOST/ArcFace .pth checkpoint to ONNX")
    exp.add_argument("name", nargs="?", help="an installed checkpoint: ghost-1, ghost-2, ghost-3, ghost-arcface")
    exp.add_argument("--checkpoint", help="any .pth file instead of an installed one")
    exp.add_argument("-o", "--output", help="with --checkpoint: where to write the ONNX file")
    exp.add_argument("--fp16", action="store_true", help="half-precision weights (float32 inputs and outputs)")


class _Progress:
    """Download progress on one stderr line per model; the line ends before the next message."""

    def __init__(self) -> None:
        self.open = False

    def __call__(self, name: str, done: int, total: int | None) -> None:
        if total:
            sys.stderr.write(f"\r  {name}: {done / 1e6:8.1f} / {total / 1e6:.1f} MB {100 * done / total:5.1f}%")
        else:
            sys.stderr.write(f"\r  {name}: {done / 1e6:8.1f} MB")
        sys.stderr.flush()
        self.open = True

    def say(self, text: str) -> None:
        if self.open:
            sys.stderr.write("\n")
            self.open = False
        print(text)


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
        bar = _Progress()
        download_model(store, args.name, args.url, export=not args.no_export, progress=bar, say=bar.say)
        return 0
    if cmd == "optimise":
        optimise_int8(store, args.name, args.runs, say=lambda m: print(m, flush=True))
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


def run_export(args: argparse.Namespace, store: ModelStore | None = None) -> int:
    if args.checkpoint:
        if not args.output:
            raise ConfigError("--checkpoint needs --output OUT.onnx")
        out = export_checkpoint(args.checkpoint, args.output, args.fp16)
        print(f"exported {args.checkpoint} → {out}")
        return 0
    if not args.name:
        raise ConfigError("name an installed checkpoint (e.g. ghost-2) or give --checkpoint PATH")
    export_installed(store or ModelStore(), args.name, args.fp16, say=print)
    return 0


def build_engines(args: argparse.Namespace, store: ModelStore | None = None) -> int:
    """Pre-build TensorRT engines for every installed ONNX model, with visible progress."""
    build_engines_in(store or ModelStore(), args.precision, args.max_batch, say=lambda m: print(m, flush=True))
    return 0
