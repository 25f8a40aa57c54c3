"""The bad-input corpus (tests/bad_inputs.py) through the real command line, and the README table made from it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from ghostlive.cli import main

from .bad_inputs import CASES, BadInput, markdown_table

README = Path(__file__).resolve().parent.parent / "README.md"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones and temporaries included) with its SHA-256; links as links."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_symlink():
            out[rel] = "link→" + str(p.readlink())
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse refuses bad option values itself
        return int(exc.code or 0)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: BadInput, tmp_path: Path, capsys, monkeypatch) -> None:
    pytest.importorskip("av")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    argv = case.make(tmp_path)
    before = snapshot(tmp_path)
    code = run(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "unexpected error" not in err, err
    assert code == case.code, (out, err)
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k not in case.new_files} == before  # inputs intact, no leftovers
    assert sorted(set(after) - set(before)) == sorted(case.new_files)
    if case.code == 0:
        assert case.check is not None
        case.check(tmp_path)
        return
    last = (out if case.on_stdout else err).strip().splitlines()[-1]
    assert case.message in last and case.names in last, last
    if case.code == 1 and not case.on_stdout:
        assert err.strip() == last  # one line, starting with the file it is about
        assert re.match(rf"ghostlive: error: (\S*/)?{re.escape(case.names)}: ", last), last
    if case.code == 1 and not case.new_files:
        assert not (tmp_path / "out").exists()  # no empty output folder either


def test_readme_table_is_the_corpus() -> None:
    text = README.read_text()
    section = re.search(r"### Bad inputs\n(.*?)(?=\n#)", text, re.S)
    assert section is not None, "README has no '### Bad inputs' section"
    assert markdown_table() in section.group(1), "README table out of date: run python -m tests.bad_inputs"
    assert f"{len(CASES)} bad inputs" in section.group(1)


@pytest.mark.parametrize("case_id", ["live-url-down", "live-missing-camera", "truncated"])
def test_bad_input_in_a_real_process_prints_one_line(case_id: str, tmp_path: Path) -> None:
    """The same in a process of its own, as a user runs it: what the libraries underneath write straight to the
    terminal (OpenCV's and FFmpeg's own logs for a camera that cannot open) counts too, and there is none."""
    import os
    import subprocess
    import sys

    case = next(c for c in CASES if c.id == case_id)
    argv = case.make(tmp_path)
    env = {**os.environ, "GHOSTLIVE_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-m", "ghostlive", *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == case.code
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and case.message in proc.stderr, proc.stderr
