"""The desktop app's settings file: TOML in the user config folder, generated from the settings schema (the
settings whose contexts include "gui", see :mod:`ghostlive.settings`). Qt-free.

A bad value is a one-line :class:`ConfigError` naming the file and the key; an unknown key is a warning naming
it, and the rest of the file is used.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ghostlive.errors import ConfigError
from ghostlive.media.paths import atomic_write_bytes
from ghostlive.settings import Setting, settings_for

log = logging.getLogger(__name__)

SPLIT = {"keep": "keep_{}"}
"""Settings stored as one true/false per choice (``keep_mouth = true``), as the file always had them."""


def config_dir() -> Path:
    env = os.environ.get("GHOSTLIVE_CONFIG")
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("ghostlive"))


def _file_fields() -> dict[str, tuple[Setting, str]]:
    """Each key of the file → (its setting, the choice it stands for: "" unless the setting is split)."""
    out: dict[str, tuple[Setting, str]] = {}
    for spec in settings_for("gui"):
        if spec.key in SPLIT:
            out.update({SPLIT[spec.key].format(c): (spec, c) for c in spec.choice_list()})
        else:
            out[spec.key] = (spec, "")
    return out


FIELDS = _file_fields()


def _field(name: str, spec: Setting, choice: str) -> tuple[str, Any, Any]:
    if choice:
        return name, bool, dataclasses.field(default=choice in spec.default)
    if isinstance(spec.default, list):
        return name, list, dataclasses.field(default_factory=list(spec.default).copy)
    return name, spec.kind, dataclasses.field(default=spec.default)


GuiSettings = dataclasses.make_dataclass(
    "GuiSettings", [_field(name, spec, choice) for name, (spec, choice) in FIELDS.items()]
)
GuiSettings.__module__ = __name__
GuiSettings.__doc__ = "What the desktop app remembers between runs: one field per key of its settings file."


def to_values(settings: Any) -> dict[str, Any]:
    """``settings`` (a :data:`GuiSettings`) as setting values by schema key."""
    values: dict[str, Any] = {}
    for name, (spec, choice) in FIELDS.items():
        value = getattr(settings, name)
        if choice:
            values[spec.key] = (*values.get(spec.key, ()), *((choice,) if value else ()))
        else:
            values[spec.key] = value
    return values


def from_values(values: Mapping[str, Any], base: Any = None) -> Any:
    """A :data:`GuiSettings` with ``values`` (by schema key) over ``base`` (default: the defaults)."""
    changes = {}
    for name, (spec, choice) in FIELDS.items():
        if spec.key in values:
            changes[name] = choice in values[spec.key] if choice else values[spec.key]
    return dataclasses.replace(base if base is not None else GuiSettings(), **changes)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    text = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def to_toml(settings: Any) -> str:
    """The file's text: one ``key = value`` line per field (a value of None is left out)."""
    items = dataclasses.asdict(settings).items()
    return "".join(f"{k} = {_toml_value(v)}\n" for k, v in items if v is not None)


def parse_settings(data: Mapping[str, Any], path: Path | str) -> Any:
    """:data:`GuiSettings` from a decoded file: defaults for keys it lacks, a warning for each unknown key, a
    :class:`ConfigError` naming ``path`` and the key for a bad value."""
    changes = {}
    for key, raw in data.items():
        if key not in FIELDS:
            log.warning("%s: unknown setting %r ignored", path, key)
            continue
        spec, choice = FIELDS[key]
        try:
            if choice and not isinstance(raw, bool):
                raise ValueError(f"expected true or false, got {raw!r}")
            changes[key] = raw if choice else spec.check(raw)
        except ValueError as exc:
            raise ConfigError(f"{key}: {exc}", path) from None
    return GuiSettings(**changes)


def load_settings(path: Path | None = None) -> Any:
    """The saved :data:`GuiSettings` (the defaults when there is no file yet); an unreadable file or a bad
    value is a :class:`ConfigError` naming the file (and the key)."""
    p = path or config_dir() / "settings.toml"
    if not p.is_file():
        return GuiSettings()
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the settings file: {exc}", p) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not a TOML settings file: {exc}", p) from None
    return parse_settings(data, p)


def save_settings(settings: Any, path: Path | None = None) -> Path:
    """Write ``settings`` atomically (a crash leaves the old file or the new one, never half of one)."""
    p = path or config_dir() / "settings.toml"
    p.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(p, to_toml(settings).encode())
    return p
