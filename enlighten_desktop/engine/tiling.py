"""Tiles with context: reflect padding to the model's size multiple, overlapping windows, cropped cores.

The image is (virtually) reflect-padded on the bottom and right to a multiple of ``multiple``; the padded
image is never materialised, each window is read with reflected indices. The padded image is cut into
equal cores of at most ``tile`` px; each core is fed to the model inside a window that adds at least
``margin`` px of real image context on every side (at the padded border, where whole-image inference sees
the same border, the window is shifted inward instead, so that every window of an image has one size).
All window origins and sizes are multiples of ``multiple``, so the model's pooling grid lines up with the
whole-image grid. The margin is cropped off and the core pasted as is: when the margin covers the model's
receptive field a core is exactly the whole-image result, so there is nothing to feather; feathering
would only average two results that already agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tile:
    """One model run. ``window``: rows/cols of the padded image fed to the model (multiples of the size
    multiple); ``core``: rows/cols of the (unpadded) image this tile writes; ``core_in_window``: the same
    region relative to the window."""

    window: tuple[slice, slice]
    core: tuple[slice, slice]
    core_in_window: tuple[slice, slice]


def round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


Span = tuple[slice, slice, slice]  # window, core and core-in-window along one axis


def _spans(length: int, padded: int, tile: int, margin: int, multiple: int) -> list[Span]:
    if padded <= tile + 2 * margin:  # fits in one window no bigger than a tiled one: no overlap to recompute
        return [(slice(0, padded), slice(0, length), slice(0, length))]
    # As many cores as tiles of ``tile`` px need, made equal, each in a window of the same size: ONNX Runtime
    # runs an input shape it has not just run far slower (1.7x for the first 1536 px window, 1.3x after
    # another shape), so one image's windows share one shape. Edge windows are shifted inward to keep it.
    core = round_up(-(-padded // -(-padded // tile)), multiple)
    side = core + 2 * margin
    spans = []
    for start in range(0, padded, core):
        stop = min(start + core, padded)
        lo = min(max(start - margin, 0), padded - side)
        core_stop = min(stop, length)
        spans.append((slice(lo, lo + side), slice(start, core_stop), slice(start - lo, core_stop - lo)))
    return spans


def plan_tiles(height: int, width: int, *, tile: int, margin: int, multiple: int) -> list[Tile]:
    """Tiles covering a ``height`` x ``width`` image, row-major.

    ``tile`` (core size) and ``margin`` are rounded up to ``multiple``; ``tile <= 0`` means one window
    for the whole image. Windows are at most ``tile + 2 * margin`` px a side; an axis that fits in one
    such window is not split.
    """
    if height < 1 or width < 1:
        raise ValueError(f"empty image {height}x{width}")
    padded_h, padded_w = round_up(height, multiple), round_up(width, multiple)
    tile = round_up(tile, multiple) if tile > 0 else max(padded_h, padded_w)
    margin = round_up(max(margin, 0), multiple)
    return [
        Tile(window=(wr, wc), core=(cr, cc), core_in_window=(ir, ic))
        for wr, cr, ir in _spans(height, padded_h, tile, margin, multiple)
        for wc, cc, ic in _spans(width, padded_w, tile, margin, multiple)
    ]


def window_side_for(pixels: int, multiple: int) -> int:
    """The largest square side within ``pixels`` px, a multiple of ``multiple`` (at least one multiple)."""
    return max(int(np.sqrt(max(pixels, 0))) // multiple, 1) * multiple


def reflect_indices(span: slice, length: int) -> np.ndarray:
    """Indices into an axis of ``length`` for ``span`` of its reflect-padded extension (no edge repeat,
    as ``np.pad(mode="reflect")``, reflecting again when the pad exceeds the length)."""
    index = np.arange(span.start, span.stop)
    if length == 1:
        return np.zeros_like(index)
    period = 2 * (length - 1)
    index %= period
    return np.where(index < length, index, period - index)


def read_window(array: np.ndarray, window: tuple[slice, slice]) -> np.ndarray:
    """The ``window`` of the reflect-padded ``array`` (H x W or H x W x C). A view when the window lies
    inside the image, else a window-sized copy."""
    rows, cols = window
    height, width = array.shape[:2]
    if rows.stop <= height and cols.stop <= width:
        inside: np.ndarray = array[rows, cols]
        return inside
    reflected: np.ndarray = array[np.ix_(reflect_indices(rows, height), reflect_indices(cols, width))]
    return reflected
