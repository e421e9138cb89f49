"""The shared zoom and pan of the compare view's panes: one object, so both sides stay in sync by design."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, QSizeF, Signal

MIN_ZOOM_PERCENT = 2.0
MAX_ZOOM_PERCENT = 3200.0


class ViewTransform(QObject):
    """Maps image pixels to widget (logical) pixels: ``widget = (image - center) * scale + pane_centre``.

    ``scale`` is logical pixels per image pixel; 100 % zoom means one image pixel per *physical* pixel, so
    it depends on the screen's device pixel ratio (``dpr``), which keeps 100 % honest on high-DPI screens.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._image = QSizeF(0, 0)
        self._center = QPointF(0, 0)
        self._scale = 1.0
        self._fit = True
        self.dpr = 1.0

    @property
    def image_size(self) -> QSizeF:
        return QSizeF(self._image)

    @property
    def center(self) -> QPointF:
        return QPointF(self._center)

    @property
    def scale(self) -> float:
        return self._scale

    @property
    def fitting(self) -> bool:
        """True while the view follows the pane size (Fit); any explicit zoom or pan ends it."""
        return self._fit

    @property
    def zoom_percent(self) -> float:
        return self._scale * self.dpr * 100.0

    def set_image_size(self, width: float, height: float, pane: QSizeF) -> None:
        """A new image: fit it, unless it has the same size as the last (a new result of the same photo)."""
        if self._image == QSizeF(width, height):
            return
        self._image = QSizeF(width, height)
        self.fit(pane)

    def fit(self, pane: QSizeF) -> None:
        if self._image.isEmpty() or pane.isEmpty():
            return
        self._fit = True
        self._scale = min(pane.width() / self._image.width(), pane.height() / self._image.height())
        self._center = QPointF(self._image.width() / 2, self._image.height() / 2)
        self.changed.emit()

    def refit(self, pane: QSizeF) -> None:
        """Called on resize: keep fitting if the user has not zoomed."""
        if self._fit:
            self.fit(pane)

    def set_zoom_percent(self, percent: float, anchor_image: QPointF | None = None,
                         anchor_offset: QPointF | None = None) -> None:
        """Zoom so that ``anchor_image`` stays under the same spot (``anchor_offset`` from pane centre)."""
        percent = min(MAX_ZOOM_PERCENT, max(MIN_ZOOM_PERCENT, percent))
        new_scale = percent / 100.0 / self.dpr
        if anchor_image is not None and anchor_offset is not None:
            self._center = anchor_image - anchor_offset / new_scale
        self._scale = new_scale
        self._fit = False
        self._clamp()
        self.changed.emit()

    def pan_by(self, widget_delta: QPointF) -> None:
        self._center = self._center - widget_delta / self._scale
        self._fit = False
        self._clamp()
        self.changed.emit()

    def to_widget(self, image_point: QPointF, pane: QSizeF) -> QPointF:
        return (image_point - self._center) * self._scale + QPointF(pane.width() / 2, pane.height() / 2)

    def to_image(self, widget_point: QPointF, pane: QSizeF) -> QPointF:
        return (widget_point - QPointF(pane.width() / 2, pane.height() / 2)) / self._scale + self._center

    def visible_image_rect(self, pane: QSizeF) -> QRectF:
        """The part of the image (image pixels) that a pane of this size shows."""
        top_left = self.to_image(QPointF(0, 0), pane)
        bottom_right = self.to_image(QPointF(pane.width(), pane.height()), pane)
        return QRectF(top_left, bottom_right).intersected(QRectF(QPointF(0, 0), self._image))

    def _clamp(self) -> None:
        # The centre stays on the image, so a pan can never lose the photo off-screen.
        self._center = QPointF(
            min(max(self._center.x(), 0.0), self._image.width()),
            min(max(self._center.y(), 0.0), self._image.height()),
        )
