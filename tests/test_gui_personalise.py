"""The window's Personalise tab (pytest-qt, offscreen) on real faces with real tiny fine-tunes (width 1/16, batch 2,
untrained ArcFace): unwritable folders said before any work (the command line too), a name used once, Cancel in
both phases, the bar, the banner and the status after each outcome, base models that are not installed, the media
list, and why a photo or video was skipped."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")
torch = pytest.importorskip("torch")
if importlib.util.find_spec("onnx2torch") is None:
    pytest.skip("onnx2torch is not installed (the train extra)", allow_module_level=True)

from PySide6.QtCore import Qt  # noqa: E402

from ghostlive.cli import main  # noqa: E402
from ghostlive.media.image import read_image, write_image  # noqa: E402
from ghostlive.models.personal import personal_models  # noqa: E402
from ghostlive.ui.main_window import MainWindow  # noqa: E402
from ghostlive.ui.personalise import PersonaliseTab  # noqa: E402
from tests.conftest import DATA, read_only_mount, sample  # noqa: E402
from tests.training_tools import one_thread  # noqa: E402, F401 (an autouse fixture)

ASTRONAUT, GRACE = str(sample("astronaut.png")), str(sample("grace_hopper.jpg"))
TINY = "width = 0.0625\nnum_workers = 0\nbatch_size = 2\npreview_every = 0\n"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))  # the window's store (conftest) is there too
    return tmp_path / "home"


@pytest.fixture
def tab(window: MainWindow, home: Path, tmp_path: Path) -> PersonaliseTab:
    """The window's Personalise tab, shown, fine-tuning with the tiny recipe from an untrained generator."""
    (tmp_path / "ft.toml").write_text(TINY)
    window.tabs.setCurrentIndex(2)
    t = window.personalise
    t.config, t.allow_untrained = str(tmp_path / "ft.toml"), True
    return t


def fill(tab: PersonaliseTab, name: str, media: list[str], steps: int = 1) -> None:
    tab.media.clear()
    tab.add_media(media)
    tab.name.setText(name)
    tab.steps.setValue(steps)


def finish(tab: PersonaliseTab, qtbot) -> None:
    assert tab.task is not None
    qtbot.waitUntil(lambda: tab.task.isFinished() and tab.start_button.isEnabled(), timeout=240_000)


def messages(window: MainWindow) -> list[str]:
    return window.messages.toPlainText().splitlines()


def no_face_photo(folder: Path) -> str:
    """The lower part of grace_hopper.jpg: her uniform, no face."""
    write_image(folder / "uniform.png", read_image(GRACE).bgr[380:].copy())
    return str(folder / "uniform.png")


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    made: list[Path] = []
    yield made
    for folder in reversed(made):
        subprocess.run(["umount", str(folder)], check=True)


def test_unwritable_folders_are_said_before_any_work(window, tab, home, tmp_path, qtbot, mounts, capsys) -> None:
    def mount(folder: Path) -> None:
        if not read_only_mount(folder):
            pytest.skip("needs mount --bind (root) to make a read-only folder")
        mounts.append(folder)

    def refused(name: str) -> str:
        fill(tab, name, [GRACE], steps=2)
        tab.start()
        finish(tab, qtbot)
        assert not (home / "training" / name).exists()  # nothing prepared, nothing trained
        assert not window.error_banner.isHidden()
        return window.error_banner.text()

    models, training = home / "models", home / "training"
    mount(models)
    assert refused("one") == f"Personalise: {models}: cannot write in the model folder (Read-only file system)"
    assert not training.exists()
    subprocess.run(["umount", str(mounts.pop())], check=True)
    training.mkdir()
    mount(training)
    work = f"{training / 'two'}: cannot write in the fine-tune work folder (Read-only file system)"
    assert refused("two") == f"Personalise: {work}"
    argv = ["train", "finetune", "--person", GRACE, "-o", "two", "--config", tab.config or "", "--steps", "1",
            "--allow-untrained", "-q"]
    assert main(argv) == 1  # the command line shares the check
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"ghostlive: error: {work}"
    mount(home)  # all of GHOSTLIVE_HOME
    assert refused("three") == f"Personalise: {models}: cannot write in the model folder (Read-only file system)"


