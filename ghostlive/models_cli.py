"""``ghostlive models …`` and ``ghostlive export …``: the command-line side of the model manager."""

from __future__ import annotations

import argparse
import logging
import sys
import urllib.parse
from typing import NoReturn

from ghostlive.cli_args import choice, int_range, usage_error
from ghostlive.errors import ConfigError, ModelError
from ghostlive.hub import Installed, ModelStore
from ghostlive.models.personal import Personal, personal_models, swapper_choice, unregister, work_folder
from ghostlive.models.registry import BY_FILENAME, BY_NAME, MODELS, ModelSpec, fp16_name
from ghostlive.models.validate import name_problem
from ghostlive.session.models import build_engines as build_engines_in
from ghostlive.session.models import download_model, export_checkpoint, export_installed, optimise_int8

log = logging.getLogger(__name__)
EXPORTABLE = tuple(m.name for m in MODELS if m.exports_to)
URL_SCHEMES = ("http", "https", "file")


def download_url(text: str) -> str:
    """An argparse type: an http://, https:// or file:// address (``--url``)."""
    parts = urllib.parse.urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in URL_SCHEMES or not (parts.path if scheme == "file" else parts.netloc):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a download address: give an http://, https:// or file:// URL"
        )
    return text


def store_name(text: str) -> str:
    """An argparse type: a plain, visible file name to store a model under (``--as``)."""
    problem = name_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"{text!r}: {problem}; the model folder takes a plain file name")
    return text


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    models = sub.add_parser("models", help="list, download, import and verify neural models")
    msub = models.add_subparsers(dest="models_command", required=True)
    msub.add_parser("list", help="known models, personal swappers and what is installed (verify re-hashes)")
    dl = msub.add_parser(
        "download",
        help="download a model and everything its swapper uses (resumes; each file is checked to be the model it "
        "names and its SHA-256 recorded, which every later load verifies)",
    )
    dl.add_argument("name", choices=[m.name for m in MODELS if m.url or m.needs])
    dl.add_argument(
        "--url",
        type=download_url,
        help="download from this http(s):// or file:// address instead of the registry's (a model not installed yet)",
    )
    dl.add_argument("--no-export", action="store_true", help="do not convert .pth checkpoints to ONNX")
    imp = msub.add_parser("import", help="copy a model file you already have into the model folder")
    imp.add_argument("path")
    imp.add_argument(
        "--as", dest="filename", type=store_name, help="store under this file name (default: the file's own)"
    )
    msub.add_parser("verify", help="re-hash every installed model and compare with the recorded SHA-256")
    rm = msub.add_parser("remove", help="delete an installed model's files (or a personal swapper) and forget them")
    rm.add_argument("name", help="a model or personal swapper from 'ghostlive models list', or an installed file")
    opt = msub.add_parser(
        "optimise",
        help="quantise a GHOST generator to int8, check identity with ArcFace and time both here; the CPU backend "
        "then runs int8 where it kept identity and was faster (--cpu-precision auto)",
    )
    opt.add_argument("name", type=swapper_choice, help="ghost-1, ghost-2, ghost-3 or a personal swapper's name")
    opt.add_argument("--runs", type=int_range(1, 100), default=9, help="timed runs of each (default 9)")

    exp = sub.add_parser("export", help="convert a GHOST/ArcFace .pth checkpoint to ONNX")
    exp.add_argument(
        "name",
        nargs="?",
        type=choice(lambda: EXPORTABLE, "checkpoint"),
        help=f"an installed checkpoint, exported into the model folder: {', '.join(EXPORTABLE)}",
    )
    exp.add_argument("--checkpoint", help="any .pth file instead of an installed one (with -o)")
    exp.add_argument("-o", "--output", help="with --checkpoint: where to write the ONNX file")
    exp.add_argument("--fp16", action="store_true", help="half-precision weights (float32 inputs and outputs)")
    exp.set_defaults(usage_error=exp.error)


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

    def end(self) -> None:
        if self.open:
            sys.stderr.write("\n")
            self.open = False

    def say(self, text: str) -> None:
        self.end()
        print(text)


