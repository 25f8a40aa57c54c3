""" "Optimise for this CPU" in the window's model panel: the int8 measurement of ``ghostlive models optimise``
run as a session task on a worker thread, its refusal without ArcFace, the stored decision shown for the chosen
GHOST generator, and the same for a personal (fine-tuned) generator. The model folder holds the stand-ins of
tests/int8_stand_ins.py (an untrained 1/16-width GHOST-2 and a stand-in ArcFace; the released weights cannot be
downloaded here); the faces measured on are the bundled portraits. Offscreen, through pytest-qt."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")
pytest.importorskip("torch")

from PySide6.QtCore import Qt

from ghostlive import optimise
from ghostlive.cli import main
from ghostlive.engines.int8 import Int8Store, ort_version
from ghostlive.errors import ConfigError
from ghostlive.hub import ModelStore
from ghostlive.models.personal import Personal, register
from ghostlive.swappers.factory import build_swapper
from ghostlive.ui.main_window import MainWindow

from .conftest import sample
from .int8_stand_ins import stand_in_generator, stand_in_store
from .media_tools import CLIP


@pytest.fixture
def measured_on(monkeypatch) -> list[threading.Thread]:
    """The thread of every int8 measurement; each is timed with one run (fast; the timing is not tested here)."""
    seen: list[threading.Thread] = []
    real = optimise.measure_int8

    def measure(*args, **kwargs):
        seen.append(threading.current_thread())
        return real(*args, **{**kwargs, "runs": 1})

    monkeypatch.setattr(optimise, "measure_int8", measure)
    return seen


def open_window(qtbot, tmp_path: Path, store: ModelStore) -> MainWindow:
    w = MainWindow(settings_path=tmp_path / "settings.toml", store=store)
    w.cfg.output_folder = str(tmp_path)
    qtbot.addWidget(w)
    w.show()
    return w


def click_optimise(qtbot, w: MainWindow) -> None:
    panel = w.models
    assert panel.optimise_button.isVisible() and panel.optimise_button.isEnabled()
    qtbot.mouseClick(panel.optimise_button, Qt.MouseButton.LeftButton)
    assert panel.optimising is not None and not panel.optimise_button.isEnabled()  # no second start meanwhile
    assert panel.int8_status.text().startswith(f"int8 (CPU): measuring {w.swapper_combo.currentText()} ")
    qtbot.waitUntil(lambda: panel.optimising is None, timeout=120_000)


def test_optimise_runs_on_a_worker_thread_and_the_panel_shows_the_decision(qtbot, tmp_path: Path, measured_on) -> None:
    store = stand_in_store(tmp_path / "home")
    w = open_window(qtbot, tmp_path, store)
    panel = w.models
    assert not panel.optimise_button.isVisible()  # classic: no generator to quantise
    w.swapper_combo.setCurrentText("ghost-2")
    assert panel.int8_status.text() == "int8 (CPU): fp32 (int8 not measured here)"
    click_optimise(qtbot, w)
    assert w.error_banner.isHidden(), w.error_banner.text()
    assert len(measured_on) == 1 and measured_on[0] is not threading.main_thread()
    model = store.root / "ghost-2.onnx"
    decision = Int8Store(store.root / "engines").lookup(model, ort_version())
    assert decision is not None  # the record is stored, keyed to this model, ONNX Runtime and CPU
    assert (
        panel.int8_status.text()
        == f"int8 (CPU): {decision.summary()}"
        == f"int8 (CPU): {optimise.decision_line(model)}"
    )
    assert panel.model_progress.value() == panel.model_progress.maximum()
    log = w.messages.toPlainText()
    assert "quantising ghost-2.onnx to int8" in log and f"ghost-2: {decision.summary()}" in log
    # the decision is shown whenever the generator is chosen (read from the record, not remembered)
    w.swapper_combo.setCurrentText("classic")
    assert not panel.int8_status.isVisible() and not panel.optimise_button.isVisible()
    w.swapper_combo.setCurrentText("ghost-2")
    assert panel.int8_status.isVisible() and decision.summary() in panel.int8_status.text()


def test_optimise_is_refused_in_one_line_without_arcface(qtbot, tmp_path: Path, measured_on) -> None:
    store = stand_in_store(tmp_path / "home", with_arcface=False)
    w = open_window(qtbot, tmp_path, store)
    w.swapper_combo.setCurrentText("ghost-2")
    click_optimise(qtbot, w)
    message = w.error_banner.text()
    assert w.error_banner.isVisible() and "int8 is not offered without the GHOST ArcFace" in message
    assert "\n" not in message and "Traceback" not in w.messages.toPlainText()
    assert w.models.model_progress.format() == "failed" and not measured_on
    assert not (store.root / "engines").exists()
    assert w.models.int8_status.text() == "int8 (CPU): fp32 (int8 not measured here)"


def test_the_measurement_and_the_live_preview_exclude_each_other(qtbot, tmp_path: Path, monkeypatch) -> None:
    """int8 and fp32 are timed on an otherwise idle CPU: no measurement while live, no preview while measuring."""
    store = stand_in_store(tmp_path / "home")
    monkeypatch.setenv("GHOSTLIVE_HOME", str(store.root.parent))  # where the live job looks for models
    w = open_window(qtbot, tmp_path, store)
    w.swapper_combo.setCurrentText("ghost-2")
    w.add_source_photos([str(sample("grace_hopper.jpg"))])
    w.camera.setCurrentText(str(CLIP))
    assert w.start_live()
    qtbot.waitUntil(lambda: w.bridge.frames_seen > 2, timeout=60_000)
    assert not w.models.optimise_button.isEnabled()
    with pytest.raises(ConfigError, match="stop the live preview first"):  # the session refuses too, in one line
        w.session.optimise("ghost-2").result(10)
    w.stop_live(wait=True)
    qtbot.waitUntil(w.models.optimise_button.isEnabled, timeout=10_000)
    release, real = threading.Event(), optimise.measure_int8
    monkeypatch.setattr(optimise, "measure_int8", lambda *a, **k: release.wait(60) and real(*a, **{**k, "runs": 1}))
    w.models.optimise_button.click()
    assert not w.start_live() and w.pipeline is None  # refused while measuring, said in the banner
    assert "int8 of ghost-2 is being measured" in w.error_banner.text()
    with pytest.raises(ConfigError, match="already being measured"):
        w.session.optimise("ghost-2").result(10)
    release.set()
    qtbot.waitUntil(lambda: w.models.optimising is None, timeout=120_000)
    assert "int8 (CPU): " in w.models.int8_status.text() and "not measured" not in w.models.int8_status.text()
    assert w.start_live()


def test_a_personal_generator_is_optimised_and_runs_int8(qtbot, tmp_path: Path, capsys, monkeypatch) -> None:
    home = tmp_path / "home"
    store = stand_in_store(home)
    stand_in_generator(store, "me.onnx")  # as a fine-tune of ghost-2 leaves it (same graph and signature)
    register(store, Personal("me", "ghost-2", "me.pth", "me.onnx", steps=1))
    monkeypatch.setenv("GHOSTLIVE_HOME", str(home))
    assert main(["models", "optimise", "me", "--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "quantising me.onnx to int8" in out and ("me: int8 used" in out or "me: fp32 used" in out)
    decision = Int8Store(store.root / "engines").lookup(store.root / "me.onnx", ort_version())
    assert decision is not None and decision.identity_kept  # the stand-in keeps identity (tests/test_int8.py)

    def generator(precision: str) -> str:
        swapper = build_swapper("me", store, backend="ort-cpu", cpu_precision=precision)
        return Path(swapper.generator.runner.info.model).name

    assert generator("int8") == "me.int8.onnx" and generator("fp32") == "me.onnx"
    assert generator("auto") == ("me.int8.onnx" if decision.use_int8 else "me.onnx")
    from ghostlive.optimise import int8_status

    status, detail, fix = int8_status(store)  # doctor lists it beside ghost-2, which is still to be measured
    assert f"me: {decision.summary()}" in detail and (status, fix) == ("warn", "ghostlive models optimise ghost-2")
    w = open_window(qtbot, tmp_path, store)
    w.swapper_combo.setCurrentText("me")
    assert w.model_status.text() == "me (personal): ready"
    assert w.models.int8_status.text() == f"int8 (CPU): {decision.summary()}" and w.models.optimise_button.isEnabled()
    assert main(["models", "optimise", "nobody", "--runs", "1"]) == 1
    assert "and installed personal ones" in capsys.readouterr().err
