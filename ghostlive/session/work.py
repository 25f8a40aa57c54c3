"""The file and model half of :class:`~ghostlive.session.Session`: file jobs, downloads, engine builds and int8
decisions, each a :class:`~ghostlive.session.tasks.Task` on a worker thread (a mixin: the session provides the
store, events, sources and :meth:`task`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ghostlive.errors import ConfigError
from ghostlive.hub import ModelStore
from ghostlive.jobs import Job, PairSpec, SwapSettings
from ghostlive.session.files import FileResult, run_file
from ghostlive.session.models import build_engines, download_model, optimise_int8
from ghostlive.session.tasks import Report, Task

if TYPE_CHECKING:
    from ghostlive.session.sources import SourceFace

T = TypeVar("T")


class FileAndModelTasks:
    """File jobs and model work of the session (see the module docstring)."""

    store: ModelStore
    events: Any
    sources: list[SourceFace]
    selected: int | None
    pipeline: Any
    measuring: str | None
    _lock: threading.Lock
    _starting: bool

    def task(self, fn: Callable[[Report, threading.Event], T], name: str) -> Task[T]:
        raise NotImplementedError

    def pairs(self, faces: str) -> list[PairSpec]:
        raise NotImplementedError

    def _job(self, settings: SwapSettings, pairs: list[PairSpec]) -> Job:
        return Job(settings, pairs, store=self.store)

    def _for_selected(self, settings: SwapSettings) -> tuple[SwapSettings, list[PairSpec]]:
        """``settings`` for the selected source face, and its pairs (one per reference photo when ``faces`` is
        'reference')."""
        pairs = self.pairs(settings.faces)
        assert self.selected is not None
        return replace(settings, source_face=self.sources[self.selected].index), pairs

    run_file = staticmethod(run_file)
    """Run a file job in the calling thread (``ghostlive swap``); see :func:`ghostlive.session.files.run_file`."""

    def start_file_job(self, settings: SwapSettings, target: str, output: str) -> Task[FileResult]:
        """Swap the selected source into ``target`` (photo, folder or video) on a worker thread; progress counts
        frames (or photos); cancel stops a video early."""
        settings, pairs = self._for_selected(settings)

        def work(report: Report, stop: threading.Event) -> FileResult:
            return run_file(
                settings, pairs, target, output, stop=stop, report=report,
                video_progress=lambda p: report(p.done, p.total, "finishing…" if p.finishing else ""), job=self._job,
            )

        return self.task(work, "file-job")

    def download(self, name: str, url: str | None = None) -> Task[list[Path]]:
        """Download model ``name`` with what it needs (``url``: another address for ``name`` itself), and export
        checkpoints to ONNX."""
        return self.task(
            lambda report, stop: download_model(
                self.store, name, url, progress=lambda _n, done, total: report(done, total or 0, ""),
                say=self.events.info.emit,
            ),
            "download",
        )

    def build_engines(self) -> Task[list[str]]:
        """TensorRT engines for every installed ONNX model."""
        return self.task(lambda report, stop: build_engines(self.store, progress=report), "engines")

    def optimise(self, name: str, runs: int = 9) -> Task[str]:
        """Measure and store this machine's int8 decision for GHOST generator ``name`` (``ghostlive models
        optimise``); its messages are ``info`` events; the result is the verdict line. Refused while live or
        measuring, and :meth:`go_live` is refused meanwhile: the timings must not compete with anything."""

        def work(report: Report, stop: threading.Event) -> str:
            with self._lock:
                if self.pipeline is not None or self._starting:
                    raise ConfigError("stop the live preview first: int8 and fp32 are timed on an otherwise idle CPU")
                if self.measuring is not None:
                    raise ConfigError(f"int8 of {self.measuring} is already being measured")
                self.measuring = name
            try:
                return optimise_int8(self.store, name, runs, say=self.events.info.emit, report=report)
            finally:
                self.measuring = None

        return self.task(work, "optimise")
