"""Run import-linter's layer contracts (pyproject.toml, [tool.importlinter]) on ghostlive as it is installed.

The repository keeps engines/, export/, ui/ and training/ at the top level and installs them as ghostlive.*
(pyproject's package-dir); import-linter reads packages from the file system, so this stages a copy of the
installed layout (Python files only) in a temporary folder and runs ``lint-imports`` there. Arguments are passed
on to ``lint-imports``; the exit status is its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stage(into: Path) -> None:
    """Copy every package of pyproject's package-dir mapping to where it is installed, below ``into``."""
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    for package, folder in sorted(mapping.items()):  # 'ghostlive' first, then its subpackages
        shutil.copytree(
            ROOT / folder,
            into.joinpath(*package.split(".")),
            ignore=shutil.ignore_patterns("__pycache__", "*.onnx", "*.json", "*.png", "*.jpg", "NOTICE"),
            dirs_exist_ok=True,
        )


def lint(staged: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with pyproject's contracts on the packages staged in ``staged``."""
    cmd = [str(Path(sys.executable).with_name("lint-imports")), str(ROOT / "pyproject.toml"), "--no-cache", "--no-logo"]
    env = {"PYTHONPATH": str(staged), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return subprocess.run([*cmd, *args], cwd=staged, env=env, capture_output=capture, text=True, check=False)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="ghostlive-imports-") as tmp:
        stage(Path(tmp))
        return lint(Path(tmp), *argv).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
