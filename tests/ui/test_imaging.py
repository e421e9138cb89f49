"""numpy -> QImage for display: exact pixels, images that own them, and conversions that let the GUI run."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from enlighten_desktop.ui.imaging import display_pyramid, rgba_to_qimage, to_qimage


def pixels_of(image: QImage, channels: int) -> np.ndarray:
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * channels].reshape(image.height(), image.width(), channels).copy()


def test_images_hold_exactly_the_pixels_and_own_them(qapp) -> None:
    rng = np.random.default_rng(0)
    # Width 5: a QImage pads each RGB888 line to 16 bytes, so rows must be placed by bytesPerLine.
    rgb = rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)
    rgba = rng.integers(0, 256, (7, 5, 4), dtype=np.uint8)
    image, overlay = to_qimage(rgb), rgba_to_qimage(rgba)
    expected_rgb, expected_rgba = rgb.copy(), rgba.copy()
    rgb[:] = 0
    rgba[:] = 0  # the images keep their own copies
    assert image.format() == QImage.Format.Format_RGB888 and image.bytesPerLine() == 16
    assert np.array_equal(pixels_of(image, 3), expected_rgb)
    assert np.array_equal(pixels_of(overlay, 4), expected_rgba)
    floats = np.array([[[0.0, 0.5, 1.0], [0.2, 0.002, 0.998]]], dtype=np.float32)
    assert pixels_of(to_qimage(floats), 3).tolist() == [[[0, 128, 255], [51, 1, 254]]]


def test_the_pyramid_halves_down_to_the_smallest_side(qapp) -> None:
    rgb = np.full((300, 500, 3), 0.25, dtype=np.float32)
    levels = display_pyramid(rgb, smallest_side=100)
    assert [(level.width(), level.height()) for level in levels] == [(500, 300), (250, 150), (125, 75)]
    assert all(np.all(pixels_of(level, 3) == 64) for level in levels)
