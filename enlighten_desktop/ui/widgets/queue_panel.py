"""The batch queue panel: one row per photo with thumbnail, status, progress and error, plus controls."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from enlighten_desktop.ui.queue_model import MESSAGE, NAME, PROGRESS, STATUS, QueueModel
from enlighten_desktop.ui.widgets.export_options import ExportOptionsWidget


class ProgressDelegate(QStyledItemDelegate):
    """Draws the progress column as a progress bar."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(4, 12, -4, -12)
        bar.minimum, bar.maximum = 0, 100
        bar.progress = int(index.data() or 0)
        bar.text = f"{bar.progress} %"
        bar.textVisible = True
        bar.state = option.state
        QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class QueuePanel(QWidget):
    """The table and the buttons; the main window connects the buttons to the BatchRunner."""

    def __init__(self, *, queue: QueueModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        self.table = QTableView()
        self.table.setModel(queue)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setIconSize(QSize(48, 48))
        self.table.verticalHeader().setDefaultSectionSize(56)
        self.table.verticalHeader().hide()
        self.table.setItemDelegateForColumn(PROGRESS, ProgressDelegate(self.table))
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(STATUS, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(MESSAGE, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(NAME, 190)
        header.resizeSection(STATUS, 90)
        header.resizeSection(PROGRESS, 90)
        layout.addWidget(self.table, 1)
        side = QVBoxLayout()
        layout.addLayout(side)

        buttons = QGridLayout()
        self.add = QPushButton("Add…")
        self.export = QPushButton("Export")
        self.export.setDefault(True)
        self.export.setToolTip("Enhance every pending photo and write the results (Ctrl+E)")
        self.pause = QPushButton("Pause")
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Cancel the selected photos")
        self.cancel_all = QPushButton("Cancel all")
        self.retry = QPushButton("Retry failed")
        self.remove = QPushButton("Remove")
        self.open_folder = QPushButton("Open output folder")
        self.open_folder.setEnabled(False)
        for i, button in enumerate((self.add, self.export, self.pause, self.cancel, self.cancel_all,
                                    self.retry, self.remove, self.open_folder)):
            buttons.addWidget(button, i // 2, i % 2)
        side.addLayout(buttons)

        options_box = QGroupBox("Export options")
        box_layout = QVBoxLayout(options_box)
        self.options = ExportOptionsWidget()
        box_layout.addWidget(self.options)
        side.addWidget(options_box)
        side.addStretch(1)

    def selected_rows(self) -> list[int]:
        return sorted({index.row() for index in self.table.selectionModel().selectedRows()})
