"""``ghostlive gui``: the desktop application."""

from __future__ import annotations

import sys

from ghostlive.errors import PlatformError


def run_gui(argv: list[str] | None = None) -> int:
    """Open the main window. Qt is first tried in a subprocess: a platform plugin that cannot load (no display,
    missing system libraries) aborts its process, so here it becomes a one-line error instead of a core dump."""
    from ghostlive.ui.platform_probe import gui_problem

    problem = gui_problem()
    if problem:
        raise PlatformError(problem)
    from PySide6.QtWidgets import QApplication

    from ghostlive.session import Session
    from ghostlive.threads import apply_plan, plan_threads
    from ghostlive.ui.main_window import MainWindow

    apply_plan(plan_threads("live"))  # the app's main use is the live loop (ghostlive.threads)
    app = QApplication.instance() or QApplication(argv or sys.argv)
    window = MainWindow(session=Session())
    window.show()
    return int(app.exec())
