"""An enhancer whose model is not installed is treated like a mask whose model is missing: listed but not
selectable (its tooltip says how to install it), and one chosen in a saved setting is set back to none, so the
next start can go live (the app used to keep ``enhancer = "codeformer"`` and refuse every start)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt

from ghostlive.hub import ModelStore
from ghostlive.models.registry import RESTORERS
from ghostlive.ui.main_window import MainWindow

from .conftest import sample
from .media_tools import CLIP


def test_a_missing_enhancer_cannot_be_chosen_and_a_saved_one_is_reset(qtbot, tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text('enhancer = "codeformer"\n')
    w = MainWindow(settings_path=tmp_path / "settings.toml", store=ModelStore(tmp_path / "home"))
    qtbot.addWidget(w)
    w.cfg.output_folder = str(tmp_path)
    combo = w.stages.enhancer
    assert combo.currentData() == "" and w.current_settings().enhancer == ""
    i = combo.findData("codeformer")
    assert not combo.model().item(i).isEnabled()
    assert RESTORERS["codeformer"].filename in combo.itemData(i, Qt.ItemDataRole.ToolTipRole)
    assert combo.model().item(combo.findData("")).isEnabled()
    w.add_source_photos([str(sample("grace_hopper.jpg"))])
    w.camera.setCurrentText(str(CLIP))
    try:
        assert w.start_live()  # was refused: the saved enhancer was missing
        assert w.error_banner.isHidden()
    finally:
        w.stop_live(wait=True)


def test_parser_regions_have_a_control_and_a_settings_key(qtbot, tmp_path: Path) -> None:
    """The README promised the command line's mask choices in the app; the parser's regions had no control and
    ``regions = [...]`` in settings.toml was "unknown setting … ignored"."""
    (tmp_path / "settings.toml").write_text('regions = ["skin", "nose"]\nmask = ["mouth"]\n')
    w = MainWindow(settings_path=tmp_path / "settings.toml", store=ModelStore(tmp_path / "home"))
    qtbot.addWidget(w)
    assert not w.settings_file.damaged
    boxes = w.bindings.by_key["regions"].boxes
    assert w.swap_settings().masks.regions == ("skin", "nose")
    assert tuple(w.current_settings().regions) == ("skin", "nose")
    assert boxes["skin"].isChecked() and not boxes["hair"].isChecked()
    boxes["hair"].setChecked(True)  # a change the live stages are built anew for
    assert w.stages.take_dirty() and w.swap_settings().masks.regions == ("skin", "nose", "hair")
