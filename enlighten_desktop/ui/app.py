"""Start the desktop app: ``run(paths)`` is what ``python -m enlighten_desktop [photos…]`` calls."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from enlighten_desktop import APP_NAME, __version__
from enlighten_desktop.resources import icons_dir
from enlighten_desktop.ui.main_window import MainWindow
from enlighten_desktop.ui.settings import ORGANISATION, AppSettings
from enlighten_desktop.ui.theme import apply_dark_theme

APP_ICON = "enlighten.svg"


def app_icon() -> QIcon:
    return QIcon(str(icons_dir() / APP_ICON))


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, created once, with name, icon and the dark theme."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    # Fractional display scaling (125 %, 150 %) renders at the true factor instead of rounding.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    apply_dark_theme(app)
    return app


def run(paths: list[str]) -> int:
    """Open the main window with ``paths`` (photos and folders) queued; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = make_application()
    window = MainWindow(settings=AppSettings())
    window.show()
    # An `enlighten-desktop edit FILE` started meanwhile (by a photo editor) opens its review window here.
    from enlighten_desktop.ui.review_app import serve_edits  # imports this module: not at the top

    serve_edits(settings=window.settings, models=window.models, parent=app)
    if paths:
        window.add_paths([Path(p) for p in paths])
    # Ctrl+C in the terminal that launched the app closes the window properly (queue and settings saved).
    # Python runs signal handlers only between bytecodes, so a timer gives it the chance while Qt waits.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    heartbeat = QTimer(interval=250)
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start()
    return app.exec()
