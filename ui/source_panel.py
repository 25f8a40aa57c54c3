"""The side panel's "Source face" and "Which faces" boxes: source photos as face thumbnails (the faces are found
by the session on a worker thread), the target selection and the reference photos."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from ghostlive.session import Session, SourceFace
from ghostlive.ui.convert import to_pixmap
from ghostlive.ui.settings_binding import Bindings
from ghostlive.ui.workers import SessionBridge, Task, wait_for

PHOTOS = "Images (*.jpg *.jpeg *.png *.webp *.bmp)"


class SourcePanel(QGroupBox):
    """Add photos; every face found becomes a thumbnail; the selected one is the session's source."""

    def __init__(self, session: Session, bridge: SessionBridge) -> None:
        super().__init__("Source face")
        self.session = session
        lay = QVBoxLayout(self)
        add = QPushButton("Add photos…")
        add.clicked.connect(self.pick)
        self.source_list = QListWidget()
        self.source_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.source_list.setIconSize(QSize(96, 96))
        self.source_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.source_list.setMaximumHeight(150)
        self.source_list.itemSelectionChanged.connect(self._selected)
        lay.addWidget(add)
        lay.addWidget(QLabel("Drop photos here; click the face to use."))
        lay.addWidget(self.source_list)
        bridge.sources_added.connect(self._show)

    def add_photos(self, paths: list[str]) -> int:
        """Find the faces in each photo (on the session's worker thread, the window stays responsive) and list
        them as thumbnails; returns how many were added. Problems arrive as the session's error events."""
        task = Task(self.session.add_sources(paths), self)
        return len(task.task.result()) if wait_for(task) else 0

    def pick(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Source photos", "", PHOTOS)
        if paths:
            self.session.add_sources(paths)  # the thumbnails appear when the faces are found

    def _show(self, added: list[SourceFace]) -> None:
        for face in added:
            index = next(i for i, s in enumerate(self.session.sources) if s is face)
            advice = face.advice
            item = QListWidgetItem(QIcon(to_pixmap(face.thumbnail)), face.label + (" ⚠" if advice else ""))
            item.setData(Qt.ItemDataRole.UserRole, index)
            item.setToolTip("\n".join([face.label, *advice]))
            self.source_list.addItem(item)
        if added and not self.source_list.selectedItems():
            self.source_list.setCurrentRow(self.source_list.count() - len(added))

    def _selected(self) -> None:
        items = self.source_list.selectedItems()
        self.session.select_source(items[0].data(Qt.ItemDataRole.UserRole) if items else None)

    def selected(self) -> tuple[str, int] | None:
        """(photo, face index) of the selected thumbnail."""
        if self.session.selected is None:
            return None
        face = self.session.sources[self.session.selected]
        return face.path, face.index


class TargetPanel(QGroupBox):
    """Which faces to swap: all, the largest, or the person in the reference photos (with a similarity)."""

    references_changed = Signal()

    def __init__(self, session: Session, bindings: Bindings) -> None:
        super().__init__("Which faces")
        self.session = session
        form = QFormLayout(self)
        faces, similarity = bindings.make("faces"), bindings.make("similarity")
        self.faces_combo, self.similarity = faces.control, similarity.control
        refs = QPushButton("Reference photos…")
        refs.clicked.connect(self._pick)
        self.refs_label = QLabel("none")
        form.addRow("Swap", faces.widget)
        form.addRow(refs, self.refs_label)
        form.addRow("Similarity", similarity.widget)

    def set_references(self, paths: list[str]) -> None:
        self.session.references = list(paths)
        self.refs_label.setText(", ".join(Path(p).name for p in paths) or "none")

    def _pick(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Reference photos of the target person", "", "Images (*.*)")
        if paths:
            self.set_references(paths)
            self.references_changed.emit()

