"""The live loop's background loads (see :mod:`ghostlive.pipeline.live`): a new swapper or new source faces are
prepared on a thread of their own while frames keep flowing, then switched in between two frames, the newest
request winning."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

from ghostlive.errors import ConfigError
from ghostlive.pipeline.chain import FrameProcessor, Pair
from ghostlive.swappers.base import Swapper
from ghostlive.types import Embedding, Face, Frame

Source = tuple[Frame, Face, Embedding | None]
"""(image, face, reference) of one live pair: what a swapper prepares into the pair's identity."""
Done = Callable[[str | None], None] | None
"""Told when a background load finished: None, or its error message."""


class Loads:
    """The swapper and source-face changes of a running loop: each is prepared on a thread of its own while
    frames keep flowing, then switched in between two frames (``later`` queues a change for the track thread).

    Requests may overlap (a model takes seconds to load; the user picks a face meanwhile), and they are numbered:
    a swapper built for a request that a newer swapper request followed is dropped, and so are source faces that
    newer ones followed. A new swapper prepares the newest source faces asked for (again, when others were asked
    for while it prepared them), and new source faces are prepared with the newest swapper switched in (they are
    dropped when a newer swapper is switched in first: it prepared them). So the newest request of each kind
    wins, whatever finishes first, and a switch always installs a swapper with the faces it prepared."""

    def __init__(
        self,
        processor: FrameProcessor,
        sources: list[Source] | None,
        later: Callable[[Callable[[], None]], None],
        error: Callable[[str], None],
    ) -> None:
        self.processor, self._later, self._error = processor, later, error
        self._lock = threading.Lock()
        self.swapper: Swapper = processor.swapper
        """The swapper the loop runs once the switches queued so far are applied (the newest switched in)."""
        self.sources = list(sources) if sources is not None else None
        """The newest source faces asked for (None: not known, so no new swapper can prepare them)."""
        self.installed = self.sources
        """The source faces of the newest switch (those the loop shows once the queued switches are applied)."""
        self._swapper_asks = self._source_asks = 0

    def load_swapper(
        self, build: Callable[[], Swapper], sources: list[Source] | None, done: Done, report: bool
    ) -> Future[None]:
        """Build a new swapper, prepare the newest source faces with it (``sources`` when given, else those asked
        for last) and switch, unless a newer swapper was asked for meanwhile. ``done`` gets None or the error
        message, the future None or the exception; a failure is an error event too, unless not ``report``."""
        with self._lock:
            self._swapper_asks += 1
            ticket = self._swapper_asks
            if sources is not None:
                self._ask_sources(sources)

        def superseded() -> bool:
            with self._lock:
                return ticket != self._swapper_asks

        def work() -> None:
            try:
                new = build()
            except Exception:
                if superseded():  # the newer request is what counts
                    return
                raise
            while True:
                with self._lock:
                    if ticket != self._swapper_asks:
                        return
                    wanted, asked = self.sources, self._source_asks
                if wanted is None:
                    raise ConfigError("the live loop's source faces are not known: give them with the new swapper")
                try:
                    pairs = self._prepare(new, wanted)
                except Exception:
                    with self._lock:
                        if asked != self._source_asks:  # other faces were asked for meanwhile: prepare those
                            continue
                        installed = self.installed
                    if superseded():
                        return
                    if installed is None or installed is wanted:
                        raise
                    # the faces asked for fail (their own load says so): the new swapper takes the loop's faces
                    pairs, wanted = self._prepare(new, installed), installed
                with self._lock:
                    if ticket != self._swapper_asks:
                        return
                    if asked == self._source_asks:
                        self._switch(new, pairs, wanted)
                        return

        return self._background(work, "loading swapper", done, report)

    def load_sources(self, sources: list[Source], done: Done) -> Future[None]:
        """Prepare new source faces with the newest swapper and switch, unless newer ones were asked for meanwhile.
        A failure is an error event (and ``done``'s message, the future's exception); a new swapper then prepares
        the faces asked for before."""
        with self._lock:
            asked = self._ask_sources(sources)
            swapper = self.swapper

        def work() -> None:
            try:
                pairs = self._prepare(swapper, sources)
            except Exception:
                with self._lock:
                    if asked != self._source_asks:
                        return
                    if self.installed is not None:  # nothing newer was asked for: the loop's faces are wanted again
                        self._ask_sources(self.installed)
                raise
            with self._lock:  # else newer faces were asked for, or a newer swapper prepared these
                if asked == self._source_asks and swapper is self.swapper:
                    self._switch(swapper, pairs, sources)

        return self._background(work, "preparing the source face", done, True)

    def _ask_sources(self, sources: list[Source]) -> int:
        self.sources = list(sources)
        self._source_asks += 1
        return self._source_asks

    def _prepare(self, swapper: Swapper, sources: list[Source]) -> list[Pair]:
        device = self.processor.device
        return [
            Pair(device.apply(img, lambda im, face=face: swapper.prepare_source(im, face)), ref)
            for img, face, ref in sources
        ]

    def _switch(self, swapper: Swapper, pairs: list[Pair], sources: list[Source]) -> None:
        """Queue the switch to ``swapper`` with ``pairs``, prepared from ``sources`` (called under the lock: switches
        queue in request order)."""
        self.swapper, self.installed = swapper, sources
        processor = self.processor

        def switch() -> None:
            processor.swapper = swapper
            processor.set_pairs(pairs)

        self._later(switch)

    def _background(self, work: Callable[[], None], what: str, done: Done, report: bool) -> Future[None]:
        future: Future[None] = Future()

        def run() -> None:
            try:
                work()
            except Exception as exc:  # noqa: BLE001 - reported; the loop goes on as it was
                if report:
                    self._error(f"{what}: {exc}")
                future.set_exception(exc)
                if done:
                    done(str(exc))
                return
            future.set_result(None)
            if done:
                done(None)

        threading.Thread(target=run, name="ghostlive-load", daemon=True).start()
        return future
