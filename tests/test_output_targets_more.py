"""More of how outputs land (see test_output_targets.py): where the file system cannot say how long a name may be
(Windows has no ``pathconf``; some file systems say "no limit"), another user replacing a file in a shared folder,
a symbolic link whose target has no video suffix, and the model store's own links."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from ghostlive.hub import ModelStore
from ghostlive.media import paths
from ghostlive.media.recorder import Recorder


def test_names_are_checked_where_the_file_system_cannot_say_its_limit(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out.json"
    monkeypatch.setattr(paths.os, "pathconf", lambda *_: -1)  # "no limit" (some FUSE file systems)
    paths.atomic_write_bytes(out, b"1")
    monkeypatch.delattr(paths.os, "pathconf")  # as on Windows
    paths.atomic_write_bytes(out, b"2")
    assert out.read_bytes() == b"2"
    with pytest.raises(paths.OutputError, match="too long"):
        paths.check_name_length(tmp_path / ("k" * 300 + ".png"))


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_another_user_replacing_a_shared_file_keeps_its_group_and_mode() -> None:
    """A folder shared by group 4242: user 4243 (a member) rewrites 4242's file (rw-rw----). The file becomes
    4243's but keeps group 4242 and its mode, so its first owner can still read and write it."""
    with tempfile.TemporaryDirectory(dir="/tmp") as shared:  # pytest's own folders are root's alone
        folder = Path(shared)
        folder.chmod(0o777)
        _rewrite_as_another_user(folder / "out.json")


def _rewrite_as_another_user(out: Path) -> None:
    out.write_bytes(b"old")
    os.chown(out, 4242, 4242)
    out.chmod(0o660)
    code = "import sys\nfrom ghostlive.media.paths import atomic_write_bytes\natomic_write_bytes(sys.argv[1], b'new')\n"
    user = ["setpriv", "--reuid=4243", "--regid=4243", "--groups=4242", "--inh-caps=-all", "--bounding-set=-all"]
    subprocess.run([*user, sys.executable, "-c", code, str(out)], check=True, cwd=Path(__file__).parents[1],
                   env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})  # fmt: skip
    st = out.stat()
    assert out.read_bytes() == b"new" and (st.st_uid, st.st_gid) == (4243, 4242)
    assert stat.S_IMODE(st.st_mode) == 0o660


def test_a_recording_through_a_link_takes_the_format_from_the_name_given(tmp_path: Path, astronaut) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (tmp_path / "out.mp4").symlink_to(store / "latest-take")  # the link's target has no suffix
    rec = Recorder(tmp_path / "out.mp4", fps=10.0)
    for i in range(3):
        rec.send(np.ascontiguousarray(astronaut[:256, :256]), 1.0 + i / 10)
    rec.close()
    assert rec.saved and (store / "latest-take").stat().st_size > 0 and (tmp_path / "out.mp4").is_symlink()


def test_a_recording_that_cannot_replace_its_file_names_it_once(tmp_path: Path, astronaut) -> None:
    out = tmp_path / "rec.mp4"
    rec = Recorder(out, fps=10.0)
    rec.send(np.ascontiguousarray(astronaut[:256, :256]), 1.0)
    os.mkfifo(out)  # appeared while recording
    with pytest.raises(paths.OutputError) as err:
        rec.close()
    assert str(err.value).count(str(out)) == 1 and "FIFO" in str(err.value)
    assert stat.S_ISFIFO(out.stat().st_mode) and [p.name for p in tmp_path.iterdir()] == ["rec.mp4"]


def test_the_model_store_replaces_a_link_to_a_shared_copy(tmp_path: Path) -> None:
    shared = tmp_path / "shared.onnx"
    shared.write_bytes(b"shared")
    shared.chmod(0o444)
    store = ModelStore(tmp_path)
    (store.root / "x.onnx").symlink_to(shared)
    staged = tmp_path / "staged.onnx"
    staged.write_bytes(b"mine")
    store._install(staged, "x.onnx", "test")
    assert not (store.root / "x.onnx").is_symlink() and (store.root / "x.onnx").read_bytes() == b"mine"
    assert shared.read_bytes() == b"shared"


def test_a_link_into_a_missing_folder_is_named_not_its_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "settings.toml"
    out.symlink_to(tmp_path / "nope" / "settings.toml")
    with pytest.raises(paths.OutputError) as err:
        paths.atomic_write_bytes(out, b"x = 1\n")
    assert str(err.value) == f"{out}: is a symbolic link into a folder that does not exist ({tmp_path / 'nope'})"
