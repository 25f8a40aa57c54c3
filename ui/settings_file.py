"""The window's settings file (:mod:`ghostlive.config`), read so that one bad value costs only that value, and
never written over while it holds something that the window could not use.

A bad value (``blend = 3.0``) drops that key alone: the window uses its default and every other key of the file,
and says so in its banner, naming the file and the key. A file that cannot be read at all (not TOML, not
UTF-8, no permission) gives the defaults. Either way the file is left exactly as it is while the settings are
still the ones read from it, so the user can fix it by hand; once a setting is changed in the window, the
original is first copied aside to ``settings.toml.bad`` (``.bad.1``, … when that exists) and then the new file is
written, each write atomic (a temporary file beside it, then a rename).
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Any

from ghostlive.config import FIELDS, GuiSettings, config_dir, load_settings, parse_settings, save_settings
from ghostlive.errors import ConfigError
from ghostlive.media.paths import atomic_write_bytes

log = logging.getLogger(__name__)


def read_leniently(path: Path) -> tuple[Any, list[str], list[str]]:
    """The :data:`~ghostlive.config.GuiSettings` of the file at ``path`` with every good value kept, one line per
    problem, naming the file (and the key), and the keys whose values were bad: each is left at its default; a
    file that cannot be read or decoded leaves them all there (problems, no bad keys). No file: the defaults and
    no problem."""
    if not path.is_file():
        return GuiSettings(), [], []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        try:  # the settings loader's own one-line message for the same failure
            return load_settings(path), [], []
        except ConfigError as exc:
            return GuiSettings(), [str(exc)], []
    good: dict[str, Any] = {}
    problems: list[str] = []
    bad: list[str] = []
    for key, raw in data.items():
        try:
            parsed = parse_settings({key: raw}, path)  # warns about an unknown key, refuses a bad value
        except ConfigError as exc:
            problems.append(str(exc))
            bad.append(key)
            continue
        if key in FIELDS:
            good[key] = getattr(parsed, key)
    return GuiSettings(**good), problems, bad


def aside_name(path: Path) -> Path:
    """Where the unreadable original of ``path`` is kept: ``NAME.bad``, or ``NAME.bad.N`` if that exists."""
    candidate, n = path.with_name(f"{path.name}.bad"), 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.bad.{n}")
    return candidate


class SettingsFile:
    """The settings file of one window: :meth:`load` it once, :meth:`save` on close."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "settings.toml"
        self.problems: list[str] = []
        self.bad_keys: list[str] = []
        self.as_read: Any = None
        """The settings as the window showed them just after loading (set by the window); while they are
        unchanged a damaged file is not written."""
        self.kept_aside: Path | None = None

    @property
    def damaged(self) -> bool:
        """Whether the file on disk holds something that was not used (a bad value, or nothing readable)."""
        return bool(self.problems)

    def load(self) -> Any:
        """The settings to start with (see :func:`read_leniently`); the problems are kept in ``problems``."""
        cfg, self.problems, self.bad_keys = read_leniently(self.path)
        for problem in self.problems:
            log.warning("%s", problem)
        return cfg

    def message(self) -> str:
        """The banner's text for the problems: each one, then what the window does about them."""
        if not self.problems:
            return ""
        if not self.bad_keys:
            used = "Every setting has its default"
        elif len(self.bad_keys) == 1:
            used = f"{self.bad_keys[0]} has its default; the file's other settings are used"
        else:
            used = f"{', '.join(self.bad_keys)} have their defaults; the file's other settings are used"
        keep = f"the original is then kept as {aside_name(self.path).name}"
        return "\n".join([*self.problems, f"{used}. The file is left as it is until you change a setting; {keep}."])

    def save(self, settings: Any) -> Path | None:
        """Write ``settings`` atomically; returns the file, or None when it was not written: a damaged file is
        not written over while ``settings`` are still those read from it, and is copied aside first
        (:func:`aside_name`) when they changed. OSError when it cannot be copied aside or written."""
        if self.damaged:
            if settings == self.as_read:
                log.info("%s left as it is: it has values that were not used", self.path)
                return None
            if self.path.exists():
                aside = aside_name(self.path)
                atomic_write_bytes(aside, self.path.read_bytes())
                self.kept_aside = aside
                log.warning("%s: the original, with the values that were not used, is kept as %s", self.path, aside)
            self.problems = []
        return save_settings(settings, self.path)
