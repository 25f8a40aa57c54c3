"""The classic swap relights a face to a photo at an eighth of the other's exposure: a face pasted onto a very
dark photo keeps its shading (nose, brows, cheeks), and a very dark source comes out at the target's brightness."""

from __future__ import annotations

import cv2
import numpy as np

from ghostlive.faces import FaceAnalyzer
from ghostlive.ops.regions import face_width, grow, region_mask
from ghostlive.pipeline import FrameProcessor
from ghostlive.swappers.classic import ClassicOptions, ClassicSwapper
from ghostlive.types import Face, Frame

from .conftest import largest


def swap(analyzer: FaceAnalyzer, source: Frame, target: Frame) -> Frame:
    pipe = FrameProcessor(analyzer, ClassicSwapper(ClassicOptions()))
    pipe.set_source(source)
    return pipe.process(target).frame


def cheeks_and_nose(image: Frame, face: Face) -> np.ndarray:
    """Luma of the face inside its outline, away from its edge, the eyes and the mouth (kept as the target's)."""
    width = face_width(face.landmarks)
    inside = grow(region_mask(image.shape, face.landmarks, "face"), -0.1 * width)
    for feature in ("right_eye", "left_eye", "mouth"):
        inside &= ~grow(region_mask(image.shape, face.landmarks, feature), 0.1 * width)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)[inside].astype(np.float32)


def darkened(image: Frame) -> Frame:
    return (image.astype(np.float32) * 0.12).astype(np.uint8)


def test_a_face_pasted_onto_a_dark_photo_keeps_its_shading(analyzer: FaceAnalyzer, astronaut, grace) -> None:
    target = darkened(grace)
    face = largest(analyzer.analyze(target))
    own, result = cheeks_and_nose(target, face), cheeks_and_nose(swap(analyzer, astronaut, target), face)
    assert abs(float(np.median(result)) - float(np.median(own))) < 4.0
    # the gain cap (0.25) left it at 4 % of the target's spread of shading: a flat blob
    assert result.std() > 0.4 * own.std(), (result.std(), own.std())


def test_a_dark_source_takes_the_targets_brightness(analyzer: FaceAnalyzer, grace) -> None:
    face = largest(analyzer.analyze(grace))
    own, result = cheeks_and_nose(grace, face), cheeks_and_nose(swap(analyzer, darkened(grace), grace), face)
    # the gain cap (4) left it at about half the target's brightness (dark brown)
    assert float(np.median(result)) > 0.85 * float(np.median(own)), (np.median(result), np.median(own))
