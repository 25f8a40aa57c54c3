"""The "Files" tab: a photo, folder or video swapped by the session on a worker thread, with progress, ETA,
Cancel and Open result."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QWidget,
)

from ghostlive.errors import GhostliveError
from ghostlive.session import Session
from ghostlive.session.files import FileResult
from ghostlive.ui.panels import start_task
from ghostlive.ui.settings_binding import Bindings
from ghostlive.ui.workers import Task


class FilesTab(QWidget):
    def __init__(self, session: Session, window: Any, bindings: Bindings) -> None:
        super().__init__()
        self.session, self.window = session, window
        form = QFormLayout(self)
        self.job_input = QLineEdit()
        browse_in = QPushButton("Choose photo, video or folder…")
        browse_in.clicked.connect(self._pick_input)
        self.job_output = QLineEdit()
        browse_out = QPushButton("Output…")
        browse_out.clicked.connect(self._pick_output)
        self.pause_live = bindings.make("pause_live_during_jobs").control
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run_job)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(lambda: window.task and window.task.cancel())
        self.open_button = QPushButton("Open result")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(
            lambda: window.last_output and QDesktopServices.openUrl(QUrl.fromLocalFile(str(window.last_output)))
        )
        self.job_progress = QProgressBar()
        self.job_eta = QLabel("")
        form.addRow(browse_in, self.job_input)
        form.addRow(browse_out, self.job_output)
        form.addRow(self.pause_live)
        row = QHBoxLayout()
        for b in (self.run_button, self.cancel_button, self.open_button):
            row.addWidget(b)
        form.addRow(row)
        form.addRow(self.job_progress)
        form.addRow(self.job_eta)

    def _pick_input(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Photo or video", "", "Media (*.*)")
        if path:
            self.job_input.setText(path)

    def _pick_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save result as")
        if path:
            self.job_output.setText(path)

    def run_job(self) -> Task | None:
        """Start the job on the session's worker thread (the swapper is built there too); None when the inputs
        are incomplete (said in the window)."""
        w = self.window
        target, output = self.job_input.text().strip(), self.job_output.text().strip()
        if not target or not output:
            w.show_error("choose an input and an output first")
            return None
        paused = self.pause_live.isChecked() and self.session.pipeline is not None
        try:
            settings = w.swap_settings("swap")
            self.session.pairs(settings.faces)  # a source face is chosen: said now, not by the task
        except GhostliveError as exc:
            w.show_error(str(exc))
            return None
        if paused:
            w.stop_live()
        started = time.monotonic()

        def done(result: FileResult) -> None:
            w.last_output = result.output
            self.open_button.setEnabled(True)
            w.info(f"done: {result.output} ({time.monotonic() - started:.1f} s)")

        def progress_text(d: int, t: int, s: str) -> None:
            elapsed = time.monotonic() - started
            if d and t:  # s: what the job is doing after the last frame ("finishing…": the encoder's flush)
                self.job_eta.setText(f"{d}/{t}  {s}" if s else f"{d}/{t}  ETA {elapsed / d * (t - d):.0f} s")

        self.open_button.setEnabled(False)  # until this job succeeds
        w.error_banner.hide()  # an earlier job's error is not this one's
        self.job_eta.setText("")
        job = self.session.start_file_job(settings, target, output)
        task = w.task = start_task(w, job, self.job_progress, done, w.show_error)
        task.progress.connect(progress_text)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        task.finished.connect(lambda: (self.run_button.setEnabled(True), self.cancel_button.setEnabled(False)))
        if paused:
            task.finished.connect(w.start_live)
        return task
