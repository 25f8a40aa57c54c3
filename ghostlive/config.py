"""User settings persisted as TOML in the user config folder (Qt-free; the GUI and CLI share them)."""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ghostlive.media.paths import atomic_write_bytes

log = logging.getLogger(__name__)


def config_dir() -> Path:
    env = os.environ.get("GHOSTLIVE_CONFIG")
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("ghostlive"))


@dataclass
class GuiSettings:
    """What the desktop app remembers between runs."""

    source_photos: list[str] = field(default_factory=list)
    swapper: str = "classic"
    backend: str = "auto"
    device: str = "auto"
    faces: str = "all"
    similarity: float = 0.88
    reference_photos: list[str] = field(default_factory=list)
    camera: str = "0"
    resolution: str = "1280x720"
    blend: float = 1.0
    feather: float = 0.035
    color: str = "lowfreq"
    keep_mouth: bool = True
    keep_eyes: bool = False
    keep_brows: bool = False
    smoothing: float = 1.0
    """One-Euro minimum cutoff in Hz (lower = smoother); 0 turns smoothing off."""
    virtual_camera: bool = False
    stream: bool = False
    stream_address: str = "127.0.0.1:8080"
    output_folder: str = ""
    pause_live_during_jobs: bool = True


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    text = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def to_toml(settings: GuiSettings) -> str:
    return "".join(f"{k} = {_toml_value(v)}\n" for k, v in asdict(settings).items())


def load_settings(path: Path | None = None) -> GuiSettings:
    """Saved settings; defaults for anything missing, unknown or of the wrong type (a damaged file is reported
    in the log and ignored, never fatal)."""
    p = path or config_dir() / "settings.toml"
    defaults = GuiSettings()
    if not p.is_file():
        return defaults
    try:
        data = tomllib.loads(p.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        log.warning("%s: ignoring unreadable settings (%s)", p, exc)
        return defaults
    values = {}
    for f in fields(GuiSettings):
        if f.name in data and type(data[f.name]) is type(getattr(defaults, f.name)):
            values[f.name] = data[f.name]
    return GuiSettings(**values)


def save_settings(settings: GuiSettings, path: Path | None = None) -> Path:
    p = path or config_dir() / "settings.toml"
    p.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(p, to_toml(settings).encode())
    return p
