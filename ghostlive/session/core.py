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
from concurrent.futures import Future
from dataclasses import replace
from typing import Any, TypeVar

from ghostlive.enhance import set_live_budget
from ghostlive.errors import ConfigError, GhostliveError
from ghostlive.faces import FaceAnalyzer
from ghostlive.hub import ModelStore
from ghostlive.jobs import Job, PairSpec, SwapSettings, with_stages
from ghostlive.media.sinks import Recorder
from ghostlive.pipeline.live import LivePipeline
from ghostlive.session.live import LiveEvents, LiveRequest, innermost, live_swapper, start_pipeline
from ghostlive.session.outputs import LiveOutputs
from ghostlive.session.sources import SourceFace, find_faces, same_face
from ghostlive.session.tasks import Event, Report, Task
from ghostlive.session.work import FileAndModelTasks
from ghostlive.threads import release_freed_memory
from ghostlive.types import Embedding, Face, Frame

log = logging.getLogger(__name__)
T = TypeVar("T")


class SessionEvents(LiveEvents):
    """``error(message)``, ``info(message)``, ``sources_added(list[SourceFace])``, ``live(running)`` (False too
    when the loop ended by itself), ``saved(path)`` (a recording was finished, also when its loop ended by
    itself), ``task(Task)`` (before it starts: listeners can connect to its progress), and
    the live loop's ``frame(image, packet)`` and ``stats(LiveStats)`` (see :class:`LiveEvents`)."""

    def __init__(self) -> None:
        super().__init__()
        self.info, self.sources_added, self.live, self.task = Event(), Event(), Event(), Event()
        self.saved = Event()


