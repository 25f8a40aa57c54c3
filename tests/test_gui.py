"""The desktop window, driven through pytest-qt (offscreen): real photos, a real clip, the live loop."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from ghostlive.hub import ModelStore
from ghostlive.ui.main_window import MainWindow

from .conftest import sample
from .media_tools import CLIP, BrokenCamera, frames_of

GRACE = str(sample("grace_hopper.jpg"))


def test_source_photo_shows_its_face_thumbnail(window: MainWindow) -> None:
    assert window.add_source_photos([GRACE]) == 1
    item = window.source_list.item(0)
    assert not item.icon().isNull() and "grace_hopper.jpg" in item.text()
    assert window.selected_source() == (GRACE, 0)


def test_video_job_runs_to_completion(window: MainWindow, qtbot, tmp_path: Path) -> None:
    window.add_source_photos([GRACE])
    out = tmp_path / "out.mp4"
    window.job_input.setText(str(CLIP))
    window.job_output.setText(str(out))
    seen: list[int] = []
    window.run_button.click()
    task = window.task
    assert task is not None
    task.progress.connect(lambda d, t, s: seen.append(d))
    with qtbot.waitSignal(task.finished, timeout=120_000):
        pass
    assert out.exists() and len(frames_of(out)) == 72
    assert seen and max(seen) > 0
    assert window.open_button.isEnabled() and window.last_output == out
    assert window.error_banner.isHidden()


def video_job_under_way(window: MainWindow, qtbot, folder: Path):
    """The clip swapped into ``folder``/out.mp4 from the Files tab; returned once its hidden temporary file is
    being written."""
    window.add_source_photos([GRACE])
    window.job_input.setText(str(CLIP))
    window.job_output.setText(str(folder / "out.mp4"))
    window.run_button.click()
    task = window.task
    assert task is not None
    qtbot.waitUntil(lambda: any(p.name.startswith(".out.") for p in folder.iterdir()), timeout=60_000)
    return task


def test_closing_the_window_cancels_a_running_job(window: MainWindow, qtbot, tmp_path: Path) -> None:
    """The window closed while a video job runs: the job is cancelled and has ended before the window is gone, and
    its unfinished (hidden, temporary) output is deleted. It used to run on while the process exited, which
    aborted it ("terminate called without an active exception") and left a hidden .out.*.mp4."""
    task = video_job_under_way(window, qtbot, tmp_path)
    window.close()
    assert task.isFinished()
    assert not [p.name for p in tmp_path.iterdir() if "out" in p.name]


def test_a_cancelled_job_is_no_error_and_the_next_job_clears_the_banner(window: MainWindow, qtbot, tmp_path) -> None:
    """Cancel is the user's choice: the bar says "cancelled" and the messages pane says so, no red banner. A
    banner left by an earlier failure goes when the next job starts, and so does the last job's ETA."""
    task = video_job_under_way(window, qtbot, tmp_path)
    with qtbot.waitSignal(task.finished, timeout=60_000):
        window.cancel_button.click()
    assert window.error_banner.isHidden(), window.error_banner.text()
    assert window.job_progress.format() == "cancelled"
    assert "stopped; no output was written" in window.messages.toPlainText()
    window.show_error("an earlier failure")
    window.job_output.setText(str(tmp_path / "still.png"))
    window.job_input.setText(GRACE)
    window.run_button.click()
    assert window.error_banner.isHidden() and window.job_eta.text() == ""
    with qtbot.waitSignal(window.task.finished, timeout=60_000):
        pass
    assert (tmp_path / "still.png").exists() and window.error_banner.isHidden()


def test_live_preview_with_a_video_file_camera(window: MainWindow, qtbot) -> None:
    window.add_source_photos([GRACE])
    window.camera.setCurrentText(str(CLIP))
    window.resolution.setCurrentText("640x480")
    window.start_button.click()
    assert window.pipeline is not None
    qtbot.waitUntil(
        lambda: window.preview.pixmap() is not None and not window.preview.pixmap().isNull(), timeout=20_000
    )
    qtbot.waitUntil(lambda: "fps" in window.stats_label.text(), timeout=20_000)
    qtbot.waitUntil(lambda: window.bridge.frames_seen > 20, timeout=20_000)
    assert window.pipeline.stats().faces >= 1
    # change a setting while live: blend 0 means the swap leaves the frame as captured
    frames_before = window.bridge.frames_seen
    window.blend.setValue(0)
    qtbot.waitUntil(lambda: window.pipeline.swapper.swapper.options.blend == 0.0, timeout=10_000)
    qtbot.waitUntil(lambda: window.bridge.frames_seen > frames_before + 10, timeout=20_000)
    assert window.pipeline is not None and window.pipeline.running  # never restarted
    window.start_button.click()
    assert window.pipeline is None and window.start_button.text() == "Start"


