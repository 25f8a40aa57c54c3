"""Personal swappers: GHOST generators fine-tuned on one person (``ghostlive train finetune``), kept in the
model store beside the released models and usable by name (``--swapper NAME``) wherever a swapper is chosen.

``personal.json`` in the models folder maps each name to its files (``NAME.pth`` checkpoint, ``NAME.onnx``
export, both hashed in the store manifest like every other model) and the released model it started from.
Those two file names are reserved for the personal swapper: :func:`check_free` refuses a name whose files
would replace a registry model's file (installed or not) or any other file in the models folder.

The work folder of a fine-tune (:func:`work_folder`) records the person's media it was started with
(``person.json``); :func:`work_of` tells what a fine-tune left there (its media, model and last step), so the GUI
continues a stopped one only with that same person.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ghostlive.errors import ConfigError
from ghostlive.hub import ModelStore
from ghostlive.media.paths import atomic_write_bytes
from ghostlive.models.registry import BY_NAME, MODELS, SWAPPERS, ModelSpec

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
DERIVED_ENDINGS = ("-fp16", ".int8", ".fp16", ".fp32")
"""Endings of the files made from a model (its fp16 export, int8 variant, TensorRT graphs): a personal swapper
named so would share their names (``me.int8.onnx`` is ``me``'s int8 variant)."""
INDEX = "personal.json"
PERSON = "person.json"
"""In a work folder: the person's photos, folders and videos (resolved paths) the fine-tune was given."""


@dataclass(frozen=True)
class Personal:
    name: str
    base: str
    """The model it was fine-tuned from (ghost-1/2/3, or a checkpoint path)."""
    checkpoint: str
    generator: str
    steps: int = 0


def check_name(name: str) -> str:
    """``name`` if it can name a personal swapper: lower-case letters, digits, ``_ . -`` (starting with a letter or
    digit, at most 64 characters), and neither a built-in swapper's nor a registry model's name. ConfigError
    saying which rule it breaks."""
    if not NAME_PATTERN.match(name):
        raise ConfigError(
            f"{name!r} cannot name a personal swapper: use lower-case letters, digits, '_', '.', '-' "
            "(starting with a letter or digit, at most 64 characters)"
        )
    if name in SWAPPERS:
        raise ConfigError(f"{name!r} cannot name a personal swapper: it is a built-in swapper's name")
    derived = next((end for end in DERIVED_ENDINGS if name.endswith(end)), None)
    if derived:
        raise ConfigError(
            f"{name!r} cannot name a personal swapper: names ending in {derived!r} are those of files made from "
            f"another model ({name.removesuffix(derived)}'s)"
        )
    if name in BY_NAME:
        model = BY_NAME[name].description
        raise ConfigError(f"{name!r} cannot name a personal swapper: it is the name of a registry model, {model}")
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
    """argparse type for ``--swapper``: a built-in swapper or a syntactically valid personal name; another
    registry model (a detector, an encoder) is named as a model, not a swapper."""
    if value in SWAPPERS:
        return value
    if value in BY_NAME:
        raise argparse.ArgumentTypeError(
            f"{value} is a model, not a swapper: {BY_NAME[value].description}; swappers: "
            f"{', '.join(SWAPPERS)}, or a personal swapper (see: ghostlive models list)"
        )
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


@dataclass(frozen=True)
class WorkFolder:
    """What a fine-tune left in its work folder."""

    folder: Path
    sources: tuple[str, ...]
    """The person's media (resolved paths) it was given: ``person.json``, else the prepared ones."""
    model: str | None
    """The model its run trains (ghost-1/2/3); None before its first checkpoint."""
    step: int
    """The step of its newest checkpoint (0: none)."""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot be read ({exc.strerror or exc})", path) from None
    except ValueError as exc:
        raise ConfigError(f"damaged ({exc})", path) from None
    if not isinstance(data, dict):
        raise ConfigError("damaged (not a JSON object)", path)
    return data


def resolved(media: Iterable[str]) -> tuple[str, ...]:
    """``media`` as absolute paths (symbolic links resolved), each once, in order: how work folders record them."""
    return tuple(dict.fromkeys(str(Path(m).resolve()) for m in media))


def record_person(work: Path, name: str, media: list[str]) -> None:
    """Add ``media`` to the person's media recorded in ``work`` (``person.json``)."""
    known = work_of_folder(work, name).sources
    text = json.dumps({"person": list(resolved([*known, *media]))}, indent=1)
    atomic_write_bytes(work / PERSON, text.encode())


def work_of(store: ModelStore, name: str) -> WorkFolder | None:
    """What the fine-tune of ``name`` left in its work folder; None when there is none. ConfigError naming a
    file of it that cannot be read."""
    work = work_folder(store, check_name(name))
    return work_of_folder(work, name) if work.is_dir() else None


def work_of_folder(work: Path, name: str) -> WorkFolder:
    """What the fine-tune of ``name`` left in ``work`` (see :class:`WorkFolder`)."""
    if (work / PERSON).is_file():
        sources = tuple(str(s) for s in _read_json(work / PERSON).get("person", []))
    else:  # made before person.json: the person's sources that were prepared (identity ``name``)
        manifest = work / "data" / "manifest.json"
        done = _read_json(manifest).get("done", {}) if manifest.is_file() else {}
        sources = tuple(k.partition(":")[2] for k in done if k.partition(":")[0] == name)
    run = work / "run"
    model = _read_json(run / "recipe.json").get("model") if (run / "recipe.json").is_file() else None
    step = int(_read_json(run / "latest.json").get("step", 0)) if (run / "latest.json").is_file() else 0
    return WorkFolder(work, sources, model if step else None, step)
