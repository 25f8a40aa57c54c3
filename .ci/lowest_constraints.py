"""Print a pip constraints file that pins every dependency of pyproject.toml to its lower bound.

CI's second run installs `.[test]` with these constraints (`pip install --constraint`), so the oldest releases the
project claims to support are the ones tested. Every requirement must carry an exact `>=` floor that exists on PyPI.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def floors(pyproject: Path) -> dict[str, str]:
    """Map each normalised dependency name (core and all extras) to the version of its `>=` bound."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    result: dict[str, str] = {}
    for requirement in requirements:
        match = REQUIREMENT.match(requirement.split(";")[0])
        if match is None:
            raise SystemExit(f"lowest_constraints: cannot read requirement {requirement!r}")
        name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
        if name == project["name"]:
            continue  # the project's own extras ("ghostlive[torch,gui]")
        lower = [spec.strip()[2:].strip() for spec in match.group(3).split(",") if spec.strip().startswith(">=")]
        if len(lower) != 1:
            raise SystemExit(f"lowest_constraints: {requirement!r} needs exactly one '>=' lower bound")
        if name in result and result[name] != lower[0]:
            raise SystemExit(f"lowest_constraints: {name} has two different lower bounds")
        result[name] = lower[0]
    return result


def main() -> None:
    pyproject = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "pyproject.toml"
    sys.stdout.write("".join(f"{name}=={version}\n" for name, version in sorted(floors(pyproject).items())))


if __name__ == "__main__":
    main()
