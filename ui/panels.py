"""Window behaviour kept out of main_window.py: a scrolling side panel, output toggles that act on a running
preview, and progress bars that show a failed task as failed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QCheckBox, QFrame, QLabel, QLayout, QProgressBar, QScrollArea, QWidget

from ghostlive.errors import CancelledError, GhostliveError
from ghostlive.ui.workers import Task


class _SidePanel(QScrollArea):
    """Scrolls vertically; always as wide as its content plus the scroll bar (never clipped sideways)."""

    def _width(self) -> int:
        inner = self.widget()
        return inner.sizeHint().width() + self.verticalScrollBar().sizeHint().width() if inner else 0

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        return QSize(self._width(), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._width(), 120)


def scrolling(layout: QLayout) -> QScrollArea:
    """``layout`` in a vertically scrolling area as wide as its content, so a small window clips nothing."""
    inner = QWidget()
    inner.setLayout(layout)
    area = _SidePanel()
    area.setWidget(inner)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


def start_task(
    parent: Any, fn: Any, bar: QProgressBar, on_done: Any = None, on_error: Callable[[str], None] | None = None
) -> Task:
    """Show ``fn`` (a started session task, or ``fn(report, stop)`` to run in one) as a :class:`Task` reporting
    to ``bar``: the bar starts empty, and a failed task leaves it empty and saying "failed" (not at the last job's
    100 %); ``on_error`` gets the message. A task the user cancelled is no failure: the bar says "cancelled" and
    the message goes to the parent's ``info`` (the messages pane), not to ``on_error``."""
    task = Task(fn, parent)
    bar.setFormat("%p%")
    bar.setMaximum(1)
    bar.setValue(0)

    def progress(done: int, total: int, text: str) -> None:
        bar.setMaximum(max(total, 1))
        bar.setValue(done)
        if text and hasattr(parent, "info"):
            parent.info(text)

    def failed(message: str) -> None:
        bar.setValue(0)
        cancelled = isinstance(task.task.error(), CancelledError)
        bar.setFormat("cancelled" if cancelled else "failed")
        if cancelled and hasattr(parent, "info"):
            parent.info(message)
        elif on_error:
            on_error(message)

    task.progress.connect(progress)
    task.failed.connect(failed)
    if on_done:
        task.succeeded.connect(on_done)
    return task.start()


class LiveOutputs:
    """Makes the "Virtual camera" and "Stream" boxes act at once on a running preview (the session adds or
    removes the sink between frames), not only at the next start."""

    def __init__(self, window: Any) -> None:
        self.window = window
        window.vcam_check.toggled.connect(lambda on: self._toggle(on, "virtual_camera", window.vcam_status))
        window.stream_check.toggled.connect(lambda on: self._toggle(on, "stream", window.stream_status))

    def _toggle(self, on: bool, kind: str, status: QLabel) -> None:
        if self.window.session.pipeline is None:
            return  # used at the next start
        try:
            status.setText(self.window.session.set_output(kind, on, self.window.stream_address.text()))
        except (GhostliveError, OSError) as exc:
            box: QCheckBox = self.window.stream_check if kind == "stream" else self.window.vcam_check
            box.blockSignals(True)
            box.setChecked(False)
            box.blockSignals(False)
            status.setText("unavailable")
            self.window.show_error(str(exc))
