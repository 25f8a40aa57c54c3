"""The main window: a view of a :class:`ghostlive.session.Session`. The panels (side boxes, Live, Files and
Personalise tabs) show the session and call it; the session does the work on its own threads and its events
reach the window as Qt signals (:class:`~ghostlive.ui.workers.SessionBridge`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QPlainTextEdit, QTabWidget, QVBoxLayout, QWidget

from ghostlive.errors import GhostliveError
from ghostlive.hub import ModelStore
from ghostlive.jobs import SwapSettings, target_kind
from ghostlive.pipeline.live import LivePipeline
from ghostlive.session import Session
from ghostlive.swappers.factory import swapper_names
from ghostlive.ui.files_tab import FilesTab
from ghostlive.ui.live_tab import LiveTab
from ghostlive.ui.model_panel import ModelPanel
from ghostlive.ui.panels import LiveOutputs, scrolling
from ghostlive.ui.personalise import PersonaliseTab
from ghostlive.ui.quality_panel import QualityPanel
from ghostlive.ui.settings_binding import APPLIED_LIVE, Bindings, swap_settings
from ghostlive.ui.settings_file import SettingsFile
from ghostlive.ui.source_panel import SourcePanel, TargetPanel
from ghostlive.ui.workers import SessionBridge, Task, wait_for

log = logging.getLogger(__name__)

# widgets of the panels that the window exposes under its own name (its callers and tests use them)
EXPOSED = {
    "sources": ("source_list",),
    "targets": ("faces_combo", "refs_label", "similarity"),
    "models": ("swapper_combo", "backend_combo", "device_combo", "model_status", "download_button",
               "engines_button", "model_progress"),
    "quality": ("blend", "feather", "color", "smoothing", "keep", "stages"),
    "live": ("camera", "resolution", "start_button", "before_after", "preview", "stats_label", "vcam_check",
             "vcam_status", "stream_check", "stream_address", "stream_status", "record_button"),
    "files": ("job_input", "job_output", "pause_live", "run_button", "cancel_button", "open_button",
              "job_progress", "job_eta"),
}


class MainWindow(QMainWindow):
    swapper_refused = Signal(str, str)
    """(the swapper running before, the one that failed to load): put the Swapper box back (GUI thread)."""

    def __init__(
        self, settings_path: Path | None = None, store: ModelStore | None = None, session: Session | None = None
    ) -> None:
        super().__init__()
        self.setWindowTitle("ghostlive")
        self.settings_file = SettingsFile(settings_path)  # a bad value costs that key only (ui/settings_file.py)
        self.settings_path = self.settings_file.path
        self.cfg: Any = self.settings_file.load()
        self.session = session or Session(store)
        self.store = self.session.store
        self.bridge = SessionBridge(self.session)
        self.bridge.error.connect(self.show_error)
        self.bridge.info.connect(self.info)
        self.task: Task | None = None
        self.last_output: Path | None = None
        self.bridge.saved.connect(self._saved)  # a recording, also one whose loop ended by itself
        self.setAcceptDrops(True)
        self.bindings = Bindings()
        self._swapper_name = "classic"  # the restore below may choose another (nothing is live to change)
        self._build()
        self._restore()
        self._swapper_name = self.swapper_combo.currentText()
        if self._swapper_name not in swapper_names(self.store):  # e.g. a personal swapper removed meanwhile
            self.show_error(f"the saved swapper {self._swapper_name!r} is not installed here: choose another")
        self.stages.refresh_models()  # after the saved settings are shown: a mask saved ticked may be missing
        self.settings_file.as_read = self.current_settings()
        self.outputs = LiveOutputs(self)
        if self.settings_file.damaged:
            self.show_error(self.settings_file.message())

    # layout -----------------------------------------------------------------------------------------------
    def _build(self) -> None:
        central = QWidget()
        root = QVBoxLayout(central)
        self.error_banner = QLabel()
        self.error_banner.setStyleSheet("background:#b3261e;color:white;padding:6px;")
        self.error_banner.setWordWrap(True)
        self.error_banner.hide()
        root.addWidget(self.error_banner)
        body = QHBoxLayout()
        root.addLayout(body, 1)
        self.sources = SourcePanel(self.session, self.bridge)
        self.targets = TargetPanel(self.session, self.bindings)
        self.models = ModelPanel(self.session, self, self._set_task, self.bindings)
        self.quality = QualityPanel(self.store, self.bindings)
        side = QVBoxLayout()
        for box in (self.sources, self.targets, self.models, self.quality):
            side.addWidget(box)
        side.addStretch(1)
        body.addWidget(scrolling(side), 0)
        self.live = LiveTab(self.session, self.bridge, self, self.bindings)
        self.files = FilesTab(self.session, self, self.bindings)
        for panel, names in EXPOSED.items():
            for name in names:
                setattr(self, name, getattr(getattr(self, panel), name))
        self.tabs = QTabWidget()
        self.tabs.addTab(self.live, "Live")
        self.tabs.addTab(self.files, "Files")
        added = lambda _name: self.models.refresh_swappers()  # noqa: E731 - a new personal swapper
        self.personalise = PersonaliseTab(self.store, added, self.show_error)
        self.tabs.addTab(self.personalise, "Personalise")
        body.addWidget(self.tabs, 1)
        self.messages = QPlainTextEdit()
        self.messages.setReadOnly(True)
        self.messages.setMaximumHeight(70)
        root.addWidget(self.messages)
        self.setCentralWidget(central)
        self.bindings.on_change(APPLIED_LIVE, self._settings_changed)
        self.targets.references_changed.connect(self._settings_changed)
        self.stages.changed.connect(self._settings_changed)
        self.swapper_combo.currentTextChanged.connect(self._swapper_changed)
        self.swapper_refused.connect(self._swapper_back)
        self._shortcuts()
        self.resize(1280, 800)

    def _shortcuts(self) -> None:
        for keys, fn in (
            ("Space", self.toggle_live),
            ("B", self.before_after.toggle),
            ("Ctrl+S", self.screenshot),
            ("Ctrl+O", self.sources.pick),
        ):
            act = QAction(self)
            act.setShortcut(QKeySequence(keys))
            act.triggered.connect(fn)
            self.addAction(act)

    def _set_task(self, task: Task) -> None:
        self.task = task

    # the session, seen from the window ----------------------------------------------------------------------
    @property
    def pipeline(self) -> LivePipeline | None:
        return self.session.pipeline

    @property
    def recorder(self) -> Any:
        return self.session.recorder

    def _restore(self) -> None:
        """The controls from the settings file; the remembered source photos that still exist are added."""
        self.bindings.restore(self.cfg)
        self.targets.set_references(self.cfg.reference_photos)
        existing = [p for p in self.cfg.source_photos if Path(p).is_file()]
        if existing:
            self.add_source_photos(existing)
        self.models.update_status()

    def current_settings(self) -> Any:
        """The settings file's values (a GuiSettings) as the window shows them."""
        photos = {"source_photos": sorted({s.path for s in self.session.sources})}
        return self.bindings.read(self.cfg, {**photos, "reference_photos": list(self.session.references)})

    def swap_settings(self, context: str = "live") -> SwapSettings:
        """The session's settings for the preview ('live') or a file job ('swap'), with their schema defaults."""
        return swap_settings(self.bindings.values(), context, self.session.references)

    def add_source_photos(self, paths: list[str]) -> int:
        """Detect the faces in each photo (on a worker thread) and list them as thumbnails; returns how many."""
        return self.sources.add_photos(paths)

    def selected_source(self) -> tuple[str, int] | None:
        return self.sources.selected()

    def toggle_live(self) -> None:
        if self.session.pipeline is not None:
            self.stop_live()
        else:
            self.start_live()

    def start_live(self) -> bool:
        return self.live.start_live()

    def stop_live(self, wait: bool = False) -> None:
        self.live.stop_live(wait)

    def run_job(self) -> Task | None:
        return self.files.run_job()

    def screenshot(self) -> Path | None:
        try:
            path = self.session.save_screenshot(self.cfg.output_folder)
        except GhostliveError as exc:
            self.show_error(str(exc))
            return None
        self.info(f"screenshot saved: {path}")
        return path

    def _swapper_changed(self, name: str) -> None:
        self.models.update_status()
        previous, self._swapper_name = self._swapper_name, name
        load = self.session.change_swapper(name, self.swap_settings())
        if load is not None:  # live: a swapper that cannot load (error shown) leaves the running one in the box
            load.add_done_callback(lambda f: f.exception() is None or self.swapper_refused.emit(previous, name))

    def _swapper_back(self, previous: str, failed: str) -> None:
        if self.swapper_combo.currentText() != failed:  # the user has chosen another one since
            return
        self._swapper_name = previous
        self.swapper_combo.blockSignals(True)
        self.swapper_combo.setCurrentText(previous)
        self.swapper_combo.blockSignals(False)
        self.models.update_status()

    def changeEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.stages.refresh_models()  # a model imported meanwhile (ghostlive models import) is offered
            self.models.refresh_swappers()  # and a personal swapper made or removed meanwhile
        super().changeEvent(event)

    def _settings_changed(self, *_: Any) -> None:
        if self.session.pipeline is None:
            return
        task = self.session.apply_settings(self.swap_settings(), restage=self.stages.take_dirty())
        if task is not None:  # enhancer or masks built on a worker thread; a missing model is said at once
            bridge = Task(task, self)
            bridge.failed.connect(self.show_error)
            wait_for(bridge)

    # drops, closing, messages -------------------------------------------------------------------------------
    def dragEnterEvent(self, event: Any) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if self.tabs.currentWidget() is self.personalise:  # photos and videos of the person to fine-tune on
            if self.personalise.task is None or self.personalise.task.isFinished():  # its list is locked meanwhile
                self.personalise.add_media(paths)
            return
        kinds = {p: target_kind(p) for p in paths}
        photos = [p for p, k in kinds.items() if k == "image"]
        if photos:
            self.session.add_sources(photos)
        others = [p for p, k in kinds.items() if k != "image"]
        if others:
            self.job_input.setText(others[0])
            self.tabs.setCurrentIndex(1)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        self.stop_live(wait=True)  # the camera and outputs are released before the window goes
        for task in (self.task, self.personalise.task):  # a job still running is cancelled, and ends cleanly
            if task is not None and not task.isFinished():  # (its unfinished output deleted) before the process
                task.cancel()
                if not task.wait(60_000):
                    log.warning("a job did not stop within 60 s of closing the window")
        try:  # a file that could not be read is not written over unless a setting changed, and then kept aside
            self.settings_file.save(self.current_settings())
        except OSError as exc:
            log.warning("settings not saved: %s", exc)
        super().closeEvent(event)

    def show_error(self, message: str) -> None:
        self.error_banner.setText(message)
        self.error_banner.show()
        self.messages.appendPlainText(f"error: {message}")
        self.statusBar().showMessage(message.splitlines()[0], 10000)

    def info(self, message: str) -> None:
        self.messages.appendPlainText(message)
        self.statusBar().showMessage(message, 5000)

    def _saved(self, path: Path) -> None:
        """A live recording was finished: "Open result" opens it (as it opens a finished file job's output)."""
        self.last_output = path
        self.open_button.setEnabled(True)
