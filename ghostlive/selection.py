"""Which faces of a frame to swap: written once for photos (one frame on its own) and streams (tracked faces
with memory)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ghostlive.errors import ConfigError
from ghostlive.types import Embedding, Face, Frame, TargetMode

if TYPE_CHECKING:
    from ghostlive.faces import Embedder
    from ghostlive.tracking import Track


@dataclass(frozen=True)
class TargetSelection:
    """Which faces of a frame to swap."""

    mode: TargetMode = "all"
    index: int = 0
    references: tuple[Embedding, ...] = ()
    threshold: float | None = None
    """Minimum similarity for ``reference`` mode; None means the embedder's default."""


@dataclass(frozen=True)
class Selected:
    """The chosen faces, which reference each one matched (reference mode; else 0), and in a photo's reference
    mode the best similarity seen per reference."""

    faces: list[Face]
    best_similarity: tuple[float, ...] = ()
    matched: tuple[int, ...] = ()


@dataclass
class StreamMemory:
    """What selection remembers across the frames of a stream (a photo has none)."""

    first_face: Embedding | None = None
    """With target mode ``first``: the identity of the first frame's target face."""


REEMBED_EVERY = 15
"""A tracked face is embedded again every this many frames of its track."""
SIMILARITY_EMA = 0.5


def select_faces(
    image: Frame,
    faces: list[Face],
    selection: TargetSelection,
    embedder: Embedder | None = None,
    tracks: list[Track] | None = None,
    stream: StreamMemory | None = None,
) -> Selected:
    """Apply ``selection`` to ``faces`` (ordered left to right). A photo (no ``tracks``) is judged on its own: in
    reference mode each reference takes its best face. A stream's faces come with their ``tracks`` (same order):
    each face takes its best reference, similarities smoothed over the track and re-embedded only now and then;
    with target mode ``first`` the first frame's best-detected face is the target (``stream`` remembers it)."""
    if not faces:
        return Selected([])
    mode = selection.mode
    if mode == "all":
        return Selected(list(faces), matched=(0,) * len(faces))
    if mode == "largest":
        return Selected([max(faces, key=lambda f: f.detection.area)], matched=(0,))
    if mode == "index":
        ok = 0 <= selection.index < len(faces)
        return Selected([faces[selection.index]], matched=(0,)) if ok else Selected([])
    if mode == "first" and (tracks is None or stream is None):  # a stream's first frame gives the same face
        return Selected([max(faces, key=lambda f: f.score)], matched=(0,))
    if embedder is None or (mode == "reference" and not selection.references):
        raise ConfigError("reference selection needs at least one reference face")
    threshold = embedder.default_threshold if selection.threshold is None else selection.threshold
    if mode == "first":
        return _first_in_stream(image, faces, tracks or [], stream or StreamMemory(), embedder, threshold)
    if tracks is None:
        return _best_face_per_reference(image, faces, selection.references, embedder, threshold)
    return _best_reference_per_track(image, faces, tracks, selection.references, embedder, threshold)


def _due(track: Track, seen: object) -> bool:
    """Whether a track's face is embedded (again) this frame."""
    return not track.held and (track.age == 1 or track.age % REEMBED_EVERY == 0 or seen is None)


def _best_face_per_reference(
    image: Frame, faces: list[Face], refs: tuple[Embedding, ...], embedder: Embedder, threshold: float
) -> Selected:
    embeddings = np.stack([embedder.embed(image, f) for f in faces])
    chosen: list[Face] = []
    matched: list[int] = []
    best: list[float] = []
    for r, ref in enumerate(refs):
        sims = embeddings @ ref
        i = int(np.argmax(sims))
        best.append(float(sims[i]))
        if sims[i] >= threshold and all(faces[i] is not c for c in chosen):
            chosen.append(faces[i])
            matched.append(r)
    return Selected(chosen, tuple(best), tuple(matched))


def _best_reference_per_track(
    image: Frame,
    faces: list[Face],
    tracks: list[Track],
    refs: tuple[Embedding, ...],
    embedder: Embedder,
    threshold: float,
) -> Selected:
    chosen: list[Face] = []
    matched: list[int] = []
    for face, tr in zip(faces, tracks, strict=True):
        mem = tr.memory
        if _due(tr, mem.sims):
            emb = embedder.embed(image, face)
            sims = np.array([float(emb @ r) for r in refs])
            mem.sims = sims if mem.sims is None else SIMILARITY_EMA * mem.sims + (1 - SIMILARITY_EMA) * sims
            best = int(np.argmax(mem.sims))
            mem.pair = best if mem.sims[best] >= threshold else None
        if mem.pair is not None:
            chosen.append(face)
            matched.append(mem.pair)
    return Selected(chosen, matched=tuple(matched))


def _first_in_stream(
    image: Frame, faces: list[Face], tracks: list[Track], stream: StreamMemory, embedder: Embedder, threshold: float
) -> Selected:
    """GHOST without a reference: the first frame's best-detected face is the target; a frame with one face
    swaps it, a frame with several swaps the one most like the first face, when similar enough."""
    if stream.first_face is None:
        stream.first_face = embedder.embed(image, max(faces, key=lambda f: f.score))
    if len(faces) == 1:
        return Selected([faces[0]], matched=(0,))
    for face, tr in zip(faces, tracks, strict=True):
        if _due(tr, tr.memory.first_sim):
            tr.memory.first_sim = float(embedder.embed(image, face) @ stream.first_face)
    sims = [-1.0 if tr.memory.first_sim is None else tr.memory.first_sim for tr in tracks]
    best = int(np.argmax(sims))  # the first of equals, as max() picks
    return Selected([faces[best]], matched=(0,)) if sims[best] >= threshold else Selected([])
