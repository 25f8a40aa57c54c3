"""The bad-input corpus's builders (see :mod:`tests.bad_inputs`): each writes its inputs into an empty folder
``d`` and returns the ``ghostlive`` arguments (the README shows them, see ``BadInput.command``)."""


import os
import shutil
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ghostlive.faces import asset_path

from .conftest import DATA

GRACE = Path(asset_path("samples/grace_hopper.jpg"))
ASTRONAUT = Path(asset_path("samples/astronaut.png"))
CLIP = DATA / "megamind_3s.mp4"



# builders: each writes its inputs into ``d`` and returns argv -------------------------------------------------


def _photo(d: Path, name: str, data: bytes) -> Path:
    p = d / name
    p.write_bytes(data)
    return p


def _swap(target: Path | str, out: str = "out.png") -> list[str]:
    return ["swap", "--source", str(GRACE), "--target", str(target), "-o", out]


def _live(*extra: str, camera: str = "clip.mp4") -> list[str]:
    return ["live", "-q", "--source", str(GRACE), "--camera", camera, "--duration", "1", *extra]


def empty_image(d: Path) -> list[str]:
    """swap --target empty.jpg"""
    return _swap(_photo(d, "empty.jpg", b""))


def truncated_jpeg(d: Path) -> list[str]:
    """swap --target half.jpg"""
    data = GRACE.read_bytes()
    return _swap(_photo(d, "half.jpg", data[: len(data) // 2]))


def text_named_png(d: Path) -> list[str]:
    """swap --target notes.png"""
    return _swap(_photo(d, "notes.png", b"this is not a picture\n" * 20))


def video_named_jpg(d: Path) -> list[str]:
    """swap --target clip.jpg"""
    return _swap(_photo(d, "clip.jpg", CLIP.read_bytes()))


def png_bomb(d: Path) -> list[str]:
    """swap --target bomb.png"""
    small = d / "small.png"
    Image.new("RGB", (8, 8)).save(small)
    data = bytearray(small.read_bytes())
    small.unlink()
    ihdr = 16
    data[ihdr : ihdr + 8] = struct.pack(">II", 200_000, 200_000)
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", zlib.crc32(bytes(data[ihdr - 4 : ihdr + 13])))
    return _swap(_photo(d, "bomb.png", bytes(data)))


def tiff_bomb(d: Path) -> list[str]:
    """swap --target bomb.tiff"""
    p = d / "bomb.tiff"
    cv2.imwrite(str(p), np.zeros((8, 8, 3), np.float32))  # float RGB: a TIFF only OpenCV decodes
    data = bytearray(p.read_bytes())
    (offset,) = struct.unpack("<I", data[4:8])
    (count,) = struct.unpack("<H", data[offset : offset + 2])
    for i in range(count):
        entry = offset + 2 + 12 * i
        tag, kind = struct.unpack("<HH", data[entry : entry + 4])
        if tag in (256, 257):  # ImageWidth, ImageLength
            fmt = "<H" if kind == 3 else "<I"
            struct.pack_into(fmt, data, entry + 8, 60_000)
    p.write_bytes(bytes(data))
    return _swap(p)


def symlink_loop(d: Path) -> list[str]:
    """swap --source loop.jpg"""
    os.symlink("loop.jpg", d / "loop.jpg")
    return ["swap", "--source", "loop.jpg", "--target", str(ASTRONAUT), "-o", "out.png"]


def folder_named_jpg(d: Path) -> list[str]:
    """swap --target x.jpg/ -o out/"""
    (d / "x.jpg").mkdir()
    return _swap("x.jpg", "out")


def empty_folder(d: Path) -> list[str]:
    """swap --target empty/ -o out/"""
    (d / "empty").mkdir()
    return _swap("empty", "out")


def folder_with_failures(d: Path) -> list[str]:
    """swap --target photos/ -o out/"""
    (d / "photos").mkdir()
    shutil.copy(ASTRONAUT, d / "photos" / "a.png")
    (d / "photos" / "b.jpg").write_bytes(b"not a photo")
    cv2.imwrite(str(d / "photos" / "sky.png"), cv2.imread(str(ASTRONAUT))[:, 300:])
    return _swap("photos", "out")


def output_hard_link(d: Path) -> list[str]:
    """swap --target photo.png -o alias.png"""
    shutil.copy(ASTRONAUT, d / "photo.png")
    os.link(d / "photo.png", d / "alias.png")
    return _swap("photo.png", "alias.png")


def negative_tiles(d: Path) -> list[str]:
    """swap --tiles -3"""
    return [*_swap(ASTRONAUT), "--tiles", "-3"]


def la_png(d: Path) -> list[str]:
    """swap --target grey_alpha.png"""
    grey = cv2.cvtColor(cv2.imread(str(ASTRONAUT)), cv2.COLOR_BGR2GRAY)
    alpha = np.full_like(grey, 255)
    alpha[:40] = 0
    Image.fromarray(np.dstack([grey, alpha]), "LA").save(d / "grey_alpha.png")
    return _swap("grey_alpha.png")


def check_la(d: Path) -> None:
    with Image.open(d / "out.png") as out, Image.open(d / "grey_alpha.png") as src:
        assert out.mode == "LA", out.mode
        o, s = np.asarray(out), np.asarray(src)
    assert np.array_equal(o[..., 1], s[..., 1])  # alpha kept
    assert (np.abs(o[..., 0].astype(int) - s[..., 0]) > 10).mean() > 0.01  # and the face swapped


def float_tiff(d: Path) -> list[str]:
    """swap --target float.tiff"""
    cv2.imwrite(str(d / "float.tiff"), cv2.imread(str(ASTRONAUT)).astype(np.float32) / 255)
    return _swap("float.tiff")


def float_tiff_255(d: Path) -> list[str]:
    """swap --target float255.tiff"""
    cv2.imwrite(str(d / "float255.tiff"), cv2.imread(str(ASTRONAUT)).astype(np.float32))
    return _swap("float255.tiff")


def float_grey_tiff(d: Path) -> list[str]:
    """swap --target grey.tiff"""
    grey = cv2.cvtColor(cv2.imread(str(ASTRONAUT)), cv2.COLOR_BGR2GRAY).astype(np.float32) / 255
    Image.fromarray(grey, "F").save(d / "grey.tiff")
    return _swap("grey.tiff")


def deep_tiff(d: Path) -> list[str]:
    """swap --target deep.tiff"""
    cv2.imwrite(str(d / "deep.tiff"), cv2.imread(str(ASTRONAUT)).astype(np.uint16) * 257)
    return _swap("deep.tiff")


def check_swapped(grey: bool) -> Callable[[Path], None]:
    def check(d: Path) -> None:
        out = cv2.imread(str(d / "out.png"), cv2.IMREAD_UNCHANGED)
        original = cv2.imread(str(ASTRONAUT), cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR)
        assert out.shape == original.shape  # grey stays grey, colour stays colour
        diff = np.abs(out.astype(int) - original.astype(int))
        assert np.median(diff) <= 2  # decoded at the right brightness (not black, not clipped)
        assert (diff > 10).mean() > 0.01  # and the face was swapped

    return check


def live_record_over_camera(d: Path) -> list[str]:
    """live --camera clip.mp4 --record clip.mp4"""
    shutil.copy(CLIP, d / "clip.mp4")
    return _live("--record", "clip.mp4")


def live_record_hard_link(d: Path) -> list[str]:
    """live --camera clip.mp4 --record copy.mp4"""
    shutil.copy(CLIP, d / "clip.mp4")
    os.link(d / "clip.mp4", d / "copy.mp4")
    return _live("--record", "copy.mp4")


def live_record_symlink(d: Path) -> list[str]:
    """live --camera clip.mp4 --record alias.mp4"""
    shutil.copy(CLIP, d / "clip.mp4")
    os.symlink("clip.mp4", d / "alias.mp4")
    return _live("--record", "alias.mp4")


def live_record_over_source(d: Path) -> list[str]:
    """live --source face.jpg --record face.jpg"""
    shutil.copy(CLIP, d / "clip.mp4")
    shutil.copy(GRACE, d / "face.jpg")
    return ["live", "-q", "--source", "face.jpg", "--camera", "clip.mp4", "--duration", "1", "--record", "face.jpg"]


def live_record_over_reference(d: Path) -> list[str]:
    """live --reference bob.jpg --record bob.jpg"""
    shutil.copy(CLIP, d / "clip.mp4")
    shutil.copy(ASTRONAUT, d / "bob.jpg")
    return _live("--faces", "reference", "--reference", "bob.jpg", "--record", "bob.jpg")


def live_record_unknown_format(d: Path) -> list[str]:
    """live --record rec.xyz"""
    shutil.copy(CLIP, d / "clip.mp4")
    return _live("--record", "rec.xyz")


def live_bad_stream_address(d: Path) -> list[str]:
    """live --stream 127.0.0.1:abc"""
    shutil.copy(CLIP, d / "clip.mp4")
    return _live("--stream", "127.0.0.1:abc")


def live_missing_camera_file(d: Path) -> list[str]:
    """live --camera missing.mp4"""
    return _live(camera="missing.mp4")


def live_folder_as_camera(d: Path) -> list[str]:
    """live --camera clips/"""
    (d / "clips").mkdir()
    return _live(camera="clips")


def live_text_as_camera(d: Path) -> list[str]:
    """live --camera notes.jpg"""
    _photo(d, "notes.jpg", b"this is not a picture\n" * 20)
    return _live(camera="notes.jpg")


def live_url_camera_down(d: Path) -> list[str]:
    """live --camera http://127.0.0.1:1/cam.mjpg"""
    return _live(camera="http://127.0.0.1:1/cam.mjpg")  # port 1: refused at once, nothing listens there


def _store(d: Path) -> Path:
    from ghostlive.hub import ModelStore

    ModelStore(d / "home")  # the folders a first run creates; not what is tested
    return d / "home"


def text_named_onnx(d: Path) -> list[str]:
    """models import inswapper_128.onnx"""
    _store(d)
    _photo(d, "inswapper_128.onnx", b"hello\n")
    return ["models", "import", "inswapper_128.onnx"]


def wrong_onnx_signature(d: Path) -> list[str]:
    """models import inswapper_128.onnx"""
    from .onnx_graphs import landmark106

    _store(d)
    _photo(d, "inswapper_128.onnx", landmark106(np.zeros(212, np.float32)))
    return ["models", "import", "inswapper_128.onnx"]


def text_named_pth(d: Path) -> list[str]:
    """models import backbone.pth"""
    _store(d)
    _photo(d, "backbone.pth", b"hello\n")
    return ["models", "import", "backbone.pth"]


def wrong_checkpoint(d: Path) -> list[str]:
    """models import G_unet_2blocks.pth"""
    import torch

    _store(d)
    torch.save({"conv.weight": torch.zeros(4, 3, 3, 3)}, d / "G_unet_2blocks.pth")
    return ["models", "import", "G_unet_2blocks.pth"]


def unknown_model_file(d: Path) -> list[str]:
    """models import notes.txt"""
    _store(d)
    _photo(d, "notes.txt", b"hello\n")
    return ["models", "import", "notes.txt"]
