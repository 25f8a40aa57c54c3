"""GUI controls built from the settings schema (pytest-qt, offscreen): each GUI setting gets a control of the
right kind within the schema's range, values round-trip both ways in the setting's own units (the unit
conversion happens once), and a form's values round-trip through the settings file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSlider, QSpinBox

from ghostlive.config import from_values, load_settings, save_settings, to_values
from ghostlive.settings import Setting, setting, settings_for
from ghostlive.ui.schema_widgets import SettingsForm, bind

GUI_KEYS = [s.key for s in settings_for("gui") if s.kind is not list]
SWAPPERS = {"swapper": ("classic", "inswapper", "ghost-2")}
"""The swapper list a window gets from its model store (the user's store is not read in tests)."""


def other_value(spec: Setting) -> Any:
    """A valid value other than the default."""
    if spec.kind is bool:
        return not spec.default
    if spec.kind is tuple:
        return tuple(c for c in spec.choice_list() if c not in spec.default)[:2]
    if spec.kind is str and spec.choices is not None:
        known = SWAPPERS[spec.key] if spec.key in SWAPPERS else spec.choice_list()
        return next(c for c in known if c != spec.default)
    if spec.kind is str:
        return spec.default + "1" if spec.key != "stream_address" else "0.0.0.0:9000"
    assert spec.lo is not None and spec.hi is not None
    middle = spec.lo + (spec.hi - spec.lo) * 0.3
    return round(middle * spec.scale) / spec.scale


def test_every_gui_setting_has_a_control_that_round_trips(qtbot) -> None:
    assert {"blend", "feather", "similarity", "keep", "mask", "enhancer", "camera", "smoothing"} <= set(GUI_KEYS)
    for key in GUI_KEYS:
        spec = setting(key, "gui")
        b = bind(spec, choices=SWAPPERS.get(key))
        qtbot.addWidget(b.widget)
        assert b.value() == spec.default, key
        value = other_value(spec)
        assert value != spec.default, key
        with qtbot.waitSignal(b.changed, timeout=1000) as signal:
            b.set_value(value)
        assert signal.args == [value] and b.value() == value, key


def test_control_kinds_ranges_and_units(qtbot) -> None:
    kinds = {"blend": QSlider, "feather": QSlider, "smoothing": QDoubleSpinBox, "color": QComboBox,
             "camera": QComboBox, "show_mask": QCheckBox, "stream_address": QLineEdit}
    for key, kind in kinds.items():
        assert isinstance(bind(key).control, kind), key
    feather = bind("feather")  # a fraction of the face width, shown in ‰ as the window always did
    assert (feather.control.minimum(), feather.control.maximum(), feather.control.value()) == (5, 150, 35)
    feather.control.setValue(60)
    assert feather.value() == 0.06
    similarity = bind("similarity")
    assert (similarity.control.minimum(), similarity.control.maximum(), similarity.control.value()) == (50, 99, 88)
    smoothing = bind("smoothing")
    assert smoothing.control.suffix() == " Hz" and smoothing.control.maximum() == 5.0
    smoothing.control.setValue(2.5)
    assert smoothing.value() == 2.5
    camera = bind("camera")
    assert camera.control.isEditable()
    camera.control.setCurrentText("rtsp://cam/1")
    assert camera.value() == "rtsp://cam/1"
    assert not bind("color").control.isEditable()


def test_empty_choice_optional_numbers_and_unknown_values(qtbot) -> None:
    enhancer = bind("enhancer")
    assert enhancer.control.currentText() == "none" and enhancer.value() == ""
    budget = bind("enhance_budget", "swap")  # optional: None is shown as "default"
    assert isinstance(budget.control, QDoubleSpinBox) and budget.control.suffix() == " ms"
    assert budget.value() is None and budget.control.text() == "default"
    budget.set_value(12.0)
    assert budget.value() == 12.0
    source_face = bind("source_face", "swap")
    assert isinstance(source_face.control, QSpinBox) and source_face.value() is None
    # a personal swapper not installed here is kept, not lost
    swapper = bind("swapper", value="my-face", choices=SWAPPERS["swapper"])
    assert swapper.value() == "my-face"
    with pytest.raises(ValueError, match="source_photos"):
        bind("source_photos")


def test_user_edits_reach_the_form_and_quiet_sets_do_not(qtbot) -> None:
    form = SettingsForm(["blend", "keep", "color"])
    qtbot.addWidget(form)
    seen: list[tuple[str, Any]] = []
    form.changed.connect(lambda key, value: seen.append((key, value)))
    form.control("blend").setValue(40)
    form.bindings["keep"].boxes["eyes"].setChecked(True)  # type: ignore[attr-defined]
    form.control("color").setCurrentText("mean")
    assert seen == [("blend", 0.4), ("keep", ("mouth", "eyes")), ("color", "mean")]
    form.set_values({"blend": 1.0, "unknown": 1}, quiet=True)
    assert len(seen) == 3 and form.values()["blend"] == 1.0


def test_form_values_round_trip_through_the_settings_file(qtbot, tmp_path: Path) -> None:
    form = SettingsForm(GUI_KEYS, choices=SWAPPERS)
    qtbot.addWidget(form)
    wanted = {key: other_value(setting(key, "gui")) for key in GUI_KEYS}
    wanted["swapper"] = "ghost-2"
    form.set_values(wanted)
    assert form.values() == wanted
    path = save_settings(from_values(form.values()), tmp_path / "settings.toml")
    again = SettingsForm(GUI_KEYS, choices=SWAPPERS)
    qtbot.addWidget(again)
    again.set_values(to_values(load_settings(path)))
    assert again.values() == wanted
