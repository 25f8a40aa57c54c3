"""The window's enhancer and extra-mask controls (applied live): which restorer and how much of it, which masks
limit the swap, the parser's regions and the combined-mask view. The controls come from the settings schema
(``enhancer``, ``enhance_blend``, ``mask``, ``regions``, ``show_mask``); this box disables what is not installed,
saying so in tooltips, and notes when they changed (the session then builds the stages anew)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox

from ghostlive.hub import ModelStore
from ghostlive.masking.options import MASK_MODELS
from ghostlive.models.registry import BY_NAME, RESTORERS
from ghostlive.swappers.factory import missing_hint

if TYPE_CHECKING:
    from ghostlive.ui.settings_binding import Bindings

STAGE_KEYS = ("enhancer", "enhance_blend", "mask", "regions", "show_mask")


class StagesBox(QGroupBox):
    """Face enhancer (restorer, blend) and masks (mouth, lips, eyes, box, occlusion, parser, show mask)."""

    changed = Signal()

    def __init__(self, store: ModelStore, bindings: Bindings) -> None:
        super().__init__("Enhancer and masks (applied live)")
        form = QFormLayout(self)
        made = {k: bindings.make(k) for k in STAGE_KEYS}
        self.enhancer, self.blend = made["enhancer"].control, made["enhance_blend"].control
        self.masks = made["mask"].boxes  # type: ignore[attr-defined]
        self.show_mask = made["show_mask"].control
        self.store = store
        self.refresh_models()
        form.addRow("Enhancer", made["enhancer"].widget)
        form.addRow("Enhance blend", made["enhance_blend"].widget)
        form.addRow("Masks", made["mask"].widget)
        form.addRow(made["regions"].spec.title, made["regions"].widget)
        form.addRow(self.show_mask)
        self._dirty = False
        self.changed.connect(self._mark)  # connected first: runs before the window's own slot
        for b in made.values():
            b.changed.connect(lambda *_: self.changed.emit())

    def refresh_models(self) -> None:
        """A mask or an enhancer whose model is not installed cannot be chosen (its tooltip says how to install
        it; one ticked or chosen in a saved setting is unticked, or set back to none); called again when the
        window is activated, so a model imported meanwhile (``ghostlive models import``) is offered without a
        restart."""
        self._refresh_enhancers()
        for m, box in self.masks.items():
            if m not in MASK_MODELS:
                continue
            spec = BY_NAME[MASK_MODELS[m]]
            installed = self.store.has(spec.filename)
            box.setEnabled(installed)
            box.setToolTip("" if installed else f"needs the {spec.name} model ({spec.filename}), which is not "
                           "installed: ghostlive models import FILE")
            if not installed and box.isChecked():
                box.blockSignals(True)  # not a change to apply: the loop never had this mask
                box.setChecked(False)
                box.blockSignals(False)

    def _refresh_enhancers(self) -> None:
        items = self.enhancer.model()
        for i in range(self.enhancer.count()):
            name = self.enhancer.itemData(i)
            if name not in RESTORERS:
                continue
            installed = self.store.has(RESTORERS[name].filename)
            tip = f"{BY_NAME[name].description}; licence: {BY_NAME[name].licence}"
            if not installed:
                tip += f"; needs {RESTORERS[name].filename}, which is not installed: {missing_hint(self.store, name)}"
            self.enhancer.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
            items.item(i).setEnabled(installed)  # type: ignore[attr-defined]
            if not installed and self.enhancer.currentIndex() == i:
                self.enhancer.blockSignals(True)  # not a change to apply: the loop never had this enhancer
                self.enhancer.setCurrentIndex(max(self.enhancer.findData(""), 0))
                self.enhancer.blockSignals(False)

    def _mark(self) -> None:
        self._dirty = True

    def take_dirty(self) -> bool:
        """Whether these controls changed since the last call (the session then builds the stages anew)."""
        dirty, self._dirty = self._dirty, False
        return dirty