def test_a_loop_that_stops_by_itself_gives_back_the_start_button(
    window: MainWindow, qtbot, monkeypatch, tmp_path: Path
) -> None:
    """The camera fails for good (its read raises) while recording: the session stops the loop and finishes the
    recording, the tab says "Start" again (the next click starts a loop instead of "stopping" one that is gone),
    and "Open result" opens the recording, as after a Stop."""
    from ghostlive.session.live import LiveRequest

    monkeypatch.setattr(LiveRequest, "open", lambda request: BrokenCamera(request.camera, 40))
    window.cfg.output_folder = str(tmp_path)
    window.add_source_photos([GRACE])
    window.camera.setCurrentText(str(CLIP))
    window.start_button.click()
    assert window.start_button.text() == "Stop"
    window.record_button.setChecked(True)
    qtbot.waitUntil(lambda: window.pipeline is None, timeout=30_000)
    qtbot.waitUntil(lambda: window.start_button.text() == "Start", timeout=10_000)
    assert not window.record_button.isChecked() and window.stream_status.text() == "off"
    qtbot.waitUntil(lambda: window.last_output is not None, timeout=10_000)
    assert window.last_output.parent == tmp_path and len(frames_of(window.last_output)) > 5
    assert window.open_button.isEnabled()


def test_a_swapper_that_cannot_load_while_live_leaves_the_running_one_shown(window: MainWindow, qtbot) -> None:
    """inswapper is not installed: choosing it while live is an error, the loop keeps the classic swapper, and the
    Swapper box goes back to it (it said "inswapper" while classic ran, and saved that for the next start)."""
    window.add_source_photos([GRACE])
    window.camera.setCurrentText(str(CLIP))
    assert window.start_live()
    window.swapper_combo.setCurrentText("inswapper")
    qtbot.waitUntil(lambda: window.swapper_combo.currentText() == "classic", timeout=30_000)
    qtbot.waitUntil(lambda: "inswapper" in window.messages.toPlainText(), timeout=10_000)
    assert not window.error_banner.isHidden()
    assert window.pipeline is not None and window.pipeline.running
    assert window.current_settings().swapper == "classic"


def test_a_mask_whose_model_is_missing_cannot_be_ticked(qtbot, tmp_path: Path) -> None:
    """The occluder and parser models are not installed: their boxes are disabled, saying how to install them,
    and a saved setting that ticked one is unticked (the app used to keep it ticked, fail every start with it, and
    save it again)."""
    (tmp_path / "settings.toml").write_text('mask = ["occlusion", "mouth"]\n')
    w = MainWindow(settings_path=tmp_path / "settings.toml", store=ModelStore(tmp_path / "home"))
    qtbot.addWidget(w)
    boxes = w.stages.masks
    assert not boxes["occlusion"].isEnabled() and not boxes["occlusion"].isChecked()
    assert "xseg_1.onnx" in boxes["occlusion"].toolTip() and not boxes["parser"].isEnabled()
    assert boxes["mouth"].isEnabled() and boxes["mouth"].isChecked()
    assert tuple(w.current_settings().mask) == ("mouth",)


def test_before_after_and_screenshot(window: MainWindow, qtbot, tmp_path: Path) -> None:
    window.add_source_photos([GRACE])
    window.camera.setCurrentText(str(CLIP))
    assert window.start_live()
    qtbot.waitUntil(lambda: window.bridge.frames_seen > 5, timeout=20_000)
    window.before_after.setChecked(True)
    qtbot.waitUntil(lambda: window.pipeline.swapper.enabled is False, timeout=10_000)
    shot = window.screenshot()
    assert shot is not None and shot.exists() and shot.parent == tmp_path


def test_missing_model_is_reported_in_the_window(window: MainWindow) -> None:
    window.add_source_photos([GRACE])
    window.swapper_combo.setCurrentText("ghost-2")
    assert "ghostlive models download ghost-2" in window.model_status.text()
    window.camera.setCurrentText(str(CLIP))
    assert not window.start_live()
    assert window.error_banner.isVisible()
    assert (
        "ghost-2.onnx" in window.error_banner.text()
        and "ghostlive models download ghost-2" in window.error_banner.text()
    )


