"""Shadow smoothing: take out what 8-bit steps and compression blocks become once the shadows are lifted.

A dark photo's shadows live in the lowest few of 256 levels. A compressed phone photo stores them as flat
blocks one level apart, and any 8-bit file as steps of one level; both are invisible as shot, and both
become blotches and blocks when the model lifts the shadows four or five times (the darkest frames of
shared/data/dev_real). The information is not in the file, so no model can restore it; what can be done
is to smooth it before the lift, within the file's own uncertainty:

- each channel is guided-filtered by itself (He et al., TPAMI 2013) over ``RADIUS`` px: variation well below
  ``EDGE_LEVELS`` (steps, flat blocks, faint noise) is averaged away, edges and texture above it are kept;
- each pixel may move by at most ``levels`` (8-bit levels, set by the user) times its attention: as much
  as the model will lift it. A pixel the model leaves alone (attention 0: bright areas, photos the exposure
  gate keeps) is not changed at all, and a level or two is within what an 8-bit file can tell anyway.

It costs shadow detail of a few levels as well as the blocks, and NIQE, which reads fine texture as quality,
rises with it (resources/models/MODEL_CARD.md, "Shadow smoothing", has the numbers and 100% crops). How much
that detail is worth depends on how dark the photo is: the darker it is, the more the model lifts it and the
larger each 8-bit step and block becomes, while the detail it could lose is a smaller share of the photo.
So the level is the user's choice, or chosen per photo by its mean luma (:func:`auto_levels`): the darkest
photos get ``AUTO_LEVELS``, photos from ``AUTO_RAMP.high`` none.

The work is in float64: in float32, the variance taken as a difference of running sums along a 1,500 px
window row is off by a fifth of the edge threshold in bright areas.
"""

from __future__ import annotations

import numpy as np

from enlighten_desktop.engine.attention import ExposureGate, mean_luma

RADIUS = 8
"""Half-width of the guided filter's boxes in px: wider than the 8x8 blocks it has to bridge."""
EDGE_LEVELS = 1.5
"""The guided filter's edge threshold as a standard deviation in 8-bit levels: local variation below it is
smoothed, above it kept."""
MAX_LEVELS = 4.0
"""The largest ``levels`` accepted: beyond it real shadow detail goes with the blocks."""
REACH = 2 * RADIUS
"""How far a smoothed pixel depends on others: the guided filter boxes twice (coefficients are averaged)."""
AUTO_LEVELS = 1.0
"""Automatic smoothing of the darkest photos: the level that took the blocks out of the darkest real night
photos with their lamps' edges kept (2 barely differs: the edge threshold decides most pixels)."""
AUTO_RAMP = ExposureGate(0.035, 0.06)
"""Automatic smoothing's share by the photo's mean luma: all of ``AUTO_LEVELS`` up to 0.035, none from 0.06,
smooth between (the exposure gate's curve). The phone frames whose shadows the model turns into a patchwork of
blocks lie at 0.003 to 0.036, the darkest SICE frames at 0.044 to 0.05; grainy but block-free night scenes
from 0.04 and the SICE church whose deep-shadow detail smoothing softens at 0.16 (MODEL_CARD.md)."""


def check_levels(levels: float) -> float:
    """``levels`` as a float, or ValueError naming the accepted range."""
    if not 0.0 <= levels <= MAX_LEVELS:
        raise ValueError(f"shadow smoothing must be between 0 and {MAX_LEVELS:g} levels, got {levels:g}")
    return float(levels)


def levels_text(levels: float) -> str:
    """A smoothing level for people: "1 level", "0.47 levels"."""
    return f"{levels:.2g} level" + ("" if levels == 1 else "s")


def auto_levels(rgb: np.ndarray) -> float:
    """The automatic smoothing level for the photo ``rgb`` (H x W x 3 float32 [0, 1]: the whole photo, never
    one tile, so tiles agree)."""
    return AUTO_LEVELS * AUTO_RAMP.gain_at(mean_luma(rgb))


def smooth_shadows(rgb: np.ndarray, attention: np.ndarray, levels: float) -> np.ndarray:
    """``rgb`` (H x W x 3 float32 [0, 1]) with each pixel moved toward its channel's guided filter by at most
    ``levels`` / 255 times ``attention`` (H x W [0, 1]); a new array (a copy when the bound is 0)."""
    levels = check_levels(levels)
    bound = attention.astype(np.float32) * np.float32(levels / 255.0)
    out: np.ndarray = rgb.copy()
    if not bound.any():  # off, or a window the model leaves alone (a bright one; a photo the gate keeps)
        return out
    eps = (EDGE_LEVELS / 255.0) ** 2
    for channel in range(3):
        plane = rgb[..., channel].astype(np.float64)
        mean = box_mean(plane, RADIUS)
        variance = box_mean(plane * plane, RADIUS) - mean * mean
        gain = variance / (variance + eps)
        smoothed: np.ndarray = box_mean(gain, RADIUS) * plane + box_mean(mean - gain * mean, RADIUS)
        change = np.clip(smoothed.astype(np.float32) - rgb[..., channel], -bound, bound)
        out[..., channel] += change
    np.clip(out, 0.0, 1.0, out=out)
    return out


def box_mean(plane: np.ndarray, radius: int) -> np.ndarray:
    """The mean of ``plane`` (H x W float64) over a (2 radius + 1)^2 box around each pixel, the box cut at the
    borders (mean of what is inside): two running sums, so the cost does not grow with the radius."""
    mean: np.ndarray = _box_mean_along(_box_mean_along(plane, radius, axis=0), radius, axis=1)
    return mean


def _box_mean_along(values: np.ndarray, radius: int, *, axis: int) -> np.ndarray:
    moved = np.moveaxis(values, axis, 0)
    n = moved.shape[0]
    sums = np.empty((n + 1, *moved.shape[1:]), dtype=np.float64)
    sums[0] = 0.0
    np.cumsum(moved, axis=0, out=sums[1:])
    result = np.empty(moved.shape, dtype=np.float64)
    # Where the whole box fits, one subtraction of shifted slices; only the 2 x radius edge rows, whose boxes
    # are cut, need index arrays (gathering every row that way took 1.6x as long).
    head, tail = min(radius, n), max(n - radius, min(radius, n))
    if tail > head:
        np.subtract(sums[head + radius + 1 : tail + radius + 1], sums[head - radius : tail - radius],
                    out=result[head:tail])
        result[head:tail] /= float(2 * radius + 1)
    edge = np.r_[0:head, tail:n]
    low, high = np.maximum(edge - radius, 0), np.minimum(edge + radius + 1, n)
    count = (high - low).astype(np.float64).reshape(-1, *([1] * (moved.ndim - 1)))
    result[edge] = (sums[high] - sums[low]) / count
    moved_back: np.ndarray = np.moveaxis(result, 0, axis)
    return moved_back
