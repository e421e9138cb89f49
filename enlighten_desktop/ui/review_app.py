"""``enlighten-desktop edit FILE`` with a window: hand FILE to the running instance, or become it.

The running instance, whether the main window (``serve_other_instances``, from ``app.run``) or the process
that opened the first review window, listens for later ``edit`` calls (``single_instance``) and opens a
review window for each file they send, sharing its loaded models; each caller waits for its own file's
outcome. An ``edit`` process that became the running instance exits when its last window closes, with its
own file's outcome as exit status (``edit_command.EXIT_STATUS``). It has no main window, so it refuses the
photos a later plain launch offers, and that launch opens its own window.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Slot

from enlighten_desktop.cli import build_parser
from enlighten_desktop.edit_command import EXIT_STATUS, FAILED
from enlighten_desktop.engine.inplace import edit_path
from enlighten_desktop.ui.app import make_application
from enlighten_desktop.ui.models import EngineConfig, ModelCache
from enlighten_desktop.ui.review_window import ReviewWindow
from enlighten_desktop.ui.settings import AppSettings
from enlighten_desktop.ui.single_instance import EditRequest, InstanceServer, Outcome, hand_off

log = logging.getLogger(__name__)

START_ATTEMPTS = 20  # x 250 ms: how long to wait for an instance that is starting up at the same moment


class ReviewHost(QObject):
    """Opens review windows (one per file) on shared settings and loaded models."""

    def __init__(self, *, settings: AppSettings, model_path: Path | None = None,
                 models: ModelCache | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.model_path = model_path
        self.models = models or ModelCache()
        self.windows: list[ReviewWindow] = []

    def config(self) -> EngineConfig:
        return self.settings.engine_config(model_path=self.model_path)

    def open(self, path: Path) -> ReviewWindow:
        window = ReviewWindow(path=edit_path(path), settings=self.settings, config=self.config(),
                              models=self.models)
        self.windows.append(window)
        # Forgotten only after the close has been handled: dropping the last reference inside closeEvent
        # would delete the window while Qt is still closing it.
        window.finished.connect(lambda _outcome: QTimer.singleShot(0, lambda: self.windows.remove(window)))
        window.resize(1200, 800)
        window.show()
        window.raise_()
        window.activateWindow()
        return window

    @Slot(object)
    def open_request(self, request: EditRequest) -> None:
        """A file sent by another ``edit`` process: review it and answer that process when done."""
        self.open(request.path).finished.connect(request.answer)


def serve_other_instances(*, settings: AppSettings, models: ModelCache | None = None, parent: QObject,
                          name: str | None = None,
                          open_paths: Callable[[list[Path]], object] | None = None) -> ReviewHost | None:
    """Make this process (the main window's) the running instance that ``edit`` calls hand their files to,
    opening their review windows on ``settings`` and ``models``, and that later launches hand their photos
    to (``open_paths``); None when another instance already is."""
    server = InstanceServer(name=name, parent=parent)
    if not server.listen():
        return None
    host = ReviewHost(settings=settings, models=models, parent=server)
    server.edit_requested.connect(host.open_request)
    if open_paths is not None:
        server.accepts_open = True
        server.open_requested.connect(open_paths)
    return host


def _hand_off_or_listen(path: Path, server: InstanceServer) -> Outcome | None:
    """The outcome from the running instance, or None once this process has become the running one."""
    for _attempt in range(START_ATTEMPTS):
        outcome = hand_off(path, name=server.name)
        if outcome is not None:
            return outcome
        if server.listen():
            return None
        time.sleep(0.25)  # another instance holds the start-up lock and is not listening yet
    return Outcome(FAILED, "Another Enlighten Desktop is starting but does not answer; try again.")


def run_edit(argv: list[str]) -> int:
    """``enlighten-desktop edit FILE [options]`` without --apply; returns the exit status."""
    args = build_parser().parse_args(["edit", *argv])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    path = edit_path(args.file)
    app = make_application()
    server = InstanceServer(parent=app)
    outcome = _hand_off_or_listen(path, server)
    if outcome is None:
        host = ReviewHost(settings=AppSettings(), model_path=args.model, parent=app)
        server.edit_requested.connect(host.open_request)
        own = host.open(path)
        app.exec()
        server.close()
        outcome = own.outcome or Outcome(FAILED, "The window closed without an answer.")
    # On stderr, for the host's log: what became of the file.
    log.log(logging.ERROR if outcome.result == FAILED else logging.INFO, "%s", outcome.message)
    return EXIT_STATUS.get(outcome.result, EXIT_STATUS[FAILED])


def main() -> int:
    """``enlighten-desktop-edit FILE``: what Lightroom's "Edit In" and Capture One's "Edit With" start, since
    they pass the file alone, with no sub-command. Same as ``enlighten-desktop edit FILE``."""
    return run_edit(sys.argv[1:])
