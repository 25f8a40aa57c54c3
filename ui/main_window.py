"""The main window: source faces, target selection, models and speed, quality, live preview, file jobs."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from ghostlive.engines.registry import BACKENDS
from ghostlive.ui.convert import to_pixmap
from ghostlive.ui.panels import LiveOutputs, scrolling, start_task
from ghostlive.ui.personalise import PersonaliseTab
from ghostlive.ui.stages import StagesBox, innermost
from ghostlive.ui.workers import LiveBridge, Task
from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSlider,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ghostlive.config import GuiSettings, load_settings, save_settings
from ghostlive.errors import GhostliveError
from ghostlive.faces import FaceAnalyzer
from ghostlive.hub import ModelStore
from ghostlive.jobs import Job, PairSpec, SwapSettings, run_folder, run_image, run_video, target_kind
from ghostlive.media.image import read_image
from ghostlive.media.paths import check_live_sinks
from ghostlive.media.sinks import MjpegServer, Recorder, VirtualCamera
from ghostlive.media.sources import open_source
from ghostlive.models.personal import swapper_names
from ghostlive.models.registry import BY_NAME
from ghostlive.ops.color import COLOR_MODES
from ghostlive.pipeline.live import LiveOptions, LivePipeline
from ghostlive.swappers.classic import ClassicOptions
from ghostlive.swappers.factory import build_swapper, missing_hint
from ghostlive.tracking import TrackerOptions
from ghostlive.xp import DEVICES

log = logging.getLogger(__name__)


def _slider(lo: int, hi: int, value: int) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setValue(value)
    return s


class MainWindow(QMainWindow):
    def __init__(self, settings_path: Path | None = None, store: ModelStore | None = None) -> None:
        super().__init__()
        self.setWindowTitle("ghostlive")
        self.settings_path = settings_path
        self.cfg: GuiSettings = load_settings(settings_path)
        self.store = store or ModelStore()
        self._analyzer: FaceAnalyzer | None = None
        self.sources: list[tuple[str, int, np.ndarray]] = []  # (path, face index, thumbnail)
        self.bridge = LiveBridge()
        self.bridge.frame.connect(self._show_frame)
        self.bridge.stats.connect(self._show_stats)
        self.bridge.error.connect(self.show_error)
        self.pipeline: LivePipeline | None = None
        self.job: Job | None = None
        self.recorder: Recorder | None = None
        self.task: Task | None = None
        self.last_output: Path | None = None
        self.setAcceptDrops(True)
        self._build()
        self._restore()
        self.outputs = LiveOutputs(self)

    # layout -----------------------------------------------------------------------------------------------
    def _build(self) -> None:
        central = QWidget()
        root = QVBoxLayout(central)
        self.error_banner = QLabel()
        self.error_banner.setStyleSheet("background:#b3261e;color:white;padding:6px;")
        self.error_banner.setWordWrap(True)
        self.error_banner.hide()
        root.addWidget(self.error_banner)
        body = QHBoxLayout()
        root.addLayout(body, 1)
        side = QVBoxLayout()
        body.addWidget(scrolling(side), 0)
        side.addWidget(self._source_box())
        side.addWidget(self._target_box())
        side.addWidget(self._model_box())
        side.addWidget(self._quality_box())
        side.addStretch(1)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._live_tab(), "Live")
        self.tabs.addTab(self._files_tab(), "Files")
        self.personalise = PersonaliseTab(self.store, self.swapper_combo.addItem, self.show_error)
        self.tabs.addTab(self.personalise, "Personalise")
        body.addWidget(self.tabs, 1)
        self.messages = QPlainTextEdit()
        self.messages.setReadOnly(True)
        self.messages.setMaximumHeight(70)
        root.addWidget(self.messages)
        self.setCentralWidget(central)
        self._shortcuts()
        self.resize(1280, 800)

    def _source_box(self) -> QGroupBox:
        box = QGroupBox("Source face")
        lay = QVBoxLayout(box)
        add = QPushButton("Add photos…")
        add.clicked.connect(self._pick_sources)
        self.source_list = QListWidget()
        self.source_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.source_list.setIconSize(QSize(96, 96))
        self.source_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.source_list.setMaximumHeight(150)
        self.source_list.itemSelectionChanged.connect(self._source_changed)
        lay.addWidget(add)
        lay.addWidget(QLabel("Drop photos here; click the face to use."))
        lay.addWidget(self.source_list)
        return box

    def _target_box(self) -> QGroupBox:
        box = QGroupBox("Which faces")
        form = QFormLayout(box)
        self.faces_combo = QComboBox()
        self.faces_combo.addItems(["all", "largest", "reference"])
        self.faces_combo.currentTextChanged.connect(self._settings_changed)
        refs = QPushButton("Reference photos…")
        refs.clicked.connect(self._pick_references)
        self.refs_label = QLabel("none")
        self.similarity = _slider(50, 99, 88)
        self.similarity.valueChanged.connect(self._settings_changed)
        form.addRow("Swap", self.faces_combo)
        form.addRow(refs, self.refs_label)
        form.addRow("Similarity", self.similarity)
        return box

    def _model_box(self) -> QGroupBox:
        box = QGroupBox("Models and speed")
        form = QFormLayout(box)
        self.swapper_combo = QComboBox()
        self.swapper_combo.addItems(swapper_names(self.store))
        self.swapper_combo.currentTextChanged.connect(self._swapper_changed)
        self.backend_combo = QComboBox()
        self.backend_combo.addItems(["auto", *BACKENDS])
        self.device_combo = QComboBox()
        self.device_combo.addItems(list(DEVICES))
        self.device_combo.setToolTip("where frames are processed: auto uses the GPU when CuPy can")
        self.model_status = QLabel()
        self.model_status.setWordWrap(True)
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self._download)
        self.engines_button = QPushButton("Build engines")
        self.engines_button.clicked.connect(self._build_engines)
        self.model_progress = QProgressBar()
        form.addRow("Swapper", self.swapper_combo)
        form.addRow("Backend", self.backend_combo)
        form.addRow("Frames on", self.device_combo)
        form.addRow(self.model_status)
        row = QHBoxLayout()
        row.addWidget(self.download_button)
        row.addWidget(self.engines_button)
        form.addRow(row)
        form.addRow(self.model_progress)
        return box

    def _quality_box(self) -> QGroupBox:
        box = QGroupBox("Quality (applied live)")
        form = QFormLayout(box)
        self.blend = _slider(0, 100, 100)
        self.feather = _slider(5, 150, 35)
        self.color = QComboBox()
        self.color.addItems(list(COLOR_MODES))
        self.smoothing = _slider(0, 50, 10)
        self.keep = {k: QCheckBox(k) for k in ("mouth", "eyes", "brows")}
        self.stages = StagesBox(self.store)
        self.stages.changed.connect(self._settings_changed)
        for w in (self.blend, self.feather, self.smoothing):
            w.valueChanged.connect(self._settings_changed)
        self.color.currentTextChanged.connect(self._settings_changed)
        keep_row = QHBoxLayout()
        for c in self.keep.values():
            c.toggled.connect(self._settings_changed)
            keep_row.addWidget(c)
        form.addRow("Blend", self.blend)
        form.addRow("Mask feather", self.feather)
        form.addRow("Colour", self.color)
        form.addRow("Smoothing", self.smoothing)
        form.addRow("Keep", keep_row)
        form.addRow(self.stages)
        return box

    def _live_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        bar = QHBoxLayout()
        self.camera = QComboBox()
        self.camera.setEditable(True)
        self.camera.addItems(["0", "1", "2"])
        pick = QPushButton("Video file…")
        pick.clicked.connect(self._pick_camera_file)
        self.resolution = QComboBox()
        self.resolution.addItems(["640x480", "1280x720", "1920x1080"])
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.toggle_live)
        self.before_after = QCheckBox("Show original (B)")
        self.before_after.toggled.connect(lambda on: self.pipeline and self.pipeline.set_enabled(not on))
        for widget in (QLabel("Camera"), self.camera, pick, self.resolution, self.start_button, self.before_after):
            bar.addWidget(widget)
        lay.addLayout(bar)
        self.preview = QLabel("Start the camera to see the preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(576, 360)  # fits a 1024×640 window beside the side panel
        self.preview.setStyleSheet("background:#111;color:#aaa;")
        lay.addWidget(self.preview, 1)
        self.stats_label = QLabel("—")
        lay.addWidget(self.stats_label)
        outs = QHBoxLayout()
        self.vcam_check = QCheckBox("Virtual camera")
        self.vcam_status = QLabel("off")
        self.stream_check = QCheckBox("Stream")
        self.stream_address = QLineEdit("127.0.0.1:8080")
        self.stream_status = QLabel("off")
        self.record_button = QPushButton("Record")
        self.record_button.setCheckable(True)
        self.record_button.toggled.connect(self._toggle_record)
        for widget in (
            self.vcam_check,
            self.vcam_status,
            self.stream_check,
            self.stream_address,
            self.stream_status,
            self.record_button,
        ):
            outs.addWidget(widget)
        lay.addLayout(outs)
        return w

    def _files_tab(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.job_input = QLineEdit()
        browse_in = QPushButton("Choose photo, video or folder…")
        browse_in.clicked.connect(self._pick_job_input)
        self.job_output = QLineEdit()
        browse_out = QPushButton("Output…")
        browse_out.clicked.connect(self._pick_job_output)
        self.pause_live = QCheckBox("Pause the live preview while the job runs")
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run_job)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(lambda: self.task and self.task.cancel())
        self.open_button = QPushButton("Open result")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(
            lambda: self.last_output and QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_output)))
        )
        self.job_progress = QProgressBar()
        self.job_eta = QLabel("")
        form.addRow(browse_in, self.job_input)
        form.addRow(browse_out, self.job_output)
        form.addRow(self.pause_live)
        row = QHBoxLayout()
        for b in (self.run_button, self.cancel_button, self.open_button):
            row.addWidget(b)
        form.addRow(row)
        form.addRow(self.job_progress)
        form.addRow(self.job_eta)
        return w

    def _shortcuts(self) -> None:
        for keys, fn in (
            ("Space", self.toggle_live),
            ("B", self.before_after.toggle),
            ("Ctrl+S", self.screenshot),
            ("Ctrl+O", self._pick_sources),
        ):
            act = QAction(self)
            act.setShortcut(QKeySequence(keys))
            act.triggered.connect(fn)
            self.addAction(act)

    # settings ---------------------------------------------------------------------------------------------
    def _restore(self) -> None:
        c = self.cfg
        self.swapper_combo.setCurrentText(c.swapper)
        self.backend_combo.setCurrentText(c.backend)
        self.device_combo.setCurrentText(c.device)
        self.faces_combo.setCurrentText(c.faces)
        self.similarity.setValue(round(c.similarity * 100))
        self.camera.setCurrentText(c.camera)
        self.resolution.setCurrentText(c.resolution)
        self.blend.setValue(round(c.blend * 100))
        self.feather.setValue(round(c.feather * 1000))
        self.color.setCurrentText(c.color)
        self.smoothing.setValue(round(c.smoothing * 10))
        for k, box in self.keep.items():
            box.setChecked(getattr(c, f"keep_{k}"))
        self.vcam_check.setChecked(c.virtual_camera)
        self.stream_check.setChecked(c.stream)
        self.stream_address.setText(c.stream_address)
        self.pause_live.setChecked(c.pause_live_during_jobs)
        self.refs_label.setText(", ".join(Path(p).name for p in c.reference_photos) or "none")
        existing = [p for p in c.source_photos if Path(p).is_file()]
        if existing:
            self.add_source_photos(existing)
        self._update_model_status()

    def current_settings(self) -> GuiSettings:
        return replace(
            self.cfg,
            source_photos=sorted({p for p, _, _ in self.sources}),
            swapper=self.swapper_combo.currentText(),
            backend=self.backend_combo.currentText(),
            device=self.device_combo.currentText(),
            faces=self.faces_combo.currentText(),
            similarity=self.similarity.value() / 100,
            camera=self.camera.currentText(),
            resolution=self.resolution.currentText(),
            blend=self.blend.value() / 100,
            feather=self.feather.value() / 1000,
            color=self.color.currentText(),
            keep_mouth=self.keep["mouth"].isChecked(),
            keep_eyes=self.keep["eyes"].isChecked(),
            keep_brows=self.keep["brows"].isChecked(),
            smoothing=self.smoothing.value() / 10,
            virtual_camera=self.vcam_check.isChecked(),
            stream=self.stream_check.isChecked(),
            stream_address=self.stream_address.text(),
            pause_live_during_jobs=self.pause_live.isChecked(),
        )

    def swap_settings(self) -> SwapSettings:
        c = self.current_settings()
        keep = tuple(k for k in ("mouth", "eyes", "brows") if getattr(c, f"keep_{k}"))
        classic = ClassicOptions(blend=c.blend, feather=max(c.feather, 0.005), color=c.color, keep=keep)  # type: ignore[arg-type]
        tracker = TrackerOptions(detect_every=2, smoothing=c.smoothing > 0, min_cutoff=max(c.smoothing, 0.1))
        mode = c.faces if c.faces != "reference" or c.reference_photos else "all"
        return SwapSettings(
            swapper=c.swapper,
            backend=c.backend,
            device=c.device,
            classic=classic,
            tiles=0,
            faces=mode,  # type: ignore[arg-type]
            similarity=c.similarity,
            tracker=tracker,
            **self.stages.settings(),
        )

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        self.stop_live()
        try:
            save_settings(self.current_settings(), self.settings_path)
        except OSError as exc:
            log.warning("settings not saved: %s", exc)
        super().closeEvent(event)

    # messages ---------------------------------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        self.error_banner.setText(message)
        self.error_banner.show()
        self.messages.appendPlainText(f"error: {message}")
        self.statusBar().showMessage(message.splitlines()[0], 10000)

    def info(self, message: str) -> None:
        self.messages.appendPlainText(message)
        self.statusBar().showMessage(message, 5000)

    # sources ----------------------------------------------------------------------------------------------
    @property
    def analyzer(self) -> FaceAnalyzer:
        if self._analyzer is None:
            self._analyzer = FaceAnalyzer(tile_levels=2)
        return self._analyzer

    def add_source_photos(self, paths: list[str]) -> int:
        """Detect the faces in each photo and list them as thumbnails; returns how many were added."""
        added = 0
        for path in paths:
            try:
                image = read_image(path).bgr
                faces = self.analyzer.analyze(image)
            except GhostliveError as exc:
                self.show_error(str(exc))
                continue
            if not faces:
                self.show_error(f"{path}: no face found in this photo")
                continue
            for i, face in enumerate(faces):
                x1, y1, x2, y2 = face.box
                m = 0.25 * (x2 - x1)
                crop = image[max(int(y1 - m), 0) : int(y2 + m), max(int(x1 - m), 0) : int(x2 + m)]
                item = QListWidgetItem(QIcon(to_pixmap(np.ascontiguousarray(crop))), f"{Path(path).name} #{i}")
                item.setData(Qt.ItemDataRole.UserRole, len(self.sources))
                self.sources.append((path, i, crop))
                self.source_list.addItem(item)
                added += 1
        if added and not self.source_list.selectedItems():
            self.source_list.setCurrentRow(self.source_list.count() - added)
        return added

    def selected_source(self) -> tuple[str, int] | None:
        items = self.source_list.selectedItems()
        if not items:
            return None
        path, index, _ = self.sources[items[0].data(Qt.ItemDataRole.UserRole)]
        return path, index

    def _pick_sources(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Source photos", "", "Images (*.jpg *.jpeg *.png *.webp *.bmp)")
        if paths:
            self.add_source_photos(paths)

    def _pick_references(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Reference photos of the target person", "", "Images (*.*)")
        if paths:
            self.cfg.reference_photos = paths
            self.refs_label.setText(", ".join(Path(p).name for p in paths))
            self._settings_changed()

    def dragEnterEvent(self, event: Any) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        kinds = {p: target_kind(p) for p in paths}
        photos = [p for p, k in kinds.items() if k == "image"]
        if photos:
            self.add_source_photos(photos)
        others = [p for p, k in kinds.items() if k != "image"]
        if others:
            self.job_input.setText(others[0])
            self.tabs.setCurrentIndex(1)

    def _pairs(self) -> list[PairSpec]:
        chosen = self.selected_source()
        if chosen is None:
            raise GhostliveError("add a source photo and select its face first")
        refs = self.cfg.reference_photos if self.faces_combo.currentText() == "reference" else []
        return [PairSpec(chosen[0], r) for r in refs] or [PairSpec(chosen[0])]

    def _make_job(self) -> Job:
        chosen = self.selected_source()
        settings = self.swap_settings()
        if chosen is not None:
            settings = replace(settings, source_face=chosen[1])
        return Job(settings, self._pairs())

    def _source_changed(self) -> None:
        """A new source face while live: prepared in the background with the running swapper, then switched
        in between two frames."""
        chosen = self.selected_source()
        if self.pipeline is None or chosen is None:
            return
        try:
            image = read_image(chosen[0]).bgr
            face = self.analyzer.analyze(image)[chosen[1]]
        except (GhostliveError, IndexError) as exc:
            self.show_error(f"{chosen[0]}: {exc}")
            return
        current = self.pipeline.swapper.swapper
        refs = [p.reference for p in self.pipeline.swapper.pairs if p.reference is not None] or [None]
        self.pipeline.load_swapper(lambda: current, [(image, face, r) for r in refs], self._loaded)

    # models -----------------------------------------------------------------------------------------------
    def _update_model_status(self) -> None:
        name = self.swapper_combo.currentText()
        if name == "classic":
            self.model_status.setText("classic: built in, nothing to install")
            self.download_button.setEnabled(False)
            return
        hint = missing_hint(self.store, name)
        self.model_status.setText(f"{name}: ready" if not hint else f"{name}: missing — {hint}")
        self.download_button.setEnabled(bool(hint) and bool(BY_NAME[name].url))

    def _swapper_changed(self, name: str) -> None:
        self._update_model_status()
        if self.pipeline is None or self.job is None:
            return
        settings = self.swap_settings()
        sources = list(self.job.sources)
        self.pipeline.load_swapper(
            lambda: build_swapper(name, self.store, settings.classic, settings.backend), sources, self._loaded
        )

    def _loaded(self, error: str | None) -> None:
        if error:
            self.bridge.error.emit(error)

    def _run_task(self, fn: Any, bar: QProgressBar, on_done: Any = None) -> Task:
        self.task = start_task(self, fn, bar, on_done, self.show_error)
        return self.task

    def _download(self) -> None:
        name = self.swapper_combo.currentText()

        def work(report: Any, stop: Any) -> None:
            spec = BY_NAME[name]
            for dep in (*spec.needs, name):
                d = BY_NAME[dep]
                if not self.store.has(d.filename):
                    self.store.download(d, progress=lambda done, total, n=dep: report(done, total or 0, ""))
            from ghostlive.models_cli import export_installed

            for dep in (*spec.needs, name):
                if BY_NAME[dep].exports_to and not self.store.has(BY_NAME[dep].exports_to):
                    report(0, 0, f"exporting {dep} to ONNX")
                    export_installed(self.store, dep, fp16=False)

        self._run_task(work, self.model_progress, lambda _: self._update_model_status())

    def _build_engines(self) -> None:
        def work(report: Any, stop: Any) -> None:
            from ghostlive.engines.tensorrt import TensorRTRunner

            models = sorted(n for n in self.store.manifest() if n.endswith(".onnx"))
            if not models:
                raise GhostliveError("no ONNX models are installed; download a neural swapper first")
            for i, n in enumerate(models):
                report(i, len(models), f"building engine for {n}")
                TensorRTRunner(self.store.path(n), self.store.root / "engines")
            report(len(models), len(models), "engines ready")

        self._run_task(work, self.model_progress)

    # live -------------------------------------------------------------------------------------------------
    def _pick_camera_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Video to use as the camera", "", "Videos (*.*)")
        if path:
            self.camera.setCurrentText(path)

    def toggle_live(self) -> None:
        if self.pipeline is not None:
            self.stop_live()
        else:
            self.start_live()

    def start_live(self) -> bool:
        try:
            self.job = self._make_job()
            spec = self.camera.currentText().strip()
            w, h = (int(v) for v in self.resolution.currentText().split("x"))
            first = open_source(spec, width=w, height=h)
            fps = first.fps
            frame = first.read()
            first.close()
            if frame is None:
                raise GhostliveError(f"{spec}: the camera gave no frame")
            sinks: list[Any] = []
            if self.vcam_check.isChecked():
                try:
                    sinks.append(VirtualCamera(frame.shape[1], frame.shape[0], fps))
                    self.vcam_status.setText(sinks[-1].name)
                except GhostliveError as exc:
                    self.vcam_status.setText("unavailable")
                    self.show_error(str(exc))
            if self.stream_check.isChecked():
                host, _, port = self.stream_address.text().rpartition(":")
                server = MjpegServer(host or "127.0.0.1", int(port or 8080))
                sinks.append(server)
                self.stream_status.setText(server.url)
        except (GhostliveError, ValueError, OSError) as exc:
            self.show_error(str(exc))
            self.job = None
            return False
        self.pipeline = LivePipeline(
            lambda: open_source(spec, width=w, height=h),
            self.job.stream(),
            sinks,
            LiveOptions(output_fps=fps or 30.0),
            on_frame=self.bridge.on_frame,
            on_error=self.bridge.on_error,
        )
        self.bridge.pipeline = self.pipeline
        self.pipeline.start()
        self.start_button.setText("Stop")
        self.error_banner.hide()
        self.info(f"live: {spec} → {', '.join(s.name for s in sinks) or 'preview'}")
        return True

    def stop_live(self) -> None:
        if self.pipeline is None:
            return
        if self.recorder is not None:
            self.record_button.setChecked(False)
        self.pipeline.stop()
        self.pipeline = None
        self.bridge.pipeline = None
        self.start_button.setText("Start")
        self.vcam_status.setText("off")
        self.stream_status.setText("off")

    def _settings_changed(self, *_: Any) -> None:
        if self.pipeline is None:
            return
        s = self.swap_settings()
        staged = self.stages.restage(self.pipeline.swapper.swapper, s, self.show_error)

        def apply(stream: Any) -> None:
            base = innermost(stream.swapper)
            if hasattr(base, "options"):
                base.options = s.classic
            if staged is not None:
                stream.swapper = staged
            stream.tracker.options = s.tracker
            stream.selection = replace(stream.selection, threshold=s.similarity)

        self.pipeline.update(apply)

    def _show_frame(self, frame: np.ndarray, packet: Any) -> None:
        pix = to_pixmap(frame)
        self.preview.setPixmap(
            pix.scaled(
                self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        )

    def _show_stats(self, stats: Any) -> None:
        self.stats_label.setText(stats.line())

    def _toggle_record(self, on: bool) -> None:
        if self.pipeline is None:
            if on:
                self.record_button.setChecked(False)
                self.show_error("start the camera before recording")
            return
        if on:
            folder = Path(self.cfg.output_folder or Path.home())
            path = folder / time.strftime("ghostlive-%Y%m%d-%H%M%S.mp4")
            try:
                photos = [p for p, _, _ in self.sources] + list(self.cfg.reference_photos)
                check_live_sinks([path], self.camera.currentText().strip(), photos)
                self.recorder = Recorder(path)
            except GhostliveError as exc:
                self.record_button.setChecked(False)
                self.show_error(str(exc))
                return
            self.pipeline.add_sink(self.recorder)
            self.info(f"recording to {path}")
        elif self.recorder is not None:
            self.pipeline.remove_sink(self.recorder)
            self.recorder.close()
            self.info(f"saved {self.recorder.path}")
            self.last_output = self.recorder.path
            self.recorder = None

    def screenshot(self) -> Path | None:
        frame = self.bridge.last_frame
        if frame is None:
            self.show_error("no frame to save yet")
            return None
        from ghostlive.media.image import write_image

        folder = Path(self.cfg.output_folder or Path.home())
        path = write_image(folder / time.strftime("ghostlive-%Y%m%d-%H%M%S.png"), frame)
        self.info(f"screenshot saved: {path}")
        return path

    # file jobs --------------------------------------------------------------------------------------------
    def _pick_job_input(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Photo or video", "", "Media (*.*)")
        if path:
            self.job_input.setText(path)

    def _pick_job_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save result as")
        if path:
            self.job_output.setText(path)

    def run_job(self) -> Task | None:
        target, output = self.job_input.text().strip(), self.job_output.text().strip()
        if not target or not output:
            self.show_error("choose an input and an output first")
            return None
        try:
            job = self._make_job()
        except GhostliveError as exc:
            self.show_error(str(exc))
            return None
        paused = self.pause_live.isChecked() and self.pipeline is not None
        if paused:
            self.stop_live()
        kind = target_kind(target)
        started = time.monotonic()

        def work(report: Any, stop: Any) -> Path:
            if kind == "video":

                def progress(p: Any) -> None:
                    report(p.done, p.total, "")

                return run_video(job, target, output, progress=progress, stop=stop).output
            if kind == "folder":
                written, problems = run_folder(job, target, output)
                report(written, written, "; ".join(problems))
                return Path(output)
            run_image(job, target, output, (target,))
            report(1, 1, "")
            return Path(output)

        def done(path: Path) -> None:
            self.last_output = path
            self.open_button.setEnabled(True)
            self.info(f"done: {path} ({time.monotonic() - started:.1f} s)")

        def progress_text(d: int, t: int, _s: str) -> None:
            elapsed = time.monotonic() - started
            if d and t:
                self.job_eta.setText(f"{d}/{t}  ETA {elapsed / d * (t - d):.0f} s")

        self.open_button.setEnabled(False)  # until this job succeeds
        task = self._run_task(work, self.job_progress, done)
        task.progress.connect(progress_text)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        task.finished.connect(lambda: (self.run_button.setEnabled(True), self.cancel_button.setEnabled(False)))
        if paused:
            task.finished.connect(self.start_live)
        return task
