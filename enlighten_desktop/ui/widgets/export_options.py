"""Per-batch export options: output folder, format, bit depth, quality and file naming."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from enlighten_desktop.engine.formats import Format
from enlighten_desktop.engine.outputs import DEFAULT_TEMPLATE, OutputOptions, check_template
from enlighten_desktop.ui.widgets.path_row import path_row

# "" and 0 stand for "as the source" (None in OutputOptions): QComboBox cannot look up a None item.
FORMATS = (("Same as original", ""), ("JPEG", Format.JPEG.value), ("PNG", Format.PNG.value),
           ("TIFF", Format.TIFF.value), ("WebP", Format.WEBP.value))
BITS = (("Same as original", 0), ("8-bit", 8), ("16-bit", 16))


class ExportOptionsWidget(QWidget):
    """Edits an OutputOptions; originals are never overwritten (the engine refuses, and so do we)."""

    changed = Signal(object)  # OutputOptions

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("Beside each original")
        form.addRow("Folder", path_row(self.folder, self._browse, "Choose the output folder"))
        self.format = QComboBox()
        for label, value in FORMATS:
            self.format.addItem(label, value)
        form.addRow("Format", self.format)
        self.bits = QComboBox()
        for label, depth in BITS:
            self.bits.addItem(label, depth)
        form.addRow("Bit depth", self.bits)
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setToolTip("JPEG and WebP quality")
        form.addRow("Quality", self.quality)
        self.template = QLineEdit()
        self.template.setToolTip("{stem} is the original's name without extension")
        form.addRow("Name", self.template)
        self.set_options(OutputOptions())
        for signal in (self.folder.editingFinished, self.template.editingFinished):
            signal.connect(self._emit)
        self.format.currentIndexChanged.connect(self._emit)
        self.bits.currentIndexChanged.connect(self._emit)
        self.quality.valueChanged.connect(self._emit)

    def options(self) -> OutputOptions:
        folder = self.folder.text().strip()
        try:
            template = check_template(self.template.text().strip())
        except ValueError:
            template = DEFAULT_TEMPLATE  # e.g. a fixed name, which would make every output collide
        return OutputOptions(
            folder=Path(folder) if folder else None,
            format=Format(self.format.currentData()) if self.format.currentData() else None,
            bits=self.bits.currentData() or None,
            quality=self.quality.value(),
            template=template,
        )

    def set_options(self, options: OutputOptions) -> None:
        self.folder.setText(str(options.folder) if options.folder else "")
        chosen = options.format.value if options.format else ""
        self.format.setCurrentIndex(max(0, self.format.findData(chosen)))
        self.bits.setCurrentIndex(max(0, self.bits.findData(options.bits or 0)))
        self.quality.setValue(options.quality)
        self.template.setText(options.template)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.folder.text())
        if folder:
            self.folder.setText(folder)
            self._emit()

    def _emit(self) -> None:
        self.changed.emit(self.options())
