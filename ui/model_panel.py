"""The side panel's "Models and speed" box: swapper, backend, device and CPU precision, what is missing and the
buttons that download it, build TensorRT engines or measure int8 for a GHOST generator on this CPU (each runs
as a session task), and the stored int8 decision of the chosen GHOST generator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton

from ghostlive.errors import GhostliveError
from ghostlive.models.registry import BY_NAME
from ghostlive.session import Session
from ghostlive.session.models import int8_line
from ghostlive.swappers.factory import missing_hint, swapper_names
from ghostlive.ui.panels import start_task
from ghostlive.ui.settings_binding import Bindings
from ghostlive.ui.workers import Task


class ModelPanel(QGroupBox):
    """Swapper, backend, device, CPU precision; model status; Download, Build engines and Optimise for this CPU
    with a progress bar; the int8 decision of a GHOST generator."""

    def __init__(self, session: Session, window: Any, on_task: Callable[[Task], None], bindings: Bindings) -> None:
        super().__init__("Models and speed")
        self.session, self.window, self.on_task = session, window, on_task
        form = QFormLayout(self)
        self.swapper_combo = bindings.make("swapper", choices=swapper_names(session.store)).control
        self.swapper_combo.currentTextChanged.connect(self.update_status)
        self.backend_combo = bindings.make("backend").control
        self.device_combo = bindings.make("device").control
        self.precision_combo = bindings.make("cpu_precision").control
        self.model_status = QLabel()
        self.model_status.setWordWrap(True)
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self.download)
        self.engines_button = QPushButton("Build engines")
        self.engines_button.clicked.connect(self.build_engines)
        self.optimise_button = QPushButton("Optimise for this CPU")
        self.optimise_button.setToolTip(
            "Quantise this GHOST generator to int8, check with ArcFace that identity is kept and time both here; "
            "CPU precision 'auto' then runs int8 where it kept identity and was faster (not while live)"
        )
        self.optimise_button.clicked.connect(self.optimise)
        self.int8_status = QLabel()
        self.int8_status.setWordWrap(True)
        self.model_progress = QProgressBar()
        self.optimising: Task | None = None
        self.optimising_name = ""
        form.addRow("Swapper", self.swapper_combo)
        form.addRow("Backend", self.backend_combo)
        form.addRow("Frames on", self.device_combo)
        form.addRow("CPU precision", self.precision_combo)
        form.addRow(self.model_status)
        row = QHBoxLayout()
        row.addWidget(self.download_button)
        row.addWidget(self.engines_button)
        form.addRow(row)
        form.addRow(self.optimise_button)
        form.addRow(self.int8_status)
        form.addRow(self.model_progress)
        window.bridge.live.connect(self._live_changed)  # a method: disconnected when the panel is deleted

    def _live_changed(self, _running: bool) -> None:
        self.update_status()

    def update_status(self) -> None:
        name = self.swapper_combo.currentText()
        self._update_int8(name)
        if name == "classic":
            self.model_status.setText("classic: built in, nothing to install")
            self.download_button.setEnabled(False)
            return
        store, personal = self.session.store, name not in BY_NAME  # personal: made here; needs the ArcFace export
        arcface = "" if store.has(BY_NAME["ghost-arcface"].exports_to) else missing_hint(store, "ghost-arcface")
        hint = arcface if personal else missing_hint(store, name)
        label = f"{name} (personal)" if personal else name
        self.model_status.setText(f"{label}: ready" if not hint else f"{label}: missing — {hint}")
        self.download_button.setEnabled(bool(hint) and not personal and bool(BY_NAME[name].url))

    def _update_int8(self, name: str) -> None:
        """The stored int8 decision of ``name``'s GHOST generator, and whether it can be measured now."""
        try:
            line = int8_line(self.session.store, name)
        except GhostliveError as exc:  # e.g. a damaged personal.json
            line = f"unknown ({exc})"
        self.int8_status.setVisible(line is not None)
        self.optimise_button.setVisible(line is not None)
        if self.optimising is not None and name == self.optimising_name:
            line = f"measuring {name} (quantise, check identity, time both; a minute or more)…"
        self.int8_status.setText(f"int8 (CPU): {line}" if line else "")
        busy = self.optimising is not None or self.session.pipeline is not None
        self.optimise_button.setEnabled(line is not None and not busy)

    def download(self) -> None:
        task = self.session.download(self.swapper_combo.currentText())
        self.on_task(
            start_task(self.window, task, self.model_progress, lambda _: self.update_status(), self.window.show_error)
        )

    def build_engines(self) -> None:
        task = self.session.build_engines()
        self.on_task(start_task(self.window, task, self.model_progress, None, self.window.show_error))

    def optimise(self) -> None:
        """Measure int8 against fp32 for the chosen GHOST generator on a worker thread; the decision is shown."""
        self.optimising_name = self.swapper_combo.currentText()
        self.optimising = start_task(
            self.window, self.session.optimise(self.optimising_name), self.model_progress, None, self.window.show_error
        )
        self.optimising.finished.connect(self._optimised)
        self.on_task(self.optimising)
        self.update_status()

    def _optimised(self) -> None:
        self.optimising = None
        self.update_status()
