"""The application object and what the OS hands it: the QApplication with name, icon and theme, and photos
opened from the Finder or the Dock (macOS), which arrive as events rather than arguments."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFileOpenEvent, QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from enlighten_desktop import APP_NAME, __version__
from enlighten_desktop.resources import icons_dir
from enlighten_desktop.ui.settings import ORGANISATION
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


class FileOpenHandler(QObject):
    """Photos opened from the Finder or dropped on the Dock icon (macOS) reach the app as QFileOpenEvent on
    the QApplication, not as command-line arguments; installed on the application, this hands each one to
    ``open_paths``, the way command-line paths are opened."""

    def __init__(self, *, open_paths: Callable[[list[Path]], object], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._open_paths = open_paths

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if isinstance(event, QFileOpenEvent):
            path = event.file() or event.url().toLocalFile()
            if path:
                self._open_paths([Path(path)])
                return True
        return super().eventFilter(watched, event)
