"""Checks shared by every reader of user files."""

from __future__ import annotations

import os
from pathlib import Path

from ghostlive.errors import InputNotFoundError, InvalidInputError


def require_file(path: str | os.PathLike[str], what: str = "file") -> Path:
    """``path`` as a Path if it is an existing, non-empty regular file; otherwise an error naming it."""
    p = Path(path)
    if not p.exists():
        raise InputNotFoundError(f"no such {what}", p)
    if not p.is_file():
        raise InvalidInputError("not a regular file", p)
    if p.stat().st_size == 0:
        raise InvalidInputError(f"the {what} is empty (0 bytes)", p)
    return p
