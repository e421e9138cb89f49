"""The batch queue as a Qt table model, persisted through the engine's BatchState.

Every change of an item's status is written (atomically, by BatchState) to the queue file, so a crash or
quit loses nothing: on the next start the queue comes back, items that were running are pending again and
finished items stay finished (they are not redone).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QImage

from enlighten_desktop.engine.batch_state import BatchState
from enlighten_desktop.engine.errors import BatchStateError
from enlighten_desktop.engine.item import Status
from enlighten_desktop.engine.textenum import TextEnum
from enlighten_desktop.ui import theme

log = logging.getLogger(__name__)


class QueueStatus(TextEnum):
    """Where a queued photo stands: the engine's outcomes (Status) plus the queue's own states."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = Status.DONE.value
    SKIPPED = Status.SKIPPED.value
    FAILED = Status.FAILED.value
    CANCELLED = "cancelled"

    @classmethod
    def saved(cls, text: object) -> QueueStatus:
        """The status read back from the queue file; an unknown word (a newer version's) is pending."""
        try:
            return cls(text)
        except ValueError:
            return cls.PENDING


FINISHED = frozenset({QueueStatus.DONE, QueueStatus.SKIPPED})
RETRYABLE = frozenset({QueueStatus.FAILED, QueueStatus.CANCELLED})
# The queue file is the app's own: one identity, so BatchState never discards it as another batch's.
QUEUE_IDENTITY = {"kind": "enlighten-desktop-queue", "version": 1}

COLUMNS = ("Photo", "Status", "Progress", "Message")
NAME, STATUS, PROGRESS, MESSAGE = range(len(COLUMNS))
_STATUS_COLOURS = {
    QueueStatus.DONE: theme.OK, QueueStatus.SKIPPED: theme.WARNING, QueueStatus.FAILED: theme.ERROR,
    QueueStatus.CANCELLED: theme.WARNING, QueueStatus.RUNNING: theme.ACCENT,
}


@dataclass(frozen=True)
class QueueItem:
    source: Path
    root: Path  # the folder it was found under (outputs mirror the sub-folders below it)
    status: QueueStatus = QueueStatus.PENDING
    progress: float = 0.0  # 0..1 of the current run
    message: str | None = None
    output: Path | None = None


def open_queue_state(path: Path) -> BatchState:
    try:
        return BatchState.open(path, settings=QUEUE_IDENTITY)
    except BatchStateError as err:
        log.warning("Starting with an empty queue: %s", err)
        return BatchState(path=path, settings=QUEUE_IDENTITY)


class QueueModel(QAbstractTableModel):
    """Rows are QueueItems in queue order; ``state`` is saved after every structural or status change."""

    def __init__(self, *, state: BatchState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._items: list[QueueItem] = []
        self._thumbnails: dict[Path, QImage] = {}
        for key, saved in state.items.items():
            source = Path(key)
            status = QueueStatus.saved(saved.get("status"))
            # An item that was running when the app died is simply to be done again.
            status = QueueStatus.PENDING if status == QueueStatus.RUNNING else status
            message = saved.get("message")
            if status == QueueStatus.PENDING and not source.exists():
                # Moved or deleted since the queue was saved: say so now instead of leaving it "pending".
                status = QueueStatus.FAILED
                message = f"{source.name} was not found (looked in {source.parent})."
            self._items.append(QueueItem(
                source=source,
                root=Path(saved.get("root") or source.parent),
                status=status,
                progress=1.0 if status in FINISHED else 0.0,
                message=message,
                output=Path(saved["output"]) if saved.get("output") else None,
            ))

    # -- queries -------------------------------------------------------------------------------------
    def items(self) -> list[QueueItem]:
        return list(self._items)

    def item(self, row: int) -> QueueItem:
        return self._items[row]

    def row_of(self, source: Path) -> int | None:
        for row, item in enumerate(self._items):
            if item.source == source:
                return row
        return None

    def rows_with(self, statuses: frozenset[QueueStatus] | set[QueueStatus]) -> list[int]:
        return [row for row, item in enumerate(self._items) if item.status in statuses]

    def next_pending(self) -> int | None:
        rows = self.rows_with({QueueStatus.PENDING})
        return rows[0] if rows else None

    # -- changes -------------------------------------------------------------------------------------
    def add(self, pairs: list[tuple[Path, Path]]) -> list[Path]:
        """Append (file, root) pairs not yet queued; returns the sources that were added."""
        known = {item.source for item in self._items}
        new = []
        for source, root in pairs:
            source = source.resolve()
            if source not in known:
                known.add(source)
                new.append(QueueItem(source=source, root=root.resolve()))
        if new:
            first = len(self._items)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._items.extend(new)
            self.endInsertRows()
            self.save()
        return [item.source for item in new]

    def update(self, row: int, *, save: bool = True, **changes: Any) -> None:
        self._items[row] = replace(self._items[row], **changes)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        if save:
            self.save()

    def remove(self, rows: list[int]) -> None:
        for row in sorted(set(rows), reverse=True):
            self.beginRemoveRows(QModelIndex(), row, row)
            item = self._items.pop(row)
            self._thumbnails.pop(item.source, None)
            self.endRemoveRows()
        self.save()

    def set_thumbnail(self, source: Path, image: QImage) -> None:
        self._thumbnails[source] = image
        row = self.row_of(source)
        if row is not None:
            self.dataChanged.emit(self.index(row, NAME), self.index(row, NAME))

    def save(self) -> None:
        self.state.items = {
            str(item.source): {
                "root": str(item.root),
                "status": item.status.value,
                "output": str(item.output) if item.output else None,
                "message": item.message,
            }
            for item in self._items
        }
        try:
            self.state.save()
        except BatchStateError as err:
            # The queue on screen is still right; only its copy for the next launch is behind (disk full).
            log.warning("%s The queue will be saved again at its next change.", err)

    # -- Qt model ------------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        item = self._items[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == NAME:
                return item.source.name
            if column == STATUS:
                return item.status.capitalize()
            if column == PROGRESS:
                return round(item.progress * 100)
            if column == MESSAGE:
                return item.message or (str(item.output) if item.output else "")
        if role == Qt.ItemDataRole.DecorationRole and column == NAME:
            return self._thumbnails.get(item.source)
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.message or str(item.source)
        if role == Qt.ItemDataRole.ForegroundRole and column in (STATUS, MESSAGE):
            colour = _STATUS_COLOURS.get(item.status)
            return QColor(colour) if colour is not None else None
        return None
