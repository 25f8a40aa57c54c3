"""The side panel's "Models and speed" box: swapper, backend and device, what is missing and the buttons that
download it or build TensorRT engines (both run as session tasks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton

from ghostlive.models.registry import BY_NAME
from ghostlive.session import Session
from ghostlive.swappers.factory import missing_hint, swapper_names
from ghostlive.ui.panels import start_task
from ghostlive.ui.settings_binding import Bindings
from ghostlive.ui.workers import Task


class ModelPanel(QGroupBox):
    """Swapper, backend, device; model status; Download and Build engines with a progress bar."""

    def __init__(self, session: Session, window: Any, on_task: Callable[[Task], None], bindings: Bindings) -> None:
        super().__init__("Models and speed")
        self.session, self.window, self.on_task = session, window, on_task
        form = QFormLayout(self)
        self.swapper_combo = bindings.make("swapper", choices=swapper_names(session.store)).control
        self.swapper_combo.currentTextChanged.connect(self.update_status)
        self.backend_combo = bindings.make("backend").control
        self.device_combo = bindings.make("device").control
        self.model_status = QLabel()
        self.model_status.setWordWrap(True)
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self.download)
        self.engines_button = QPushButton("Build engines")
        self.engines_button.clicked.connect(self.build_engines)
        self.model_progress = QProgressBar()
        form.addRow("Swapper", self.swapper_combo)
        form.addRow("Backend", self.backend_combo)
        form.addRow("Frames on", self.device_combo)
        form.addRow(self.model_status)
        row = QHBoxLayout()
        row.addWidget(self.download_button)
        row.addWidget(self.engines_button)
        form.addRow(row)
        form.addRow(self.model_progress)

    def update_status(self) -> None:
        name = self.swapper_combo.currentText()
        if name == "classic":
            self.model_status.setText("classic: built in, nothing to install")
            self.download_button.setEnabled(False)
            return
        hint = missing_hint(self.session.store, name)
        self.model_status.setText(f"{name}: ready" if not hint else f"{name}: missing — {hint}")
        self.download_button.setEnabled(bool(hint) and bool(BY_NAME[name].url))

    def download(self) -> None:
        task = self.session.download(self.swapper_combo.currentText())
        self.on_task(
            start_task(self.window, task, self.model_progress, lambda _: self.update_status(), self.window.show_error)
        )

    def build_engines(self) -> None:
        task = self.session.build_engines()
        self.on_task(start_task(self.window, task, self.model_progress, None, self.window.show_error))
