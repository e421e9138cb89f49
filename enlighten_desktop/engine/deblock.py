"""Smooth the 8x8 block steps a JPEG leaves in flat, dark areas, within what the file actually says.

A JPEG stores each 8x8 block's mean (its DC coefficient) quantised: with DC step Q the decoded mean can be
off by up to Q / 16 levels, plus half a level from rounding the decoded pixels. In a smooth gradient the
encoder therefore leaves a staircase of flat blocks one step apart. Invisible as shot, the staircase becomes
blotches once the model lifts the shadows four or five times. Here each block's mean is replaced by a
bilinear interpolation of the neighbouring means, the change bounded by that Q / 16 + 1/2: the result is
smooth where the blocks only differ by quantisation, stays inside the uncertainty the file leaves (so real
edges move by at most that much), and keeps each block's texture (its AC content) as decoded. At high
quality Q is small and almost nothing changes.

Works in the JPEG's own YCbCr (JFIF, full range): luma in 8x8 blocks with the luma DC step; chroma in its
subsampled blocks (16x16 for 4:2:0) with the chroma DC step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_RGB_TO_YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]],
                       dtype=np.float32)
# Rounded so that the two entries that are zero in exact arithmetic are zero here.
_YCC_TO_RGB = np.linalg.inv(_RGB_TO_YCC).round(5).astype(np.float32)
# Pixels per row strip (whole block rows, at least one): each strip-sized float32 temporary is 1 MB, so the
# work stays in cache and a large photo needs little beyond its float copy.
_STRIP_PIXELS = 1 << 18


@dataclass(frozen=True)
class JpegQuantisation:
    """What a JPEG's header says about how coarsely its block means were stored."""

    luma_dc: int  # DC step of the luma table
    chroma_dc: int | None  # DC step of the chroma table; None for greyscale JPEGs
    chroma_block: tuple[int, int]  # chroma block size in pixels (rows, columns): (8, 8), (8, 16) or (16, 16)


def smooth_blocks(samples: np.ndarray, quantisation: JpegQuantisation) -> np.ndarray:
    """Decoded 8-bit JPEG samples (H x W x 1 or 3, stored orientation, so that the block grid starts at the
    top-left pixel) to float32 [0, 1] with the block means smoothed (module docstring).

    Besides the result, modified in place, only the block means and row strips of about ``_STRIP_PIXELS`` are
    held: a 100-megapixel photo costs little more than its float copy."""
    values = samples.astype(np.float32)
    if values.shape[2] == 1:
        # Multiplying by one is exact: the grey plane is its own luma.
        unit = np.ones(1, np.float32)
        components = [(unit, unit, (8, 8), quantisation.luma_dc)]
    else:
        components = [(_RGB_TO_YCC[0], _YCC_TO_RGB[:, 0], (8, 8), quantisation.luma_dc)]
        if quantisation.chroma_dc is not None:
            components += [(_RGB_TO_YCC[row], _YCC_TO_RGB[:, row], quantisation.chroma_block,
                            quantisation.chroma_dc) for row in (1, 2)]
    # One component at a time, its correction taken back to RGB (a column of the inverse matrix), so that
    # no full YCbCr copy is held. Exact: a change along one component leaves the others as they were.
    for weights, column, block, dc_step in components:
        _correct_means(values, weights, column, block, dc_step)
    np.clip(values, 0, 255, out=values)
    values /= 255
    return values


def max_mean_error(dc_step: int) -> float:
    """How far (in 8-bit levels) a decoded block's mean can be from the encoder's: half the mean's
    quantisation step (DC / 8 per level of mean) plus half a level of output rounding."""
    return dc_step / 16.0 + 0.5


def _correct_means(values: np.ndarray, weights: np.ndarray, column: np.ndarray, block: tuple[int, int],
                   dc_step: int) -> None:
    """Replace the block means of the component ``weights`` . RGB by their bilinear interpolation, bounded,
    adding the change times ``column`` to ``values`` (H x W x C, in place)."""
    bh, bw = block
    h, w = values.shape[:2]
    rows, cols = -(-h // bh), -(-w // bw)
    # Strips of whole block rows: each block's mean is summed in the same order as over the whole plane, so
    # the means, and everything after them, are exactly the whole image's.
    step = max(1, _STRIP_PIXELS // (bh * cols * bw))
    strips = [(top, min(top + step, rows)) for top in range(0, rows, step)]
    means = np.empty((rows, cols), np.float32)
    for top, end in strips:
        plane = _padded_component(values[top * bh : end * bh], weights, (end - top) * bh, cols * bw)
        means[top:end] = plane.reshape(end - top, bh, cols, bw).mean(axis=(1, 3))
    bound = max_mean_error(dc_step)
    for top, end in strips:
        # Bilinear between block centres, separably and in block layout (only the last step is pixel size): a
        # pixel at offset o from its block's centre (in blocks) moves |o| of the way to the neighbour on its
        # side. With one block row of neighbours either side, the strip's edge rows see the same neighbours as
        # on the whole grid; the grid's own edges are held flat as before.
        above, below = max(top - 1, 0), min(end + 1, rows)
        near = means[above:below]
        vertical = (near[:, None, :] + _toward_neighbours(near, bh, axis=0))[top - above : end - above]
        correction = _toward_neighbours(vertical, bw, axis=2)  # strip rows x bh x cols x bw
        correction += (vertical - means[top:end, None, :])[..., None]
        np.clip(correction, -bound, bound, out=correction)
        strip = values[top * bh : end * bh]
        change = correction.reshape((end - top) * bh, cols * bw)[: len(strip), :w]
        for channel, factor in enumerate(column):
            if factor != 0:
                strip[..., channel] += factor * change


def _padded_component(strip: np.ndarray, weights: np.ndarray, height: int, width: int) -> np.ndarray:
    """``weights`` . the channels of ``strip``, padded to ``height`` x ``width`` by repeating the last row and
    column, as encoders pad partial edge blocks."""
    h, w = strip.shape[:2]
    plane = np.empty((height, width), np.float32)
    component = plane[:h, :w]
    # The same float32 operations, in the same order, as weights[0] * r + weights[1] * g + weights[2] * b.
    np.multiply(weights[0], strip[..., 0], out=component)
    term = np.empty_like(component)
    for channel in range(1, len(weights)):
        np.multiply(weights[channel], strip[..., channel], out=term)
        component += term
    plane[:h, w:] = plane[:h, w - 1 : w]
    plane[h:] = plane[h - 1]
    return plane


def _toward_neighbours(grid: np.ndarray, factor: int, *, axis: int) -> np.ndarray:
    """For each of ``factor`` pixel offsets across a block, how far bilinear interpolation moves from the
    block's value toward the previous or next block's along ``axis`` (edges held flat): a new axis of length
    ``factor`` after ``axis``."""
    offsets = (np.arange(factor, dtype=np.float32) + 0.5) / factor - 0.5
    shape = [1] * (grid.ndim + 1)
    shape[axis + 1] = factor
    offsets = offsets.reshape(shape)
    # grid[i] - grid[i - 1] and grid[i + 1] - grid[i]: the first half of a block looks back, the rest ahead.
    back = np.expand_dims(np.diff(grid, axis=axis, prepend=np.take(grid, [0], axis=axis)), axis + 1)
    ahead = np.expand_dims(np.diff(grid, axis=axis, append=np.take(grid, [-1], axis=axis)), axis + 1)
    steps: np.ndarray = np.where(offsets < 0, offsets * back, offsets * ahead)
    return steps
