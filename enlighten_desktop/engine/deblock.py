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


@dataclass(frozen=True)
class JpegQuantisation:
    """What a JPEG's header says about how coarsely its block means were stored."""

    luma_dc: int  # DC step of the luma table
    chroma_dc: int | None  # DC step of the chroma table; None for greyscale JPEGs
    chroma_block: tuple[int, int]  # chroma block size in pixels (rows, columns): (8, 8), (8, 16) or (16, 16)


def smooth_blocks(samples: np.ndarray, quantisation: JpegQuantisation) -> np.ndarray:
    """Decoded 8-bit JPEG samples (H x W x 1 or 3, stored orientation, so that the block grid starts at the
    top-left pixel) to float32 [0, 1] with the block means smoothed (module docstring)."""
    values = samples.astype(np.float32)
    if values.shape[2] == 1:
        values[..., 0] += _mean_correction(values[..., 0], (8, 8), quantisation.luma_dc)
        return np.clip(values, 0, 255) / 255
    components = [(0, (8, 8), quantisation.luma_dc)]
    if quantisation.chroma_dc is not None:
        components += [(1, quantisation.chroma_block, quantisation.chroma_dc),
                       (2, quantisation.chroma_block, quantisation.chroma_dc)]
    # One component at a time, its correction taken back to RGB (a column of the inverse matrix), so that
    # no full YCbCr copy is held. Exact: a change along one component leaves the others as they were.
    for row, block, dc_step in components:
        weights = _RGB_TO_YCC[row]
        component = weights[0] * values[..., 0] + weights[1] * values[..., 1] + weights[2] * values[..., 2]
        change = _mean_correction(component, block, dc_step)
        for channel in range(3):
            if _YCC_TO_RGB[channel, row] != 0:
                values[..., channel] += _YCC_TO_RGB[channel, row] * change
    return np.clip(values, 0, 255) / 255


def max_mean_error(dc_step: int) -> float:
    """How far (in 8-bit levels) a decoded block's mean can be from the encoder's: half the mean's
    quantisation step (DC / 8 per level of mean) plus half a level of output rounding."""
    return dc_step / 16.0 + 0.5


def _mean_correction(plane: np.ndarray, block: tuple[int, int], dc_step: int) -> np.ndarray:
    """What to add to ``plane`` to replace its block means by their bilinear interpolation, bounded."""
    bh, bw = block
    h, w = plane.shape
    rows, cols = -(-h // bh), -(-w // bw)
    # Encoders pad partial edge blocks by repeating the last row and column; so does this.
    if (rows * bh, cols * bw) != (h, w):
        plane = np.pad(plane, ((0, rows * bh - h), (0, cols * bw - w)), mode="edge")
    means = plane.reshape(rows, bh, cols, bw).mean(axis=(1, 3))
    # Bilinear between block centres, separably and in block layout (only the last step is full size): a
    # pixel at offset o from its block's centre (in blocks) moves |o| of the way to the neighbour on its side.
    vertical = means[:, None, :] + _toward_neighbours(means, bh, axis=0)  # rows x bh x cols
    correction = _toward_neighbours(vertical, bw, axis=2)  # rows x bh x cols x bw
    correction += (vertical - means[:, None, :])[..., None]
    bound = max_mean_error(dc_step)
    np.clip(correction, -bound, bound, out=correction)
    return correction.reshape(rows * bh, cols * bw)[:h, :w]


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
