"""The side panel for the current photo: strength, shadow smoothing, colour and luminance noise reduction,
attention overlay and brush."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from enlighten_desktop.engine.colour import DEFAULT_PHOTO_COLOUR_AMOUNT
from enlighten_desktop.engine.noise import DEFAULT_COLOUR_AMOUNT, LUMINANCE_MAX_LEVELS
from enlighten_desktop.engine.smoothing import AUTO_LEVELS, AUTO_RAMP, MAX_LEVELS, levels_text
from enlighten_desktop.ui.widgets.attention_overlay import AttentionLegend

SMOOTHING_STEPS_PER_LEVEL = 2  # the smoothing slider moves in half levels


def smoothing_text(steps: int) -> str:
    """The smoothing slider's label for its position ``steps``."""
    return "off" if steps == 0 else levels_text(steps / SMOOTHING_STEPS_PER_LEVEL)


def auto_smoothing_text(levels: float | None) -> str:
    """The smoothing slider's label when smoothing is automatic: the level the photo on screen gets (None:
    no photo yet)."""
    if levels is None:
        return "auto"
    return "auto: none" if levels == 0 else f"auto: {levels_text(levels)}"


def percent_text(value: int) -> str:
    """A percentage slider's label: "off" at 0."""
    return "off" if value == 0 else f"{value} %"


def _slider(low: int, high: int, value: int, tip: str) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(low, high)
    slider.setValue(value)
    slider.setToolTip(tip)
    return slider


def _labelled_row(form: QFormLayout, title: str, slider: QSlider, text: Callable[[int], str],
                  *after: QWidget) -> QLabel:
    """Add ``slider`` to ``form`` under ``title`` with a label after it that shows ``text(value)``, then the
    widgets ``after``."""
    label = QLabel(text(slider.value()))
    row = QHBoxLayout()
    row.addWidget(slider)
    row.addWidget(label)
    for widget in after:
        row.addWidget(widget)
    form.addRow(title, row)
    slider.valueChanged.connect(lambda value: label.setText(text(value)))
    return label


class AdjustPanel(QWidget):
    """Controls only; the main window connects their signals to the photo session and the view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)

        strength_box = QGroupBox("Enhancement")
        strength_form = QFormLayout(strength_box)
        self.strength = _slider(0, 100, 100, "Blend between the original (0) and the full result (100)")
        self.strength_label = _labelled_row(strength_form, "Strength", self.strength, lambda v: f"{v} %")
        self.smoothing = _slider(0, round(MAX_LEVELS * SMOOTHING_STEPS_PER_LEVEL), 0,
                                 "Smooth the 8-bit steps and compression blocks of the shadows before they "
                                 "are lifted: each pixel moves by at most this many levels of 255 (1 to 2 "
                                 "for blocky phone photos). Costs fine shadow detail; re-runs the model.")
        self.auto_smoothing = QCheckBox("Auto")
        self.auto_smoothing.setToolTip(
            f"Smooth as much as the photo's darkness calls for: {AUTO_LEVELS:g} level for the darkest photos "
            f"(mean brightness up to {AUTO_RAMP.low * 100:g} %), whose shadows the model lifts most, less up "
            f"to {AUTO_RAMP.high * 100:g} %, none above. On by default.")
        self.smoothing_label = _labelled_row(strength_form, "Shadow smoothing", self.smoothing,
                                             smoothing_text, self.auto_smoothing)
        self._auto_level: float | None = None
        self.auto_smoothing.toggled.connect(self._show_smoothing_mode)
        self.photo_colour = _slider(0, 100, round(DEFAULT_PHOTO_COLOUR_AMOUNT * 100),
                                    "Give the lifted pixels the photo's own hues on the model's brightness "
                                    "and detail: the model alone turns some saturated colours (a red toy "
                                    "orange, teal sky blue, violet grey). 0 % keeps the model's colour. On "
                                    "by default; re-runs the model.")
        self.photo_colour_label = _labelled_row(strength_form, "Photo colour", self.photo_colour,
                                                percent_text)
        self.colour_noise = _slider(0, 100, round(DEFAULT_COLOUR_AMOUNT * 100),
                                    "Take the coloured blotches out of the lifted shadows and keep their "
                                    "luma grain: the colour is averaged where the brightness is flat and "
                                    "follows its edges, as much as the model lifts each pixel. On by "
                                    "default, like a raw converter's colour noise reduction; re-runs the "
                                    "model.")
        self.colour_noise_label = _labelled_row(strength_form, "Colour noise", self.colour_noise,
                                                percent_text)
        self.luminance_noise = _slider(0, 100, 0,
                                       "Smooth the luma grain of the lifted shadows: variation below the "
                                       f"threshold (100 % = {LUMINANCE_MAX_LEVELS:g} levels) is averaged, "
                                       "edges are kept, as much as the model lifts each pixel. Off by "
                                       "default: it costs fine texture with the grain; re-runs the model.")
        self.luminance_noise_label = _labelled_row(strength_form, "Luminance noise", self.luminance_noise,
                                                   percent_text)
        layout.addWidget(strength_box)

        overlay_box = QGroupBox("Attention map")
        overlay_form = QFormLayout(overlay_box)
        self.show_overlay = QCheckBox("Show heat-map (A)")
        overlay_form.addRow(self.show_overlay)
        self.opacity = _slider(0, 100, 50, "Opacity of the heat-map over the photo")
        overlay_form.addRow("Opacity", self.opacity)
        self.legend = AttentionLegend()
        overlay_form.addRow(self.legend)
        layout.addWidget(overlay_box)

        brush_box = QGroupBox("Attention brush")
        brush_form = QFormLayout(brush_box)
        self.brush = QPushButton("Paint (B)")
        self.brush.setCheckable(True)
        self.brush.setToolTip("Paint where the model should brighten more (Add) or less (Subtract)")
        brush_form.addRow(self.brush)
        self.add = QRadioButton("Add")
        self.subtract = QRadioButton("Subtract (X)")
        self.add.setChecked(True)
        modes = QHBoxLayout()
        modes.addWidget(self.add)
        modes.addWidget(self.subtract)
        brush_form.addRow(modes)
        self.brush_size = _slider(2, 400, 40, "Brush radius in preview pixels ([ and ] change it)")
        brush_form.addRow("Size", self.brush_size)
        self.softness = _slider(0, 100, 50, "0 = hard edge, 100 = soft from the centre")
        brush_form.addRow("Softness", self.softness)
        buttons = QHBoxLayout()
        self.undo = QPushButton("Undo")
        self.reset = QPushButton("Reset")
        buttons.addWidget(self.undo)
        buttons.addWidget(self.reset)
        brush_form.addRow(buttons)
        layout.addWidget(brush_box)
        layout.addStretch(1)

    def set_auto_level(self, levels: float | None) -> None:
        """The level automatic smoothing gives the photo on screen (None: no photo), shown while it is on."""
        self._auto_level = levels
        self._show_smoothing_mode(self.auto_smoothing.isChecked())

    def _show_smoothing_mode(self, auto: bool) -> None:
        """The slider sets the level only when smoothing is not automatic."""
        self.smoothing.setEnabled(not auto)
        self.smoothing_label.setText(auto_smoothing_text(self._auto_level) if auto
                                     else smoothing_text(self.smoothing.value()))
