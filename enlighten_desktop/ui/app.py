"""Start the desktop app: ``run(paths)`` is what ``python -m enlighten_desktop [photos…]`` calls."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QFileOpenEvent, QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from enlighten_desktop import APP_NAME, __version__
from enlighten_desktop.resources import icons_dir
from enlighten_desktop.ui.main_window import MainWindow
from enlighten_desktop.ui.settings import ORGANISATION, AppSettings
from enlighten_desktop.ui.single_instance import hand_open
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


def start_main_window(paths: list[str | Path], *, app: QApplication, settings: AppSettings,
                      model_path: Path | None = None) -> MainWindow:
    """Show the main window with ``paths`` (photos and folders) queued; photos the OS opens later with the
    app (macOS Finder, Dock) are queued the same way."""
    window = MainWindow(settings=settings, model_path=model_path)
    window.show()
    # A child of the window: removed from the application together with the window.
    app.installEventFilter(FileOpenHandler(open_paths=window.add_paths, parent=window))
    if paths:
        window.add_paths([Path(p) for p in paths])
    return window


def run(paths: list[str]) -> int:
    """Open the main window with ``paths`` (photos and folders) queued; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = make_application()
    # A second launch (a double-click on a photo in Explorer or a file manager starts one) hands its photos
    # to the window already open rather than opening a second one over the same persisted queue.
    if hand_open([Path(p).resolve() for p in paths]):
        logging.getLogger(__name__).info("Handed %d path(s) to the running Enlighten Desktop.", len(paths))
        return 0
    window = start_main_window(paths, app=app, settings=AppSettings())
    # Later `enlighten-desktop edit FILE` calls (from a photo editor) open their review windows here, and
    # later launches hand their photos to this window.
    from enlighten_desktop.ui.review_app import serve_other_instances  # imports this module: not at the top

    serve_other_instances(settings=window.settings, models=window.models, parent=app,
                          open_paths=window.open_handed_over)
    # Ctrl+C in the terminal that launched the app closes the window properly (queue and settings saved).
    # Python runs signal handlers only between bytecodes, so a timer gives it the chance while Qt waits.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    heartbeat = QTimer(interval=250)
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start()
    return app.exec()
