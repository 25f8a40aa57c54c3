"""A swapped photo is stored as its original was: a WebP result is lossy when the photo was (JPEG, lossy WebP) and
lossless when it was not (PNG, lossless WebP), with or without a colour profile; what the result's format cannot
keep (transparency in a JPEG, 16-bit samples) is said in a warning naming the output."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from ghostlive.cli import main
from ghostlive.media.image import read_image
from ghostlive.media.image_kinds import lossy_webp

from .conftest import sample

GRACE = str(sample("grace_hopper.jpg"))
ASTRONAUT = sample("astronaut.png")


def swap(target: Path, out: Path) -> int:
    return main(["swap", "-q", "--tiles", "0", "--source", GRACE, "--target", str(target), "-o", str(out)])


def astronaut_as(path: Path, **options) -> Path:
    with Image.open(ASTRONAUT) as im:
        im.convert("RGB").save(path, **options)
    return path


@pytest.mark.parametrize("icc", [False, True])
@pytest.mark.parametrize(
    ("name", "options", "lossy"),
    [
        ("photo.jpg", {"quality": 90}, True),
        ("photo.webp", {"quality": 80}, True),
        ("photo.png", {}, False),
        ("photo.webp", {"lossless": True}, False),
    ],
)
def test_a_webp_result_is_lossy_only_when_the_photo_was(
    tmp_path: Path, name: str, options: dict, lossy: bool, icc: bool
) -> None:
    if icc:
        options = {**options, "icc_profile": ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()}
    target = astronaut_as(tmp_path / name, **options)
    assert read_image(target).lossy == lossy
    out = tmp_path / "out.webp"
    assert swap(target, out) == 0
    assert lossy_webp(out) == lossy  # before: always lossless (a JPEG's result 5-10 times its size)
    if lossy:
        assert out.stat().st_size < 0.4 * astronaut_as(tmp_path / "lossless.webp", lossless=True).stat().st_size


def test_transparency_a_jpeg_cannot_hold_is_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Image.open(ASTRONAUT) as im:
        rgba = im.convert("RGBA")
    alpha = np.full(rgba.size[::-1], 255, np.uint8)
    alpha[:, :40] = 0  # a transparent strip down the left
    rgba.putalpha(Image.fromarray(alpha))
    rgba.save(tmp_path / "cutout.png")
    with caplog.at_level(logging.WARNING):
        assert swap(tmp_path / "cutout.png", tmp_path / "out.jpg") == 0
        assert swap(tmp_path / "cutout.png", tmp_path / "out.png") == 0
    lines = [r.getMessage() for r in caplog.records if "transparency" in r.getMessage()]
    assert lines == [
        f"{tmp_path / 'out.jpg'}: .jpg has no transparency; the photo's is dropped "
        "(write .png, .tiff, .webp to keep it)"
    ]


def test_a_16_bit_photo_written_in_8_bits_is_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Image.open(ASTRONAUT) as im:
        grey16 = (np.asarray(im.convert("L"), np.uint16) * 257).astype(np.uint16)
    Image.fromarray(grey16).save(tmp_path / "deep.png")
    assert read_image(tmp_path / "deep.png").bit_depth == 16
    with caplog.at_level(logging.WARNING):
        assert swap(tmp_path / "deep.png", tmp_path / "out.png") == 0
    assert f"{tmp_path / 'out.png'}: written with 8 bits per sample (the photo has 16)" in caplog.text
