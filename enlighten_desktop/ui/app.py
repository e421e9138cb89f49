"""Start the desktop app: ``run(paths)`` is what ``python -m enlighten_desktop [photos…]`` calls."""

from __future__ import annotations

import logging
import signal
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from enlighten_desktop.ui.application import FileOpenHandler, make_application
from enlighten_desktop.ui.main_window import MainWindow
from enlighten_desktop.ui.review_host import serve_other_instances
from enlighten_desktop.ui.settings import AppSettings
from enlighten_desktop.ui.single_instance import hand_open


def start_main_window(paths: Sequence[str | Path], *, app: QApplication, settings: AppSettings,
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
    serve_other_instances(settings=window.settings, models=window.models, parent=app,
                          open_paths=window.open_handed_over)
    # Ctrl+C in the terminal that launched the app closes the window properly (queue and settings saved).
    # Python runs signal handlers only between bytecodes, so a timer gives it the chance while Qt waits.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    heartbeat = QTimer(interval=250)
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start()
    return app.exec()
