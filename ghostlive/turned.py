"""Faces in a photo that lies turned (a phone photo that lost its EXIF orientation, a scan put in sideways).

The detectors find faces up to about 45-60° from upright and the face mesh fits any roll (see
:meth:`ghostlive.models.facemesh.FaceMesh.landmarks`), so a photo in which no face is upright is searched again,
turned by quarter turns, and the faces found there are used in the photo's own coordinates. Photos only: a video's
or a camera's frames are not searched (it would cost every frame without an upright face).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from ghostlive.models.blazeface import iou
from ghostlive.types import Detection, Face, Frame
from ghostlive.xp import array_module

if TYPE_CHECKING:
    from ghostlive.faces import FaceAnalyzer

log = logging.getLogger(__name__)

NO_FACE = "no face found (also looked with the image turned 90°, 180° and 270°)"
"""What a photo in which :func:`with_turned` found nothing is told."""
TURNS = {3: "90° clockwise", 2: "180°", 1: "90° counter-clockwise"}
"""The turned images searched when no face at all is found, by ``np.rot90`` count."""
SAME_FACE_IOU = 0.3
"""A face found turned that overlaps one found upright this much is that face."""


def quarter_turns(face: Face) -> int:
    """The ``np.rot90`` count that brings ``face`` nearest upright (0: it is within 45° of upright)."""
    lm = np.asarray(face.landmarks, np.float64)
    roll = np.degrees(np.arctan2(lm[263, 1] - lm[33, 1], lm[263, 0] - lm[33, 0]))  # eye to eye, 0° when upright
    return round(float(roll) / 90.0) % 4


def with_turned(analyzer: FaceAnalyzer, image: Frame, faces: list[Face]) -> list[Face]:
    """``faces`` (found in the photo ``image`` as it is) and, when none of them is upright, the faces found in the
    image turned so that the largest of them is upright, or, with no face at all, turned 90° clockwise, 180° and
    90° counter-clockwise (the turn with the most faces); all in ``image``'s coordinates, left to right."""
    if any(quarter_turns(f) == 0 for f in faces):
        return faces
    turns = [quarter_turns(max(faces, key=lambda f: f.detection.area))] if faces else list(TURNS)
    tries = [(_found(analyzer, image, k), k) for k in turns]
    more, k = max(tries, key=lambda t: (len(t[0]), sum(f.detection.score for f in t[0])))
    more = [f for f in more if all(iou(np.array(f.box), np.array([g.box]))[0] <= SAME_FACE_IOU for g in faces)]
    if not more:
        return faces
    log.info("%d face(s) found only with the image turned %s", len(more), TURNS[k])
    return sorted([*faces, *more], key=lambda f: (f.box[0] + f.box[2], f.box[1] + f.box[3]))


def _found(analyzer: FaceAnalyzer, image: Frame, turns: int) -> list[Face]:
    """The faces found in ``image`` turned by ``np.rot90(image, turns)``, fitted in ``image`` itself."""
    xp = array_module(image)
    detections = analyzer.detect(xp.ascontiguousarray(xp.rot90(image, turns)))
    return analyzer.landmarks(image, [unturn(d, turns, image.shape[:2]) for d in detections])


def unturn(det: Detection, turns: int, shape: tuple[int, ...]) -> Detection:
    """``det``, found in ``np.rot90(image, turns)``, in the coordinates of ``image`` (of ``shape``)."""
    pts = np.vstack([np.reshape(det.box, (2, 2)), det.keypoints]).astype(np.float64)
    for k in range(turns - 1, -1, -1):  # undo the last quarter turn first
        width = shape[1] if k % 2 == 0 else shape[0]  # of the image after k turns
        pts = np.stack([width - pts[:, 1], pts[:, 0]], axis=1)
    lo, hi = np.minimum(pts[0], pts[1]), np.maximum(pts[0], pts[1])
    box = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
    return Detection(box=box, keypoints=pts[2:].astype(np.float32), score=det.score)
