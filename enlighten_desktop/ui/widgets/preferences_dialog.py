"""Preferences: model file and export precision, device (execution provider), tile and preview sizes,
folder search."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from enlighten_desktop.engine.providers import ALIAS_TO_PROVIDER, available_providers
from enlighten_desktop.ui.models import int8_path, int8_variant, resolve_model
from enlighten_desktop.ui.settings import AppSettings
from enlighten_desktop.ui.widgets.path_row import path_row

_LABELS = {"auto": "Automatic (best available GPU, else CPU)", "cpu": "CPU", "cuda": "NVIDIA CUDA",
           "dml": "DirectML (any Windows GPU)", "coreml": "Apple CoreML"}


class PreferencesDialog(QDialog):
    """Edits AppSettings in place when accepted (``apply``)."""

    def __init__(self, *, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self._settings = settings
        form = QFormLayout(self)
        self.model_path = QLineEdit(str(settings.model_path or ""))
        self.model_path.setPlaceholderText("The shipped model (resources/models/enlightengan.onnx)")
        form.addRow("Model file", path_row(self.model_path, self._browse, "Choose an ONNX model file"))
        self.export_int8 = QCheckBox(
            "Export with the int8 model (about twice as fast on the CPU, slightly less exact)")
        # The user's choice, kept while a model without an int8 variant greys the box out.
        self._export_int8_wanted = settings.export_int8
        self.export_int8.toggled.connect(self._on_export_int8_toggled)
        self.model_path.textChanged.connect(self._update_export_int8)
        self._update_export_int8()
        form.addRow(self.export_int8)

        self.provider = QComboBox()
        offered = set(available_providers())
        for alias, label in _LABELS.items():
            missing = alias not in ("auto", "cpu") and ALIAS_TO_PROVIDER[alias] not in offered
            self.provider.addItem(f"{label}{' — not in this install' if missing else ''}", alias)
        self.provider.setCurrentIndex(max(0, self.provider.findData(settings.provider)))
        form.addRow("Device", self.provider)
        form.addRow("", QLabel(f"This install offers: {', '.join(sorted(offered))}"))
        self.device = QSpinBox()
        self.device.setRange(0, 15)
        self.device.setValue(settings.device)
        self.device.setToolTip("GPU index, for machines with more than one")
        form.addRow("GPU index", self.device)
        self.tile = QSpinBox()
        self.tile.setRange(0, 4096)
        self.tile.setSingleStep(64)
        self.tile.setSpecialValueText("Automatic")  # shown at 0
        self.tile.setValue(settings.tile or 0)
        self.tile.setSuffix(" px")
        self.tile.setToolTip("Automatic: the largest tile whose model run fits in 1 GiB. Smaller tiles need "
                             "less (GPU) memory; larger ones are a little faster")
        form.addRow("Tile size", self.tile)
        self.preview_side = QSpinBox()
        self.preview_side.setRange(256, 4096)
        self.preview_side.setSingleStep(128)
        self.preview_side.setValue(settings.preview_side)
        self.preview_side.setSuffix(" px")
        form.addRow("Quick preview size", self.preview_side)
        self.recursive = QCheckBox("Search dropped folders in their sub-folders too")
        self.recursive.setChecked(settings.recursive)
        form.addRow(self.recursive)
        standard = QDialogButtonBox.StandardButton
        buttons = QDialogButtonBox(standard.Ok | standard.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model file", self.model_path.text(),
                                              "ONNX models (*.onnx)")
        if path:
            self.model_path.setText(path)

    def _chosen_model(self) -> Path:
        text = self.model_path.text().strip()
        return resolve_model(Path(text) if text else None)

    def _on_export_int8_toggled(self, checked: bool) -> None:
        if self.export_int8.isEnabled():
            self._export_int8_wanted = checked

    def _update_export_int8(self) -> None:
        """Grey the int8 choice out and untick it (exports use fp32) when the chosen model has none."""
        full = self._chosen_model()
        available = int8_variant(full) is not None
        self.export_int8.setEnabled(available)
        self.export_int8.setChecked(available and self._export_int8_wanted)
        self.export_int8.setToolTip(
            "Previews use the int8 model; this makes exports (and the full-resolution view) use it too."
            if available else
            f"No int8 variant ({int8_path(full).name}) beside {full}: "
            "previews and exports use this model.")

    def apply(self) -> None:
        text = self.model_path.text().strip()
        self._settings.model_path = Path(text) if text else None
        self._settings.provider = str(self.provider.currentData())
        self._settings.device = self.device.value()
        self._settings.tile = self.tile.value() or None
        self._settings.preview_side = self.preview_side.value()
        self._settings.recursive = self.recursive.isChecked()
        self._settings.export_int8 = self._export_int8_wanted
