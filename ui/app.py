"""``ghostlive gui``: the desktop application."""

from __future__ import annotations

import sys


def run_gui(argv: list[str] | None = None) -> int:
    from ghostlive.ui.main_window import MainWindow
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(argv or sys.argv)
    window = MainWindow()
    window.show()
    return int(app.exec())
