"""numpy <-> QImage and resizing, for display only (the engine never sees these 8-bit copies).

Conversions of big photos run in workers: a QImage is plain memory, safe to build off the GUI thread.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtGui import QImage

from enlighten_desktop.engine.attention import resize_plane


def _blank_image(width: int, height: int, fmt: QImage.Format, channels: int) -> tuple[QImage, np.ndarray]:
    """A QImage owning new (uninitialised) pixels, and a writable height x width x channels view of them.

    Pixels are filled through the view because numpy copies without the GIL, while QImage.copy() holds it:
    copying a 24-MP image that way froze every other Python thread, the GUI thread included, for ~60 ms.
    The view must not outlive the function that fills it (the QImage owns the memory).
    """
    image = QImage(width, height, fmt)
    rows = np.frombuffer(image.bits(), dtype=np.uint8).reshape(height, image.bytesPerLine())
    return image, rows[:, : width * channels].reshape(height, width, channels)


def to_qimage(rgb: np.ndarray) -> QImage:
    """rgb: H x W x 3 float32 [0, 1] (or uint8) -> an RGB888 QImage that owns its pixels."""
    height, width = rgb.shape[:2]
    image, pixels = _blank_image(width, height, QImage.Format.Format_RGB888, 3)
    if rgb.dtype == np.uint8:
        np.copyto(pixels, rgb)
    else:
        to_uint8(rgb, out=pixels)
    return image


def rgba_to_qimage(rgba: np.ndarray) -> QImage:
    """rgba: H x W x 4 uint8 (straight alpha) -> an RGBA8888 QImage that owns its pixels."""
    height, width = rgba.shape[:2]
    image, pixels = _blank_image(width, height, QImage.Format.Format_RGBA8888, 4)
    np.copyto(pixels, rgba)
    return image


def display_pyramid(rgb: np.ndarray, *, smallest_side: int) -> tuple[QImage, ...]:
    """rgb: H x W x 3 float32 [0, 1] -> QImages at full size, then halved while the longest side stays
    above ``smallest_side`` (the view draws the smallest one with enough pixels for its zoom)."""
    pixels = to_uint8(rgb)
    levels = [to_qimage(pixels)]
    image = Image.fromarray(pixels)
    while max(image.size) > 2 * smallest_side:
        image = image.reduce(2)
        levels.append(to_qimage(np.asarray(image)))
    return tuple(levels)


def to_uint8(rgb: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """float32 [0, 1] -> uint8, rounded, in row blocks so no full-size float temporary is made.

    ``out``: a uint8 array of the same shape to write into (e.g. a QImage's pixels), else a new one.
    """
    out = np.empty(rgb.shape, dtype=np.uint8) if out is None else out
    rows = 512
    for top in range(0, rgb.shape[0], rows):
        block = rgb[top:top + rows] * 255.0
        block += 0.5
        np.clip(block, 0, 255, out=block)
        out[top:top + rows] = block
    return out


def fit_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size of a proxy whose longest side is at most ``max_side`` (never enlarged)."""
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_rgb(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """H x W x 3 float32 [0, 1] -> height x width x 3 float32, area-filtered (for previews)."""
    if rgb.shape[1] == width and rgb.shape[0] == height:
        return rgb
    channels = [resize_plane(rgb[..., c], width, height) for c in range(3)]
    return np.stack(channels, axis=-1)
