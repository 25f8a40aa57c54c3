"""A source photo whose face is very dark, overexposed, heavily blurred or very noisy is warned about: the
thresholds hold on the repository's real photos and trip on those photos degraded."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ghostlive.faces import FaceAnalyzer
from ghostlive.pipeline.advice import source_advice
from ghostlive.types import Frame

from .conftest import DATA, largest
from .media_tools import frames_of

KINDS = {"dark": "very dark", "bright": "overexposed", "blur": "heavily blurred", "noise": "very noisy"}
ADVICE = {"dark": "use a brighter photo", "bright": "less light", "blur": "sharper photo", "noise": "cleaner photo"}


def photo_notes(analyzer: FaceAnalyzer, image: Frame, face=None) -> list[str]:
    face = face if face is not None else largest(analyzer.analyze(image))
    return [n for n in source_advice(face, image) if any(k in n for k in KINDS.values())]


def degrade(image: Frame, kind: str) -> Frame:
    im = image.astype(np.float32)
    if kind == "dark":
        im = im * 0.12
    elif kind == "bright":
        im = im * 2.8 + 60.0
    elif kind == "blur":
        im = cv2.GaussianBlur(im, (0, 0), 4.0)
    else:
        im = im + np.random.default_rng(0).normal(0.0, 25.0, im.shape)
    return np.clip(im, 0, 255).astype(np.uint8)


def test_the_repositorys_photos_are_not_warned_about(analyzer: FaceAnalyzer, astronaut, grace, messi) -> None:
    for image in (astronaut, grace, messi, *frames_of(DATA / "megamind_3s.mp4")[::4]):
        for face in analyzer.analyze(image):
            assert photo_notes(analyzer, image, face) == []


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_degraded_photo_is_warned_about(analyzer: FaceAnalyzer, astronaut, grace, kind: str) -> None:
    # overexposed, the astronaut's face is not found at all (the swap stops with "no face found")
    for image in (grace,) if kind == "bright" else (astronaut, grace):
        notes = photo_notes(analyzer, degrade(image, kind))
        assert len(notes) == 1 and KINDS[kind] in notes[0] and ADVICE[kind] in notes[0], notes
        assert "\n" not in notes[0]


def test_without_the_photo_only_the_face_is_judged(analyzer: FaceAnalyzer, grace) -> None:
    dark = degrade(grace, "dark")
    assert source_advice(largest(analyzer.analyze(dark))) == []


def test_the_command_line_and_the_window_say_it(tmp_path, grace, caplog) -> None:
    """The swap names the dark source photo in its warning; the desktop app's source list carries the same line."""
    import logging

    from ghostlive.cli import main
    from ghostlive.session.sources import find_faces

    dark = tmp_path / "dark.png"
    cv2.imwrite(str(dark), degrade(grace, "dark"))
    with caplog.at_level(logging.WARNING):
        code = main(["swap", "-q", "--tiles", "0", "--source", str(dark), "--target", str(DATA / "messi5.jpg"),
                     "-o", str(tmp_path / "out.jpg")])  # fmt: skip
    assert code == 0
    assert any(r.getMessage().startswith(f"{dark}: ") and "very dark" in r.getMessage() for r in caplog.records)
    (face,) = find_faces(FaceAnalyzer(tile_levels=0), str(dark))
    assert any("very dark" in note for note in face.advice)


def test_a_small_clean_face_is_not_called_noisy(analyzer: FaceAnalyzer, grace, messi) -> None:
    """Downscaled without noise, a 25-px face's own detail measured as grain of 10.8 levels: it got 'very noisy,
    use a cleaner photo' beside the small-face note."""
    small = cv2.resize(grace, None, fx=0.12, fy=0.12, interpolation=cv2.INTER_AREA)
    for image in (small, cv2.resize(messi, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)):
        faces = FaceAnalyzer(tile_levels=2).analyze(image)
        assert faces
        notes = source_advice(largest(faces), image)
        assert any("px tall" in n for n in notes) and not any("noisy" in n for n in notes), notes
