"""The window's enhancer and extra-mask controls (applied live): which restorer and how much of it, which masks
limit the swap, and the combined-mask view."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGridLayout, QGroupBox, QSlider

from ghostlive.enhance import EnhanceOptions
from ghostlive.hub import ModelStore
from ghostlive.masking.options import MASK_MODELS, MASKS, MaskOptions
from ghostlive.models.registry import BY_NAME, RESTORERS

NONE = "none"


class StagesBox(QGroupBox):
    """Face enhancer (restorer, blend) and masks (mouth, lips, eyes, box, occlusion, parser, show mask)."""

    changed = Signal()

    def __init__(self, store: ModelStore | None = None) -> None:
        super().__init__("Enhancer and masks (applied live)")
        store = store or ModelStore()
        form = QFormLayout(self)
        self.enhancer = QComboBox()
        self.enhancer.addItem(NONE)
        for name, spec in RESTORERS.items():
            self.enhancer.addItem(name)
            installed = store.has(spec.filename)
            tip = f"{BY_NAME[name].description}; licence: {BY_NAME[name].licence}"
            self.enhancer.setItemData(
                self.enhancer.count() - 1, tip + ("" if installed else " (not installed)"), Qt.ItemDataRole.ToolTipRole
            )
        self.blend = QSlider(Qt.Orientation.Horizontal)
        self.blend.setRange(0, 100)
        self.blend.setValue(80)
        grid = QGridLayout()
        self.masks = {m: QCheckBox(m) for m in MASKS}
        for i, (m, box) in enumerate(self.masks.items()):
            if m in MASK_MODELS and not store.has(BY_NAME[MASK_MODELS[m]].filename):
                box.setToolTip(f"needs the {MASK_MODELS[m]} model: ghostlive models import FILE")
            grid.addWidget(box, i // 3, i % 3)
        self.show_mask = QCheckBox("Show the combined mask")
        for box in (*self.masks.values(), self.show_mask):
            box.toggled.connect(self.changed)
        self.enhancer.currentTextChanged.connect(self.changed)
        self.blend.valueChanged.connect(self.changed)
        form.addRow("Enhancer", self.enhancer)
        form.addRow("Enhance blend", self.blend)
        form.addRow("Masks", grid)
        form.addRow(self.show_mask)
        self._dirty = False
        self.changed.connect(self._mark)  # connected first: runs before the window's own slot

    def _mark(self) -> None:
        self._dirty = True

    def settings(self) -> dict[str, Any]:
        """The ``masks`` and ``enhance`` fields of SwapSettings."""
        name = self.enhancer.currentText()
        masks = tuple(m for m, box in self.masks.items() if box.isChecked())
        return {
            "masks": MaskOptions(masks, show=self.show_mask.isChecked()),
            "enhance": EnhanceOptions("" if name == NONE else name, self.blend.value() / 100.0),
        }

    def take_dirty(self) -> bool:
        """Whether these controls changed since the last call (the session then builds the stages anew)."""
        dirty, self._dirty = self._dirty, False
        return dirty
