"""Colour noise reduction: take the coloured blotches out of lifted shadows and keep their luma grain.

Sensor and compression noise in a dark photo's shadows is coloured: the model lifts it four or five times,
and on real night photos it comes out as blue and orange mottling a few pixels to a few dozen wide (the
middle scenes of shared/data/dev_real, resources/models/MODEL_CARD.md "Colour noise reduction"). A viewer
reads that as damage, where the same noise in luma reads as grain. Raw converters therefore clean colour
noise by default (Lightroom's "Color" noise reduction is on for every raw file), and so does this engine:

- the output's chroma (R - Y and B - Y, Y the Rec. 601 luma) is guided-filtered by its own luma (He et al.,
  TPAMI 2013): where the luma is flat the colour is averaged over about ``SCALE * RADIUS`` px, where the luma
  has an edge the colour follows it, so colours do not bleed across the edges of lit objects;
- the luma is kept exactly, so grain, texture and sharpness do not change (nor does NIQE, which scores luma);
- each pixel moves by ``amount`` times its attention: as much as the model lifted it. What the model leaves
  alone (bright areas, photos the exposure gate keeps) is not touched.

The filter runs on ``SCALE`` x ``SCALE`` block means, as He and Sun's fast guided filter does: the blotches
are larger than the blocks, and a sixteenth of the pixels keeps it at a small share of the model's time. Its
coefficients come back to full size bilinearly and apply to the full-size luma, so edges stay sharp. The
blocks are aligned with the photo's own pixel grid (``aligned_start``), and the engine runs the filter on
each tile's core plus ``REACH`` px of the model's output, which lies inside the tile margin: tiles agree
with the whole photo as closely as the model's own tiles do.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SCALE = 4
"""Side of the blocks the filter works on, in px."""
RADIUS = 4
"""Half-width of the filter's boxes, in blocks: 16 px at full size, wider than most blotches."""
EPS = 1e-3
"""The filter's edge threshold as a luma variance (a standard deviation of 8 levels): colour is averaged where
the luma varies less, kept where it varies more."""
REACH = SCALE * (2 * RADIUS + 2)
"""How far a cleaned pixel depends on others, in px: two boxes, the bilinear step and the block alignment."""
DEFAULT_AMOUNT = 1.0
"""The front ends' default (the app, ``enhance``, ``edit``): full strength, measured in the model card."""

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def check_amount(amount: float) -> float:
    """``amount`` as a float, or ValueError naming the accepted range."""
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"colour noise reduction must be between 0 and 1 (0 to 100 %), got {amount:g}")
    return float(amount)


def aligned_start(start: int) -> int:
    """The block boundary at or before image row/column ``start`` (never below 0)."""
    return max(0, start) // SCALE * SCALE


def reduce_colour_noise(rgb: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``rgb`` (H x W x 3 float32 [0, 1]) with each pixel's chroma moved toward its luma-guided filter by
    ``weight`` (H x W [0, 1]) and its luma kept (up to clipping); a new array, equal to ``rgb`` where the
    weight is 0. ``rgb``'s first row and column must lie on the photo's block grid (:func:`aligned_start`)
    for tiles to agree with the whole photo."""
    out: np.ndarray = rgb.copy()
    if not weight.any():  # the model left this window alone (bright areas, a photo the gate keeps)
        return out
    height, width = rgb.shape[:2]
    luma = rgb @ _LUMA
    small_luma = _block_means(luma)
    mean_luma = _box(small_luma)
    variance = _box(small_luma * small_luma) - mean_luma * mean_luma
    changes = []
    for channel in (0, 2):  # R - Y and B - Y; green follows from the luma
        plane = rgb[..., channel] - luma
        small = _block_means(plane)
        mean = _box(small)
        slope = (_box(small_luma * small) - mean_luma * mean) / (variance + np.float32(EPS))
        offset = mean - slope * mean_luma
        change = _upsample(_box(slope), width, height) * luma + _upsample(_box(offset), width, height)
        change -= plane
        change *= weight
        changes.append(change)
    red, blue = changes
    out[..., 0] += red
    # Y = 0.299 R + 0.587 G + 0.114 B: this change of green keeps the luma.
    out[..., 1] -= (_LUMA[0] * red + _LUMA[2] * blue) / _LUMA[1]
    out[..., 2] += blue
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _block_means(plane: np.ndarray) -> np.ndarray:
    """Means of ``SCALE`` x ``SCALE`` blocks from the top left; a ragged last row or column of blocks (the
    photo's own edge) is padded by repeating its edge pixels."""
    height, width = plane.shape
    rows, cols = -(-height // SCALE), -(-width // SCALE)
    padded = np.pad(plane, ((0, rows * SCALE - height), (0, cols * SCALE - width)), mode="edge")
    means: np.ndarray = padded.reshape(rows, SCALE, cols, SCALE).mean(axis=(1, 3), dtype=np.float32)
    return means


def _box(plane: np.ndarray) -> np.ndarray:
    """The mean over a (2 ``RADIUS`` + 1)^2 box around each element, the box cut at the borders (mean of what
    is inside); summed in float64, which costs little on block means."""
    return _box_along(_box_along(plane, axis=0), axis=1)


def _box_along(values: np.ndarray, *, axis: int) -> np.ndarray:
    moved = np.moveaxis(values, axis, 0)
    n = moved.shape[0]
    sums = np.zeros((n + 1, *moved.shape[1:]), dtype=np.float64)
    np.cumsum(moved, axis=0, out=sums[1:])
    index = np.arange(n)
    low, high = np.maximum(index - RADIUS, 0), np.minimum(index + RADIUS + 1, n)
    count = (high - low).reshape(-1, *([1] * (moved.ndim - 1)))
    mean = ((sums[high] - sums[low]) / count).astype(np.float32)
    return np.moveaxis(mean, 0, axis)


def _upsample(plane: np.ndarray, width: int, height: int) -> np.ndarray:
    """Block values back to full size, bilinearly between block centres (Pillow's mapping: block i's centre
    is pixel SCALE * i + (SCALE - 1) / 2), cropped to ``width`` x ``height``."""
    rows, cols = plane.shape
    image = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32), mode="F")
    full = np.asarray(image.resize((cols * SCALE, rows * SCALE), Image.Resampling.BILINEAR), dtype=np.float32)
    return full[:height, :width]
