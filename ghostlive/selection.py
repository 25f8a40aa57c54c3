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
    frames: int = 0
    """Frames selected from (reference mode)."""
    rechecked: int = -1
    """Id of the track last re-checked early (:data:`RECHECK_EVERY`), so that the next one gets its turn."""


REEMBED_EVERY = 15
"""A tracked face is embedded again every this many frames of its track."""
SIMILARITY_EMA = 0.5
"""Weight of the remembered similarity when a matched track is embedded again (a moving average)."""
RECHECK_EVERY = 2
"""A track not (yet) matched whose face may have been partly hidden when it appeared or came back
(:attr:`~ghostlive.tracking.Track.partial`) is embedded again on every this many frames, one such track a frame
(in turn, so that bystanders do not each cost an embedding)..."""
RECHECK_FRAMES = 24
"""...during its first this many frames (after it appeared, came back or changed in appearance); its best
similarity in that time counts, not the mean, so early bad looks do not hide a good one."""
KEEP_MARGIN = 0.03
"""A matched face keeps its reference while its similarity to it stays within this of the threshold (hysteresis:
the same person turning the head, or a re-check's average dipping just under, is not dropped for half a second;
another person, at a cut or a crossing, scores well below)."""


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
    each face takes its best reference, similarities smoothed over the track and re-embedded only now and then
    (at once when its appearance changed, often while it is not matched yet), and as in a photo each reference
    keeps only its best face;
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
    refs = selection.references
    return _best_reference_per_track(image, faces, tracks, refs, embedder, threshold, stream or StreamMemory())


def _due(track: Track, seen: object) -> bool:
    """Whether a track's face is embedded (again) this frame: on its first look and every :data:`REEMBED_EVERY`
    frames, and at once when its appearance changed (maybe another person under the track)."""
    return not track.held and (seen is None or track.changed or track.age == 1 or track.age % REEMBED_EVERY == 0)


def _early(track: Track) -> bool:
    """Whether a track may be re-checked early (see :data:`RECHECK_EVERY`)."""
    mem = track.memory
    waiting = track.partial and track.since_change <= RECHECK_FRAMES
    return waiting and not track.held and mem.pair is None and mem.sims is not None


def _rechecked(tracks: list[Track], stream: StreamMemory) -> Track | None:
    """The one track re-checked early this frame, if any: the next in turn after the last one."""
    stream.frames += 1
    if stream.frames % RECHECK_EVERY:
        return None
    waiting = sorted((tr for tr in tracks if _early(tr) and not _due(tr, tr.memory.sims)), key=lambda tr: tr.id)
    if not waiting:
        return None
    chosen = next((tr for tr in waiting if tr.id > stream.rechecked), waiting[0])
    stream.rechecked = chosen.id
    return chosen


def _remembered(old: np.ndarray | None, new: np.ndarray, track: Track) -> np.ndarray:
    """The similarities a track keeps after an embedding gave ``new``: only ``new`` after a change of appearance
    (no averaging across it); while it may be re-checked early, the best seen; else a moving average."""
    if old is None or track.changed:
        return new
    if _early(track):
        return np.maximum(old, new)
    return SIMILARITY_EMA * old + (1 - SIMILARITY_EMA) * new


def _paired(sims: np.ndarray, before: int | None, threshold: float) -> int | None:
    """The reference a track is matched to with similarities ``sims`` (``before``: its previous one, kept while
    its similarity stays within :data:`KEEP_MARGIN` of the threshold: hysteresis)."""
    top = int(np.argmax(sims))
    if sims[top] >= threshold:
        return top
    if before is not None and sims[before] >= threshold - KEEP_MARGIN:
        return before
    return None


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
    stream: StreamMemory,
) -> Selected:
    best: dict[int, tuple[float, int]] = {}  # reference → (similarity, face) of its best matched track
    early = _rechecked(tracks, stream)
    for k, (face, tr) in enumerate(zip(faces, tracks, strict=True)):
        mem = tr.memory
        if _due(tr, mem.sims) or tr is early:
            emb = embedder.embed(image, face)
            sims = np.array([float(emb @ r) for r in refs])
            mem.sims = _remembered(mem.sims, sims, tr)
            mem.pair = _paired(mem.sims, mem.pair, threshold)
        r = mem.pair
        if r is not None and mem.sims is not None and (r not in best or best[r][0] < mem.sims[r]):
            best[r] = (float(mem.sims[r]), k)
    chosen = sorted((k, r) for r, (_, k) in best.items())  # left to right, as the faces
    return Selected([faces[k] for k, _ in chosen], matched=tuple(r for _, r in chosen))


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
        if _due(tr, tr.memory.first_sim):  # a changed face is checked again at once, without averaging
            tr.memory.first_sim = float(embedder.embed(image, face) @ stream.first_face)
    sims = [-1.0 if tr.memory.first_sim is None else tr.memory.first_sim for tr in tracks]
    best = int(np.argmax(sims))  # the first of equals, as max() picks
    return Selected([faces[best]], matched=(0,)) if sims[best] >= threshold else Selected([])
