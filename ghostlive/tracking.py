"""Face tracks across frames: identity kept per track, landmarks smoothed, short detection gaps bridged.

Each frame, every live track is first followed by running the face mesh on the region of its last landmarks
(the mesh's presence score says whether the face is still there); the detector then runs (every frame, or every
``detect_every`` frames while all tracks are followed) to start tracks for new faces. A track that is neither
followed nor detected is held at its last landmarks for up to ``max_gap`` frames, so the swap does not drop
out (and the real face does not flash through) when one frame misses; after that it ends.

A held swap must still sit on the same face: a held track whose region no longer looks like the face's last
appearance ends at once, so does one that another followed face moves over (it is hidden behind that face, and
its landmarks would be re-acquired on the wrong person); when two tracks come to sit on one face, the one that was
just re-acquired or whose appearance jumped gives way. A followed face whose appearance jumps between two frames
(a cut between people framed alike that the shot detector misses) is flagged :attr:`Track.changed`, so that its
identity is decided again at once. At a shot change (a hard cut, or :meth:`FaceTracker.cut` for a signalled one such as
a looping file camera's restart) every track ends, so nothing from the previous shot is pasted over the new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np

from ghostlive.faces import FaceAnalyzer
from ghostlive.models.blazeface import iou
from ghostlive.models.facemesh import five_points, roi_from_landmarks
from ghostlive.ops.align import similarity_transform, transform_points
from ghostlive.ops.boxes import Box, area, distance, face_box, face_size, grown, overlapping, shared
from ghostlive.ops.shots import ShotDetector, correlation, grey_thumb
from ghostlive.ops.smooth import OneEuro
from ghostlive.types import Detection, Face, FaceMemory, Frame, Points

T = TypeVar("T")
LOOK_SIZE = 16
"""Side of the grey thumbnail that remembers what a face looked like."""


@dataclass(frozen=True)
class TrackerOptions:
    detect_every: int = 1
    max_gap: int = 5
    smoothing: bool = True
    min_cutoff: float = 1.0
    beta: float = 6.0
    match_iou: float = 0.3
    cuts: bool = True
    """End every track at a detected shot change."""
    same_face: float = 0.5
    """A held track ends when its region correlates less than this with the face's last appearance."""
    jump: float = 0.6
    """A followed face whose look correlates less than this with its previous look changed abruptly: another
    person may now be under the track, so its identity is checked again at once (:attr:`Track.changed`)."""
    occluded: float = 0.1
    """A held track ends when a followed face's box covers more than this share of its box (the face is hidden
    behind another one); or its head does (the box grown by :data:`OCCLUDER_MARGIN`) while it moves onto the held
    face. Faces that merely stay side by side keep their tracks through a missed frame."""
    tiled_every: int = 30
    """Small-face tiles (when the analyzer has them) only on a shot's first frame and every this many frames;
    the other detections are one whole-frame pass, so tiles do not slow every frame down."""


@dataclass
class Track:
    """One face followed over time. ``face`` is what to render (smoothed, or held during a gap)."""

    id: int
    face: Face
    raw: Face
    filter: OneEuro
    age: int = 0
    missed: int = 0
    memory: FaceMemory = field(default_factory=FaceMemory)
    """Per-track memory for selection and the chain's stages (identity decision, frozen mask parameters…)."""
    look: np.ndarray | None = None
    """Grey thumbnail of the face region when it was last observed."""
    changed: bool = False
    """This frame's observation may show another person than the last one: its appearance jumped (see
    :attr:`TrackerOptions.jump`); its identity decision must be checked again."""
    since_change: int = 0
    """Observations since the track started, was re-acquired after a gap, :attr:`changed`, or grew by :data:`GROWN`."""
    partial: bool = False
    """The face may have been partly hidden when that began: it was re-acquired after a gap, it sat next to another
    face or at the frame's edge, or its box has grown by :data:`GROWN` since (more of it shows); its identity is
    checked again soon (``selection.RECHECK_EVERY``)."""
    area: float = 0.0
    """The area of the face's box when that began."""

    @property
    def held(self) -> bool:
        return self.missed > 0


OCCLUDER_MARGIN = 0.25
"""A followed face moving onto a held one has its box grown by this share of its size on each side when it is
checked for hiding it (a head is wider than the face's landmarks)."""
APPROACH = 0.02
"""A followed face moves onto a held one when their centres came closer since the previous frame by more than this
share of its size (more than a still face's jitter)."""
EDGE = 0.05
"""A face whose box comes within this share of its size of the frame's edge may be cut off by it."""

GROWN = 1.5
"""A followed face whose box's area grew by this factor since it appeared or came back was partly hidden then (a
face opening its mouth or nodding grows by about a quarter)."""

REUSE_FRAMES = 10
"""Most renders a per-track statistic is reused before it is measured again (a third of a second at 30 fps)."""
REUSE_MOVE = 0.05
"""A per-track statistic is measured again when the face's box moved or grew by this share of its size."""


