"""Personal swappers: GHOST generators fine-tuned on one person (``ghostlive train finetune``), kept in the
model store beside the released models and usable by name (``--swapper NAME``) wherever a swapper is chosen.

``personal.json`` in the models folder maps each name to its files (``NAME.pth`` checkpoint, ``NAME.onnx``
export, both hashed in the store manifest like every other model) and the released model it started from.
Those two file names are reserved for the personal swapper: :func:`check_free` refuses a name whose files
would replace a registry model's file (installed or not) or any other file in the models folder.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from ghostlive.errors import ConfigError
from ghostlive.hub import ModelStore
from ghostlive.models.registry import BY_NAME, MODELS, SWAPPERS, ModelSpec

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
INDEX = "personal.json"


@dataclass(frozen=True)
class Personal:
    name: str
    base: str
    """The model it was fine-tuned from (ghost-1/2/3, or a checkpoint path)."""
    checkpoint: str
    generator: str
    steps: int = 0


def check_name(name: str) -> str:
    """``name`` if it can name a personal swapper (lower-case letters, digits, ``_ . -``; not a built-in name)."""
    if not NAME_PATTERN.match(name) or name in SWAPPERS or name in BY_NAME:
        raise ConfigError(
            f"{name!r} cannot name a personal swapper: use lower-case letters, digits, '_', '.', '-' "
            f"and not a built-in name ({', '.join(SWAPPERS)})"
        )
    return name


def files_of(name: str) -> tuple[str, str]:
    """The model-folder files of personal swapper ``name``: its checkpoint and its ONNX export."""
    return f"{name}.pth", f"{name}.onnx"


def work_folder(store: ModelStore, name: str) -> Path:
    """Where ``train finetune`` keeps the crops and the run of personal swapper ``name``."""
    return store.root.parent / "training" / name


def _registry_file(filename: str) -> tuple[ModelSpec, str] | None:
    """(registry model, its file name) when ``filename`` is the file (or ONNX export, fp16 included) of a model
    in the registry; case-insensitive, as the models folder may be on a case-insensitive file system."""
    wanted = filename.casefold()
    for spec in MODELS:
        for f in (spec.filename, *spec.exports):
            if f.casefold() == wanted:
                return spec, f
    return None


def _made_by_finetune(store: ModelStore, name: str, filename: str, source: str) -> bool:
    """Whether ``filename`` was installed by fine-tuning ``name`` (an install that stopped before registering)."""
    run = str(work_folder(store, name).resolve() / "run") + os.sep
    return source == f"export:{name}.pth" if filename.endswith(".onnx") else source.startswith(f"import:{run}")


def check_free(store: ModelStore, name: str) -> str:
    """``name`` if fine-tuning may write its files (:func:`files_of`) into ``store``: they must not be a registry
    model's file (installed or not) nor any file already in the models folder, unless that file is the personal
    swapper ``name``'s own (it is being trained further). ConfigError naming the clash otherwise."""
    check_name(name)
    own = personal_models(store).get(name)
    manifest = store.manifest()
    files = list(store.root.iterdir()) if store.root.is_dir() else []
    present = {p.name.casefold(): p.name for p in files} | {k.casefold(): k for k in manifest}
    for filename in files_of(name):
        taken = _registry_file(filename)
        if taken is not None:
            raise ConfigError(
                f"{name!r} cannot name a personal swapper: its file {filename} would replace {taken[1]}, a file of "
                f"the model {taken[0].name}; choose another name"
            )
        clash = present.get(filename.casefold())
        if clash is None or (own is not None and clash in (own.checkpoint, own.generator)):
            continue
        entry = manifest.get(clash)
        if entry is None or not _made_by_finetune(store, name, clash, entry.source):
            raise ConfigError(
                f"{name!r} cannot name a personal swapper: its file {filename} would replace {store.root / clash}, "
                f"which is not a personal swapper's; choose another name"
            )
    return name


def swapper_choice(value: str) -> str:
    """argparse type for ``--swapper``: a built-in swapper or a syntactically valid personal name."""
    if value in SWAPPERS:
        return value
    try:
        return check_name(value)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def personal_models(store: ModelStore | None = None) -> dict[str, Personal]:
    path = (store or ModelStore()).root / INDEX
    if not path.is_file():
        return {}
    try:
        return {k: Personal(**v) for k, v in json.loads(path.read_text()).items()}
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: damaged ({exc}); delete it and run the fine-tune again") from None


def register(store: ModelStore, entry: Personal) -> None:
    """Record ``entry`` (its files must already be in the store)."""
    store.write_json(INDEX, {k: asdict(v) for k, v in personal_models(store).items()} | {entry.name: asdict(entry)})


def unregister(store: ModelStore, name: str) -> None:
    """Forget personal swapper ``name`` (its files stay; ``models remove`` deletes them after this)."""
    store.write_json(INDEX, {k: asdict(v) for k, v in personal_models(store).items() if k != name})