def test_cancel_while_training_keeps_a_checkpoint_and_is_no_error(window, tab, home, qtbot) -> None:
    fill(tab, "eileen", [ASTRONAUT], steps=500)
    tab.start()
    inputs = (tab.name, tab.model, tab.steps, tab.media, tab.remove_button, tab.clear_button)
    assert not any(w.isEnabled() for w in inputs) and tab.cancel_button.isEnabled()  # nothing changes mid-run
    qtbot.waitUntil(lambda: tab.status.text().startswith("step "), timeout=240_000)
    tab.cancel()
    said = tab.status.text()
    finish(tab, qtbot)
    assert not any(m.startswith("error") for m in messages(window)) and window.error_banner.isHidden()
    assert tab.bar.format() == "cancelled" and tab.bar.value() == 0
    step = json.loads((home / "training" / "eileen" / "run" / "latest.json").read_text())["step"]
    stopped = (f"stopped at step {step}; its checkpoint is kept: Start with the name 'eileen' (and the same or no "
               "photos) to continue")
    assert tab.status.text() == stopped and messages(window)[-1] == f"Personalise: {stopped}"
    assert said == "stopping after this step (its checkpoint is kept)…"
    assert all(w.isEnabled() for w in inputs) and not tab.cancel_button.isEnabled()


def test_a_name_is_used_once_and_a_stopped_fine_tune_continues_only_with_its_person(
    window, tab, home, qtbot
) -> None:
    from ghostlive.training.finetune import finetune
    from ghostlive.training.trainer import Stopped

    def stop(step: int, end: int, values: dict[str, float]) -> None:
        raise Stopped

    with pytest.raises(Stopped):  # a fine-tune stopped after its first step (its checkpoint kept)
        finetune("eileen", [ASTRONAUT], config=tab.config, steps=5, store=tab.store, allow_untrained=True,
                 progress=stop)
    added: list[str] = []
    tab.on_registered = added.append
    fill(tab, "eileen", [GRACE], steps=2)  # someone else under the stopped fine-tune's name
    started = tab.start()
    assert tab.task is None and started is False
    assert "'eileen' is a stopped fine-tune of other photos or videos" in tab.status.text()
    assert "choose another name" in tab.status.text() and not window.error_banner.isHidden()
    tab.media.clear()
    tab.model.setCurrentIndex(tab.model.findData("ghost-1"))
    assert tab.start() is False
    assert tab.status.text() == ("'eileen' is a stopped fine-tune from ghost-2: choose ghost-2 in Start from to "
                                 "continue it, or another name for a new one")
    tab.model.setCurrentIndex(tab.model.findData("ghost-2"))
    assert tab.start() is True and window.error_banner.isHidden()
    assert tab.status.text().startswith("continuing the stopped fine-tune of 'eileen' (at step 1, from ghost-2)")
    finish(tab, qtbot)
    assert added == ["eileen"] and personal_models(tab.store)["eileen"].steps == 2
    crops = json.loads((home / "training" / "eileen" / "data" / "manifest.json").read_text())["images"]
    assert {c["source"] for k, c in crops.items() if k.startswith("eileen/")} == {ASTRONAUT}  # only her

    fill(tab, "eileen", [ASTRONAUT])
    assert tab.start() is False
    assert tab.status.text() == ("'eileen' is already a personal swapper: choose another name, or remove it first "
                                 "with: ghostlive models remove eileen")


def test_cancel_while_preparing_stops_before_training(window, tab, home, qtbot) -> None:
    fill(tab, "mega", [str(DATA / "megamind_3s.mp4"), GRACE], steps=50)
    tab.start()
    seen: list[tuple[int, int, str]] = []
    tab.task.progress.connect(lambda d, t, s: seen.append((d, t, s)))
    tab.cancel()
    said = tab.status.text()
    finish(tab, qtbot)
    assert not (home / "training" / "mega").exists()  # stopped before its first step: no checkpoint
    assert seen and all(s.startswith("preparing the faces: ") and t == 4 for _, t, s in seen)  # 2 + 2 portraits
    assert said == "stopping before training starts…"
    assert tab.status.text() == "stopped before training; nothing was kept" and tab.bar.format() == "cancelled"
    tab.start()  # closing the window stops it the same way
    window.close()
    assert tab.task.isFinished() and not (home / "training" / "mega").exists()


