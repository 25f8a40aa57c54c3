"""The "Personalise" tab: fine-tune GHOST on one person in the background and add the result to the swappers.

Runs :func:`ghostlive.training.finetune.finetune` in a :class:`~ghostlive.ui.workers.Task` thread with a progress
bar; Cancel stops after the current step and keeps a checkpoint (Start again with the same name resumes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ghostlive.hub import ModelStore
from ghostlive.ui.workers import Task

MEDIA_FILTER = "Photos and videos (*.jpg *.jpeg *.png *.webp *.bmp *.mp4 *.mov *.mkv *.avi *.webm)"


class PersonaliseTab(QWidget):
    """Person media, a name, the base model and the number of steps; Start / Cancel; progress."""

    def __init__(
        self, store: ModelStore, on_registered: Callable[[str], None], on_error: Callable[[str], None],
        *, config: str | None = None, allow_untrained: bool = False,
    ) -> None:
        super().__init__()
        self.store, self.on_registered, self.on_error = store, on_registered, on_error
        self.config, self.allow_untrained = config, allow_untrained
        self.task: Task | None = None
        self.media = QListWidget()
        add = QPushButton("Add photos or a video of the person…")
        add.clicked.connect(self._add)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. me (then choose it as the swapper)")
        self.model = QComboBox()
        self.model.addItems(["ghost-2", "ghost-1", "ghost-3"])
        self.steps = QSpinBox()
        self.steps.setRange(1, 1_000_000)
        self.steps.setValue(2000)
        self.start_button, self.cancel_button = QPushButton("Start"), QPushButton("Cancel")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.bar = QProgressBar()
        self.status = QLabel("Fine-tunes the chosen GHOST model on one person (safe defaults).")
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Start from", self.model)
        form.addRow("Steps", self.steps)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        for w in (add, self.media):
            lay.addWidget(w)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.bar)
        lay.addWidget(self.status)

    def _add(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Photos or videos of the person", "", MEDIA_FILTER)
        self.add_media(files)

    def add_media(self, paths: list[str]) -> None:
        self.media.addItems([str(Path(p)) for p in paths])

    def start(self) -> None:
        person = [self.media.item(i).text() for i in range(self.media.count())]
        name, model, steps = self.name.text().strip(), self.model.currentText(), self.steps.value()
        if not person or not name:
            self.on_error("Personalise: add photos or a video of the person and give the model a name")
            return
        self.task = Task(lambda report, stop: self._work(report, stop, name, person, model, steps), self)
        self.task.progress.connect(self._progress)
        self.task.succeeded.connect(self._done)
        self.task.failed.connect(self._failed)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText("preparing the person's faces…")
        self.task.start()

    def _work(self, report: Callable[..., None], stop: threading.Event, name: str, person: list[str], model: str,
              steps: int) -> str:
        from ghostlive.training.finetune import finetune
        from ghostlive.training.trainer import Stopped

        def progress(step: int, end: int, values: dict[str, float]) -> None:
            text = f"step {step}/{end}  identity loss {values['id']:.3f}  {values['sec_per_step']:.1f} s/step"
            report(step, end, text)
            if stop.is_set():
                raise Stopped

        try:
            entry = finetune(name, person, model=model, config=self.config, steps=steps, store=self.store,
                             allow_untrained=self.allow_untrained, resume=True, progress=progress)
        except Stopped:
            raise RuntimeError(f"stopped; a checkpoint was kept: Start with the name {name!r} to resume") from None
        return entry.name

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("stopping after this step…")

    def _progress(self, done: int, total: int, text: str) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.status.setText(text)

    def _done(self, name: str) -> None:
        self._idle(f"personal swapper {name!r} is ready: choose it in the swapper list")
        self.on_registered(name)

    def _failed(self, message: str) -> None:
        self._idle(message)
        self.on_error(f"Personalise: {message}")

    def _idle(self, text: str) -> None:
        self.status.setText(text)
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
