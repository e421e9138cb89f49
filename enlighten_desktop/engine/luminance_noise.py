"""Luminance noise reduction: smooth the grain the lift brings out of noisy shadows, keep edges and colour.

The model lifts a noisy shot's sensor noise with its shadows. Colour noise reduction (``colour_noise``) takes
the colour out of it; what is left is luma grain, which reads as texture and which NIQE even rewards, but
which at 100 % on a very noisy photo (the coffee and rocket samples) buries fine detail. How much grain to
keep is taste, as in a raw converter's "Luminance" noise reduction, so this is the user's choice, off by
default:

- the output's luma Y is guided-filtered by itself over a 5 x 5 box (``RADIUS`` 2): where Y varies less than
  the threshold (``amount`` times ``MAX_LEVELS`` 8-bit levels, as a standard deviation) it is averaged, where
  it varies more (edges, texture above the grain) it is kept;
- R, G and B move by the same amount as Y, so hue and chroma stay as they were;
- each pixel moves by as much as its attention: as much as the model lifted it. What the model leaves alone
  (bright areas, photos the exposure gate keeps) is not touched.

Fine texture at the level of the grain goes with it, and NIQE, which reads grain as texture, rises (the model
card has the numbers and 100 % crops). The boxes are summed from shifted slices, so float32 stays exact enough
for thresholds of a level or two.
"""

from __future__ import annotations

import numpy as np

RADIUS = 2
"""Half-width of the filter's box in px: the grain of a lifted phone or camera shot is a pixel or two wide."""
MAX_LEVELS = 16.0
"""The edge threshold at 100 %, in 8-bit levels (a standard deviation of the output's luma): above the grain
of the noisiest samples after the lift, below the edges of lit objects."""
REACH = 2 * RADIUS
"""How far a cleaned pixel depends on others, in px: two boxes."""

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def check_amount(amount: float) -> float:
    """``amount`` as a float, or ValueError naming the accepted range."""
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"luminance noise reduction must be between 0 and 1 (0 to 100 %), got {amount:g}")
    return float(amount)


def reduce_luminance_noise(rgb: np.ndarray, weight: np.ndarray, amount: float) -> np.ndarray:
    """``rgb`` (H x W x 3 float32 [0, 1]) with its luma guided-filtered by itself at a threshold of ``amount``
    times ``MAX_LEVELS`` levels, each pixel moved by its ``weight`` (H x W [0, 1]) and all three channels
    alike; a new array, equal to ``rgb`` where the weight or the amount is 0."""
    out: np.ndarray = rgb.copy()
    amount = check_amount(amount)
    if amount == 0.0 or not weight.any():
        return out
    eps = np.float32((amount * MAX_LEVELS / 255.0) ** 2)
    luma = rgb @ _LUMA
    mean = _box(luma)
    variance = _box(luma * luma) - mean * mean
    keep = variance / (variance + eps)
    change = _box(keep) * luma + _box(mean - keep * mean) - luma
    change *= weight
    out += change[..., None]
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _box(plane: np.ndarray) -> np.ndarray:
    """The mean over a (2 ``RADIUS`` + 1)^2 box around each pixel, the box cut at the borders (mean of what
    is inside)."""
    return _box_along(_box_along(plane, axis=0), axis=1)


def _box_along(values: np.ndarray, *, axis: int) -> np.ndarray:
    moved = np.moveaxis(values, axis, 0)
    n = moved.shape[0]
    padded = np.zeros((n + 2 * RADIUS, *moved.shape[1:]), dtype=np.float32)
    padded[RADIUS : RADIUS + n] = moved
    total = padded[: n].copy()
    for shift in range(1, 2 * RADIUS + 1):
        total += padded[shift : shift + n]
    index = np.arange(n)
    count = (np.minimum(index + RADIUS, n - 1) - np.maximum(index - RADIUS, 0) + 1).astype(np.float32)
    total /= count.reshape(-1, *([1] * (moved.ndim - 1)))
    return np.moveaxis(total, 0, axis)
