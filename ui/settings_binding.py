"""The window's settings through the schema (:mod:`ghostlive.settings`): every control of a setting is made by
:func:`ghostlive.ui.schema_widgets.bind` (range, unit conversion, choices), and every field of the settings file
(:data:`ghostlive.config.GuiSettings`) is read and written by schema key; the lists of photos are kept by the
session. The values become the session's :class:`~ghostlive.jobs.SwapSettings` with :func:`swap_settings`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ghostlive.config import from_values, to_values
from ghostlive.jobs import SwapSettings
from ghostlive.settings import swap_settings as schema_swap_settings
from ghostlive.ui.schema_widgets import Binding, bind

APPLIED_LIVE = ("faces", "similarity", "blend", "feather", "color", "smoothing", "keep")
"""Settings whose change is applied to a running preview at once (the stages have their own box)."""


class Bindings:
    """The schema bindings of one window, by setting key."""

    def __init__(self) -> None:
        self.by_key: dict[str, Binding] = {}

    def make(self, key: str, choices: Sequence[str] | None = None) -> Binding:
        """The control of setting ``key`` (its ``widget`` goes in a layout, its ``control`` is the input)."""
        b = self.by_key[key] = bind(key, "gui", choices=choices)
        return b

    def values(self) -> dict[str, Any]:
        """Every bound setting's value, in the setting's own units."""
        return {k: b.value() for k, b in self.by_key.items()}

    def restore(self, cfg: Any) -> None:
        """Show the values of ``cfg`` (a GuiSettings) without reporting them as changes."""
        values = to_values(cfg)
        for key, b in self.by_key.items():
            b.set_value(values[key], quiet=True)

    def read(self, cfg: Any, extra: Mapping[str, Any]) -> Any:
        """``cfg`` with the shown values and ``extra`` (the photo lists) over it."""
        return from_values({**self.values(), **extra}, cfg)

    def on_change(self, keys: Sequence[str], slot: Callable[..., None]) -> None:
        for key in keys:
            self.by_key[key].changed.connect(slot)


def swap_settings(values: Mapping[str, Any], context: str, references: Sequence[str]) -> SwapSettings:
    """What the session runs with in ``context`` ('live' for the preview, 'swap' for file jobs, each with its
    schema defaults); 'reference' without reference photos swaps all faces."""
    v = dict(values)
    if v.get("faces") == "reference" and not references:
        v["faces"] = "all"
    return schema_swap_settings(v, context)
