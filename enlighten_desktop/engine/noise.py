"""Noise reduction after the lift: colour (on by default) and luminance (the user's choice).

Sensor and compression noise in a dark photo's shadows is lifted with them, four or five times. On real night
photos its colour comes out as blue and orange mottling a few pixels to a few dozen wide (the middle scenes
of shared/data/dev_real, resources/models/MODEL_CARD.md "Colour noise reduction"), which a viewer reads as
damage; the same noise in luma reads as grain. Raw converters therefore clean colour noise by default and
leave luminance noise to taste, and so does this engine. Both filters move each pixel by as much as its
attention, i.e. as much as the model lifted it: what the model leaves alone (bright areas, photos the exposure
gate keeps) is not touched.

- **Colour** (``reduce_colour_noise``): the output's chroma (R - Y and B - Y, Y the Rec. 601 luma) is
  guided-filtered by its own luma (He et al., TPAMI 2013): where the luma is flat the colour is averaged over
  about ``COLOUR_BLOCK * COLOUR_RADIUS`` px, where the luma has an edge the colour follows it, so colours do
  not bleed across the edges of lit objects. Green follows, so the luma is kept exactly (grain, texture,
  sharpness and NIQE, which scores luma, do not change). The filter runs on ``COLOUR_BLOCK`` px block means,
  as He and Sun's fast guided filter does: the blotches are larger than the blocks, and a sixteenth of the
  pixels keeps it at a small share of the model's time; its coefficients come back to full size bilinearly
  and apply to the full-size luma, so edges stay sharp. The blocks are aligned with the photo's own pixel
  grid (``aligned_start``), and the engine runs the filter on each tile's core plus ``COLOUR_REACH`` px of the
  model's output, inside the tile margin: tiles agree with the whole photo as closely as the model's own do.
- **Luminance** (``reduce_luminance_noise``): the output's luma is guided-filtered by itself over 5 x 5 px:
  where it varies less than the threshold (the amount times ``LUMINANCE_MAX_LEVELS`` 8-bit levels, as a
  standard deviation) it is averaged, where it varies more (edges, texture above the grain) it is kept; R, G
  and B move alike, so hue and chroma stay. Fine texture at the level of the grain goes with it and NIQE rises
  (the model card has the numbers and 100 % crops), so it is off unless the user asks.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from enlighten_desktop.engine.attention import LUMA_601
from enlighten_desktop.engine.smoothing import box_mean

COLOUR_BLOCK = 4
"""Side of the blocks the colour filter works on, in px."""
COLOUR_RADIUS = 4
"""Half-width of the colour filter's boxes, in blocks: 16 px at full size, wider than most blotches."""
COLOUR_EPS = 1e-3
"""The colour filter's edge threshold as a luma variance (a standard deviation of 8 levels): colour is
averaged where the luma varies less, kept where it varies more."""
COLOUR_REACH = COLOUR_BLOCK * (2 * COLOUR_RADIUS + 2)
"""How far a colour-cleaned pixel depends on others, in px: two boxes, the bilinear step and the block
alignment. The luminance filter reads less far: two boxes of ``LUMINANCE_RADIUS``, 4 px."""
DEFAULT_COLOUR_AMOUNT = 1.0
"""The front ends' default (the app, ``enhance``, ``edit``): full strength, measured in the model card."""
LUMINANCE_RADIUS = 2
"""Half-width of the luminance filter's box in px: the grain of a lifted phone or camera shot is a pixel or
two wide."""
LUMINANCE_MAX_LEVELS = 16.0
"""The luminance filter's edge threshold at 100 %, in 8-bit levels (a standard deviation of the output's
luma): above the grain of the noisiest samples after the lift, below the edges of lit objects."""

_LUMA = LUMA_601.astype(np.float32)


def check_amount(amount: float, what: str) -> float:
    """``amount`` as a float, or ValueError naming ``what`` (e.g. "colour noise reduction") and the range."""
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"{what} must be between 0 and 1 (0 to 100 %), got {amount:g}")
    return float(amount)


