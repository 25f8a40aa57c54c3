"""The "Personalise" tab: fine-tune GHOST on one person in the background and add the result to the swappers.

Runs :func:`ghostlive.training.finetune.finetune` in a :class:`~ghostlive.ui.workers.Task` thread. The progress
bar shows the preparation of the faces, then the training steps; it starts empty and ends full, "failed" or
"cancelled", as the Files tab's does. Cancel stops after the current photo or video frame of the preparation (nothing
of a new fine-tune is kept) or after the current training step (its checkpoint is kept). A name is used once: a finished
personal swapper's name is refused; the name of a stopped fine-tune continues it, with the same photos and videos
(or an empty list), never with another person's. Refusals and failures go to the status line and the window's error
banner; skipped media, continuing and stopping to its messages pane (the window is reached as :meth:`window`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ghostlive.errors import CancelledError, ConfigError, GhostliveError
from ghostlive.hub import ModelStore
from ghostlive.models.personal import WorkFolder, check_name, personal_models, resolved, work_of
from ghostlive.models.registry import BY_NAME
from ghostlive.ui.workers import Task

MEDIA_FILTER = "Photos and videos (*.jpg *.jpeg *.png *.webp *.bmp *.mp4 *.mov *.mkv *.avi *.webm)"
BASES = ("ghost-2", "ghost-1", "ghost-3")
NAME_HELP = (
    "A new name makes a new personal swapper. The name of a stopped fine-tune continues it: leave the list empty "
    "(or list the same photos and videos); another person needs another name. The name of a finished personal "
    "swapper is refused."
)
NOT_INSTALLED = "{0} is not installed: choose {0} as the Swapper in the Models box and click Download, then Start again"


class MediaList(QListWidget):
    """The person's photos and videos; Delete or Backspace removes the selected ones (a key handler of its own:
    an event filter gets the key event as a bare QEvent under PySide6 6.7)."""

    def remove_selected(self) -> None:
        for item in self.selectedItems():
            self.takeItem(self.row(item))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt naming
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.remove_selected()
            return
        super().keyPressEvent(event)


class PersonaliseTab(QWidget):
    """Person media, a name, the base model and the number of steps; Start / Cancel; progress."""

    noted = Signal(str)
    """A line for the window's messages pane (emitted on the worker thread: a skipped photo or video)."""
    training = Signal()
    """The first training step is done (emitted on the worker thread)."""

    def __init__(
        self, store: ModelStore, on_registered: Callable[[str], None], on_error: Callable[[str], None],
        *, config: str | None = None, allow_untrained: bool = False,
    ) -> None:
        super().__init__()
        self.store, self.on_registered, self.on_error = store, on_registered, on_error
        self.config, self.allow_untrained = config, allow_untrained
        self.task: Task | None = None
        self._training = False
        self.media = MediaList()
        self.media.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        add = QPushButton("Add photos or a video of the person…")
        add.clicked.connect(self._add)
        self.remove_button, self.clear_button = QPushButton("Remove"), QPushButton("Clear")
        self.remove_button.setToolTip("Remove the selected photos and videos from the list (Delete)")
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(self.media.clear)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. me (then choose it as the swapper)")
        self.name.setToolTip(NAME_HELP)
        self.model = QComboBox()
        for base in BASES:
            self.model.addItem(base, base)
        self.steps = QSpinBox()
        self.steps.setRange(1, 1_000_000)
        self.steps.setValue(2000)
        self.steps.setToolTip("Train until this step (a stopped fine-tune continues from its own step)")
        self.start_button, self.cancel_button = QPushButton("Start"), QPushButton("Cancel")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.bar = QProgressBar()
        self.status = QLabel("Fine-tunes the chosen GHOST model on one person (safe defaults). " + NAME_HELP)
        self.status.setWordWrap(True)  # a long error wraps (a long path is cut) instead of widening the window
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._inputs: tuple[QWidget, ...] = (add, self.remove_button, self.clear_button, self.media, self.name,
                                             self.model, self.steps)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Start from", self.model)
        form.addRow("Steps", self.steps)
        row, buttons = QHBoxLayout(), QHBoxLayout()
        for w in (add, self.remove_button, self.clear_button):
            row.addWidget(w)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.media)
        for part in (form, buttons):
            lay.addLayout(part)
        lay.addWidget(self.bar)
        lay.addWidget(self.status)
        self.noted.connect(lambda line: self._info(f"Personalise: {line}"))
        self.training.connect(self._trained)
        self.refresh_models()

    # the media list ---------------------------------------------------------------------------------------------
    def _add(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Photos or videos of the person", "", MEDIA_FILTER)
        self.add_media(files)

    def add_media(self, paths: list[str]) -> int:
        """Add photos, videos or folders of the person (each file once; the window's drops may come here);
        returns how many were new."""
        known = {self.media.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.media.count())}
        added = 0
        for p in paths:
            key = resolved([p])[0]
            if key not in known:
                item = QListWidgetItem(str(Path(p)))
                item.setData(Qt.ItemDataRole.UserRole, key)
                self.media.addItem(item)
                known.add(key)
                added += 1
        return added

    def media_paths(self) -> list[str]:
        return [self.media.item(i).text() for i in range(self.media.count())]

    def remove_selected(self) -> None:
        self.media.remove_selected()

    # the base models ------------------------------------------------------------------------------------------------
    def _installed(self, base: str) -> bool:
        try:
            return self.store.has(BY_NAME[base].filename)
        except GhostliveError:  # a model folder that cannot be read: said where it is used
            return False

    def refresh_models(self) -> None:
        """Mark the base models that are not installed (checked again each time the tab is shown)."""
        for i, base in enumerate(BASES):
            ok = self._installed(base)
            self.model.setItemText(i, base if ok else f"{base} (not installed)")
            self.model.setItemData(i, None if ok else NOT_INSTALLED.format(base), Qt.ItemDataRole.ToolTipRole)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        self.refresh_models()
        super().showEvent(event)

    # a job ------------------------------------------------------------------------------------------------------
    def _plan(self, name: str, media: list[str], base: str) -> tuple[list[str], WorkFolder | None]:
        """The person's media to fine-tune ``name`` on, and the stopped fine-tune it continues (None: a new one);
        ConfigError saying why not (see the module docstring)."""
        check_name(name)
        if name in personal_models(self.store):
            raise ConfigError(f"{name!r} is already a personal swapper: choose another name, or remove it first "
                              f"with: ghostlive models remove {name}")
        work = work_of(self.store, name)
        if work is not None and not work.sources and not work.step:
            work = None  # a folder that holds nothing of a person yet
        if work is None and not media:
            raise ConfigError("add photos or a video of the person")
        if work is not None and media and set(resolved(media)) != set(work.sources):
            raise ConfigError(f"{name!r} is a stopped fine-tune of other photos or videos ({work.folder}): clear the "
                              "list to continue it, or choose another name for someone else")
        if work is not None and work.model is not None and work.model != base:
            raise ConfigError(f"{name!r} is a stopped fine-tune from {work.model}: choose {work.model} in Start from "
                              "to continue it, or another name for a new one")
        if (work is None or work.model is None) and not self.allow_untrained and not self._installed(base):
            raise ConfigError(NOT_INSTALLED.format(base))
        return media or list(work.sources if work else ()), work

    def start(self) -> bool:
        """Start the fine-tune the tab shows (True), or say in the status and the error banner why not (False)."""
        banner = getattr(self.window(), "error_banner", None)
        if isinstance(banner, QWidget):
            banner.hide()  # an earlier job's error is not this one's
        self.refresh_models()
        name, base, steps = self.name.text().strip(), str(self.model.currentData()), self.steps.value()
        if not name:
            return self._refuse("give the personal swapper a name (and add photos or a video of the person)")
        try:
            person, work = self._plan(name, self.media_paths(), base)
        except GhostliveError as exc:
            return self._refuse(str(exc))
        self.task = Task(lambda report, stop: self._work(report, stop, name, person, base, steps), self)
        self.task.progress.connect(self._progress)
        self.task.succeeded.connect(self._done)
        self.task.failed.connect(self._failed)
        self.task.finished.connect(lambda: self._running(False))
        self.bar.setFormat("%p%")
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self._running(True)
        if work is not None:
            text = f"continuing the stopped fine-tune of {name!r} (" + (
                f"at step {work.step}, from {work.model})" if work.step else "its faces were being prepared)")
            self._info(f"Personalise: {text}")
            self.status.setText(f"{text}: preparing…")
        else:
            self.status.setText("preparing the person's faces…")
        self.task.start()
        return True

    def _work(self, report: Callable[..., None], stop: threading.Event, name: str, person: list[str], base: str,
              steps: int) -> str:
        from ghostlive.training.finetune import finetune
        from ghostlive.training.trainer import Stopped

        def prepared(done: int, total: int, counts: Any) -> None:
            report(done, total, f"preparing the faces: {done}/{total} photos or videos, {counts.kept} faces kept")

        def trained(step: int, end: int, values: dict[str, float]) -> None:
            self.training.emit()
            loss, seconds = values["id"], values["sec_per_step"]
            report(step, end, f"step {step}/{end}  identity loss {loss:.3f}  {seconds:.1f} s/step")

        try:
            entry = finetune(name, person, model=base, config=self.config, steps=steps, store=self.store,
                             allow_untrained=self.allow_untrained, resume=True, progress=trained,
                             prepare_progress=prepared, stop=stop, notes=lambda line: self.noted.emit(line))
        except Stopped:
            raise CancelledError(self._stopped(name)) from None
        return entry.name

    def _stopped(self, name: str) -> str:
        work = work_of(self.store, name)
        if work is not None and work.step:
            return (f"stopped at step {work.step}; its checkpoint is kept: Start with the name {name!r} (and the same "
                    "or no photos) to continue")
        if work is not None:
            return f"stopped before training; the faces prepared so far are kept for {name!r}"
        return "stopped before training; nothing was kept"

    def cancel(self) -> None:
        if self.task is not None and not self.task.isFinished():
            self.task.cancel()
            self.status.setText("stopping after this step (its checkpoint is kept)…" if self._training
                                else "stopping before training starts…")

    # its outcome ------------------------------------------------------------------------------------------------
    def _progress(self, done: int, total: int, text: str) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.status.setText(text)

    def _done(self, name: str) -> None:
        text = f"personal swapper {name!r} is ready: choose it in the swapper list"
        self.status.setText(text)
        self._info(f"Personalise: {text}")
        self.on_registered(name)

    def _failed(self, message: str) -> None:
        cancelled = self.task is not None and isinstance(self.task.task.error(), CancelledError)
        self.bar.setValue(0)
        self.bar.setFormat("cancelled" if cancelled else "failed")
        self.status.setText(message)
        (self._info if cancelled else self.on_error)(f"Personalise: {message}")

    def _trained(self) -> None:
        self._training = True

    def _running(self, running: bool) -> None:
        self._training = False
        for w in self._inputs:
            w.setEnabled(not running)
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _refuse(self, text: str) -> bool:
        self.status.setText(text)
        self.on_error(f"Personalise: {text}")
        return False

    def _info(self, text: str) -> None:
        """To the window's messages pane, where there is one."""
        info = getattr(self.window(), "info", None)
        if callable(info):
            info(text)
