"""Review windows opened for files that ``enlighten-desktop edit`` hands over, in whichever process is the
running instance: the main window's (``app.run`` calls ``serve_other_instances``) or the first ``edit``
process's (``review_app``). Each window shares the host's settings and loaded models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Slot

from enlighten_desktop.engine.inplace import edit_path
from enlighten_desktop.ui.models import EngineConfig, ModelCache
from enlighten_desktop.ui.review_window import ReviewWindow
from enlighten_desktop.ui.settings import AppSettings
from enlighten_desktop.ui.single_instance import EditRequest, InstanceServer


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
