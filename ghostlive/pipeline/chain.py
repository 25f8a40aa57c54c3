"""The frame processor: the one place the swap's stages are wired, for photos, video, live, the GUI and eval.

    faces    detect → landmarks (a photo)  |  track (a stream: detect now and then, follow, smooth)
    select   which faces, and which source each gets (:func:`ghostlive.selection.select_faces`)
    swap     the swapper renders a crop: image, its own mask, crop→frame affine (:class:`SwapCrop`)
    place    the crop warped into the frame region it covers (:func:`ghostlive.ops.blend.place`)
    enhance  [a face restorer on the placed face]                (:class:`ghostlive.enhance.Enhancer`)
    mask     the extra mask providers min-combined once          (:func:`ghostlive.masking.combine.combine_masks`)
    blend    every face pasted into one copy of the frame, once  (:func:`ghostlive.ops.blend.composite`)

A photo is a one-frame stream without memory: ``process(frame)``; a stream frame is ``process(frame, t)``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ghostlive.errors import ConfigError, NoFaceError
from ghostlive.faces import Embedder, FaceAnalyzer, LbpEmbedder
from ghostlive.masking.combine import MaskProvider, combine_masks
from ghostlive.ops.blend import Paste, composite, draw_label, place
from ghostlive.pipeline.advice import source_advice
from ghostlive.pipeline.frame import STAGES, Clock, FrameDevice, FrameResult, StageTimes
from ghostlive.selection import Selected, StreamMemory, TargetSelection, select_faces
from ghostlive.swappers.base import Swapper, SwapperStage
from ghostlive.tracking import FaceTracker, Track, TrackerOptions
from ghostlive.turned import NO_FACE, with_turned
from ghostlive.types import Array, Embedding, Face, FaceMemory, Frame

if TYPE_CHECKING:
    from ghostlive.enhance import Enhancer

log = logging.getLogger(__name__)
STREAM_STAGES: tuple[str, ...] = ("track", "select", "swap", "blend")


@dataclass(frozen=True)
class Pair:
    """Paste ``source`` (a prepared identity) onto faces like ``reference`` (None: onto the selected faces)."""

    source: Any
    reference: Embedding | None = None


@dataclass
class Stages:
    """The per-face stages of a swapper and the stage declarations around it (:class:`SwapperStage`: masks,
    enhancers), in the chain's fixed order whatever their nesting."""

    swapper: Swapper
    enhancer: Enhancer | None = None
    masks: list[MaskProvider] = field(default_factory=list)
    show: bool = False

    @classmethod
    def of(cls, swapper: Swapper) -> Stages:
        declared: list[SwapperStage] = []
        while isinstance(swapper, SwapperStage):
            declared.append(swapper)
            swapper = swapper.inner
        stages = cls(swapper)
        for stage in reversed(declared):  # innermost first, as the wrappers used to apply them
            stage.install(stages)
        return stages

    def render(
        self, frame: Array, face: Face, source: Any, memory: FaceMemory | None = None, clock: Clock | None = None
    ) -> Paste | None:
        """One face through swap → place → enhance → mask (``clock``: each stage's time)."""
        return self.render_all(frame, [(face, source, memory)], clock)[0]

    def render_all(
        self, frame: Array, jobs: list[tuple[Face, Any, FaceMemory | None]], clock: Clock | None = None
    ) -> list[Paste | None]:
        """Every face of a frame through swap → place → enhance → mask. A swapper with ``swap_many`` (GHOST)
        swaps all faces in one batched network run; the others one face at a time."""
        lap = clock.lap if clock is not None else lambda stage: None
        many = getattr(self.swapper, "swap_many", None)
        if many is not None and len(jobs) > 1:
            crops = many(frame, *(list(column) for column in zip(*jobs, strict=True)))
        else:
            crops = [self.swapper.swap(frame, face, source, memory) for face, source, memory in jobs]
        pastes = [place(frame, crop) for crop in crops]
        lap("swap")
        done = zip(jobs, pastes, strict=True)
        return [self._finish(frame, face, paste, memory, lap) for (face, _, memory), paste in done]

    def _finish(
        self, frame: Array, face: Face, paste: Paste | None, memory: FaceMemory | None, lap: Any
    ) -> Paste | None:
        """One placed face through [enhance] → masks."""
        if paste is not None and self.enhancer is not None:
            paste = self.enhancer(frame, face, paste, memory)
            lap("enhance")
        if paste is not None and (self.masks or self.show):
            paste = combine_masks(frame, face, paste, self.masks, self.show)
            lap("mask")
        return paste


