"""Swapping a stream of frames (video files, live cameras): tracks, per-track identity, several source→target
pairs. The stateful counterpart of :class:`FramePipeline`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ghostlive.errors import ConfigError
from ghostlive.faces import Embedder, FaceAnalyzer, LbpEmbedder, TargetSelection
from ghostlive.masking.combine import claim_stage_times
from ghostlive.ops.blend import composite
from ghostlive.pipeline.frame import Clock, FrameDevice, FrameResult, StageTimes
from ghostlive.swappers.base import Swapper
from ghostlive.tracking import FaceTracker, Track, TrackerOptions
from ghostlive.types import Array, Embedding, Frame

REEMBED_EVERY = 15
SIMILARITY_EMA = 0.5


@dataclass(frozen=True)
class Pair:
    """Paste ``source`` (a prepared identity) onto faces like ``reference`` (None: onto the selected faces)."""

    source: Any
    reference: Embedding | None = None


class StreamSwapper:
    """Tracks faces frame after frame and swaps the selected ones."""

    def __init__(
        self,
        analyzer: FaceAnalyzer,
        swapper: Swapper,
        *,
        selection: TargetSelection | None = None,
        tracker: TrackerOptions | None = None,
        embedder: Embedder | None = None,
        device: FrameDevice | None = None,
    ) -> None:
        self.device = device or FrameDevice()
        self.analyzer = analyzer
        self.swapper = swapper
        self.selection = selection or TargetSelection()
        self.tracker = FaceTracker(analyzer, tracker)
        self.embedder = embedder or LbpEmbedder()
        self.pairs: list[Pair] = []
        self.enabled = True
        self.first_face: Embedding | None = None
        """With target mode ``first``: the identity of the first frame's target face."""

    def set_pairs(self, pairs: list[Pair]) -> None:
        if not pairs:
            raise ConfigError("at least one source face is needed")
        self.pairs = list(pairs)
        for tr in self.tracker.tracks:  # identities must be decided again against the new references
            tr.state.pop("pair", None)
            tr.state.pop("sims", None)

    def _assign(self, frame: Frame, tracks: list[Track]) -> list[tuple[Track, Pair]]:
        sel = self.selection
        if not tracks:
            return []
        if sel.mode == "all":
            return [(tr, self.pairs[0]) for tr in tracks]
        if sel.mode == "largest":
            return [(max(tracks, key=lambda tr: tr.face.detection.area), self.pairs[0])]
        if sel.mode == "index":
            return [(tracks[sel.index], self.pairs[0])] if 0 <= sel.index < len(tracks) else []
        if sel.mode == "first":
            return self._assign_first(frame, tracks)
        refs = [p for p in self.pairs if p.reference is not None]
        if not refs:
            raise ConfigError("reference selection needs at least one reference face")
        threshold = self.embedder.default_threshold if sel.threshold is None else sel.threshold
        out = []
        for tr in tracks:
            if not tr.held and (tr.age == 1 or tr.age % REEMBED_EVERY == 0 or "sims" not in tr.state):
                emb = self.embedder.embed(frame, tr.face)
                sims = np.array([float(emb @ p.reference) for p in refs])
                old = tr.state.get("sims")
                tr.state["sims"] = sims if old is None else SIMILARITY_EMA * old + (1 - SIMILARITY_EMA) * sims
                best = int(np.argmax(tr.state["sims"]))
                tr.state["pair"] = best if tr.state["sims"][best] >= threshold else None
            if tr.state.get("pair") is not None:
                out.append((tr, refs[tr.state["pair"]]))
        return out

    def _assign_first(self, frame: Frame, tracks: list[Track]) -> list[tuple[Track, Pair]]:
        """GHOST without a reference: the first frame's best-detected face is the target; a frame with one face
        swaps it, a frame with several swaps the one most like the first face, when similar enough."""
        if self.first_face is None:
            self.first_face = self.embedder.embed(frame, max(tracks, key=lambda tr: tr.face.score).face)
        if len(tracks) == 1:
            return [(tracks[0], self.pairs[0])]
        threshold = self.embedder.default_threshold if self.selection.threshold is None else self.selection.threshold
        for tr in tracks:
            if not tr.held and (tr.age == 1 or tr.age % REEMBED_EVERY == 0 or "first_sim" not in tr.state):
                tr.state["first_sim"] = float(self.embedder.embed(frame, tr.face) @ self.first_face)
        best = max(tracks, key=lambda tr: tr.state.get("first_sim", -1.0))
        return [(best, self.pairs[0])] if best.state.get("first_sim", -1.0) >= threshold else []

    def process(self, frame: Frame, t: float) -> FrameResult:
        """Swap ``frame`` taken at ``t`` seconds; the input is not modified."""
        return self.device.run(frame, lambda f: self._process(f, t))

    def _process(self, frame: Array, t: float) -> FrameResult:
        times = StageTimes({"track": 0.0, "select": 0.0, "swap": 0.0, "blend": 0.0})
        clock = Clock(times)
        tracks = self.tracker.update(frame, t)
        clock.lap("track")
        chosen = self._assign(frame, tracks) if self.enabled and self.pairs else []
        clock.lap("select")
        items = [self.swapper.render(frame, tr.face, pair.source, tr.state) for tr, pair in chosen]
        clock.lap("swap")
        claim_stage_times(self.swapper, times.ms)
        out = composite(frame, items)
        clock.lap("blend")
        faces = [tr.face for tr in tracks]
        return FrameResult(out, faces, [tr.face for tr, _ in chosen], times)
