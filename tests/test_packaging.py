"""The installed package (``pip install .``, not only the editable install CI uses) carries every module."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_folder_is_listed_for_a_regular_install() -> None:
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = set()
    for name, folder in setup["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            on_disk.add(".".join((name, *rel.parts)))
    # a nested mapping (ghostlive.engines -> engines/) is not also a subfolder of ghostlive/
    assert on_disk - set(setup["packages"]) == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert set(setup["packages"]) - on_disk == set()
