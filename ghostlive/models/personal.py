"""Personal swappers: GHOST generators fine-tuned on one person (``ghostlive train finetune``), kept in the
model store beside the released models and usable by name (``--swapper NAME``) wherever a swapper is chosen.

``personal.json`` in the models folder maps each name to its files (``NAME.pth`` checkpoint, ``NAME.onnx``
export, both hashed in the store manifest like every other model) and the released model it started from.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass

from ghostlive.errors import ConfigError
from ghostlive.hub import ModelStore
from ghostlive.media.paths import publish
from ghostlive.models.registry import BY_NAME, SWAPPERS

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
    data = {k: asdict(v) for k, v in personal_models(store).items()} | {entry.name: asdict(entry)}
    fd, tmp = tempfile.mkstemp(dir=store.root, prefix=".personal.", suffix=".part")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    publish(tmp, store.root / INDEX)