def test_bad_files_are_reported_in_the_window(window: MainWindow, tmp_path: Path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a picture")
    assert window.add_source_photos([str(bad)]) == 0
    assert window.error_banner.isVisible() and "broken.jpg" in window.error_banner.text()
    window.add_source_photos([GRACE])
    window.job_input.setText(str(tmp_path / "missing.mp4"))
    window.job_output.setText(str(tmp_path / "o.mp4"))
    task = window.run_job()
    assert task is not None
    task.wait(30_000)
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    assert "missing.mp4" in window.error_banner.text()


def test_settings_persist(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    w = MainWindow(settings_path=path, store=ModelStore(tmp_path / "home"))
    qtbot.addWidget(w)
    w.add_source_photos([GRACE])
    w.feather.setValue(60)
    w.color.setCurrentText("mean")
    w.keep["eyes"].setChecked(True)
    w.close()
    assert path.exists()
    again = MainWindow(settings_path=path, store=ModelStore(tmp_path / "home"))
    qtbot.addWidget(again)
    assert again.feather.value() == 60 and again.color.currentText() == "mean"
    assert again.keep["eyes"].isChecked() and again.source_list.count() == 1


def test_drop_and_shortcuts_exist(window: MainWindow) -> None:
    keys = {a.shortcut().toString() for a in window.actions()}
    assert {"Space", "B", "Ctrl+S", "Ctrl+O"} <= keys
    assert window.acceptDrops()


def test_live_frames_are_swapped_and_source_changes_live(window: MainWindow, qtbot) -> None:
    window.add_source_photos([GRACE, str(sample("astronaut.png"))])
    window.source_list.setCurrentRow(0)
    window.camera.setCurrentText(str(CLIP))
    assert window.start_live()
    qtbot.waitUntil(lambda: window.bridge.frames_swapped > 20, timeout=30_000)
    pairs_before = window.pipeline.swapper.pairs
    window.source_list.setCurrentRow(1)  # pick the other face while frames flow
    qtbot.waitUntil(lambda: window.pipeline.swapper.pairs is not pairs_before, timeout=20_000)
    seen = window.bridge.frames_seen
    qtbot.waitUntil(lambda: window.bridge.frames_seen > seen + 10, timeout=20_000)
    assert window.error_banner.isHidden()


def test_recording_over_the_camera_file_is_refused(window: MainWindow, tmp_path: Path, monkeypatch) -> None:
    """The window records to its output folder under a time-stamped name; when that name is the video file used
    as the camera, the shared live check (the one ``ghostlive live`` uses) refuses before anything is written."""
    import shutil
    import time

    camera = tmp_path / "ghostlive-rec.mp4"
    shutil.copy(CLIP, camera)
    before = camera.read_bytes()
    window.add_source_photos([GRACE])
    window.camera.setCurrentText(str(camera))
    assert window.start_live()
    monkeypatch.setattr(time, "strftime", lambda fmt, *args: "ghostlive-rec.mp4")
    window.record_button.setChecked(True)
    assert window.recorder is None and not window.record_button.isChecked()
    assert "would overwrite an input" in window.error_banner.text()
    window.stop_live()
    assert camera.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".mp4") == ["ghostlive-rec.mp4"]


def test_masks_and_enhancer_apply_live(window: MainWindow, qtbot) -> None:
    from ghostlive.masking.combine import MaskedSwapper

    window.add_source_photos([GRACE])
    window.camera.setCurrentText(str(CLIP))
    assert window.start_live()
    qtbot.waitUntil(lambda: window.bridge.frames_swapped > 5, timeout=30_000)
    window.stages.masks["mouth"].setChecked(True)  # while frames flow
    qtbot.waitUntil(lambda: isinstance(window.pipeline.swapper.swapper, MaskedSwapper), timeout=20_000)
    seen = window.bridge.frames_seen
    qtbot.waitUntil(lambda: window.bridge.frames_seen > seen + 5, timeout=20_000)
    assert window.error_banner.isHidden()
    window.stages.enhancer.setCurrentText("gfpgan-1.4")  # not installed: said in the window, the feed goes on
    assert "ghostlive models import gfpgan_1.4.onnx" in window.error_banner.text()
    assert isinstance(window.pipeline.swapper.swapper, MaskedSwapper)


def test_a_recording_that_fails_releases_the_record_button(window: MainWindow, qtbot, tmp_path: Path) -> None:
    """A recording that fails while live runs (writes beyond a file-size limit fail with EFBIG, as on a full
    disk): the error is shown, the unfinished file is gone, and the Record button no longer says recording."""
    import resource
    import signal

    if signal.getsignal(signal.SIGXFSZ) != signal.SIG_IGN:
        pytest.skip("SIGXFSZ is not ignored here: exceeding the limit would kill the test process")
    folder = tmp_path / "rec"
    folder.mkdir()
    window.cfg.output_folder = str(folder)
    window.add_source_photos([GRACE])
    window.camera.setCurrentText(str(CLIP))
    assert window.start_live()
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, hard))
    try:
        window.record_button.setChecked(True)
        assert window.session.recorder is not None
        qtbot.waitUntil(lambda: not window.record_button.isChecked(), timeout=60_000)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert "recording failed" in window.error_banner.text() and window.session.recorder is None
    assert list(folder.iterdir()) == []
    window.stop_live(wait=True)
    assert window.last_output is None or Path(window.last_output).exists()
