"""The window's enhancer and extra-mask controls (applied live): which restorer and how much of it, which masks
limit the swap, and the combined-mask view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGridLayout, QGroupBox, QSlider

from ghostlive.enhance import EnhanceOptions
from ghostlive.errors import GhostliveError
from ghostlive.hub import ModelStore
from ghostlive.masking.options import MASK_MODELS, MASKS, MaskOptions
from ghostlive.models.registry import BY_NAME, RESTORERS

NONE = "none"


def innermost(swapper: Any) -> Any:
    """The swapper inside any stage wrappers (mask, enhancer)."""
    while "inner" in getattr(swapper, "__dict__", {}):
        swapper = swapper.__dict__["inner"]
    return swapper


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

    def restage(self, current: Any, settings: Any, report: Callable[[str], None]) -> Any | None:
        """``current``'s base swapper with the stages of ``settings`` when these controls changed since the
        last call (None: unchanged, or a model is missing, which ``report`` is told in one line)."""
        from ghostlive.jobs import with_stages

        if not self._dirty:
            return None
        self._dirty = False
        try:
            return with_stages(innermost(current), settings)
        except GhostliveError as exc:
            report(str(exc))
            return None
