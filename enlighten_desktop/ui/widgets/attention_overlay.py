"""The attention map as a colour heat-map, and its legend.

The colour scale runs dark violet (attention 0: the model leaves the pixel alone) through red to pale
yellow (attention 1: the model brightens it fully); perceptually ordered like 'inferno', so it reads the
same in grey and for common colour-vision deficiencies.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from enlighten_desktop.ui.imaging import rgba_to_qimage

# (position, R, G, B): a small inferno-like ramp, interpolated to 256 entries.
_STOPS = np.array(
    [
        (0.00, 0, 0, 4),
        (0.25, 87, 16, 110),
        (0.50, 188, 55, 84),
        (0.75, 249, 142, 9),
        (1.00, 252, 255, 164),
    ],
    dtype=np.float32,
)
_POSITIONS = np.linspace(0.0, 1.0, 256, dtype=np.float32)
HEAT_LUT = np.stack(
    [np.interp(_POSITIONS, _STOPS[:, 0], _STOPS[:, c]) for c in (1, 2, 3)], axis=-1
).round().astype(np.uint8)  # 256 x 3


def heatmap_rgba(attention: np.ndarray) -> np.ndarray:
    """attention: H x W float32 [0, 1] -> H x W x 4 uint8 colours (opaque; the view sets the opacity)."""
    index = np.clip(attention * 255.0 + 0.5, 0, 255).astype(np.uint8)
    rgba = np.empty((*attention.shape, 4), dtype=np.uint8)
    rgba[..., :3] = HEAT_LUT[index]
    rgba[..., 3] = 255
    return rgba


def heatmap_image(attention: np.ndarray) -> QImage:
    """attention: H x W float32 [0, 1] -> the heat-map as a QImage."""
    return rgba_to_qimage(heatmap_rgba(attention))


class AttentionLegend(QWidget):
    """A horizontal colour bar labelled with what low and high attention mean for the photo."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(34)
        self.setToolTip("Attention: how strongly the model brightens each part of the photo.")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(200, 34)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        bar = QRectF(1, 1, self.width() - 2, 12)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for position, r, g, b in _STOPS:
            gradient.setColorAt(float(position), QColor(int(r), int(g), int(b)))
        painter.fillRect(bar, gradient)
        painter.setPen(self.palette().windowText().color())
        text = QRectF(0, 16, self.width(), 16)
        painter.drawText(text, Qt.AlignmentFlag.AlignLeft, "0 · left as is")
        painter.drawText(text, Qt.AlignmentFlag.AlignRight, "brightened · 1")
        painter.end()
