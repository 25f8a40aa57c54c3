"""The command line, end to end on real files, including every kind of bad input."""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ghostlive.cli import main
from ghostlive.faces import FaceAnalyzer

from .conftest import DATA, compose, sample

GRACE = sample("grace_hopper.jpg")
ASTRONAUT = sample("astronaut.png")


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean_failure(code: int, err: str, folder: Path, *names: str) -> None:
    assert code == 1
    assert err.startswith("ghostlive: error:") and "Traceback" not in err
    for n in names:
        assert n in err
    assert not list(folder.glob("out*")) and not list(folder.glob(".*part"))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_swap_writes_a_swapped_photo(tmp_path: Path, capsys, analyzer: FaceAnalyzer) -> None:
    out = tmp_path / "out.jpg"
    code, stdout, _ = run(capsys, "swap", "--source", GRACE, "--target", ASTRONAUT, "-o", out)
    assert code == 0 and "swapped 1 of 1" in stdout
    result = cv2.imread(str(out))
    original = cv2.imread(str(ASTRONAUT))
    assert result.shape == original.shape
    assert np.abs(result.astype(int) - original.astype(int)).mean() > 0.5
    assert len(analyzer.analyze(result)) == 1
    assert not list(tmp_path.glob(".*part"))
    umask = os.umask(0o022)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # like any file the user writes, not private


def test_demo_uses_bundled_samples(tmp_path: Path, capsys) -> None:
    code, _, _ = run(capsys, "demo", "-o", tmp_path / "demo.png")
    assert code == 0 and (tmp_path / "demo.png").stat().st_size > 10_000


def test_installed_entry_point(tmp_path: Path) -> None:
    exe = shutil.which("ghostlive")
    cmd = [exe] if exe else [sys.executable, "-m", "ghostlive"]
    proc = subprocess.run(
        [*cmd, "demo", "-o", str(tmp_path / "d.jpg")], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "d.jpg").exists()


def test_reference_selection_from_the_cli(tmp_path: Path, capsys, astronaut, grace, cameraman) -> None:
    canvas, spans = compose(astronaut, grace, cameraman)
    target = tmp_path / "group.png"
    cv2.imwrite(str(target), canvas)
    ref = tmp_path / "ref.jpg"
    cv2.imwrite(str(ref), cv2.resize(cameraman, None, fx=0.7, fy=0.7))
    out = tmp_path / "out.png"
    code, _, err = run(capsys, "swap", "--source", GRACE, "--target", target, "--reference", ref, "-o", out)
    assert code == 0, err
    result = cv2.imread(str(out))
    assert [bool((result[:, a:b] != canvas[:, a:b]).any()) for a, b in spans] == [False, False, True]


def test_reference_that_matches_nobody(tmp_path: Path, capsys, astronaut, grace) -> None:
    canvas, _ = compose(astronaut, grace)
    target = tmp_path / "pair.png"
    cv2.imwrite(str(target), canvas)
    code, _, err = run(
        capsys,
        "swap",
        "--source",
        GRACE,
        "--target",
        target,
        "--faces",
        "reference",
        "--reference",
        DATA / "messi5.jpg",
        "-o",
        tmp_path / "out.png",
    )
    assert_clean_failure(code, err, tmp_path, "matches the reference", "--similarity")


def test_face_index_out_of_range(tmp_path: Path, capsys) -> None:
    code, _, err = run(
        capsys,
        "swap",
        "--source",
        GRACE,
        "--target",
        ASTRONAUT,
        "--faces",
        "index",
        "--face-index",
        "3",
        "-o",
        tmp_path / "out.png",
    )
    assert_clean_failure(code, err, tmp_path, "face index 3")


def test_missing_file(tmp_path: Path, capsys) -> None:
    code, _, err = run(
        capsys, "swap", "--source", tmp_path / "nope.jpg", "--target", ASTRONAUT, "-o", tmp_path / "out.png"
    )
    assert_clean_failure(code, err, tmp_path, "nope.jpg", "no such file")