def aligned_start(start: int) -> int:
    """The colour filter's block boundary at or before image row/column ``start`` (never below 0)."""
    return max(0, start) // COLOUR_BLOCK * COLOUR_BLOCK


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
    mean_luma = _colour_box(small_luma)
    variance = _colour_box(small_luma * small_luma) - mean_luma * mean_luma
    changes = []
    for channel in (0, 2):  # R - Y and B - Y; green follows from the luma
        plane = rgb[..., channel] - luma
        small = _block_means(plane)
        mean = _colour_box(small)
        slope = (_colour_box(small_luma * small) - mean_luma * mean) / (variance + np.float32(COLOUR_EPS))
        offset = mean - slope * mean_luma
        change = (_upsample(_colour_box(slope), width, height) * luma
                  + _upsample(_colour_box(offset), width, height))
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


def reduce_luminance_noise(rgb: np.ndarray, weight: np.ndarray, amount: float) -> np.ndarray:
    """``rgb`` (H x W x 3 float32 [0, 1]) with its luma guided-filtered by itself at a threshold of ``amount``
    times ``LUMINANCE_MAX_LEVELS`` levels, each pixel moved by its ``weight`` (H x W [0, 1]) and all three
    channels alike; a new array, equal to ``rgb`` where the weight or the amount is 0."""
    out: np.ndarray = rgb.copy()
    amount = check_amount(amount, "luminance noise reduction")
    if amount == 0.0 or not weight.any():
        return out
    eps = np.float32((amount * LUMINANCE_MAX_LEVELS / 255.0) ** 2)
    luma = rgb @ _LUMA
    mean = _luminance_box(luma)
    variance = _luminance_box(luma * luma) - mean * mean
    keep = variance / (variance + eps)
    change = _luminance_box(keep) * luma + _luminance_box(mean - keep * mean) - luma
    change *= weight
    out += change[..., None]
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _block_means(plane: np.ndarray) -> np.ndarray:
    """Means of ``COLOUR_BLOCK`` px square blocks from the top left; a ragged last row or column of blocks
    (the photo's own edge) is padded by repeating its edge pixels."""
    height, width = plane.shape
    rows, cols = -(-height // COLOUR_BLOCK), -(-width // COLOUR_BLOCK)
    padded = np.pad(plane, ((0, rows * COLOUR_BLOCK - height), (0, cols * COLOUR_BLOCK - width)), mode="edge")
    means: np.ndarray = padded.reshape(rows, COLOUR_BLOCK, cols, COLOUR_BLOCK).mean(axis=(1, 3),
                                                                                 dtype=np.float32)
    return means


def _colour_box(plane: np.ndarray) -> np.ndarray:
    """``smoothing.box_mean`` over ``COLOUR_RADIUS`` blocks, back in float32."""
    return box_mean(plane, COLOUR_RADIUS).astype(np.float32)


def _upsample(plane: np.ndarray, width: int, height: int) -> np.ndarray:
    """Block values back to full size, bilinearly between block centres (Pillow's mapping: block i's centre
    is pixel COLOUR_BLOCK * i + (COLOUR_BLOCK - 1) / 2), cropped to ``width`` x ``height``."""
    rows, cols = plane.shape
    image = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32), mode="F")
    size = (cols * COLOUR_BLOCK, rows * COLOUR_BLOCK)
    full = np.asarray(image.resize(size, Image.Resampling.BILINEAR), dtype=np.float32)
    return full[:height, :width]


def _luminance_box(plane: np.ndarray) -> np.ndarray:
    """The mean over a (2 ``LUMINANCE_RADIUS`` + 1)^2 box around each pixel of a full-size float32 plane, the
    box cut at the borders. Summed from shifted slices in float32 rather than with ``smoothing.box_mean``'s
    float64 running sums: half the time on a 1536 px window, and a sum of five values stays exact enough for
    thresholds of a level or two."""
    return _shifted_sum_mean(_shifted_sum_mean(plane, axis=0), axis=1)


def _shifted_sum_mean(values: np.ndarray, *, axis: int) -> np.ndarray:
    moved = np.moveaxis(values, axis, 0)
    n = moved.shape[0]
    padded = np.zeros((n + 2 * LUMINANCE_RADIUS, *moved.shape[1:]), dtype=np.float32)
    padded[LUMINANCE_RADIUS : LUMINANCE_RADIUS + n] = moved
    total = padded[:n].copy()
    for shift in range(1, 2 * LUMINANCE_RADIUS + 1):
        total += padded[shift : shift + n]
    index = np.arange(n)
    count = np.minimum(index + LUMINANCE_RADIUS, n - 1) - np.maximum(index - LUMINANCE_RADIUS, 0) + 1
    total /= count.astype(np.float32).reshape(-1, *([1] * (moved.ndim - 1)))
    return np.moveaxis(total, 0, axis)
