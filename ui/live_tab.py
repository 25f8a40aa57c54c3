"""The "Live" tab: camera, resolution, Start/Stop, before/after, the preview with its statistics, and the
outputs (virtual camera, stream, recording). Starting builds the job on the session's worker thread."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ghostlive.errors import GhostliveError
from ghostlive.media.sinks import MjpegServer, VirtualCamera
from ghostlive.session import Session
from ghostlive.session.live import LiveRequest, parse_address
from ghostlive.ui.convert import to_pixmap
from ghostlive.ui.settings_binding import Bindings
from ghostlive.ui.workers import SessionBridge, Task, wait_for


class LiveTab(QWidget):
    def __init__(self, session: Session, bridge: SessionBridge, window: Any, bindings: Bindings) -> None:
        super().__init__()
        self.session, self.window = session, window
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.camera = bindings.make("camera").control
        pick = QPushButton("Video file…")
        pick.clicked.connect(self._pick_camera_file)
        self.resolution = bindings.make("resolution").control
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(window.toggle_live)
        self.before_after = QCheckBox("Show original (B)")
        self.before_after.toggled.connect(lambda on: session.set_enabled(not on))
        for widget in (QLabel("Camera"), self.camera, pick, self.resolution, self.start_button, self.before_after):
            bar.addWidget(widget, 1 if widget is self.camera else 0)  # the camera box takes the room a path needs
        self.camera.setToolTip("A camera index (0), a device (/dev/video2), a stream URL or a video file")
        lay.addLayout(bar)
        self.preview = QLabel("Start the camera to see the preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(576, 360)  # fits a 1024×640 window beside the side panel
        self.preview.setStyleSheet("background:#111;color:#aaa;")
        lay.addWidget(self.preview, 1)
        self.stats_label = QLabel("—")
        lay.addWidget(self.stats_label)
        outs = QHBoxLayout()
        self.vcam_check = bindings.make("virtual_camera").control
        self.vcam_status = QLabel("off")
        self.stream_check = bindings.make("stream").control
        self.stream_address = bindings.make("stream_address").control
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
        bridge.frame.connect(self.show_frame)
        bridge.stats.connect(self._show_stats)
        bridge.live.connect(self._live_changed)

    def _pick_camera_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Video to use as the camera", "", "Videos (*.*)")
        if path:
            self.camera.setCurrentText(path)

    def request(self) -> LiveRequest:
        """The camera and outputs chosen in this tab."""
        w, h = (int(v) for v in self.resolution.currentText().split("x"))
        stream = parse_address(self.stream_address.text()) if self.stream_check.isChecked() else None
        camera = self.camera.currentText().strip()
        vcam = self.vcam_check.isChecked()
        return LiveRequest(camera, w, h, virtual_camera=vcam, virtual_camera_optional=True, stream=stream)

    def start_live(self) -> bool:
        """Build the job and open the camera on the session's worker thread (the window stays responsive);
        True when the preview runs."""
        try:
            request = self.request()
            task = Task(self.session.start_live(request, self.window.swap_settings()), self)
        except (GhostliveError, ValueError) as exc:
            self.window.show_error(str(exc))
            return False
        task.failed.connect(self.window.show_error)
        self.start_button.setEnabled(False)  # until the camera is open (the window stays responsive meanwhile)
        try:
            if not wait_for(task):
                return False
        finally:
            self.start_button.setEnabled(True)
        sinks = self.session.pipeline.sinks if self.session.pipeline else []
        vcams = [s.name for s in sinks if isinstance(s, VirtualCamera)]
        if request.virtual_camera:
            self.vcam_status.setText(vcams[0] if vcams else "unavailable")
        if request.stream:
            self.stream_status.setText(next(s.url for s in sinks if isinstance(s, MjpegServer)))
        self.start_button.setText("Stop")
        self.window.error_banner.hide()
        self.window.info(f"live: {request.camera} → {', '.join(s.name for s in sinks) or 'preview'}")
        return True

    def stop_live(self, wait: bool = False) -> None:
        """Stop the preview; the loop's threads and outputs are closed on a worker thread unless ``wait``."""
        if self.session.pipeline is None:
            return
        if self.session.recorder is not None:  # the session finishes it with the loop (then emits ``saved``)
            self._release_record_button()
        self.session.stop_live(wait=wait)
        self.start_button.setText("Start")
        self.vcam_status.setText("off")
        self.stream_status.setText("off")

    def _live_changed(self, running: bool) -> None:
        """The session's word on the loop: also when it ended by itself (its camera file ended, or it stopped on
        an error), the controls go back to "Start" rather than offering to stop a loop that is gone."""
        if running:
            return
        self._release_record_button()
        self.start_button.setText("Start")
        self.vcam_status.setText("off")
        self.stream_status.setText("off")

    def _release_record_button(self) -> None:
        self.record_button.blockSignals(True)
        self.record_button.setChecked(False)
        self.record_button.blockSignals(False)

    def _show_stats(self, stats: Any) -> None:
        """The loop's statistics line; a recording that failed meanwhile (its error is shown already) is ended
        and its button released, so the button never says "recording" when nothing records."""
        self.stats_label.setText(stats.line())
        recorder = self.session.recorder
        if recorder is not None and recorder.failed:
            self.session.stop_recording()
            self._release_record_button()

    def show_frame(self, frame: np.ndarray, packet: Any) -> None:
        pix = to_pixmap(frame)
        self.preview.setPixmap(
            pix.scaled(
                self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        )

    def _toggle_record(self, on: bool) -> None:
        if self.session.pipeline is None:
            if on:
                self.record_button.setChecked(False)
                self.window.show_error("start the camera before recording")
            return
        if on:
            try:
                self.session.start_recording(self.window.cfg.output_folder)
            except GhostliveError as exc:
                self.record_button.setChecked(False)
                self.window.show_error(str(exc))
        else:
            self.session.stop_recording()  # ``saved`` tells the window
