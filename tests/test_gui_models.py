"""The window's "Models and speed" box tells the state of the model folder as ``ghostlive models list`` does: a
personal swapper whose generator changed, went missing or was removed by the command line meanwhile, a saved
swapper that is not installed here, and backends this machine cannot run greyed out with the reason. A drop on the
Personalise tab adds to its list of the person's photos and videos. The model folder holds the stand-ins of
tests/int8_stand_ins.py (an untrained 1/16-width GHOST-2 and a stand-in ArcFace: the released weights cannot be
downloaded here). Offscreen, through pytest-qt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from ghostlive.cli import main
from ghostlive.engines.registry import backend_problem
from ghostlive.hub import ModelStore
from ghostlive.models.personal import Personal, register
from ghostlive.ui.main_window import MainWindow

from .conftest import sample
from .int8_stand_ins import stand_in_generator, stand_in_store
from .media_tools import CLIP


def open_window(qtbot, tmp_path: Path, store: ModelStore, settings: str = "") -> MainWindow:
    path = tmp_path / "settings.toml"
    if settings:
        path.write_text(settings)
    w = MainWindow(settings_path=path, store=store)
    w.cfg.output_folder = str(tmp_path)
    qtbot.addWidget(w)
    w.show()
    return w


def test_the_models_box_says_what_became_of_a_personal_swapper(qtbot, tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("torch")
    home = tmp_path / "home"
    store = stand_in_store(home)
    stand_in_generator(store, "me.onnx")  # as a fine-tune of ghost-2 leaves it
    register(store, Personal("me", "ghost-2", "me.pth", "me.onnx", steps=1))
    w = open_window(qtbot, tmp_path, store)
    w.swapper_combo.setCurrentText("me")
    assert w.model_status.text() == "me (personal): ready"
    with open(store.root / "me.onnx", "ab") as f:  # changed after it was installed
        f.write(b"\0")
    w.models.update_status()
    assert "me.onnx changed since installed" in w.model_status.text()
    (store.root / "me.onnx").unlink()
    w.models.update_status()
    assert "me.onnx is missing" in w.model_status.text()
    monkeypatch.setenv("GHOSTLIVE_HOME", str(home))
    assert main(["models", "remove", "me"]) == 0  # while the window is open
    w.models.refresh_swappers()  # as on the window's activation
    assert w.swapper_combo.findText("me") >= 0  # still the chosen one, said to be gone
    assert "no such swapper here" in w.model_status.text()
    w.swapper_combo.setCurrentText("classic")
    w.models.refresh_swappers()
    assert w.swapper_combo.findText("me") < 0


def test_a_personal_swapper_made_again_is_listed_once(qtbot, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    store = stand_in_store(tmp_path / "home")
    w = open_window(qtbot, tmp_path, store)
    stand_in_generator(store, "me.onnx")
    register(store, Personal("me", "ghost-2", "me.pth", "me.onnx", steps=1))
    for _ in range(2):  # a fine-tune finished, then resumed and finished again
        w.personalise.on_registered("me")
    assert [w.swapper_combo.itemText(i) for i in range(w.swapper_combo.count())].count("me") == 1


def test_a_saved_swapper_that_is_not_installed_is_said_at_start(qtbot, tmp_path: Path, capsys) -> None:
    w = open_window(qtbot, tmp_path, ModelStore(tmp_path / "home"), 'swapper = "bob"\n')
    assert "the saved swapper 'bob' is not installed here" in w.error_banner.text()
    assert "no such swapper here" in w.model_status.text()
    assert "Traceback" not in capsys.readouterr().err
    (tmp_path / "b").mkdir()
    w2 = open_window(qtbot, tmp_path / "b", ModelStore(tmp_path / "home"), 'swapper = "ghost-2"\n')
    assert "ghostlive models download ghost-2" in w2.model_status.text()  # restored without an exception
    assert "Traceback" not in capsys.readouterr().err


def test_backends_this_machine_cannot_run_are_greyed_out_with_the_reason(window: MainWindow) -> None:
    combo = window.backend_combo
    for i in range(combo.count()):
        why = backend_problem(str(combo.itemData(i) or combo.itemText(i)))
        assert combo.model().item(i).isEnabled() == (not why)
        assert not why or why in str(combo.itemData(i, Qt.ItemDataRole.ToolTipRole))
    assert combo.model().item(combo.findText("ort-cpu")).isEnabled()
    assert window.engines_button.isEnabled() == (not backend_problem("tensorrt"))
    if backend_problem("tensorrt"):  # this machine: no TensorRT
        assert "TensorRT is not installed" in window.engines_button.toolTip()


def test_a_drop_on_the_personalise_tab_adds_to_its_list(window: MainWindow) -> None:
    window.tabs.setCurrentWidget(window.personalise)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(sample("grace_hopper.jpg"))), QUrl.fromLocalFile(str(CLIP))])
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, data, Qt.MouseButton.NoButton, Qt.KeyboardModifier(0))
    window.dropEvent(event)
    media = [window.personalise.media.item(i).text() for i in range(window.personalise.media.count())]
    assert media == [str(sample("grace_hopper.jpg")), str(CLIP)]
    assert window.tabs.currentWidget() is window.personalise and window.job_input.text() == ""
    assert window.session.sources == []  # the photo is the person's, not a source face
