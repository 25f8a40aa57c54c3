"""Typed aliases and records for the data that flows through the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import NDArray

Array: TypeAlias = Any
"""A numpy or cupy array (the array module is chosen by :mod:`ghostlive.xp`)."""

Frame: TypeAlias = NDArray[np.uint8]
"""An image, H×W×3 uint8, BGR channel order (OpenCV convention)."""

Mask: TypeAlias = NDArray[np.float32]
"""A soft mask, H×W float32 in [0, 1]."""

Affine: TypeAlias = NDArray[np.float64]
"""A 2×3 affine matrix mapping source pixel coordinates (x, y) to destination coordinates."""

Points: TypeAlias = NDArray[np.float32]
"""N×2 pixel coordinates (x, y)."""

Roi: TypeAlias = tuple[int, int, int, int]
"""x0, y0, x1, y1 (exclusive) in frame pixels."""

Embedding: TypeAlias = NDArray[np.float32]
"""A 1-D identity vector."""

TargetMode = Literal["all", "largest", "index", "reference", "first"]
KEEP_REGIONS: tuple[str, ...] = ("mouth", "eyes", "brows")

RIGHT_EYE = (33, 133, 159, 145, 160, 144, 158, 153)
LEFT_EYE = (263, 362, 386, 374, 387, 373, 385, 380)
NOSE_TIP = 1
MOUTH_RIGHT, MOUTH_LEFT = 61, 291
"""Face-mesh vertices of the five alignment points (the subject's right eye ring, left eye ring, nose tip and
mouth corners)."""


def five_points(landmarks: Points) -> Points:
    """ArcFace-order five points from the mesh: image-left eye, image-right eye, nose, mouth corners."""
    lm = np.asarray(landmarks, np.float32)
    return np.stack(
        [lm[list(RIGHT_EYE)].mean(0), lm[list(LEFT_EYE)].mean(0), lm[NOSE_TIP], lm[MOUTH_RIGHT], lm[MOUTH_LEFT]]
    ).astype(np.float32)


@dataclass(frozen=True)
class Detection:
    """One face found by a detector, in frame pixel coordinates."""

    box: tuple[float, float, float, float]
    """x1, y1, x2, y2."""
    keypoints: Points
    """6×2 BlazeFace keypoints: right eye, left eye, nose tip, mouth centre, right ear, left ear
    (the subject's right and left)."""
    score: float

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)


@dataclass(frozen=True)
class Face:
    """A detected face with its dense landmarks, in frame pixel coordinates."""

    detection: Detection
    landmarks: Points
    """468×2 face-mesh points (x, y)."""
    depth: NDArray[np.float32] = field(repr=False)
    """468 relative z values of the mesh (larger = farther from the camera), in pixels."""
    presence: float
    """Face-presence probability reported by the mesh model."""
    kps5: Points | None = field(default=None, repr=False)
    """The five keypoints of a detector that gives them (SCRFD), in its order (image-left eye first); None
    when the face was found by BlazeFace (then :attr:`keypoints5` derives them from the mesh)."""

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.detection.box

    @property
    def score(self) -> float:
        return self.detection.score

    @property
    def keypoints5(self) -> Points:
        """The five alignment points (subject's right eye, left eye, nose tip, right and left mouth corner)
        as used by ArcFace/GHOST templates: the detector's (SCRFD) when it gave them, else derived from the
        mesh (image-left eye first)."""
        return self.kps5 if self.kps5 is not None else five_points(self.landmarks)


@dataclass
class FaceMemory:
    """What the chain remembers about one tracked face from frame to frame (a photo's faces have none)."""

    pair: int | None = None
    """Index of the reference pair this face was matched to (None: not matched)."""
    sims: NDArray[np.float32] | None = None
    """Smoothed similarity to each reference (reference mode)."""
    first_sim: float | None = None
    """Similarity to the first frame's target face (mode ``first``)."""
    ghost_mask: Any = None
    """GHOST's adaptive mask parameters, frozen at the first frame of the face's run."""
    enhance_frames: int = 0
    """Frames of this face seen by a budgeted enhancer."""
    enhanced: Array = field(default=None, repr=False)
    """The enhancer's last restored crop of this face (reused between runs on a budget)."""
    kps5_filter: Any = None
    """The tracker's smoothing filter for detector keypoints."""
    reused: dict[str, Any] = field(default_factory=dict)
    """Statistics of the target face kept for a few frames (``tracking.reuse``): value, box, age per key."""
    mirrored_source: bool = False
    """The classic swapper took the source from its mirror image on the previous frame (held with hysteresis)."""

    def forget_identity(self) -> None:
        """Drop the identity decision (the references changed)."""
        self.pair = None
        self.sims = None
