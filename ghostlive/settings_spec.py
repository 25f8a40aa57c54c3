"""One setting's declaration (:class:`Setting`): type, default, range or choices, unit, help and the contexts
(commands, the GUI) that use it. :mod:`ghostlive.settings` holds the list; argparse flags, the GUI's settings
file and its widgets are generated from it."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ghostlive.cli_args import float_range, int_range

Choices = tuple[str, ...] | Callable[[], Sequence[str]] | None
"""Fixed names, or a lookup called when needed (a registry's current names)."""

CONTEXTS = ("swap", "live", "bench", "gui", "eval")
"""swap: ``ghostlive swap`` and ``demo`` (photos, folders, video files); live: ``ghostlive live``; bench:
``ghostlive bench``; gui: the desktop app (its widgets and settings file); eval: ``ghostlive eval``."""


@dataclass(frozen=True)
class Setting:
    """One setting, declared once. ``per`` overrides fields in one context (e.g. a live default)."""

    key: str
    """Name in the settings file, the GUI and :func:`ghostlive.settings.swap_settings`."""
    kind: type
    """bool, int, float, str, tuple (names from ``choices``), list (of str) or dict (command line only)."""
    default: Any
    help: str
    contexts: tuple[str, ...]
    group: str = ""
    """Command-line option group (its title in ``--help``)."""
    flags: tuple[str, ...] | None = None
    """Option strings; None: ``--key-with-dashes``; (): not on the command line."""
    dest: str = ""
    """argparse destination; empty: argparse's own from the flags."""
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    choices: Choices = None
    suggest: tuple[str, ...] = ()
    """Values offered in the GUI where any text is allowed (an editable list)."""
    unit: str = ""
    """Unit of the shown number (after ``scale``), e.g. "px", "Hz", "%"."""
    scale: float = 1.0
    """Shown number per value unit in the GUI (100: a fraction shown in %)."""
    step: float = 0.0
    slider: bool = False
    label: str = ""
    optional: bool = False
    """None is a valid value (not given)."""
    min_items: int = 0
    """A list setting must name at least this many (the GUI keeps the last ones ticked)."""
    parse: Callable[[str], Any] | None = None
    """argparse type, where the ranges and choices above do not say it."""
    metavar: str | None = None
    action: str | None = None
    off_flag: str = ""
    """A second flag that sets the value to 0 (``--no-smoothing``)."""
    off_help: str = ""
    per: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def at(self, context: str) -> Setting:
        """This setting as ``context`` sees it."""
        return replace(self, per={}, **self.per[context]) if context in self.per else self

    @property
    def names(self) -> tuple[str, ...]:
        return ("--" + self.key.replace("_", "-"),) if self.flags is None else self.flags

    @property
    def arg_dest(self) -> str:
        """The attribute argparse stores this setting in ("" when it has no flag)."""
        if self.dest or not self.names:
            return self.dest
        long = [n for n in self.names if n.startswith("--")] or list(self.names)
        return long[0].lstrip("-").replace("-", "_")

    @property
    def title(self) -> str:
        return self.label or self.key.replace("_", " ").capitalize()

    def choice_list(self) -> tuple[str, ...]:
        c = self.choices
        return tuple(c() if callable(c) else c or ())

    def arg_type(self) -> Callable[[str], Any] | None:
        if self.parse is not None:
            return self.parse
        if self.kind is int and (self.lo is not None or self.hi is not None):
            return int_range(None if self.lo is None else int(self.lo), None if self.hi is None else int(self.hi))
        if self.kind is float and (self.lo is not None or self.hi is not None):
            return float_range(self.lo, self.hi, lo_open=self.lo_open)
        return {int: int, float: float}.get(self.kind)

    def add_to(self, parser: Any) -> None:
        """Declare this setting's flags on an argparse parser or group."""
        kw: dict[str, Any] = {"default": self.default, "help": self.help}
        if self.dest:
            kw["dest"] = self.dest
        kw["action"] = self.action or ("store_true" if self.kind is bool else "store")
        if kw["action"] in ("store", "append"):
            kw["type"] = self.parse if self.kind is list else self.arg_type()
            if self.choices is not None and self.parse is None:
                kw["choices"] = self.choice_list()
        if self.metavar:
            kw["metavar"] = self.metavar
        if self.names:
            parser.add_argument(*self.names, **kw)
        if self.off_flag:
            off = {"dest": self.arg_dest or self.key, "const": self.kind(), "help": self.off_help}
            parser.add_argument(self.off_flag, action="store_const", **off)

    def check(self, value: Any) -> Any:
        """``value`` (as read from a settings file) in this setting's type, or ValueError saying what is
        expected."""
        if value is None and self.optional:
            return None
        if self.kind in (tuple, list):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("expected a list of names")
            known = self.choice_list()
            if known:  # names as on the command line: any case, duplicates folded
                value = list(dict.fromkeys(v.strip().lower() for v in value))
            bad = [v for v in value if known and v not in known]
            if bad:
                raise ValueError(f"unknown {', '.join(map(repr, bad))}; choose from {', '.join(known)}")
            if len(value) < self.min_items:
                raise ValueError(f"name at least {self.min_items}; choose from {', '.join(known)}")
            return self.kind(value)
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not self.kind:
            raise ValueError(f"expected {_KIND_NAMES.get(self.kind, self.kind.__name__)}, got {value!r}")
        if self.kind in (int, float):
            self._check_range(value)
        elif self.kind is str and value != self.default:
            self._check_text(value)
        return value

    def _check_range(self, value: float) -> None:
        below = self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo)
        if not math.isfinite(value) or below or (self.hi is not None and value > self.hi):
            lo = "-∞" if self.lo is None else f"{self.lo:g}"
            hi = "∞" if self.hi is None else f"{self.hi:g}"
            raise ValueError(f"must be within {'(' if self.lo_open else '['}{lo}, {hi}], got {value!r}")

    def _check_text(self, value: str) -> None:
        if self.parse is not None:  # the command line's own check (e.g. a swapper name that may be installed later)
            try:
                self.parse(value)
            except (argparse.ArgumentTypeError, ValueError) as exc:
                raise ValueError(str(exc)) from None
            return
        known = self.choice_list()
        if known and value not in known:
            raise ValueError(f"unknown {value!r}; choose from {', '.join(known)}")

    def to_shown(self, value: float) -> float:
        """``value`` in the GUI's unit (see ``scale``)."""
        return value * self.scale

    def from_shown(self, shown: float) -> Any:
        """A number the GUI shows as the setting's value."""
        value = shown / self.scale
        return round(value) if self.kind is int else float(value)


_KIND_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "text"}
