"""Qt widgets built from the settings schema (:mod:`ghostlive.settings`), bound both ways to setting values.

:func:`bind` makes the control for one setting: a check box for true/false, a combo box for choices (an
editable one where the schema only suggests values), a row of check boxes for several choices, a slider with a
value label or a spin box with the unit as suffix for numbers, within the schema's range. The unit conversion
lives in one place, :meth:`Setting.to_shown` / :meth:`Setting.from_shown` (e.g. a fraction shown in %).
:class:`SettingsForm` lays out several settings and reports every change as ``(key, value)``.

A panel binds like this (the values are by schema key, in the settings' own units)::

    form = SettingsForm(["blend", "feather", "color", "keep"], choices={"swapper": swapper_names(store)})
    form.set_values(config.to_values(cfg), quiet=True)        # from the settings file
    form.changed.connect(lambda key, value: session.update({key: value}))
    cfg = config.from_values(form.values(), cfg)              # back, to save
    options = settings.swap_settings(form.values(), "live")   # the pipeline's options
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QSpinBox,
    QWidget,
)

from ghostlive.settings import Setting, setting

NONE_TEXT = "none"
"""How a combo box shows the empty choice (e.g. no enhancer)."""
DEFAULT_TEXT = "default"
"""How a spin box shows None (an optional number not given)."""
_BIG = 1_000_000


class Binding(QObject):
    """One setting's control; ``changed`` carries the new value in the setting's own units."""

    changed = Signal(object)

    def __init__(self, spec: Setting, widget: QWidget, control: QWidget, get: Callable[[], Any], put: Callable) -> None:
        super().__init__(widget)
        self.spec = spec
        self.widget = widget
        """What to put in a layout (the control, or the control with its value label)."""
        self.control = control
        """The input widget itself (QCheckBox, QComboBox, QSlider, QSpinBox, ...)."""
        self._get = get
        self._put = put

    def value(self) -> Any:
        return self._get()

    def set_value(self, value: Any, quiet: bool = False) -> None:
        """Show ``value``; ``quiet``: without emitting ``changed``."""
        blocked = self.signalsBlocked()
        self.blockSignals(quiet or blocked)
        try:
            self._put(value)
        finally:
            self.blockSignals(blocked)

    def notify(self, *_: Any) -> None:
        """Emit ``changed`` with the current value (named so as not to shadow QObject.emit, which older PySide6
        releases call from Signal.emit)."""
        self.changed.emit(self.value())


def _tooltip(spec: Setting) -> str:
    return spec.help.replace("%(default)s", str(spec.default))


def _check_box(spec: Setting) -> Binding:
    box = QCheckBox(spec.title)
    b = Binding(spec, box, box, box.isChecked, lambda v: box.setChecked(bool(v)))
    box.toggled.connect(b.notify)
    return b


def _multi(spec: Setting) -> Binding:
    widget = QWidget()
    grid = QGridLayout(widget)
    grid.setContentsMargins(0, 0, 0, 0)
    boxes = {c: QCheckBox(c) for c in spec.choice_list()}
    for i, box in enumerate(boxes.values()):
        grid.addWidget(box, i // 3, i % 3)

    updating = [False]  # one ``changed`` for a value set in code, not one per box

    def put(value: Iterable[str]) -> None:
        chosen = set(value)
        updating[0] = True
        try:
            for c, box in boxes.items():
                box.setChecked(c in chosen)
        finally:
            updating[0] = False
        b.notify()

    b = Binding(spec, widget, widget, lambda: tuple(c for c, box in boxes.items() if box.isChecked()), put)
    b.boxes = boxes  # type: ignore[attr-defined]

    def toggled(box: QCheckBox, on: bool) -> None:
        if updating[0]:
            return
        if not on and sum(x.isChecked() for x in boxes.values()) < spec.min_items:
            box.setChecked(True)  # the last one(s) a setting needs stay ticked (no region: no swap at all)
            return
        b.notify()

    for box in boxes.values():
        box.toggled.connect(lambda on, box=box: toggled(box, on))
    return b


def _combo(spec: Setting) -> Binding:
    combo = QComboBox()
    if spec.suggest:
        combo.setEditable(True)
        combo.addItems(list(spec.suggest))
        b = Binding(spec, combo, combo, combo.currentText, lambda v: combo.setCurrentText(str(v)))
        combo.currentTextChanged.connect(b.notify)
        return b
    choices = spec.choice_list()
    if spec.default not in choices:
        combo.addItem(NONE_TEXT if spec.default == "" else str(spec.default), spec.default)
    for c in choices:
        combo.addItem(c, c)

    def put(value: Any) -> None:
        i = combo.findData(value)
        if i < 0:  # e.g. a swapper that is not installed here: shown, not lost
            combo.addItem(str(value), value)
            i = combo.count() - 1
        combo.setCurrentIndex(i)

    b = Binding(spec, combo, combo, combo.currentData, put)
    combo.currentIndexChanged.connect(b.notify)
    return b


def _shown_range(spec: Setting, step: float, lo: float, hi: float) -> tuple[float, float]:
    """The shown (lo, hi) of a control moving by ``step`` so that every value it can give is one the setting
    accepts (the settings file reads it back): an open lower bound starts one step above it, and a bound that
    rounds outside the range moves one step inward."""
    shown_lo, shown_hi = lo, hi
    if spec.lo is not None:
        while shown_lo < shown_hi and _refused(spec, spec.from_shown(shown_lo)):
            shown_lo = round(shown_lo + step, 9)
    if spec.hi is not None:
        while shown_hi > shown_lo and _refused(spec, spec.from_shown(shown_hi)):
            shown_hi = round(shown_hi - step, 9)
    return shown_lo, shown_hi


def _refused(spec: Setting, value: Any) -> bool:
    try:
        spec.check(value)
    except ValueError:
        return True
    return False


def _slider(spec: Setting) -> Binding:
    slider = QSlider(Qt.Orientation.Horizontal)
    lo = round(spec.to_shown(spec.lo or 0.0))
    lo, hi = _shown_range(spec, 1, lo, round(spec.to_shown(spec.hi if spec.hi is not None else 1)))
    slider.setRange(int(lo), int(hi))
    label = QLabel()
    label.setMinimumWidth(label.fontMetrics().horizontalAdvance("0000 ‰"))  # sliders line up in a form
    widget = QWidget()
    row = QHBoxLayout(widget)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(slider, 1)
    row.addWidget(label)

    def show(n: int) -> None:
        label.setText(f"{n} {spec.unit}".strip())

    def put(value: float) -> None:
        slider.setValue(round(spec.to_shown(value)))

    b = Binding(spec, widget, slider, lambda: spec.from_shown(slider.value()), put)
    slider.valueChanged.connect(show)
    slider.valueChanged.connect(b.notify)
    show(slider.value())
    return b


def _spin(spec: Setting) -> Binding:
    integer = spec.kind is int
    box: QSpinBox | QDoubleSpinBox = QSpinBox() if integer else QDoubleSpinBox()
    step = spec.to_shown(spec.step) if spec.step else 1.0
    if not integer:
        decimals = max(0, len(f"{step:g}".partition(".")[2]))
        box.setDecimals(decimals)  # type: ignore[union-attr]
    lo = spec.to_shown(spec.lo) if spec.lo is not None else -_BIG
    hi = spec.to_shown(spec.hi) if spec.hi is not None else _BIG
    lo, hi = _shown_range(spec, step, lo, hi)
    if spec.optional:
        lo -= step
        box.setSpecialValueText(DEFAULT_TEXT)
    box.setRange(lo, hi)  # type: ignore[arg-type]
    box.setSingleStep(step)  # type: ignore[arg-type]
    if spec.unit:
        box.setSuffix(f" {spec.unit}")

    def get() -> Any:
        if spec.optional and box.value() == box.minimum():
            return None
        return spec.from_shown(box.value())

    def put(value: Any) -> None:
        shown = box.minimum() if value is None else spec.to_shown(value)
        box.setValue(round(shown) if integer else shown)  # type: ignore[arg-type]

    b = Binding(spec, box, box, get, put)
    box.valueChanged.connect(b.notify)
    return b


def _line(spec: Setting) -> Binding:
    edit = QLineEdit()
    b = Binding(spec, edit, edit, edit.text, lambda v: edit.setText("" if v is None else str(v)))
    edit.textChanged.connect(b.notify)
    return b


def bind(spec: Setting | str, context: str = "gui", value: Any = None, choices: Sequence[str] | None = None) -> Binding:
    """The control for ``spec`` (a setting or its key, as ``context`` sees it), showing ``value`` (default: the
    setting's default); ``choices`` replace the schema's lookup (e.g. the swappers of the window's model
    store). A list of paths or a mapping has no control here: ValueError."""
    if isinstance(spec, str):
        spec = setting(spec, context)
    if choices is not None:
        spec = replace(spec, choices=tuple(choices))
    if spec.kind is bool:
        b = _check_box(spec)
    elif spec.kind in (tuple, list) and spec.choices is not None:
        b = _multi(spec)
    elif spec.kind is str and (spec.choices is not None or spec.suggest):
        b = _combo(spec)
    elif spec.kind in (int, float):
        b = _slider(spec) if spec.slider else _spin(spec)
    elif spec.kind is str:
        b = _line(spec)
    else:
        raise ValueError(f"setting {spec.key!r} ({spec.kind.__name__}) has no widget; the panel manages it")
    b.control.setToolTip(_tooltip(spec))
    b.set_value(spec.default if value is None else value, quiet=True)
    return b


class SettingsForm(QWidget):
    """Labelled controls for ``keys`` (in that order); ``changed`` carries ``(key, value)``."""

    changed = Signal(str, object)

    def __init__(
        self,
        keys: Iterable[str],
        context: str = "gui",
        parent: QWidget | None = None,
        choices: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        super().__init__(parent)
        choices = choices or {}
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.bindings: dict[str, Binding] = {}
        for key in keys:
            b = bind(key, context, choices=choices.get(key))
            self.bindings[key] = b
            if b.spec.kind is bool:
                self.form.addRow(b.widget)
            else:
                self.form.addRow(b.spec.title, b.widget)
            b.changed.connect(lambda value, key=key: self.changed.emit(key, value))

    def control(self, key: str) -> Any:
        """The input widget of ``key``."""
        return self.bindings[key].control

    def values(self) -> dict[str, Any]:
        """The shown values by key, in the settings' own units."""
        return {k: b.value() for k, b in self.bindings.items()}

    def set_values(self, values: Mapping[str, Any], quiet: bool = False) -> None:
        """Show ``values`` (keys this form does not have are ignored)."""
        for k, v in values.items():
            if k in self.bindings:
                self.bindings[k].set_value(v, quiet)