def test_zero_byte_file(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.jpg"
    empty.touch()
    code, _, err = run(capsys, "swap", "--source", GRACE, "--target", empty, "-o", tmp_path / "out.png")
    assert_clean_failure(code, err, tmp_path, "empty.jpg", "empty")


def test_truncated_image(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(GRACE.read_bytes()[: GRACE.stat().st_size // 2])
    code, _, err = run(capsys, "swap", "--source", broken, "--target", ASTRONAUT, "-o", tmp_path / "out.png")
    assert_clean_failure(code, err, tmp_path, "broken.jpg", "truncated")


def test_not_an_image(tmp_path: Path, capsys) -> None:
    text = tmp_path / "notes.png"
    text.write_text("this is not a picture\n" * 20)
    code, _, err = run(capsys, "swap", "--source", GRACE, "--target", text, "-o", tmp_path / "out.png")
    assert_clean_failure(code, err, tmp_path, "notes.png", "not an image")


def declaring(tmp_path: Path, name: str, w: int, h: int) -> Path:
    """A real 8×8 PNG whose header claims ``w``×``h`` pixels (its pixel data is then truncated)."""
    small = tmp_path / "small.png"
    Image.new("RGB", (8, 8)).save(small)
    data = bytearray(small.read_bytes())
    ihdr = 8 + 8  # signature, then length + "IHDR"
    data[ihdr : ihdr + 8] = struct.pack(">II", w, h)
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", zlib.crc32(bytes(data[ihdr - 4 : ihdr + 13])))
    out = tmp_path / name
    out.write_bytes(bytes(data))
    return out


def test_huge_declared_dimensions(tmp_path: Path, capsys) -> None:
    """A real PNG whose header claims 200000×200000 pixels (a decompression bomb) is refused before decoding."""
    bomb = declaring(tmp_path, "bomb.png", 200_000, 200_000)
    code, _, err = run(capsys, "swap", "--source", GRACE, "--target", bomb, "-o", tmp_path / "out.png")
    assert_clean_failure(code, err, tmp_path, "bomb.png", "too many pixels")


def test_the_pixel_limit_is_100_megapixels(tmp_path: Path) -> None:
    """95 MP passes the size check (Pillow's own warning at 89.5 MP refused it): this one then fails only for
    its truncated data; 101 MP is refused by the documented limit."""
    from ghostlive.errors import InvalidInputError
    from ghostlive.media.image import read_image

    with pytest.raises(InvalidInputError, match="damaged or truncated"):
        read_image(declaring(tmp_path, "p95.png", 9_500, 10_000))
    with pytest.raises(InvalidInputError, match=r"too many pixels \(10100×10000, more than the 100,000,000 allowed"):
        read_image(declaring(tmp_path, "p101.png", 10_100, 10_000))


def test_an_icon_over_pillows_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    """An ICO holds a PNG that Pillow decodes while opening it to learn its size: above Pillow's 89.5 MP it is
    refused as a decompression bomb before that decoding (95 MP here), whatever the 100 MP limit says."""
    from ghostlive.errors import InvalidInputError
    from ghostlive.media.image import read_image

    png = declaring(tmp_path, "inner.png", 9_500, 10_000).read_bytes()
    header = struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(png), 22)
    icon = tmp_path / "big.ico"
    icon.write_bytes(header + png)
    with pytest.raises(InvalidInputError, match="too many pixels to decode safely"):
        read_image(icon)


def test_pixel_limit_below_pillows_own(tmp_path: Path, astronaut: np.ndarray) -> None:
    from ghostlive.errors import InvalidInputError
    from ghostlive.media.image import read_image

    path = tmp_path / "big.png"
    cv2.imwrite(str(path), astronaut)
    with pytest.raises(InvalidInputError, match=r"too many pixels \(512×512"):
        read_image(path, max_pixels=100_000)


def test_alpha_png_keeps_its_alpha(tmp_path: Path, capsys, astronaut: np.ndarray) -> None:
    alpha = np.full(astronaut.shape[:2], 255, np.uint8)
    alpha[:40] = 0
    target = tmp_path / "alpha.png"
    cv2.imwrite(str(target), np.dstack([astronaut, alpha]))
    out = tmp_path / "out.png"
    code, _, err = run(capsys, "swap", "--source", GRACE, "--target", target, "-o", out)
    assert code == 0, err
    result = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert result.shape == (*astronaut.shape[:2], 4)
    assert np.array_equal(result[..., 3], alpha)
    assert (result[..., :3] != astronaut).any()


def test_sixteen_bit_png(tmp_path: Path, capsys, astronaut: np.ndarray) -> None:
    target = tmp_path / "deep.png"
    cv2.imwrite(str(target), astronaut.astype(np.uint16) * 257)
    out = tmp_path / "out.png"
    code, _, err = run(capsys, "swap", "--source", GRACE, "--target", target, "-o", out)
    assert code == 0, err
    result = cv2.imread(str(out))
    assert result.dtype == np.uint8 and result.shape == astronaut.shape
    assert np.abs(result.astype(int) - astronaut.astype(int)).max() > 30


def test_greyscale_target_stays_greyscale(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.png"
    code, _, err = run(capsys, "swap", "--source", GRACE, "--target", DATA / "cameraman_gray.png", "-o", out)
    assert code == 0, err
    assert cv2.imread(str(out), cv2.IMREAD_UNCHANGED).ndim == 2


def test_no_face_in_source(tmp_path: Path, capsys, astronaut: np.ndarray) -> None:
    sky = tmp_path / "shuttle.png"
    cv2.imwrite(str(sky), astronaut[:, 300:])
    code, _, err = run(capsys, "swap", "--source", sky, "--target", ASTRONAUT, "-o", tmp_path / "out.png")
    assert_clean_failure(code, err, tmp_path, "shuttle.png", "no face")


def test_no_face_in_target(tmp_path: Path, capsys, astronaut: np.ndarray) -> None:
    sky = tmp_path / "shuttle.png"
    cv2.imwrite(str(sky), astronaut[:, 300:])
    code, _, err = run(capsys, "swap", "--source", GRACE, "--target", sky, "-o", tmp_path / "out.png")
    assert_clean_failure(code, err, tmp_path, "shuttle.png", "no face")


def test_output_folder_missing(tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, "swap", "--source", GRACE, "--target", ASTRONAUT, "-o", tmp_path / "no" / "out.jpg")
    assert_clean_failure(code, err, tmp_path, "does not exist")
    assert not (tmp_path / "no").exists()


def test_output_equal_to_input_is_refused_and_input_kept(tmp_path: Path, capsys) -> None:
    target = tmp_path / "photo.png"
    shutil.copy(ASTRONAUT, target)
    before = digest(target)
    code, _, err = run(capsys, "swap", "--source", GRACE, "--target", target, "-o", target)
    assert code == 1 and "overwrite an input" in err and "photo.png" in err
    assert digest(target) == before
    link = tmp_path / "alias.png"
    os.symlink(target, link)
    code, _, err = run(capsys, "swap", "--source", GRACE, "--target", target, "-o", link)
    assert code == 1 and digest(target) == before


def test_unknown_output_format(tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, "swap", "--source", GRACE, "--target", ASTRONAUT, "-o", tmp_path / "out.xyz")
    assert_clean_failure(code, err, tmp_path, "unsupported output format")


def test_existing_output_is_replaced_atomically(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.jpg"
    out.write_bytes(b"old")
    code, _, _ = run(capsys, "swap", "--source", GRACE, "--target", ASTRONAUT, "-o", out)
    assert code == 0 and cv2.imread(str(out)) is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jpg"]


def test_bad_option_values(tmp_path: Path, capsys) -> None:
    for flag, value in (("--blend", "3"), ("--keep", "nose")):
        with pytest.raises(SystemExit) as exc:
            main(["swap", "--source", str(GRACE), "--target", str(ASTRONAUT), flag, value, "-o", str(tmp_path / "x")])
        assert exc.value.code == 2 and flag in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def bench_rows(out: str) -> list[list[str]]:
    """The per-size rows of ``ghostlive bench``: backend, frame, faces, five stages, total, fps, GPU MB, CPU ms."""
    return [ln.split() for ln in out.splitlines() if len(ln.split()) == 12 and "x" in ln.split()[1]]


def test_bench_of_the_classic_swapper_says_backends_do_not_apply(capsys) -> None:
    """``--backend all`` with the classic swapper: one row (it has no network to move), and a line saying so,
    not one identical ONNX Runtime row per backend."""
    code, out, _ = run(capsys, "bench", "--backend", "all", "--frames", "1", "--sizes", "320x240")
    assert code == 0 and len(bench_rows(out)) == 1
    assert "the classic swapper has no network to run on a backend" in out


@pytest.mark.parametrize("device", ["cpu", "portable"])
def test_bench_prints_numbers(capsys, device: str) -> None:
    code, out, _ = run(capsys, "bench", "--frames", "2", "--sizes", "640x480,1280x720", "--device", device)
    assert code == 0
    rows = bench_rows(out)
    assert [r[1] for r in rows] == ["640x480", "1280x720"]
    for cells in rows:
        stages = [float(c) for c in cells[3:8]]
        total, fps = float(cells[8]), float(cells[9])
        assert cells[2] == "1" and fps > 0 and abs(fps - 1000 / total) < 0.1  # one face swapped
        assert all(s >= 0 for s in stages) and sum(stages) <= total * 1.05
        assert float(cells[11]) > 0  # CPU ms per frame


def test_verbose_flag_works_before_and_after_the_command() -> None:
    """README: ``-v``/``-vv`` for logging; ``ghostlive swap … -v`` used to be refused as an unknown argument."""
    from ghostlive.cli import build_parser

    parser = build_parser()
    base = ["--source", "a.jpg", "--target", "b.jpg", "-o", "c.jpg"]
    assert parser.parse_args(["swap", *base]).verbose == 0
    assert parser.parse_args(["swap", *base, "-v"]).verbose == 1
    assert parser.parse_args(["-vv", "swap", *base]).verbose == 2
    assert parser.parse_args(["live", "--source", "a.jpg", "-vv"]).verbose == 2
