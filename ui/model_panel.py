"""The side panel's "Models and speed" box: swapper, backend, device and CPU precision, what is missing and the
buttons that download it, build TensorRT engines or measure int8 for a GHOST generator on this CPU (each runs
as a session task), and the stored int8 decision of the chosen GHOST generator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton

from ghostlive.engines.registry import backend_problem
from ghostlive.errors import GhostliveError
from ghostlive.models.registry import BY_NAME
from ghostlive.session import Session
from ghostlive.session.models import int8_line
from ghostlive.swappers.factory import swapper_names, swapper_problem
from ghostlive.ui.panels import start_task
from ghostlive.ui.settings_binding import Bindings
from ghostlive.ui.workers import Task
from ghostlive.xp import device_problem


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
        offer_only_possible(self.backend_combo, backend_problem)
        offer_only_possible(self.device_combo, device_problem)
        no_engines = backend_problem("tensorrt")
        self.engines_button.setEnabled(not no_engines)
        self.engines_button.setToolTip(f"{no_engines} here" if no_engines else "TensorRT engines for the models")
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
        registry = name in BY_NAME  # else personal: made here (needs the ArcFace export)
        try:
            problem = swapper_problem(self.session.store, name)
        except GhostliveError as exc:  # e.g. a damaged personal.json
            problem = str(exc)
        label = name if registry or problem.startswith("no such swapper") else f"{name} (personal)"
        self.model_status.setText(f"{label}: {problem or 'ready'}")
        self.download_button.setEnabled(problem.startswith("missing") and registry and bool(BY_NAME[name].url))

    def refresh_swappers(self) -> None:
        """The Swapper list as the model folder has it now (a personal swapper made or removed meanwhile by
        ``ghostlive``); the chosen one stays listed (its status says what became of it)."""
        combo, chosen = self.swapper_combo, self.swapper_combo.currentText()
        names = swapper_names(self.session.store)
        combo.blockSignals(True)
        for i in reversed(range(combo.count())):
            if combo.itemText(i) not in names and combo.itemText(i) != chosen:
                combo.removeItem(i)
        for name in names:
            if combo.findText(name) < 0:
                combo.addItem(name, name)
        combo.blockSignals(False)
        self.update_status()

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


def offer_only_possible(combo: QComboBox, problem: Callable[[str], str]) -> None:
    """Grey out the choices of ``combo`` that cannot work on this machine, each with why as its tooltip (a saved
    choice stays shown: its use then says why it fails)."""
    for i in range(combo.count()):
        why = problem(str(combo.itemData(i) or combo.itemText(i)))
        if why:
            combo.model().item(i).setEnabled(False)
            combo.setItemData(i, f"{why} on this machine", Qt.ItemDataRole.ToolTipRole)
