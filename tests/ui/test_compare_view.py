"""The compare view: zoom and pan stay in sync on both sides, the divider drags, the toggle flips."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QNativeGestureEvent, QPointingDevice, QWheelEvent
from PySide6.QtWidgets import QApplication

from enlighten_desktop.ui.imaging import to_qimage
from enlighten_desktop.ui.widgets.compare_view import CompareMode, CompareView


def textured(width: int = 256, height: int = 192, level: float = 0.5) -> QImage:
    rng = np.random.default_rng(1)
    return to_qimage(np.clip(level + rng.normal(0, 0.2, (height, width, 3)), 0, 1).astype(np.float32))


def grab_array(widget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return pixels[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def wheel(widget, pos: QPointF, notches: int) -> None:
    event = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    QApplication.sendEvent(widget, event)


@pytest.fixture
def view(qtbot) -> CompareView:
    compare = CompareView()
    qtbot.addWidget(compare)
    compare.resize(800, 400)
    compare.show()
    qtbot.waitExposed(compare)
    return compare


def test_zoom_and_pan_in_either_pane_move_both_sides_alike(view: CompareView, qtbot) -> None:
    image = textured()
    view.set_mode(CompareMode.SIDE_BY_SIDE)
    view.set_images(before=image, after=image, width=256, height=192)
    qtbot.waitUntil(lambda: view.secondary.isVisible() and view.secondary.width() > 300)
    fitted = view.transform.zoom_percent

    wheel(view.primary, QPointF(100, 150), notches=4)  # zoom in around a point of the left pane
    assert view.transform.zoom_percent > fitted * 1.3
    left = view.transform.visible_image_rect(view.primary.pane_size())
    right = view.transform.visible_image_rect(view.secondary.pane_size())
    assert left == right and left.width() < 256

    qtbot.mousePress(view.secondary, Qt.MouseButton.LeftButton, pos=QPoint(200, 200))
    qtbot.mouseMove(view.secondary, QPoint(150, 170))
    qtbot.mouseRelease(view.secondary, Qt.MouseButton.LeftButton, pos=QPoint(150, 170))
    moved = view.transform.visible_image_rect(view.primary.pane_size())
    assert moved != left  # the drag on the right pane panned the left one too
    assert moved == view.transform.visible_image_rect(view.secondary.pane_size())

    # Same photo on both sides: the drawn pixels (away from the labels) must match exactly.
    a, b = grab_array(view.primary), grab_array(view.secondary)
    assert a.shape == b.shape
    assert np.array_equal(a[40:-10, 10:-10], b[40:-10, 10:-10])


def test_fixed_zoom_levels_and_fit(view: CompareView) -> None:
    view.set_images(before=textured(), after=textured(), width=256, height=192)
    view.zoom_to(200)
    assert view.transform.zoom_percent == pytest.approx(200)
    assert view.transform.scale == pytest.approx(2.0 / view.devicePixelRatioF())
    view.fit()
    assert view.transform.fitting
    assert view.transform.visible_image_rect(view.primary.pane_size()).size().toSize().width() == 256


def test_the_divider_drags_and_shows_before_left_after_right(view: CompareView, qtbot) -> None:
    view.set_images(before=textured(level=0.05), after=textured(level=0.95), width=256, height=192)
    view.fit()
    x = round(view.primary.divider_x())
    qtbot.mousePress(view.primary, Qt.MouseButton.LeftButton, pos=QPoint(x, 200))
    qtbot.mouseMove(view.primary, QPoint(300, 200))
    qtbot.mouseRelease(view.primary, Qt.MouseButton.LeftButton, pos=QPoint(300, 200))
    assert view.split == pytest.approx(300 / view.primary.width(), abs=0.01)
    pixels = grab_array(view.primary).astype(int)
    assert pixels[300:350, 290].mean() < 60 and pixels[300:350, 310].mean() > 190


def test_one_key_toggle_flips_between_before_and_after(view: CompareView) -> None:
    assert view.mode == CompareMode.SPLIT
    view.toggle_before_after()
    assert view.mode == CompareMode.BEFORE
    view.toggle_before_after()
    assert view.mode == CompareMode.AFTER
    view.toggle_before_after()
    assert view.mode == CompareMode.BEFORE


def test_a_trackpad_pinch_zooms_about_the_fingers(view: CompareView) -> None:
    view.set_images(before=textured(), after=textured(), width=256, height=192)
    view.fit()
    pane, before = view.primary, view.transform.zoom_percent
    at = QPointF(200, 120)
    anchor = view.transform.to_image(at, pane.pane_size())
    device = QPointingDevice.primaryPointingDevice()
    pinch = QNativeGestureEvent(Qt.NativeGestureType.ZoomNativeGesture, device, 2, at, at,
                                pane.mapToGlobal(at), 0.5, QPointF(0, 0))
    QApplication.sendEvent(pane, pinch)
    assert view.transform.zoom_percent == pytest.approx(before * 1.5)
    after = view.transform.to_image(at, pane.pane_size())
    assert (after.x(), after.y()) == pytest.approx((anchor.x(), anchor.y()), abs=1e-6)