def reuse(memory: FaceMemory | None, key: str, roi: tuple[int, int, int, int], compute: Callable[[], T]) -> T:
    """``compute()``, or the value it gave for this track (``memory``: the track's; None, as for a single
    photo: always computed) on a recent frame where the face's ``roi`` was nearly the same: at most
    :data:`REUSE_FRAMES` renders ago and moved or resized by less than :data:`REUSE_MOVE` of the box. For
    statistics of the target face (its colour range, whether it is grey) that change with the lighting and the
    view, not from frame to frame; a cut ends the track and with it the memory."""
    if memory is None:
        return compute()
    box = np.asarray(roi, np.float64)
    memo = memory.reused.get(key)
    if memo is not None:
        value, then, age = memo
        size = max(then[2] - then[0], then[3] - then[1], 1.0)
        if age < REUSE_FRAMES and float(np.abs(box - then).max()) < REUSE_MOVE * size:
            memory.reused[key] = (value, then, age + 1)
            return value  # type: ignore[no-any-return]
    value = compute()
    memory.reused[key] = (value, box, 1)
    return value


def refresh(memory: FaceMemory | None, key: str, roi: tuple[int, int, int, int], measure: Callable[[T | None], T]) -> T:
    """:func:`reuse`, where a value measured afresh is given the one it replaces (None: the first), for running
    averages that ride out a single noisy measure (the texture measures of :mod:`ghostlive.ops.texture`)."""
    kept = memory.reused.get(key) if memory is not None else None  # (value, box, age), see FaceMemory.reused
    return reuse(memory, key, roi, lambda: measure(kept[0] if kept is not None else None))


def face_from_mesh(
    landmarks: np.ndarray, depth: np.ndarray, presence: float, score: float, kps5: Points | None = None
) -> Face:
    """A Face whose detection record is derived from the mesh (for frames where the detector did not run);
    ``kps5``: the detector's five keypoints carried along (SCRFD), if any."""
    k5 = five_points(landmarks)
    kps = np.stack([k5[0], k5[1], k5[2], (k5[3] + k5[4]) / 2, landmarks[234], landmarks[454]]).astype(np.float32)
    return Face(Detection(face_box(landmarks), kps, score), landmarks.astype(np.float32), depth, presence, kps5)


def carry_keypoints(previous: Face, landmarks: np.ndarray) -> Points | None:
    """The detector keypoints of ``previous`` moved with the mesh to ``landmarks`` (the similarity between the
    two meshes' five points), for frames where the detector did not see the face."""
    if previous.kps5 is None:
        return None
    motion = similarity_transform(five_points(previous.landmarks), five_points(landmarks))
    return transform_points(previous.kps5, motion)


def face_width(face: Face) -> float:
    return face_size(face.box)


