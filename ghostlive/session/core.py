"""The session: everything the app does, without Qt. The command line (``ghostlive live``, ``ghostlive swap``) and
the desktop window both drive a :class:`Session`; the window is only a view of it.

Slow work (face detection, model construction, file jobs, downloads, engine builds) runs on worker threads as
:class:`~ghostlive.session.tasks.Task` objects with progress and cancellation; what happens is told through
plain callbacks (:class:`SessionEvents`), emitted on the thread where it happens. Failures are
:class:`~ghostlive.errors.GhostliveError` (a task's result, or an ``error`` event for the live loop). The Qt layer
(``ghostlive.ui.workers``) turns events into signals on the GUI thread, as napari's Qt viewer does for its
``ViewerModel``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from ghostlive.enhance import set_live_budget
from ghostlive.errors import ConfigError, GhostliveError
from ghostlive.faces import FaceAnalyzer
from ghostlive.hub import ModelStore
from ghostlive.jobs import Job, PairSpec, SwapSettings, with_stages
from ghostlive.media.image import write_image
from ghostlive.media.sinks import Recorder
from ghostlive.pipeline.live import LivePipeline
from ghostlive.session.live import (
    OUTPUT_KINDS,
    LiveEvents,
    LiveRequest,
    innermost,
    live_swapper,
    make_output,
    recording_path,
    start_pipeline,
)
from ghostlive.session.sources import SourceFace, find_faces
from ghostlive.session.tasks import Event, Report, Task
from ghostlive.session.work import FileAndModelTasks
from ghostlive.threads import release_freed_memory
from ghostlive.types import Embedding, Face, Frame

log = logging.getLogger(__name__)
T = TypeVar("T")


class SessionEvents(LiveEvents):
    """``error(message)``, ``info(message)``, ``sources_added(list[SourceFace])``, ``live(running)``,
    ``task(Task)`` (before it starts: listeners can connect to its progress), and the live loop's
    ``frame(image, packet)`` and ``stats(LiveStats)`` (see :class:`LiveEvents`)."""

    def __init__(self) -> None:
        super().__init__()
        self.info, self.sources_added, self.live, self.task = Event(), Event(), Event(), Event()


class Session(FileAndModelTasks):
    """Sources, the live loop with its outputs, file jobs and models; see the module docstring."""

    def __init__(self, store: ModelStore | None = None) -> None:
        self.store = store or ModelStore()
        self.events = SessionEvents()
        self.sources: list[SourceFace] = []
        self.selected: int | None = None
        self.references: list[str] = []
        self.pipeline: LivePipeline | None = None
        self.request: LiveRequest | None = None
        self.job: Job | None = None
        self.live_sources: list[tuple[Frame, Face, Embedding | None]] = []
        """(image, face, reference) of each live pair: what a new swapper prepares (the current source)."""
        self.recorder: Recorder | None = None
        self._stopping: Task[None] | None = None
        self._analyzer: FaceAnalyzer | None = None
        self._lock = threading.Lock()
        self.measuring: str | None = None
        """The GHOST generator whose int8 decision is being measured (:meth:`optimise`), else None."""

    def task(self, fn: Callable[[Report, threading.Event], T], name: str) -> Task[T]:
        """Start ``fn(report, stop)`` on a worker thread (``events.task`` hears of it first)."""
        task = Task(fn, name)
        self.events.task.emit(task)
        return task.start()

    # sources --------------------------------------------------------------------------------------------
    @property
    def analyzer(self) -> FaceAnalyzer:
        with self._lock:
            if self._analyzer is None:
                self._analyzer = FaceAnalyzer(tile_levels=2)
            return self._analyzer

    def find_faces(self, path: str) -> list[SourceFace]:
        """Every face in the photo ``path``, with a thumbnail crop each."""
        return find_faces(self.analyzer, path)

    def add_sources(self, paths: list[str]) -> Task[list[SourceFace]]:
        """Detect the faces in each photo on a worker thread; each becomes a source (``sources_added``), a photo
        that cannot be read or shows no face an ``error`` event. The result: the sources added."""

        def work(report: Report, stop: threading.Event) -> list[SourceFace]:
            added = []
            for i, path in enumerate(paths):
                try:
                    found = self.find_faces(path)
                except GhostliveError as exc:
                    self.events.error.emit(str(exc))
                    found = []
                with self._lock:
                    self.sources.extend(found)
                added += found
                report(i + 1, len(paths), "")
            if added:
                self.events.sources_added.emit(added)
            return added

        return self.task(work, "sources")

    def select_source(self, index: int | None) -> None:
        """Use source ``index``; while live it is prepared with the running swapper in the background and
        switched in between two frames."""
        self.selected = index
        pipeline = self.pipeline
        if pipeline is None or index is None:
            return
        chosen = self.sources[index]
        current = pipeline.swapper.swapper
        refs = [p.reference for p in pipeline.swapper.pairs if p.reference is not None] or [None]
        self.live_sources = [(chosen.image, chosen.face, r) for r in refs]
        pipeline.load_swapper(lambda: current, self.live_sources, self._loaded)

    def pairs(self, faces: str) -> list[PairSpec]:
        """The selected source, paired with each reference photo when ``faces`` is 'reference'."""
        if self.selected is None:
            raise ConfigError("add a source photo and select its face first")
        source = self.sources[self.selected].path
        refs = self.references if faces == "reference" else []
        return [PairSpec(source, r) for r in refs] or [PairSpec(source)]

    def make_job(self, settings: SwapSettings) -> Job:
        """A job for the selected source face (builds the swapper and detects: call it on a worker thread)."""
        return self._job(*self._for_selected(settings))

    # live -----------------------------------------------------------------------------------------------
    def go_live(self, request: LiveRequest, job: Job) -> LivePipeline:
        """Start the live loop of ``job`` on ``request``'s camera and outputs (the calling thread waits for the
        first camera frame only)."""
        if self.pipeline is not None:
            raise ConfigError("the live preview is already running")
        if self.measuring is not None:
            raise ConfigError(f"int8 of {self.measuring} is being measured; start the preview when it has finished")
        stopping = self._stopping
        if stopping is not None:  # the previous loop still releases its camera and outputs
            stopping.future.exception()
        self.pipeline = start_pipeline(request, job, self.events)
        self.request, self.job, self.live_sources = request, job, list(job.sources)
        self.events.live.emit(True)
        return self.pipeline

    def start_live(self, request: LiveRequest, settings: SwapSettings) -> Task[LivePipeline]:
        """Build the job for the selected source and go live, on a worker thread."""
        return self.task(lambda report, stop: self.go_live(request, self.make_job(settings)), "start-live")

    def stop_live(self, *, wait: bool = True) -> Task[None] | None:
        """Stop the live loop: its recording is finished, its threads end and its outputs close, then ``live``
        is emitted with False. With ``wait=False`` (the window's Stop) the loop is detached at once and stopped on
        a worker thread, so the caller never waits for a camera read, an encoder flush or an output closing; the
        next :meth:`go_live` waits for it (the camera and outputs are free again by then). Returns that task."""
        pipeline, recorder = self.pipeline, self.recorder
        if pipeline is None:
            return None
        self.pipeline = self.events.pipeline = None
        self.recorder = None

        def work(_report: Report, _stop: threading.Event) -> None:
            try:
                self._finish_recording(pipeline, recorder)
            finally:  # the loop stops whatever became of its recording
                pipeline.stop()
                release_freed_memory()  # the loop's frames are gone: an app left open does not hold their memory
                self.events.live.emit(False)

        if wait:
            work(lambda *_a: None, threading.Event())
            return None
        self._stopping = self.task(work, "stop-live")
        return self._stopping

    def set_enabled(self, enabled: bool) -> None:
        """Swap on/off while live (off shows the camera as it is)."""
        if self.pipeline is not None:
            self.pipeline.set_enabled(enabled)

    def change_swapper(self, name: str, settings: SwapSettings) -> None:
        """Build swapper ``name`` (with the enhancer and masks of ``settings``) in the background while frames
        flow with the current one, then switch."""
        if self.pipeline is None:
            return
        fps = self.pipeline.options.output_fps
        build = lambda: live_swapper(name, self.store, settings, fps)  # noqa: E731
        self.pipeline.load_swapper(build, self.live_sources, self._loaded)

    def _loaded(self, error: str | None) -> None:
        if error:
            self.events.error.emit(error)

    def apply_settings(self, settings: SwapSettings, restage: bool = False) -> Task[None] | None:
        """Quality, tracking and selection settings, applied live between two frames; with ``restage`` the
        enhancer and masks are built anew on a worker thread first (the task fails when a model is missing,
        and the other settings still apply)."""
        pipeline = self.pipeline
        if pipeline is None:
            return None

        def apply(stream: Any, staged: Any = None) -> None:
            base = innermost(stream.swapper)
            if hasattr(base, "options"):
                base.options = settings.classic
            if staged is not None:
                stream.swapper = staged
            stream.tracker.options = settings.tracker
            stream.selection = replace(stream.selection, threshold=settings.similarity)

        if not restage:
            pipeline.update(apply)
            return None

        def work(report: Report, stop: threading.Event) -> None:
            try:
                staged = with_stages(innermost(pipeline.swapper.swapper), settings, self.store)
            except GhostliveError:
                pipeline.update(apply)
                raise
            set_live_budget(staged, pipeline.options.output_fps)  # as the loop's own start gives it
            pipeline.update(lambda stream: apply(stream, staged))

        return self.task(work, "stages")

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
        self.recorder = Recorder(recording_path(folder, self.request.camera, photos), encode)
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
        return recorder.path

    def save_screenshot(self, folder: str | Path) -> Path:
        """The last live frame as a time-stamped PNG in ``folder``."""
        import time

        frame = self.events.last_frame
        if frame is None:
            raise ConfigError("no frame to save yet")
        return write_image(Path(folder or Path.home()) / time.strftime("ghostlive-%Y%m%d-%H%M%S.png"), frame)
