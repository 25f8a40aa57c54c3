"""Photos: the ICC colour profile is carried into the result with the pixels unchanged; the frames of an animation
and the pages of a multi-page TIFF that are not swapped are named in a warning; HEIC photos are refused by name."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from ghostlive.cli import main
from ghostlive.media.image import encode_image, read_image

from .conftest import DATA, sample

GRACE = str(sample("grace_hopper.jpg"))
ASTRONAUT = sample("astronaut.png")


def profile(kind: str = "sRGB") -> bytes:
    """A real ICC profile made by Little CMS ("sRGB" or "LAB")."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile(kind)).tobytes()


def swap(target: Path, out: Path) -> int:
    return main(["swap", "-q", "--tiles", "0", "--source", GRACE, "--target", str(target), "-o", str(out)])


@pytest.mark.parametrize(
    ("target", "output"), [(".png", ".png"), (".jpg", ".jpg"), (".png", ".webp"), (".png", ".tiff")]
)
def test_icc_profile_is_carried_into_the_swapped_photo(tmp_path: Path, target: str, output: str) -> None:
    icc = profile()
    plain, tagged = tmp_path / f"plain{target}", tmp_path / f"tagged{target}"
    with Image.open(ASTRONAUT) as im:
        im.convert("RGB").save(plain, quality=95)
        im.convert("RGB").save(tagged, quality=95, icc_profile=icc)
    assert read_image(tagged).icc == icc
    assert swap(plain, tmp_path / f"plain_out{output}") == 0
    assert swap(tagged, tmp_path / f"out{output}") == 0
    with Image.open(tmp_path / f"out{output}") as out, Image.open(tmp_path / f"plain_out{output}") as ref:
        assert out.info.get("icc_profile") == icc
        diff = np.abs(np.asarray(out.convert("RGB"), np.int16) - np.asarray(ref.convert("RGB"), np.int16))
    if output == ".jpg":  # Pillow's and OpenCV's JPEG encoders round differently; no colour conversion
        assert diff.mean() < 0.5
    else:
        assert not diff.any()  # the same pixels, only the profile added


def test_grey_and_alpha_layouts_keep_the_profile(tmp_path: Path) -> None:
    icc = profile()
    grey = np.asarray(Image.open(DATA / "cameraman_gray.png").convert("L"))
    with Image.open(ASTRONAUT) as im:
        rgba = im.convert("RGBA")
    rgba.putalpha(Image.fromarray(np.full(rgba.size[::-1], 200, np.uint8)))
    rgba.save(tmp_path / "alpha.png", icc_profile=icc)
    loaded = read_image(tmp_path / "alpha.png")
    data = encode_image(loaded.bgr, ".png", loaded)
    with Image.open(io.BytesIO(data)) as out:
        assert out.mode == "RGBA" and out.info["icc_profile"] == icc
        assert np.array_equal(np.asarray(out), np.asarray(rgba))
    Image.fromarray(grey).save(tmp_path / "lab.png", icc_profile=profile("LAB"))
    assert read_image(tmp_path / "lab.png").icc is None  # a profile that does not describe grey pixels is left out


def test_bmp_output_and_untagged_photos_are_as_before(tmp_path: Path) -> None:
    loaded = read_image(GRACE)
    assert loaded.icc is None
    assert "icc_profile" not in Image.open(io.BytesIO(encode_image(loaded.bgr, ".png", loaded))).info
    with Image.open(ASTRONAUT) as im:
        im.convert("RGB").save(tmp_path / "tagged.png", icc_profile=profile())
    assert swap(tmp_path / "tagged.png", tmp_path / "out.bmp") == 0  # BMP holds no profile: written without it
    with Image.open(tmp_path / "out.bmp") as out:
        assert out.size == (512, 512) and "icc_profile" not in out.info


@pytest.mark.parametrize(("name", "words"), [("anim.gif", "has 3 frames"), ("multi.tiff", "has 2 pages")])
def test_unswapped_frames_and_pages_are_named(tmp_path: Path, caplog, name: str, words: str) -> None:
    target = tmp_path / name
    with Image.open(ASTRONAUT) as a, Image.open(GRACE) as g:
        pages = [a.convert("RGB"), g.convert("RGB").resize(a.size), a.convert("RGB").rotate(180)]
    pages[0].save(target, save_all=True, append_images=pages[1 : 3 if name.endswith(".gif") else 2])
    assert swap(target, tmp_path / "out.png") == 0
    assert f"{target} {words}; only the first is swapped" in caplog.text
    if name.endswith(".gif"):
        assert "swap it as a video: convert to .mp4" in caplog.text


def test_single_frame_photo_gives_no_frame_warning(tmp_path: Path, caplog) -> None:
    read_image(ASTRONAUT)
    assert "only the first" not in caplog.text


def test_heic_photo_is_refused_by_name(tmp_path: Path, capsys) -> None:
    """A HEIC file's ISO media header (its ftyp box with the heic brand) and the start of its metadata box: no
    HEIC encoder exists here to make a whole one, and no decoder to read one."""
    heic = tmp_path / "IMG_0001.HEIC"
    ftyp = struct.pack(">I4s4sI", 24, b"ftyp", b"heic", 0) + b"mif1heic"
    heic.write_bytes(ftyp + struct.pack(">I4s", 40, b"meta") + bytes(32))
    assert swap(heic, tmp_path / "out.png") == 1
    err = capsys.readouterr().err
    assert "IMG_0001.HEIC: HEIC photos are not supported (convert to JPEG or PNG)" in err
