"""Source faces of :class:`ghostlive.session.Session`: every face found in a source photo, with a thumbnail."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ghostlive.errors import NoFaceError
from ghostlive.faces import FaceAnalyzer
from ghostlive.media.image import read_image
from ghostlive.pipeline.advice import source_advice
from ghostlive.turned import NO_FACE
from ghostlive.types import Face, Frame


@dataclass(frozen=True)
class SourceFace:
    """One face found in a source photo: the photo, the face, and a crop around it for a thumbnail."""

    path: str
    index: int
    image: Frame
    face: Face
    thumbnail: Frame

    @property
    def label(self) -> str:
        return f"{Path(self.path).name} #{self.index}"

    @property
    def advice(self) -> list[str]:
        """Why this face will swap worse than a frontal close-up (turned far, small, dark, overexposed, blurred,
        noisy); empty when it will not."""
        return source_advice(self.face, self.image)


def find_faces(analyzer: FaceAnalyzer, path: str) -> list[SourceFace]:
    """Every face ``analyzer`` finds in the photo ``path``, with a crop around each for a thumbnail."""
    image = read_image(path).bgr
    faces = analyzer.analyze(image)
    if not faces:
        raise NoFaceError(NO_FACE.replace("found", "found in this photo", 1), path)
    found = []
    for i, face in enumerate(faces):
        x1, y1, x2, y2 = face.box
        m = 0.25 * (x2 - x1)
        crop = image[max(int(y1 - m), 0) : int(y2 + m), max(int(x1 - m), 0) : int(x2 + m)]
        found.append(SourceFace(path, i, image, face, np.ascontiguousarray(crop)))
    return found


def same_face(a: Face, b: Face) -> bool:
    """The same face of the same photo (found again: other objects, the same landmarks)."""
    return a is b or (a.landmarks.shape == b.landmarks.shape and bool(np.array_equal(a.landmarks, b.landmarks)))
