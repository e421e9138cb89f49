"""Before/after compare view: split with a draggable divider, side by side, or one side with a toggle.

Both panes share one ViewTransform, so zoom and pan stay in sync whichever pane the user drives.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QPointF, QSizeF, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QWidget

from enlighten_desktop.ui.widgets.image_pane import ImagePane, Picture
from enlighten_desktop.ui.widgets.view_transform import ViewTransform


class CompareMode(Enum):
    SPLIT = "split"
    SIDE_BY_SIDE = "side_by_side"
    BEFORE = "before"
    AFTER = "after"


ZOOM_STEP = 1.25


def _picture(image: QImage | Picture | None) -> Picture | None:
    return (image,) if isinstance(image, QImage) else image


class CompareView(QWidget):
    """Shows the original and the result of the current photo, in the chosen CompareMode."""

    mode_changed = Signal(object)  # CompareMode
    zoom_changed = Signal(float)  # percent of physical pixels
    stroke_started = Signal(QPointF)
    stroke_moved = Signal(QPointF)
    stroke_finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.transform = ViewTransform(self)
        self.primary = ImagePane(transform=self.transform, parent=self)
        self.secondary = ImagePane(transform=self.transform, parent=self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.primary)
        layout.addWidget(self.secondary)
        self._before: Picture | None = None
        self._after: Picture | None = None
        self._split = 0.5
        self._mode = CompareMode.SPLIT
        for pane in (self.primary, self.secondary):
            pane.divider_moved.connect(self._on_divider)
            pane.stroke_started.connect(self.stroke_started)
            pane.stroke_moved.connect(self.stroke_moved)
            pane.stroke_finished.connect(self.stroke_finished)
        self.transform.changed.connect(lambda: self.zoom_changed.emit(self.transform.zoom_percent))
        self._apply()

    # -- content -------------------------------------------------------------------------------------
    def set_images(self, *, before: QImage | Picture | None, after: QImage | Picture | None, width: int,
                   height: int) -> None:
        """Show a photo of ``width`` x ``height`` pixels; either image may be a smaller proxy of it."""
        self._before, self._after = _picture(before), _picture(after)
        self.transform.dpr = self.devicePixelRatioF()
        self.transform.set_image_size(width, height, self.primary_size())
        self._apply()

    def set_before(self, before: QImage | Picture) -> None:
        """Replace the original only (read at full resolution after its proxy was shown)."""
        self._before = _picture(before)
        self._apply()

    def set_after(self, after: QImage | Picture) -> None:
        """Replace the result only (strength change, full-resolution result arriving)."""
        self._after = _picture(after)
        self._apply()

    def clear(self) -> None:
        self._before = self._after = None
        self._apply()

    def set_overlay(self, overlay: QImage | None, opacity: float) -> None:
        for pane in (self.primary, self.secondary):
            pane.overlay = _picture(overlay)
            pane.overlay_opacity = opacity
            pane.update()

    def set_brush_radius(self, radius: float | None) -> None:
        """Brush radius in full-photo pixels, or None to switch the brush off (drag pans again)."""
        for pane in (self.primary, self.secondary):
            pane.brush_radius = radius
            pane.update()

    # -- modes ---------------------------------------------------------------------------------------
    @property
    def mode(self) -> CompareMode:
        return self._mode

    def set_mode(self, mode: CompareMode) -> None:
        self._mode = mode
        self._apply()  # the panes' resize events refit the view if it is fitting
        self.mode_changed.emit(mode)

    def toggle_before_after(self) -> None:
        """The one-key toggle: original and result, full frame, flipping on every press."""
        if self._mode == CompareMode.BEFORE:
            self.set_mode(CompareMode.AFTER)
        elif self._mode == CompareMode.AFTER:
            self.set_mode(CompareMode.BEFORE)
        else:
            self.set_mode(CompareMode.BEFORE)

    @property
    def split(self) -> float:
        return self._split

    def set_split(self, fraction: float) -> None:
        self._split = min(1.0, max(0.0, fraction))
        self._apply()

    def _on_divider(self, fraction: float) -> None:
        self._split = fraction

    def _apply(self) -> None:
        before, after = self._before, self._after or self._before
        primary, secondary = self.primary, self.secondary
        secondary.setVisible(self._mode == CompareMode.SIDE_BY_SIDE)
        primary.right = secondary.right = None
        primary.split = secondary.split = None
        primary.right_label = secondary.right_label = ""
        if self._mode == CompareMode.SPLIT:
            primary.left, primary.right, primary.split = before, after, self._split
            primary.left_label, primary.right_label = "Before", "After"
        elif self._mode == CompareMode.SIDE_BY_SIDE:
            primary.left, primary.left_label = before, "Before"
            secondary.left, secondary.left_label = after, "After"
        elif self._mode == CompareMode.BEFORE:
            primary.left, primary.left_label = before, "Before"
        else:
            primary.left, primary.left_label = after, "After"
        primary.update()
        secondary.update()

    # -- zoom ----------------------------------------------------------------------------------------
    def primary_size(self) -> QSizeF:
        return self.primary.pane_size()

    def fit(self) -> None:
        self.transform.fit(self.primary_size())

    def zoom_to(self, percent: float) -> None:
        """Zoom about the centre of the view (100 = one photo pixel per screen pixel)."""
        self.transform.dpr = self.devicePixelRatioF()
        self.transform.set_zoom_percent(percent)

    def zoom_in(self) -> None:
        self.zoom_to(self.transform.zoom_percent * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_to(self.transform.zoom_percent / ZOOM_STEP)
