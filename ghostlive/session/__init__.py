"""The session: everything the app does, without Qt (see :mod:`ghostlive.session.core`). The command line and the
desktop window both drive a :class:`Session`; the window is only a view of it."""

from ghostlive.session.core import Session, SessionEvents
from ghostlive.session.live import LiveRequest
from ghostlive.session.sources import SourceFace
from ghostlive.session.tasks import Event, Task

__all__ = ["Event", "LiveRequest", "Session", "SessionEvents", "SourceFace", "Task"]
