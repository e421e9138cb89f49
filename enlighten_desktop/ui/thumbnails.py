"""Queue thumbnails, decoded in a worker (a raw file or a 24-MP JPEG takes a while even at preview size)."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QImage

from enlighten_desktop.engine.imageio import read_preview
from enlighten_desktop.ui.imaging import to_qimage
from enlighten_desktop.ui.queue_model import QueueModel
from enlighten_desktop.ui.workers import WorkerPool, call_work

log = logging.getLogger(__name__)

THUMBNAIL_SIDE = 96  # pixels; drawn at 48 logical px, so sharp at 200 % display scaling



def _thumbnail(source: Path) -> QImage:
    return to_qimage(read_preview(source, max_side=THUMBNAIL_SIDE))


def _no_thumbnail(source: Path, error: Exception) -> None:
    # An unreadable file gets no thumbnail; its real error shows when the item is processed.
    log.info("No thumbnail for %s: %s", source, error)

class ThumbnailLoader(QObject):
    def __init__(self, *, queue: QueueModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self._pool = WorkerPool(threads=1, parent=self)

    def request(self, sources: list[Path]) -> None:
        for source in sources:
            self._pool.run(call_work(partial(_thumbnail, source)), on_success=partial(self._on_ready, source),
                           on_failure=partial(_no_thumbnail, source))

    def _on_ready(self, source: Path, image: QImage) -> None:
        self.queue.set_thumbnail(source, image)

    def shutdown(self) -> None:
        self._pool.cancel_all()
        self._pool.wait()