def render_face(
    swapper: Swapper, frame: Array, face: Face, source: Any, memory: FaceMemory | None = None
) -> Paste | None:
    """``face`` of ``frame`` swapped by ``swapper`` with its stages, as the chain pastes it."""
    return Stages.of(swapper).render(frame, face, source, memory)


@dataclass
class Located:
    """A frame after :meth:`FrameProcessor.locate`: its faces, the ones chosen, and each chosen face's render
    job (face, prepared source, memory) with the stages that will render it."""

    frame: Array
    faces: list[Face]
    chosen: Selected
    jobs: list[tuple[Face, Any, FaceMemory | None]]
    stages: Stages
    clock: Clock


class FrameProcessor:
    """Swaps the selected faces of photos (:meth:`process` without a time) and of streams (with one: faces are
    tracked, and selection and the stages keep per-face memory)."""

    def __init__(
        self,
        analyzer: FaceAnalyzer,
        swapper: Swapper,
        selection: TargetSelection | None = None,
        embedder: Embedder | None = None,
        device: FrameDevice | None = None,
        *,
        tracker: TrackerOptions | None = None,
        label: str = "",
    ) -> None:
        self.analyzer = analyzer
        self.label = label
        """Drawn into every output frame (a disclosure such as "AI-generated"); empty: none."""
        self.swapper = swapper
        self.selection = selection or TargetSelection()
        self.embedder = embedder or LbpEmbedder()
        self.device = device or FrameDevice()
        self.tracker = FaceTracker(analyzer, tracker)
        self.pairs: list[Pair] = []
        self.enabled = True
        self.memory = StreamMemory()
        self.source_face: Face | None = None

    @property
    def source(self) -> Any:
        """The first pair's prepared identity (None before one is set)."""
        return self.pairs[0].source if self.pairs else None

    @property
    def first_face(self) -> Embedding | None:
        """With target mode ``first``: the identity of the first frame's target face."""
        return self.memory.first_face

    def find_face(self, image: Frame, index: int | None = None, label: str | None = None) -> Face:
        """The largest face of ``image`` (or the ``index``-th from the left); NoFaceError if there is none, naming
        ``label`` (the image's file) first, as every input error does."""
        faces = self.analyzer.analyze(image)
        if not faces:
            raise NoFaceError(NO_FACE if label else NO_FACE.replace("found", "found in the image", 1), label)
        if index is None:
            return max(faces, key=lambda f: f.detection.area)
        if not 0 <= index < len(faces):
            raise NoFaceError(f"{len(faces)} face(s) found; face index {index} does not exist", label)
        return faces[index]

    def prepare(self, image: Frame, index: int | None = None, label: str | None = None) -> tuple[Face, Any]:
        """The face of ``image`` to paste (the largest unless ``index`` says otherwise) and its prepared identity;
        a face that will swap worse than a frontal close-up is warned about (:func:`source_advice`)."""
        face = self.find_face(image, index, label)
        for note in source_advice(face, image):
            log.warning("%s: %s", label or "the source image", note)
        return face, self.device.apply(image, lambda img: self.swapper.prepare_source(img, face))

    def set_source(self, image: Frame, index: int | None = None, label: str | None = None) -> Face:
        """Paste the identity of ``image``'s face (see :meth:`prepare`) onto the selected faces."""
        face, source = self.prepare(image, index, label)
        self.set_pairs([Pair(source)])
        self.source_face = face
        return face

    def set_pairs(self, pairs: list[Pair]) -> None:
        if not pairs:
            raise ConfigError("at least one source face is needed")
        self.pairs = list(pairs)
        for tr in self.tracker.tracks:  # identities must be decided again against the new references
            tr.memory.forget_identity()

    def process(self, frame: Frame, t: float | None = None) -> FrameResult:
        """Swap ``frame`` (a photo; or a stream's frame taken at ``t`` seconds); the input is not modified."""
        if t is None and not self.pairs:
            raise NoFaceError("no source face has been set")
        return self._labelled(self.device.run(frame, lambda f: self._render(self.locate(f, t))))

    @property
    def splits(self) -> bool:
        """Whether a stream frame may go through :meth:`locate` and :meth:`render` in two threads (frames on
        the host; a GPU frame runs whole through :meth:`process`, which also handles its fallback)."""
        return self.device.name == "cpu"

    def locate(self, frame: Array, t: float | None) -> Located:
        """A frame's first half, faces → select (for a stream, the half that must see the frames in order).
        Changes to the pairs or the swapper after it do not reach this frame's :meth:`render`."""
        clock = Clock(StageTimes(dict.fromkeys(STAGES if t is None else STREAM_STAGES, 0.0)))
        faces, tracks = self._faces(frame, t, clock)  # detect → landmarks (photo) | track (stream)
        chosen = self._select(frame, faces, tracks)
        clock.lap("select")
        memory = {id(tr.face): tr.memory for tr in tracks or ()}  # a photo's faces have none
        pairs = zip(chosen.faces, chosen.matched, strict=True)
        jobs = [(face, self._pair(k).source, memory.get(id(face))) for face, k in pairs]
        return Located(frame, faces, chosen, jobs, Stages.of(self.swapper), clock)

    def render(self, located: Located) -> FrameResult:
        """A located frame's second half, swap → place → [enhance] → masks → blend, possibly in another
        thread than :meth:`locate` while the next frame is located (``process(f, t)`` is ``render(locate(f,
        t))``). Per-stage times count each half on its own thread."""
        located.clock.resume()
        return self._labelled(self._render(located))

    def _labelled(self, result: FrameResult) -> FrameResult:
        """``result`` with :attr:`label` drawn into its frame (a host copy of the input, never the input)."""
        if self.label:
            draw_label(result.frame, self.label)
        return result

    def _render(self, located: Located) -> FrameResult:
        frame, clock = located.frame, located.clock
        items = located.stages.render_all(frame, located.jobs, clock)  # per face: swap → place → [enhance] → masks
        out = composite(frame, items)  # every face pasted into one copy of the frame, once
        clock.lap("blend")
        chosen = located.chosen
        return FrameResult(out, located.faces, chosen.faces, clock.times, chosen.best_similarity)

    def _faces(self, frame: Array, t: float | None, clock: Clock) -> tuple[list[Face], list[Track] | None]:
        """The frame's faces, and for a stream their tracks (same order)."""
        if t is None:  # a photo: every face found afresh, nothing remembered
            detections = self.analyzer.detect(frame)
            clock.lap("detect")
            faces = self.analyzer.landmarks(frame, detections)
            faces = with_turned(self.analyzer, frame, faces)  # none upright: the photo turned (its time: landmarks)
            clock.lap("landmarks")
            return faces, None
        tracks = self.tracker.update(frame, t)
        clock.lap("track")
        return [tr.face for tr in tracks], tracks

    def _select(self, frame: Array, faces: list[Face], tracks: list[Track] | None) -> Selected:
        if not (self.enabled and self.pairs):
            return Selected([])
        refs = tuple(p.reference for p in self.pairs if p.reference is not None)
        selection = replace(self.selection, references=refs) if refs else self.selection
        return select_faces(frame, faces, selection, self.embedder, tracks, self.memory)

    def _pair(self, matched: int) -> Pair:
        """The pair of the ``matched``-th reference (its own pairs' when they carry references)."""
        refs = [p for p in self.pairs if p.reference is not None]
        return refs[matched] if refs and self.selection.mode == "reference" else self.pairs[0]