class FaceTracker:
    """Turns per-frame analysis into tracks (see the module docstring)."""

    def __init__(self, analyzer: FaceAnalyzer, options: TrackerOptions | None = None) -> None:
        self.analyzer = analyzer
        self.options = options or TrackerOptions()
        self.tracks: list[Track] = []
        self._next_id = 0
        self._frame = 0
        self.shots = ShotDetector()
        self.cuts = 0
        """Shot changes seen (detected or signalled)."""

    def reset(self) -> None:
        """Forget everything (a new video)."""
        self.tracks.clear()
        self._frame = 0
        self.shots.reset()

    def cut(self) -> None:
        """A new shot starts with the next frame: end every track (the detector runs on the next frame)."""
        self.tracks.clear()
        self._frame = 0
        self.cuts += 1

    def _follow(self, frame: Frame, track: Track) -> Face | None:
        xy, z, p = self.analyzer.mesh.run(frame, roi_from_landmarks(track.raw.landmarks))
        if p < self.analyzer.min_presence:
            return None
        return face_from_mesh(xy, z, p, track.raw.score, carry_keypoints(track.raw, xy))

    def _observe(self, frame: Frame, track: Track, face: Face, t: float, others: list[Box]) -> None:
        """Take ``face`` as the track's observation on ``frame`` (``others``: the other faces followed now)."""
        look = grey_thumb(frame, LOOK_SIZE, face.box)
        track.changed = (
            track.look is not None and look is not None and correlation(track.look, look) < self.options.jump
        )
        self._period(frame, track, face.box, others)
        track.raw = face
        track.look = look
        track.missed = 0
        track.age += 1
        if self.options.smoothing:
            lm = track.filter(face.landmarks, t, face_width(face))
            kps5 = None
            if face.kps5 is not None:
                if track.memory.kps5_filter is None:
                    track.memory.kps5_filter = OneEuro(self.options.min_cutoff, self.options.beta)
                kf = track.memory.kps5_filter
                kps5 = kf(face.kps5, t, face_width(face)).astype(np.float32)
            track.face = face_from_mesh(lm, face.depth, face.presence, face.score, kps5)
        else:
            track.face = face

    def _period(self, frame: Frame, track: Track, box: Box, others: list[Box]) -> None:
        """Count the observation at ``box`` in :attr:`Track.since_change`, or start a new count (and decide
        :attr:`Track.partial`) when the track starts, comes back, changed or grew."""
        size = area(box)
        if track.changed or track.missed > 0 or track.age == 0:
            track.partial = track.missed > 0 or crowded(box, others, frame.shape[1], frame.shape[0])
        elif size > GROWN * track.area:
            track.partial = True  # more of the face shows: it was partly hidden
        else:
            track.since_change += 1
            return
        track.since_change, track.area = 1, size

    def update(self, frame: Frame, t: float) -> list[Track]:
        """Advance all tracks to ``frame`` taken at ``t`` seconds; returns the tracks to render."""
        opts = self.options
        if self.shots.is_cut(frame) and opts.cuts:
            self.cut()
        observed: dict[int, Face] = {}
        for tr in self.tracks:
            f = self._follow(frame, tr)
            if f is not None:
                observed[tr.id] = f
        due = self._frame % max(opts.detect_every, 1) == 0 or len(observed) < len(self.tracks)
        if due:
            detections = self.analyzer.detect(frame, tiled=self._frame % max(opts.tiled_every, 1) == 0)
            known = [observed.get(tr.id, tr.raw).box for tr in self.tracks]
            for det in detections:
                overlaps = [iou(np.array(det.box), np.array([b]))[0] for b in known]
                best = int(np.argmax(overlaps)) if overlaps else -1
                if best >= 0 and overlaps[best] > opts.match_iou:
                    tr = self.tracks[best]
                    if tr.id not in observed:  # the mesh lost it but the detector has it: re-acquire
                        faces = self.analyzer.landmarks(frame, [det], any_roll=False)
                        if faces:
                            observed[tr.id] = faces[0]
                    elif len(det.keypoints) == 5:  # SCRFD saw it: its keypoints, not the carried ones
                        observed[tr.id] = replace(observed[tr.id], kps5=det.keypoints)
                    continue
                faces = self.analyzer.landmarks(frame, [det], any_roll=False)
                if faces:
                    self._start(faces[0])
                    known.append(faces[0].box)
                    observed[self.tracks[-1].id] = faces[0]
        moves = [(observed[tr.id].box, tr.raw.box) for tr in self.tracks if tr.id in observed]
        for tr in self.tracks:
            if tr.id in observed:
                self._observe(frame, tr, observed[tr.id], t, [observed[k].box for k in observed if k != tr.id])
            elif self._hidden(tr, moves):
                tr.missed = opts.max_gap + 1
            else:
                tr.missed = tr.missed + 1 if self._same_face(frame, tr) else opts.max_gap + 1
        self.tracks = [tr for tr in self.tracks if tr.missed <= opts.max_gap]
        self._dedupe()
        self._frame += 1
        return sorted(self.tracks, key=lambda tr: tr.face.box[0] + tr.face.box[2])

    def _same_face(self, frame: Frame, track: Track) -> bool:
        """Whether the region of a track that was not observed still looks like the face's last appearance."""
        now = grey_thumb(frame, LOOK_SIZE, track.raw.box)
        return track.look is not None and now is not None and correlation(track.look, now) >= self.options.same_face

    def _hidden(self, track: Track, moves: list[tuple[Box, Box]]) -> bool:
        """Whether a track that was not observed lies behind a followed face (``moves``: each one's box now and on
        the previous frame): its face covers the track's box, or its head does while it moves onto it."""
        box = track.raw.box
        least = self.options.occluded * max(area(box), 1.0)
        for now, before in moves:
            if shared(box, now) > least:
                return True
            closer = distance(before, box) - distance(now, box)
            if closer > APPROACH * face_size(now) and shared(box, grown(now, OCCLUDER_MARGIN)) > least:
                return True
        return False

    def _start(self, face: Face) -> None:
        f = OneEuro(self.options.min_cutoff, self.options.beta)
        self.tracks.append(Track(self._next_id, face, face, f))
        self._next_id += 1

    def _dedupe(self) -> None:
        """Of tracks sitting on one face, keep the one least likely to have moved onto it: not just re-acquired or
        changed in appearance, then the oldest."""
        kept: list[Track] = []
        for tr in sorted(self.tracks, key=lambda tr: (tr.changed, tr.age > 1 and tr.since_change == 1, -tr.age)):
            if all(not overlapping(tr.face.box, k.face.box) for k in kept):
                kept.append(tr)
        self.tracks = sorted(kept, key=lambda tr: tr.id)


def crowded(box: Box, others: list[Box], width: int, height: int) -> bool:
    """Whether a face at ``box`` may be partly hidden: it touches the frame's edge or the head of one of the
    ``others`` (its box grown by :data:`OCCLUDER_MARGIN`)."""
    x1, y1, x2, y2 = box
    if min(x1, y1) <= EDGE * (x2 - x1) or x2 >= width - EDGE * (x2 - x1) or y2 >= height - EDGE * (y2 - y1):
        return True
    return any(shared(box, grown(o, OCCLUDER_MARGIN)) > 0 for o in others)
