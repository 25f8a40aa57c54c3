"""The one error hierarchy of ghostlive.

Every error raised on purpose by the library derives from :class:`GhostliveError`. Leaves also inherit the
matching built-in exception, so callers that only know ``ValueError`` or ``FileNotFoundError`` still catch them.
Messages name the file (when there is one) and the problem.
"""

from __future__ import annotations

from pathlib import Path


class GhostliveError(Exception):
    """Root of every error that ghostlive raises deliberately."""

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.message = message
        """The problem, without the file's name."""
        self.path = None if path is None else Path(path)
        shown = path if isinstance(path, str) and "://" in path else self.path  # a URL keeps its "//"
        super().__init__(f"{shown}: {message}" if self.path is not None else message)


class InputNotFoundError(GhostliveError, FileNotFoundError):
    """An input file does not exist."""


class InvalidInputError(GhostliveError, ValueError):
    """An input exists but cannot be used (unreadable, truncated, wrong kind, too large, ...)."""


class NoFaceError(GhostliveError, ValueError):
    """No usable face was found where one is required."""


class OutputError(GhostliveError, OSError):
    """An output cannot be written where asked (missing folder, same as an input, ...)."""


class ModelError(GhostliveError, RuntimeError):
    """A model is missing, corrupt, or does not have the expected inputs and outputs."""


class BackendUnavailableError(GhostliveError, RuntimeError):
    """No inference backend could run a model; the message lists why each one was unavailable."""


class ConfigError(GhostliveError, ValueError):
    """A setting has a value that is not allowed."""


class CancelledError(GhostliveError):
    """The user stopped a running job: it left no partial output (a fine-tune keeps its last checkpoint)."""


class PlatformError(GhostliveError, RuntimeError):
    """The machine lacks something a feature needs outside Python (a display, system libraries)."""
