"""Which target face a job chose, said to the user: the face a reference photo stands for (warned about when that
photo is ambiguous or cut off), and why nothing was swapped in a photo or a whole video (the best similarity to
the reference, or how many faces were found)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from ghostlive.errors import NoFaceError
from ghostlive.faces import FaceAnalyzer
from ghostlive.pipeline.frame import FrameResult
from ghostlive.selection import TargetSelection
from ghostlive.turned import NO_FACE
from ghostlive.types import Face, Frame

log = logging.getLogger(__name__)

_ORDINALS = ("leftmost", "2nd from the left", "3rd from the left")


def _place(i: int, n: int) -> str:
    if i == n - 1:
        return "rightmost"
    return _ORDINALS[i] if i < len(_ORDINALS) else f"{i + 1}th from the left"


def cut_off(face: Face, image: Frame) -> bool:
    """Whether ``face`` reaches past the image's border (part of it is not in the picture): its face-mesh points,
    which the mesh places also where the picture ends, or its detection box lie outside the image."""
    h, w = image.shape[:2]
    pts = np.asarray(face.landmarks)
    x1, y1, x2, y2 = face.box
    outside = bool((pts[:, 0] < 0).any() or (pts[:, 0] > w - 1).any() or (pts[:, 1] < 0).any())
    return outside or bool((pts[:, 1] > h - 1).any()) or x1 < 0 or y1 < 0 or x2 > w or y2 > h


def reference_face(analyzer: FaceAnalyzer, image: Frame, path: str) -> Face:
    """The face a reference photo stands for: its largest. A photo with several faces is warned about (which one
    is used), and so is a face cut off by the border (it may match nobody); no face is a :class:`NoFaceError`."""
    faces = analyzer.analyze(image)
    if not faces:
        raise NoFaceError("no face found", path)
    face = max(faces, key=lambda f: f.detection.area)
    if len(faces) > 1:
        where = _place(next(i for i, f in enumerate(faces) if f is face), len(faces))
        log.warning(
            "%s: the reference photo shows %d faces; using the largest (the %s); crop it to the person to match",
            path, len(faces), where,
        )
    if cut_off(face, image):
        log.warning(
            "%s: the reference face is cut off by the edge of the photo; it may match nobody: use a photo that "
            "shows the whole face", path,
        )
    return face


def explain_no_swap(result: FrameResult, selection: TargetSelection, threshold: float, target: str) -> NoFaceError:
    """Why a photo had no face swapped (``threshold``: the reference similarity in use)."""
    if not result.faces:
        return NoFaceError(NO_FACE, target)
    if selection.mode == "reference":
        best = ", ".join(f"{s:.2f}" for s in result.best_similarity) or "n/a"
        return NoFaceError(
            f"no face matches the reference (best similarity {best}, threshold {threshold:.2f}); lower it with "
            "--similarity",
            target,
        )
    return NoFaceError(f"{len(result.faces)} face(s) found; face index {selection.index} does not exist", target)


def explain_video_no_swap(
    frames: int,
    most_faces: int,
    busiest: Frame | None,
    selection: TargetSelection,
    threshold: float,
    photo: Callable[[Frame], FrameResult],
    target: str,
) -> NoFaceError | None:
    """Why no face was chosen in any of a video's ``frames`` (None only for a video without frames): no face found
    anywhere is an error whatever the choice, as for a photo. ``busiest`` is the first frame with the most faces
    (``most_faces``); ``photo`` swaps one frame as a photo, for the reference similarities on it."""
    if not frames:
        return None
    if not most_faces or busiest is None:
        return NoFaceError(f"no face found in any of the {frames} frames", target)
    if selection.mode == "reference":
        best = ", ".join(f"{s:.2f}" for s in photo(busiest).best_similarity) or "n/a"
        return NoFaceError(
            f"no face matches the reference in any of the {frames} frames (best similarity {best} in the frame "
            f"with the most faces, threshold {threshold:.2f}); lower it with --similarity",
            target,
        )
    if selection.mode == "index":
        return NoFaceError(
            f"at most {most_faces} face(s) found in a frame; face index {selection.index} does not exist", target
        )
    return NoFaceError(f"faces were found but none was chosen in any of the {frames} frames", target)
