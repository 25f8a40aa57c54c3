"""The outputs half of the live part of :class:`~ghostlive.session.Session`: a virtual camera or a stream added to
the running loop, a recording, a screenshot (a mixin: the session provides the loop, its request and job, the
sources and the events)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ghostlive.errors import ConfigError, GhostliveError
from ghostlive.jobs import Job
from ghostlive.media.image import write_image
from ghostlive.media.leftovers import recover_folder
from ghostlive.media.sinks import Recorder
from ghostlive.pipeline.live import LivePipeline
from ghostlive.session.live import OUTPUT_KINDS, LiveRequest, make_output, recording_path


class LiveOutputs:
    """Outputs of the running loop (see the module docstring)."""

    events: Any
    sources: list[Any]
    references: list[str]
    pipeline: LivePipeline | None
    request: LiveRequest | None
    job: Job | None
    recorder: Recorder | None

    def set_output(self, kind: str, on: bool, address: str = "") -> str:
        """Add or remove a virtual camera or stream (``kind``: 'virtual_camera', 'stream') on the running loop;
        returns its status text ('off' when removed)."""
        pipeline = self.pipeline
        if pipeline is None:
            return "off"
        current = [s for s in pipeline.sinks if isinstance(s, OUTPUT_KINDS[kind])]
        if on and not current:
            sink = make_output(kind, address, pipeline, self.events.last_frame)
            pipeline.add_sink(sink)
            self.events.info.emit(f"live: added {sink.name}")
            return str(getattr(sink, "url", sink.name))
        if on:
            return str(getattr(current[0], "url", current[0].name))
        for sink in current:
            pipeline.remove_sink(sink)
            sink.close()
        return "off"

    def start_recording(self, folder: str | Path) -> Path:
        """Record the live output to a time-stamped file in ``folder`` (never over the camera file or a photo)."""
        if self.pipeline is None or self.request is None:
            raise ConfigError("start the camera before recording")
        photos = [s.path for s in self.sources] + list(self.references)
        encode = self.job.settings.encode if self.job is not None else None
        fps = self.pipeline.options.output_fps
        path = recording_path(folder, self.request.camera, photos)
        for kept in recover_folder(path.parent):  # cut off by a crash or kill -9: what it holds plays
            self.events.info.emit(f"an earlier recording was cut off (crash or kill); what it holds is kept as {kept}")
        self.recorder = Recorder(path, encode, fps=fps)
        self.pipeline.add_sink(self.recorder)
        self.events.info.emit(f"recording to {self.recorder.path}")
        return self.recorder.path

    def stop_recording(self) -> Path | None:
        """Finish the recording; its path, or None when there was none or it failed (an ``error`` event, with
        the message of an :class:`~ghostlive.errors.OutputError` naming the file, says why)."""
        recorder, self.recorder = self.recorder, None
        return self._finish_recording(self.pipeline, recorder)

    def _finish_recording(self, pipeline: LivePipeline | None, recorder: Recorder | None) -> Path | None:
        if recorder is None or pipeline is None:
            return None
        pipeline.remove_sink(recorder)
        try:
            recorder.close()  # does nothing when the loop gave it up already (that failure was reported then)
        except GhostliveError as exc:  # the unfinished file is deleted
            pipeline.output_failed(recorder, exc)
            return None
        if recorder.failed:
            return None
        self.events.info.emit(f"saved {recorder.path}")
        self.events.saved.emit(recorder.path)
        return recorder.path

    def save_screenshot(self, folder: str | Path) -> Path:
        """The last live frame as a time-stamped PNG in ``folder``."""
        import time

        frame = self.events.last_frame
        if frame is None:
            raise ConfigError("no frame to save yet")
        return write_image(Path(folder or Path.home()) / time.strftime("ghostlive-%Y%m%d-%H%M%S.png"), frame)