def run_models(args: argparse.Namespace, store: ModelStore | None = None) -> int:
    store = store or ModelStore()
    cmd = args.models_command
    if cmd == "list":
        return list_models(store)
    if cmd == "remove":
        print(remove_model(store, args.name))
        return 0
    if cmd == "download":
        bar = _Progress()
        try:
            download_model(store, args.name, args.url, export=not args.no_export, progress=bar, say=bar.say)
        finally:
            bar.end()  # an error is not written on the progress line
        return 0
    if cmd == "optimise":
        store.writable()  # its measurements are stored beside the model
        optimise_int8(store, args.name, args.runs, say=lambda m: print(m, flush=True))
        return 0
    if cmd == "import":
        print(f"imported {store.import_file(args.path, args.filename, say=print)}")
        return 0
    results = store.verify()
    for name, state in sorted(results.items()):
        print(f"  {state:8} {name}")
    bad = [n for n, s in results.items() if s != "ok"]
    if bad:
        raise ModelError(f"{len(bad)} model file(s) failed verification: {', '.join(bad)}")
    print(f"{len(results)} model file(s) verified")
    return 0


STATES = {"ok": "installed", "missing": "missing", "changed": "changed (run models verify)"}
"""How ``models list`` shows :meth:`ModelStore.state` (presence and size only: ``verify`` re-hashes)."""
USES = {"ok": "installed", "changed": "changed"}
PERSONAL_NEEDS = BY_NAME["ghost-2"].needs
"""A personal swapper is a GHOST generator: it uses what ghost-N uses."""
KNOWN_FILES = {f for m in MODELS for f in (m.filename, *m.exports)}


def used(store: ModelStore, spec: ModelSpec, installed: dict[str, Installed]) -> str:
    """How a model another one uses is installed: what runs is a checkpoint's ONNX export, so a checkpoint alone
    is ``installed, not exported`` with the command that exports it."""
    if not spec.exports_to:
        return USES.get(store.state(spec.filename, installed), "missing")
    export = store.state(spec.exports_to, installed)
    if export in USES:
        return USES[export]
    checkpoint = store.state(spec.filename, installed)
    if checkpoint == "ok":
        return f"installed, not exported: run ghostlive export {spec.name}"
    return USES.get(checkpoint, "missing")


def other_files(installed: dict[str, Installed], personal: dict[str, Personal]) -> list[str]:
    """Installed files that are neither a registry model's (or export's) nor a personal swapper's."""
    mine = {f for e in personal.values() for f in (e.generator, fp16_name(e.generator), e.checkpoint) if f}
    return sorted(n for n in installed if n not in KNOWN_FILES and n not in mine)


def list_models(store: ModelStore) -> int:
    """Print every known model with what is installed (a cheap look: presence and size), then the personal
    swappers; exit status 1 when the personal swappers' index cannot be read."""
    installed = store.manifest()
    personal: dict[str, Personal] = {}
    problem = ""
    try:
        personal = personal_models(store)
    except ConfigError as exc:
        problem = str(exc)

    def uses(needs: tuple[str, ...]) -> list[str]:
        return [f"uses: {', '.join(f'{d} ({used(store, BY_NAME[d], installed)})' for d in needs)}"] if needs else []

    rows: list[tuple[str, str, str, str, list[str]]] = []
    for m in MODELS:
        state = store.state(m.filename, installed)
        text = STATES[state] if state else ("download" if m.url else "import only")
        if m.exports_to:
            export = store.state(m.exports_to, installed)
            text += {"ok": ", exported", "": ", not exported"}.get(export, f", export {export}")
        rows.append((m.name, m.filename, text, m.description, [*uses(m.needs), f"licence: {m.licence}"]))
    mine = []
    for name, entry in sorted(personal.items()):
        text = STATES.get(store.state(entry.generator, installed), "missing")
        checkpoint = store.state(entry.checkpoint, installed) if entry.checkpoint else "ok"
        text += "" if checkpoint == "ok" else f", checkpoint {checkpoint or 'missing'}"
        what = f"personal swapper from {entry.base}, {entry.steps} steps (--swapper {name})"
        mine.append((name, entry.generator, text, what, uses(PERSONAL_NEEDS)))
    widths = [max(len(row[i]) for row in rows + mine) for i in range(3)]

    def show(name: str, filename: str, state: str, what: str, more: list[str]) -> None:
        print(f"  {name:{widths[0]}} {filename:{widths[1]}} {state:{widths[2]}} {what}".rstrip())
        for line in more:
            print(f"  {'':{widths[0]}} {line}")

    print(f"model folder: {store.root}")
    for row in rows:
        show(*row)
    if problem:
        print(f"personal swappers: cannot be read: {problem}")
        return 1
    if not mine:
        print("personal swappers: none (make one: ghostlive train finetune --person PHOTOS -o NAME)")
    else:
        print("personal swappers (ghostlive train finetune; use: --swapper NAME):")
    for row in mine:
        show(*row)
    others = other_files(installed, personal)
    if others:
        print("other files (imported under names ghostlive does not know; remove: ghostlive models remove FILE):")
        width = max(len(n) for n in others)
        for filename in others:
            print(f"  {filename:{width}} {STATES[store.state(filename, installed)]}")
    return 0


