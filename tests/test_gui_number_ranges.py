"""Every value a schema-built slider or spin box can give is one the settings file reads back (the Mask feather
slider's minimum was saved as 0.005 and refused at the next start: the schema's lower bound was open)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from ghostlive.config import from_values, load_settings, save_settings, to_values
from ghostlive.settings import Setting, setting, settings_for
from ghostlive.ui.schema_widgets import bind

NUMBERS = [s.key for s in settings_for("gui") if s.kind in (int, float)]


def ends(b) -> list:
    """The values the control gives at its ends and one step inside them."""
    c = b.control
    step = c.singleStep()
    out = []
    for shown in (c.minimum(), c.minimum() + step, c.maximum() - step, c.maximum()):
        c.setValue(shown)
        out.append(b.value())
    return out


def test_every_number_control_gives_values_the_settings_file_reads_back(qtbot, tmp_path: Path) -> None:
    assert {"feather", "blend", "similarity", "smoothing", "enhance_blend"} <= set(NUMBERS)
    for key in NUMBERS:
        b = bind(key)
        qtbot.addWidget(b.widget)
        for value in ends(b):
            path = save_settings(from_values({key: value}), tmp_path / f"{key}.toml")
            assert to_values(load_settings(path))[key] == value, (key, value)


def test_an_open_lower_bound_starts_the_control_one_step_above_it(qtbot) -> None:
    feather = setting("feather", "swap")  # (0, 0.2]: 0 is refused
    for spec in (feather, Setting("x", float, 0.5, "", ("gui",), lo=0.0, hi=1.0, lo_open=True, step=0.1)):
        b = bind(spec)
        qtbot.addWidget(b.widget)
        b.control.setValue(b.control.minimum())
        assert b.value() > 0.0
        spec.check(b.value())


def test_the_last_parser_region_stays_ticked_and_an_empty_list_is_refused_in_the_file(qtbot) -> None:
    """Unticking every parser region gave ``regions = []``: the parser mask then covered nothing and no face was
    swapped, without a word (the command line refuses ``--regions ""``)."""
    b = bind(setting("regions", "gui"))
    qtbot.addWidget(b.widget)
    b.set_value(("skin", "nose"))
    for box in b.boxes.values():
        box.setChecked(False)
    assert len(b.value()) == 1  # the last one stays
    with pytest.raises(ValueError, match="name at least 1"):
        setting("regions", "gui").check([])
    assert setting("keep", "gui").check([]) == ()  # keeping nothing is a choice