def test_a_new_job_clears_the_banner_and_the_bar(window, tab, tmp_path, qtbot) -> None:
    tab.start()  # no name: said in the banner
    assert not window.error_banner.isHidden()
    fill(tab, "grace", [GRACE])
    tab.start()
    assert window.error_banner.isHidden() and tab.bar.value() == 0
    finish(tab, qtbot)
    assert tab.bar.value() == tab.bar.maximum() == 1 and tab.bar.text() == "100%"
    fill(tab, "uniform", [no_face_photo(tmp_path)])
    tab.start()
    assert tab.bar.value() == 0 and tab.bar.text() == "0%"  # not the last job's 100 %
    finish(tab, qtbot)
    assert tab.bar.format() == "failed" and tab.bar.value() == 0
    assert tab.status.text().startswith("no usable face of the person was found in ")
    assert window.error_banner.text() == f"Personalise: {tab.status.text()}"


def test_the_status_says_why_each_start_was_refused(window, tab, tmp_path, qtbot) -> None:
    fill(tab, "me", [str(tmp_path / "nope.jpg")])
    tab.start()
    finish(tab, qtbot)
    assert tab.status.text() == f"{tmp_path / 'nope.jpg'}: no such file or folder"
    tab.name.setText("")
    tab.start()  # the earlier failure is no longer shown as the tab's state
    assert tab.status.text() == "give the personal swapper a name (and add photos or a video of the person)"
    assert window.error_banner.text() == f"Personalise: {tab.status.text()}"


def test_a_long_error_wraps_instead_of_widening_the_window(window, tab, tmp_path, qtbot) -> None:
    width = window.minimumSizeHint().width()
    long = tmp_path / ("very-long-folder-name-" * 8) / ("and-another-one-" * 8) / "me.jpg"
    fill(tab, "far", [str(long)])
    tab.start()
    finish(tab, qtbot)
    assert str(long) in tab.status.text() and tab.status.wordWrap()
    qtbot.wait(50)
    assert window.minimumSizeHint().width() == width and window.width() == 1280


def test_base_models_that_are_not_installed_are_marked(window, tab, tmp_path, qtbot) -> None:
    from ghostlive.export.aei_net import AEINet

    tab.allow_untrained = False
    assert [tab.model.itemText(i) for i in range(3)] == [f"{m} (not installed)" for m in ("ghost-2", "ghost-1",
                                                                                           "ghost-3")]
    advice = "ghost-2 is not installed: choose ghost-2 as the Swapper in the Models box and click Download"
    assert tab.model.itemData(0, Qt.ItemDataRole.ToolTipRole).startswith(advice)
    fill(tab, "me", [GRACE])
    assert tab.start() is False and tab.status.text().startswith(advice) and "--" not in tab.status.text()
    torch.save(AEINet(2, width=0.0625).state_dict(), tmp_path / "G.pth")  # a real (untrained) generator file
    tab.store.add_file(tmp_path / "G.pth", "G_unet_2blocks.pth", "test")
    window.tabs.setCurrentIndex(0)
    window.tabs.setCurrentIndex(2)  # shown again: looked at again
    assert [tab.model.itemText(i) for i in range(2)] == ["ghost-2", "ghost-1 (not installed)"]


def test_the_media_list_can_be_edited_and_holds_each_file_once(tab, qtbot, tmp_path) -> None:
    (tmp_path / "link.png").symlink_to(ASTRONAUT)
    assert tab.add_media([ASTRONAUT, GRACE, ASTRONAUT]) == 2
    assert tab.add_media([str(tmp_path / "link.png"), GRACE]) == 0  # the same files again
    assert tab.media_paths() == [ASTRONAUT, GRACE]
    tab.media.setCurrentRow(0)
    tab.media.setFocus()
    qtbot.keyClick(tab.media, Qt.Key.Key_Delete)
    assert tab.media_paths() == [GRACE]
    tab.add_media([ASTRONAUT, str(DATA / "messi5.jpg")])
    tab.media.setCurrentRow(1)
    qtbot.mouseClick(tab.remove_button, Qt.MouseButton.LeftButton)
    assert tab.media_paths() == [GRACE, str(DATA / "messi5.jpg")]
    qtbot.mouseClick(tab.clear_button, Qt.MouseButton.LeftButton)
    assert tab.media_paths() == []


def test_why_a_photo_was_skipped_is_shown(window, tab, tmp_path, qtbot) -> None:
    fake = tmp_path / "holiday.jpg"
    fake.write_text("a text file, named like a photo")
    fill(tab, "holiday", [str(fake)])
    tab.start()
    finish(tab, qtbot)
    why = f"{fake}: not an image file, or a format that cannot be read"
    assert tab.status.text() == f"no usable face of the person was found in {fake} ({why})"
    assert f"Personalise: skipped: {why}" in messages(window)