def remove_model(store: ModelStore, name: str) -> str:
    """Delete the files of model ``name`` (a registry model with its ONNX exports, a personal swapper, or one
    model file by its name) and forget them; a personal swapper leaves its index first, so it stops being
    usable before its files go. Returns the line to show. Asks nothing."""
    installed = store.manifest()
    spec = BY_NAME.get(name)
    entry = None if spec else personal_models(store).get(name)
    if spec is not None:
        files = [spec.filename, *spec.exports]
    elif entry is not None:
        generator = (entry.generator, fp16_name(entry.generator)) if entry.generator else ()
        files = [f for f in (*generator, entry.checkpoint) if f]
    elif name in installed or name in BY_FILENAME:
        files = [name]
    else:
        raise ConfigError(f"unknown model {name!r}; see: ghostlive models list")
    present = [f for f in files if f in installed or (store.root / f).is_file()]
    if not present and entry is None:
        raise ModelError(f"{name} is not installed; nothing to remove")
    if entry is not None:  # the index first: the name stops resolving before its files go
        unregister(store, entry.name)
    removed = store.remove(files) if present else []  # with what the runtimes cached for them
    now = store.manifest()
    users = [m.name for m in MODELS if spec and spec.name in m.needs and {m.filename, m.exports_to} & set(now)]
    note = f" (still installed and using it: {', '.join(users)})" if users else ""
    work = work_folder(store, name) if entry is not None else None
    if work is not None and work.is_dir():  # the person's crops and the run: a new person needs it gone
        note += f"; its fine-tune work folder is kept ({work}): delete it to use the name {name!r} for someone else"
    return f"removed {name}: {', '.join(removed) or 'no files were left'}{note}"


def _usage(args: argparse.Namespace, message: str) -> NoReturn:
    usage_error(args, message, "ghostlive export")


def run_export(args: argparse.Namespace, store: ModelStore | None = None) -> int:
    """``ghostlive export NAME`` (an installed checkpoint, into the model folder) or ``ghostlive export
    --checkpoint FILE -o OUT`` (any checkpoint, anywhere); anything else is a usage error."""
    if args.name and args.checkpoint:
        _usage(args, f"give a checkpoint name ({args.name}) or --checkpoint FILE, not both")
    if args.checkpoint:
        if not args.output:
            _usage(args, "--checkpoint needs -o OUT.onnx")
        out = export_checkpoint(args.checkpoint, args.output, args.fp16)
        print(f"exported {args.checkpoint} → {out}")
        return 0
    if not args.name:
        _usage(args, f"name an installed checkpoint ({', '.join(EXPORTABLE)}) or give --checkpoint FILE -o OUT.onnx")
    if args.output:
        _usage(args, f"-o goes with --checkpoint: {args.name} is exported into the model folder")
    export_installed(store or ModelStore(), args.name, args.fp16, say=print)
    return 0


def build_engines(args: argparse.Namespace, store: ModelStore | None = None) -> int:
    """Pre-build TensorRT engines for every installed ONNX model, with visible progress."""
    store = store or ModelStore()
    store.writable()  # engines are kept in the model folder
    build_engines_in(store, args.precision, args.max_batch, say=lambda m: print(m, flush=True))
    return 0
