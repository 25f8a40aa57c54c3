"""A folder job reads every format a single photo target reads (AVIF, JFIF, an AVIF photo named .heic), writes
each result under its name with a writable suffix, and says in one warning what it left out (subfolders, videos,
other files) instead of skipping them without a word."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from PIL import Image, features

from ghostlive.cli import main
from ghostlive.media.image import read_image
from ghostlive.pipeline.photo_folder import is_photo, scan_folder

from .conftest import DATA, sample

GRACE = str(sample("grace_hopper.jpg"))


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """Real portraits as JPEG, AVIF, JFIF and AVIF named .heic, with a subfolder, a video and a text file."""
    if not features.check("avif"):
        pytest.skip("this Pillow has no AVIF")
    folder = tmp_path / "in3"
    folder.mkdir()
    photo = Image.open(sample("astronaut.png")).convert("RGB")
    photo.save(folder / "a.jpg")
    photo.save(folder / "phone.avif")
    photo.save(folder / "y.jfif", format="JPEG")
    photo.save(folder / "iphone.heic", format="AVIF")
    (folder / "sub").mkdir()
    shutil.copy(DATA / "megamind_3s.mp4", folder / "clip.mp4")
    (folder / "notes.txt").write_text("not a photo")
    return folder


def test_every_format_a_photo_target_reads_is_read_in_a_folder(mixed: Path) -> None:
    for name in ("a.jpg", "phone.avif", "y.jfif", "iphone.heic"):
        assert read_image(mixed / name).bgr.shape[:2] == (512, 512)  # what a single photo target reads
        assert is_photo(mixed / name)
    assert not is_photo(mixed / "notes.txt") and not is_photo(mixed / "clip.mp4")
    scan = scan_folder(mixed)
    assert [p.name for p in scan.photos] == ["a.jpg", "iphone.heic", "phone.avif", "y.jfif"]
    assert (scan.subfolders, scan.videos, scan.others) == (1, 1, 1)


def test_a_folder_job_swaps_them_all_and_says_what_it_left_out(
    mixed: Path, tmp_path: Path, capsys, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out3"
    with caplog.at_level(logging.WARNING, logger="ghostlive"):
        assert main(["swap", "-q", "--source", GRACE, "--target", str(mixed), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"4 done, 0 failed → {out}"
    assert sorted(p.name for p in out.iterdir()) == ["a.jpg", "iphone.png", "phone.png", "y.png"]
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert skipped == [
        f"{mixed}: skipped 3 (a subfolder, a video, a file that is not a photo: folder jobs swap photos; "
        "give a video as --target on its own)"
    ]


def test_a_folder_with_no_photos_says_what_it_holds(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("one.mp4", "two.mov"):
        shutil.copy(DATA / "megamind_3s.mp4", folder / name)
    assert main(["swap", "-q", "--source", GRACE, "--target", str(folder), "-o", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.strip() == (
        f"ghostlive: error: {folder}: is a folder with no images in it; skipped 2 (2 videos: folder jobs swap "
        "photos; give a video as --target on its own)"
    )
    assert not (tmp_path / "out").exists()


def test_formats_pillow_names_but_cannot_decode_are_not_photos(tmp_path: Path) -> None:
    """PostScript (needs Ghostscript) and Pillow's stub formats (HDF5, GRIB, BUFR, WMF) are left out as files that
    are not photos, as before the folder job read more formats; they do not fail the job."""
    folder = tmp_path / "docs"
    folder.mkdir()
    Image.open(sample("astronaut.png")).convert("RGB").save(folder / "a.jpg")
    (folder / "figure.eps").write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    (folder / "data.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    scan = scan_folder(folder)
    assert [p.name for p in scan.photos] == ["a.jpg"]
    assert not is_photo(folder / "figure.eps") and not is_photo(folder / "data.h5")
