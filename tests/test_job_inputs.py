"""What a job is told reaches every output: folder jobs never write over the source or reference photos nor
give two photos one output, ``--face-index`` on its own picks that face, and ``--label`` marks photos and
live recordings as it marks videos."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ghostlive.cli import main

from .conftest import compose, sample
from .media_tools import frames_of, write_video

GRACE = sample("grace_hopper.jpg")
ASTRONAUT = sample("astronaut.png")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("role", ["source", "reference"])
def test_a_folder_job_never_overwrites_the_source_or_reference_photo(tmp_path: Path, capsys, role: str) -> None:
    """The source (or reference) photo lies in the output folder under the name a target photo's output
    takes: the job stops before any model loads, names the photo, and writes nothing."""
    targets, out = tmp_path / "targets", tmp_path / "out"
    targets.mkdir(), out.mkdir()
    (targets / "face.jpg").write_bytes(ASTRONAUT.read_bytes())  # the reference's person: it matches
    kept = out / "face.jpg"
    kept.write_bytes(GRACE.read_bytes() if role == "source" else ASTRONAUT.read_bytes())
    before = digest(kept)
    args = ["--source", str(kept)] if role == "source" else ["--source", str(GRACE), "--reference", str(kept)]
    code = main(["swap", "-q", *args, "--target", str(targets), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "would overwrite an input" in err and str(kept) in err
    assert digest(kept) == before and sorted(p.name for p in out.iterdir()) == ["face.jpg"]


def test_photos_that_would_share_an_output_name_each_keep_their_own(tmp_path: Path, capsys) -> None:
    """a.gif is written as PNG; a.png is in the folder too: the GIF's result goes to a.gif.png."""
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "a.png").write_bytes(ASTRONAUT.read_bytes())
    Image.open(GRACE).save(folder / "a.gif")
    assert main(["swap", "-q", "--source", str(GRACE), "--target", str(folder), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.gif.png", "a.png"]
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"2 done, 0 failed → {out}"


def test_face_index_on_its_own_swaps_only_that_face(tmp_path: Path, capsys) -> None:
    """Two real portraits side by side: ``--face-index 1`` changes the right one and leaves the left alone,
    like ``--faces index --face-index 1``; with another face mode it is refused."""
    canvas, spans = compose(cv2.imread(str(GRACE)), cv2.imread(str(ASTRONAUT)))
    target, out = tmp_path / "two.png", tmp_path / "out.png"
    cv2.imwrite(str(target), canvas)
    assert (
        main(["swap", "-q", "--source", str(GRACE), "--target", str(target), "--face-index", "1", "-o", str(out)]) == 0
    )
    result = cv2.imread(str(out)).astype(int)
    changed = [np.abs(result[:, a:b] - canvas[:, a:b]).max() for a, b in spans]
    assert changed[0] == 0 and changed[1] > 50
    assert "swapped 1 of 2" in capsys.readouterr().out
    bad = ["swap", "-q", "--source", str(GRACE), "--target", str(target), "--faces", "largest", "--face-index", "1"]
    with pytest.raises(SystemExit) as usage:  # a usage error
        main([*bad, "-o", str(tmp_path / "x.png")])
    assert usage.value.code == 2
    assert "--face-index" in capsys.readouterr().err and not (tmp_path / "x.png").exists()


def label_share(image: np.ndarray) -> float:
    """The share of black-box or white-text pixels where the label's first letters sit (0 on the photo)."""
    h = image.shape[0]
    r = image[h - 32 : h - 14, 8:120]
    return float(((r.max(2) < 30) | (r.min(2) > 200)).mean())


def test_label_is_burned_into_photos(tmp_path: Path) -> None:
    plain, labelled = tmp_path / "plain.png", tmp_path / "labelled.png"
    base = ["swap", "-q", "--source", str(GRACE), "--target", str(ASTRONAUT)]
    assert main([*base, "-o", str(plain)]) == 0
    assert main([*base, "--label", "AI-generated", "-o", str(labelled)]) == 0
    a, b = cv2.imread(str(plain)), cv2.imread(str(labelled))
    diff = np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 0
    assert diff[-40:, :220].sum() > 500 and diff.sum() == diff[-40:, :220].sum()  # only the corner differs
    assert label_share(a) == 0.0 and label_share(b) > 0.6  # white text on a black box


def test_label_is_burned_into_live_recordings(tmp_path: Path, capsys) -> None:
    """``live --label``: every recorded frame carries it (a real portrait clip as the camera)."""
    astronaut = cv2.imread(str(ASTRONAUT))
    camera = write_video(tmp_path / "cam.mp4", [astronaut] * 24)
    out = tmp_path / "rec.mp4"
    code = main(
        [
            "live",
            "-q",
            "--source",
            str(GRACE),
            "--camera",
            str(camera),
            "--record",
            str(out),
            "--label",
            "AI-generated",
            "--duration",
            "2",
        ]
    )
    assert code == 0, capsys.readouterr().err
    frames = frames_of(out)
    assert label_share(astronaut) == 0.0
    assert len(frames) >= 20 and all(label_share(f) > 0.5 for f in frames)