class Session(FileAndModelTasks, LiveOutputs):
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
        self._starting = False
        """A :meth:`go_live` is under way (claimed under the lock: one start at a time)."""
        self._building: tuple[str, Future[None], Future[None]] | None = None
        """The swapper :meth:`change_swapper` asked for last: its name, its load (a restage builds it again) and
        the request's future (what the load that counts, the last one for it, gave)."""
        self._analyzer: FaceAnalyzer | None = None
        self._lock = threading.RLock()  # a load that settles at once settles its request under it (_build)
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
        """Use source ``index``; while live it is prepared with the newest swapper in the background and switched
        in between two frames (a swapper still loading prepares it too). When that fails (an ``error`` event),
        the source the loop shows is selected again."""
        with self._lock:  # requests reach the loop in the order they were made
            previous = self.selected, self.live_sources
            self.selected = index
            pipeline = self.pipeline
            if pipeline is None or index is None:
                return
            chosen = self.sources[index]
            refs = [ref for _image, _face, ref in self.live_sources if ref is not None] or [None]
            self.live_sources = sources = [(chosen.image, chosen.face, r) for r in refs]

            def undo(error: str | None) -> None:
                with self._lock:
                    if error is None or self.live_sources is not sources:  # it worked, or another was chosen since
                        return
                    installed = pipeline.loads.installed or previous[1]  # the face the loop shows
                    self.live_sources = list(installed)
                    self.selected = next((i for i, s in enumerate(self.sources) if installed and same_face(
                        s.face, installed[0][1])), previous[0])

            pipeline.load_sources(sources, undo)

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
        first camera frame only). One start at a time: another while this one runs is refused. A loop that ends
        by itself (its camera file ended, or it stopped on an error) is stopped as :meth:`stop_live` does."""
        with self._lock:
            if self.pipeline is not None or self._starting:
                raise ConfigError("the live preview is already running")
            if self.measuring is not None:
                raise ConfigError(f"int8 of {self.measuring} is being measured; start the preview when it has finished")
            self._starting, stopping = True, self._stopping
        try:
            if stopping is not None:  # the previous loop still releases its camera and outputs
                stopping.wait()
            pipeline = start_pipeline(request, job, self.events, on_end=self._loop_ended)
            with self._lock:
                self.pipeline = pipeline
                self.request, self.job, self.live_sources = request, job, list(job.sources)
            self.events.live.emit(True)
        finally:
            with self._lock:
                self._starting = False
        if pipeline.ended:  # before it was ours to stop (``live`` False must follow True)
            self._loop_ended(pipeline)
        return pipeline

    def start_live(self, request: LiveRequest, settings: SwapSettings) -> Task[LivePipeline]:
        """Build the job for the selected source and go live, on a worker thread."""
        return self.task(lambda report, stop: self.go_live(request, self.make_job(settings)), "start-live")

    def stop_live(self, *, wait: bool = True) -> Task[None] | None:
        """Stop the live loop: its recording is finished, its threads end and its outputs close, then ``live``
        is emitted with False. With ``wait=False`` (the window's Stop) the loop is detached at once and stopped on
        a worker thread, so the caller never waits for a camera read, an encoder flush or an output closing; the
        next :meth:`go_live` waits for it (the camera and outputs are free again by then). Returns that task.
        With ``wait``, a stop under way already (the loop ended by itself) is waited for."""
        with self._lock:
            pipeline, stopping = self.pipeline, self._stopping
            if pipeline is not None:
                work = self._detach(pipeline)
                if not wait:
                    self._stopping = stopping = Task(work, "stop-live")
        if pipeline is None:
            if wait and stopping is not None:
                stopping.wait()
            return None
        if wait:
            work(lambda *_a: None, threading.Event())
            return None
        assert stopping is not None
        self.events.task.emit(stopping)
        return stopping.start()

    def _loop_ended(self, pipeline: LivePipeline) -> None:
        """``pipeline`` ended by itself: it is stopped as by :meth:`stop_live` without waiting (this is called on
        one of its threads, which the stop joins)."""
        with self._lock:
            if self.pipeline is not pipeline or self._starting:  # stopped already, or go_live calls again
                return
            self._stopping = stopping = Task(self._detach(pipeline), "stop-live")
        self.events.task.emit(stopping)
        stopping.start()

    def _detach(self, pipeline: LivePipeline) -> Callable[[Report, threading.Event], None]:
        """Under the lock: ``pipeline`` is no longer the session's; the work that stops it."""
        recorder = self.recorder
        self.pipeline = self.events.pipeline = self.recorder = self._building = None

        def work(_report: Report, _stop: threading.Event) -> None:
            try:
                self._finish_recording(pipeline, recorder)
            finally:  # the loop stops whatever became of its recording
                pipeline.stop()
                release_freed_memory()  # the loop's frames are gone: an app left open does not hold their memory
                self.events.live.emit(False)

        return work

    def set_enabled(self, enabled: bool) -> None:
        """Swap on/off while live (off shows the camera as it is)."""
        if self.pipeline is not None:
            self.pipeline.set_enabled(enabled)

    def change_swapper(self, name: str, settings: SwapSettings) -> Future[None] | None:
        """Build swapper ``name`` (with the enhancer and masks of ``settings``) in the background while frames
        flow with the current one, then switch with the newest source (unless a newer swapper or restage was
        asked for meanwhile); a failure is an ``error`` event, and the returned load's exception. None when not
        live (the swapper is built when the preview starts)."""
        with self._lock:
            return None if self.pipeline is None else self._build(self.pipeline, name, settings)

    def _build(
        self,
        pipeline: LivePipeline,
        name: str,
        settings: SwapSettings,
        report: bool = True,
        request: Future[None] | None = None,
    ) -> Future[None]:
        """Under the lock: load swapper ``name`` with the stages of ``settings`` for ``request`` (a new one unless
        a restage builds a loading swapper again); returns the request, which settles as its last load does."""
        fps = pipeline.options.output_fps
        load = pipeline.load_swapper(lambda: live_swapper(name, self.store, settings, fps), report=report)
        request = request or Future()
        self._building = name, load, request

        def settle(done: Future[None]) -> None:
            with self._lock:  # a load built again for the same request is superseded by that one: it settles it
                if self._building is not None and self._building[2] is request and self._building[1] is not done:
                    return
                if request.done():  # two superseded loads of one request may finish at once
                    return
                error = done.exception()
                request.set_result(None) if error is None else request.set_exception(error)

        load.add_done_callback(settle)
        return request

    def apply_settings(self, settings: SwapSettings, restage: bool = False) -> Task[None] | None:
        """Quality, tracking and selection settings, applied live between two frames; with ``restage`` the
        enhancer and masks are also built anew on a worker thread, around the newest swapper (one still loading
        is built again with them), and switched in unless a newer swapper was asked for meanwhile (the task fails
        when a model is missing; the other settings apply all the same)."""
        pipeline = self.pipeline
        if pipeline is None:
            return None

        def apply(stream: Any) -> None:
            base = innermost(stream.swapper)
            if hasattr(base, "options"):
                base.options = settings.classic
            stream.tracker.options = settings.tracker
            stream.selection = replace(stream.selection, threshold=settings.similarity)

        pipeline.update(apply)  # whatever becomes of the stages
        if not restage:
            return None

        def staged() -> Any:  # the newest swapper's own, with the new stages
            swapper = with_stages(innermost(pipeline.loads.swapper), settings, self.store)
            set_live_budget(swapper, pipeline.options.output_fps)  # as the loop's own start gives it
            return swapper

        def work(report: Report, stop: threading.Event) -> None:
            with self._lock:  # a swapper still loading is built again with these stages; it would not have them
                building = self._building
                if self.pipeline is not pipeline:  # stopped meanwhile
                    return
                if building is not None and not building[1].done():  # its request follows the new load
                    load = self._build(pipeline, building[0], settings, report=False, request=building[2])
                else:
                    load = pipeline.load_swapper(staged, report=False)
            load.result()  # a missing model fails the task (the other settings apply)

        return self.task(work, "stages")
