"""The side panel's "Quality (applied live)" box: blend, mask feather, colour transfer, smoothing, kept regions,
and the enhancer and mask controls (:class:`~ghostlive.ui.stages.StagesBox`)."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QGroupBox

from ghostlive.hub import ModelStore
from ghostlive.ui.settings_binding import Bindings
from ghostlive.ui.stages import StagesBox


class QualityPanel(QGroupBox):
    def __init__(self, store: ModelStore, bindings: Bindings) -> None:
        super().__init__("Quality (applied live)")
        form = QFormLayout(self)
        made = {k: bindings.make(k) for k in ("blend", "feather", "color", "smoothing", "keep")}
        self.blend, self.feather = made["blend"].control, made["feather"].control
        self.color, self.smoothing = made["color"].control, made["smoothing"].control
        self.keep = made["keep"].boxes  # type: ignore[attr-defined]
        self.stages = StagesBox(store, bindings)
        for b in made.values():
            form.addRow(b.spec.title, b.widget)
        form.addRow(self.stages)
