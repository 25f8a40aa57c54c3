"""The side panel's "Quality (applied live)" box: blend, mask feather, colour transfer, smoothing, kept regions,
and the enhancer and mask controls (:class:`~ghostlive.ui.stages.StagesBox`)."""

from __future__ import annotations

from collections.abc import Callable

from ghostlive.ui.source_panel import slider
from ghostlive.ui.stages import StagesBox
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout

from ghostlive.hub import ModelStore
from ghostlive.ops.color import COLOR_MODES

KEEP = ("mouth", "eyes", "brows")


class QualityPanel(QGroupBox):
    def __init__(self, store: ModelStore) -> None:
        super().__init__("Quality (applied live)")
        form = QFormLayout(self)
        self.blend = slider(0, 100, 100)
        self.feather = slider(5, 150, 35)
        self.color = QComboBox()
        self.color.addItems(list(COLOR_MODES))
        self.smoothing = slider(0, 50, 10)
        self.keep = {k: QCheckBox(k) for k in KEEP}
        self.stages = StagesBox(store)
        keep_row = QHBoxLayout()
        for c in self.keep.values():
            keep_row.addWidget(c)
        form.addRow("Blend", self.blend)
        form.addRow("Mask feather", self.feather)
        form.addRow("Colour", self.color)
        form.addRow("Smoothing", self.smoothing)
        form.addRow("Keep", keep_row)
        form.addRow(self.stages)

    def connect_changes(self, slot: Callable[..., None]) -> None:
        """``slot`` hears of every change (applied live)."""
        self.stages.changed.connect(slot)
        for w in (self.blend, self.feather, self.smoothing):
            w.valueChanged.connect(slot)
        self.color.currentTextChanged.connect(slot)
        for c in self.keep.values():
            c.toggled.connect(slot)
