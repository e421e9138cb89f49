"""One pane of the compare view: draws one image, or two split by a draggable divider, plus the overlay.

Images may be smaller than the photo (the quick-preview proxy): every image is drawn into the photo's full
pixel rectangle, so the proxy and the full-resolution result line up exactly and zoom/pan need not change
when one replaces the other. A picture may come in several resolutions (a pyramid): the smallest one that
still has enough pixels for the zoom is drawn, and only its visible part, so painting a 24-MP photo at
"fit" costs about as much as painting a small one.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, QSizeF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGestureEvent, QPinchGesture, QWidget

from enlighten_desktop.ui.widgets.view_transform import ViewTransform

Picture = tuple[QImage, ...]  # one picture in one or more resolutions; the first is the full one
DIVIDER_GRAB_PX = 8
WHEEL_ZOOM_PER_DEGREE = 1.0122  # one notch (15 degrees) = 20 %, as in common photo viewers


def pick_level(picture: Picture, needed_width: float) -> QImage:
    """The smallest resolution at least ``needed_width`` pixels wide, else the largest there is."""
    by_width = sorted(picture, key=QImage.width)
    return next((image for image in by_width if image.width() >= needed_width), by_width[-1])


class ImagePane(QWidget):
    """Paints ``left`` (and ``right`` when split) through a shared ViewTransform; handles zoom, pan, brush."""

    divider_moved = Signal(float)
    stroke_started = Signal(QPointF)  # image pixels of the full photo
    stroke_moved = Signal(QPointF)
    stroke_finished = Signal()

    def __init__(self, *, transform: ViewTransform, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.transform = transform
        self.left: Picture | None = None
        self.right: Picture | None = None
        self.left_label = ""
        self.right_label = ""
        self.split: float | None = None  # divider position, fraction of the pane width
        self.overlay: Picture | None = None
        self.overlay_opacity = 0.5
        self.brush_radius: float | None = None  # image pixels; None = brush off
        self._drag: str | None = None  # "pan", "divider" or "brush"
        self._last = QPointF()
        self._mouse: QPointF | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(120, 90)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.grabGesture(Qt.GestureType.PinchGesture)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        transform.changed.connect(self.update)

    # -- geometry ------------------------------------------------------------------------------------
    def pane_size(self) -> QSizeF:
        return QSizeF(self.width(), self.height())

    def divider_x(self) -> float | None:
        return None if self.split is None else self.split * self.width()

    def image_at(self, widget_point: QPointF) -> QPointF:
        return self.transform.to_image(widget_point, self.pane_size())

    # -- painting ------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(24, 24, 26))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.transform.zoom_percent < 100)
        divider = self.divider_x()
        if self.left is not None:
            if divider is not None and self.right is not None:
                painter.save()
                painter.setClipRect(QRectF(0, 0, divider, self.height()))
                self._draw(painter, self.left)
                painter.setClipRect(QRectF(divider, 0, self.width() - divider, self.height()))
                self._draw(painter, self.right)
                painter.restore()
            else:
                self._draw(painter, self.left)
            if self.overlay is not None and self.overlay_opacity > 0:
                painter.setOpacity(self.overlay_opacity)
                self._draw(painter, self.overlay)
                painter.setOpacity(1.0)
        self._draw_labels(painter, divider)
        if divider is not None and self.right is not None:
            self._draw_divider(painter, divider)
        if self.brush_radius is not None and self._mouse is not None:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            radius = self.brush_radius * self.transform.scale
            for color, width in ((QColor(0, 0, 0, 160), 3), (QColor(255, 255, 255, 220), 1)):
                painter.setPen(QPen(color, width))
                painter.drawEllipse(self._mouse, radius, radius)
        painter.end()

    def _draw(self, painter: QPainter, picture: Picture) -> None:
        pane = self.pane_size()
        visible = self.transform.visible_image_rect(pane)
        if visible.isEmpty():
            return
        photo = self.transform.image_size
        image = pick_level(picture, photo.width() * self.transform.scale * self.devicePixelRatioF())
        sx, sy = image.width() / photo.width(), image.height() / photo.height()
        source = QRectF(visible.x() * sx, visible.y() * sy, visible.width() * sx, visible.height() * sy)
        target = QRectF(self.transform.to_widget(visible.topLeft(), pane),
                        self.transform.to_widget(visible.bottomRight(), pane))
        painter.drawImage(target, image, source)

    def _draw_labels(self, painter: QPainter, divider: float | None) -> None:
        painter.setPen(QColor(235, 235, 235))
        margin = 10
        if self.left_label:
            painter.drawText(QRectF(margin, margin, 200, 20), Qt.AlignmentFlag.AlignLeft, self.left_label)
        if self.right_label and divider is not None:
            painter.drawText(QRectF(self.width() - 200 - margin, margin, 200, 20),
                             Qt.AlignmentFlag.AlignRight, self.right_label)

    def _draw_divider(self, painter: QPainter, x: float) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(255, 255, 255, 230), 2))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        painter.setBrush(QColor(40, 40, 40, 220))
        painter.drawEllipse(QPointF(x, self.height() / 2), 11, 11)
        painter.drawText(QRectF(x - 11, self.height() / 2 - 11, 22, 22), Qt.AlignmentFlag.AlignCenter, "⇔")

    # -- interaction ---------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = event.position()
        divider = self.divider_x()
        if event.button() == Qt.MouseButton.LeftButton:
            if divider is not None and self.right is not None and abs(pos.x() - divider) <= DIVIDER_GRAB_PX:
                self._drag = "divider"
            elif self.brush_radius is not None and self.left is not None:
                self._drag = "brush"
                self.stroke_started.emit(self.image_at(pos))
            else:
                self._drag = "pan"
        elif event.button() == Qt.MouseButton.MiddleButton:
            self._drag = "pan"
        self._last = pos
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = event.position()
        self._mouse = pos
        if self._drag == "pan":
            self.transform.pan_by(pos - self._last)
        elif self._drag == "divider":
            self.split = min(1.0, max(0.0, pos.x() / max(1, self.width())))
            self.divider_moved.emit(self.split)
        elif self._drag == "brush":
            self.stroke_moved.emit(self.image_at(pos))
        divider = self.divider_x()
        near = divider is not None and self.right is not None and abs(pos.x() - divider) <= DIVIDER_GRAB_PX
        if near or self._drag == "divider":
            self.setCursor(Qt.CursorShape.SplitHCursor)
        elif self.brush_radius is not None:
            self.setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        self._last = pos
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._drag == "brush":
            self.stroke_finished.emit()
        self._drag = None
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self.isVisible():
            self.transform.dpr = self.devicePixelRatioF()
            self.transform.refit(self.pane_size())

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        self._mouse = None
        self.update()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        degrees = event.angleDelta().y() / 8
        if degrees:
            self.zoom_by(WHEEL_ZOOM_PER_DEGREE ** degrees, event.position())
        event.accept()

    def zoom_by(self, factor: float, widget_point: QPointF) -> None:
        """Zoom by ``factor`` keeping the image point under ``widget_point`` where it is."""
        pane = self.pane_size()
        anchor = self.transform.to_image(widget_point, pane)
        offset = widget_point - QPointF(pane.width() / 2, pane.height() / 2)
        self.transform.set_zoom_percent(self.transform.zoom_percent * factor, anchor, offset)

    def event(self, event: QEvent) -> bool:
        # Trackpad pinch arrives as a native gesture on macOS, as a QPinchGesture from touch screens.
        if isinstance(event, QNativeGestureEvent):
            if event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
                self.zoom_by(1.0 + event.value(), event.position())
                return True
        elif isinstance(event, QGestureEvent):
            pinch = event.gesture(Qt.GestureType.PinchGesture)
            if isinstance(pinch, QPinchGesture):
                centre = self.mapFromGlobal(pinch.centerPoint().toPoint()).toPointF()
                self.zoom_by(pinch.scaleFactor(), centre)
                return True
        return super().event(event)
