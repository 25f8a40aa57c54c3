"""Writing an output lands where ``open()`` would: through a symbolic link to its target, keeping an existing
file's permissions; a FIFO, device or write-protected file is refused by name; long valid names are written (the
temporary name is shortened to fit), names the file system cannot take are refused before any work; leftovers
of an interrupted write are recognisable (``.NAME.ghostlive-XXXXXXXX.part``)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from ghostlive.cli import main
from ghostlive.config import load_settings, save_settings
from ghostlive.errors import OutputError
from ghostlive.media import paths
from ghostlive.media.image import check_output_path, write_image

from .conftest import sample

ASTRONAUT = sample("astronaut.png")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_an_output_symlink_is_written_through_and_keeps_the_mode(tmp_path: Path, astronaut) -> None:
    real = tmp_path / "real" / "p6.png"
    real.parent.mkdir()
    real.write_text("OLD\n")
    real.chmod(0o600)
    link = tmp_path / "l6.png"
    link.symlink_to(real)
    check_output_path(link)
    write_image(link, astronaut)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes().startswith(b"\x89PNG")
    assert stat.S_IMODE(real.stat().st_mode) == 0o600  # not widened to 0644 for other users to read
    assert cv2.imread(str(real)).shape == astronaut.shape
    assert leftovers(tmp_path) == [] and leftovers(real.parent) == []


def test_an_existing_output_keeps_its_mode_a_new_one_gets_that_of_open(tmp_path: Path, astronaut) -> None:
    private = tmp_path / "private.png"
    private.write_text("OLD\n")
    private.chmod(0o600)
    write_image(private, astronaut)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and private.read_bytes().startswith(b"\x89PNG")
    out = write_image(tmp_path / "new.png", astronaut)
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


def test_a_settings_file_linked_from_dotfiles_is_updated_in_place(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles" / "settings.toml"
    dotfiles.parent.mkdir()
    save_settings(load_settings(tmp_path / "none.toml"), dotfiles)
    conf = tmp_path / "config" / "settings.toml"
    conf.parent.mkdir()
    conf.symlink_to(dotfiles)
    settings = load_settings(conf)
    settings.output_folder = str(tmp_path / "results")
    save_settings(settings, conf)
    assert conf.is_symlink()
    assert load_settings(dotfiles).output_folder == str(tmp_path / "results")


def test_a_fifo_output_is_refused_by_name(tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "ff.png"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match=r"ff\.png: is a FIFO \(named pipe\), not a file an output may replace"):
        check_output_path(fifo)
    assert main(["demo", "-o", str(fifo)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"ghostlive: error: {fifo}: is a FIFO (named pipe), not a file an output may replace; choose " \
        "another output path"  # fmt: skip
    fd, tmp = paths.mkstemp_beside(fifo)
    os.close(fd)
    with pytest.raises(OutputError, match="FIFO"):
        paths.publish(tmp, fifo)  # the last word, also for writers that checked nothing
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    with pytest.raises(OutputError, match="is a device"):
        paths.check_replaceable("/dev/null")


def test_a_write_protected_output_is_refused(tmp_path: Path) -> None:
    """Without DAC override (a plain user; root made one by dropping the capability), as ``open()`` would."""
    folder = tmp_path / "out"
    folder.mkdir()
    locked = folder / "locked.png"
    shutil.copy(ASTRONAUT, locked)
    locked.chmod(0o444)
    code = (
        "import sys\nfrom ghostlive.errors import OutputError\nfrom ghostlive.media.paths import atomic_write_bytes\n"
        "try:\n    atomic_write_bytes(sys.argv[1], b'new')\nexcept OutputError as e:\n    print(e)\n"
    )
    cmd = [sys.executable, "-c", code, str(locked)]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to run without the DAC override capability")
        drop = "-dac_override,-dac_read_search"
        cmd = ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", *cmd]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).parents[1], check=True)
    assert run.stdout.strip() == f"{locked}: the file is write-protected; make it writable or choose another " \
        "output path"  # fmt: skip
    assert locked.read_bytes() == ASTRONAUT.read_bytes()
    assert stat.S_IMODE(locked.stat().st_mode) == 0o444 and leftovers(folder) == []


def test_a_long_valid_name_is_written(tmp_path: Path, astronaut) -> None:
    out = tmp_path / ("k" * 237 + ".png")  # 241 bytes: allowed, but not with 15 more for the temporary name
    check_output_path(out)
    write_image(out, astronaut)
    assert cv2.imread(str(out)).shape == astronaut.shape and leftovers(tmp_path) == []
    wide = tmp_path / ("é" * 125 + ".mp4")  # 254 bytes in UTF-8
    fd, tmp = paths.mkstemp_beside(wide, keep_suffix=True)
    os.close(fd)
    assert len(os.fsencode(tmp.name)) <= 255 and tmp.name.endswith(".part.mp4") and ".ghostlive-" in tmp.name
    assert tmp.parent == tmp_path and tmp.name.startswith(".éé")


def test_a_name_the_file_system_cannot_take_is_refused_before_any_work(tmp_path: Path, capsys) -> None:
    out = tmp_path / ("k" * 260 + ".png")
    with pytest.raises(OutputError) as err:
        check_output_path(out)
    assert str(err.value) == f"{out}: file name too long (264 bytes; this file system allows 255)"
    assert main(["demo", "-o", str(out)]) == 1
    assert capsys.readouterr().err.strip() == f"ghostlive: error: {err.value}"
    deep = tmp_path / ("d" * 300) / "x.png"
    with pytest.raises(OutputError, match=r"x\.png: folder name d+… too long \(300 bytes"):
        check_output_path(deep)


def test_temporary_files_are_recognisable(tmp_path: Path) -> None:
    fd, tmp = paths.mkstemp_beside(tmp_path / "photo.png")
    os.close(fd)
    assert tmp.name.startswith(".photo.png.ghostlive-") and tmp.name.endswith(".part")
    fd, tmp = paths.mkstemp_beside(tmp_path / "v.mp4", keep_suffix=True)
    os.close(fd)
    assert tmp.name.startswith(".v.ghostlive-") and tmp.name.endswith(".part.mp4")
    paths.atomic_write_bytes(tmp_path / "a.json", b"{}")
    assert (tmp_path / "a.json").read_bytes() == b"{}"
