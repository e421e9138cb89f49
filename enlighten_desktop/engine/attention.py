"""The attention map: where the model brightens. One place computes it (docs/MODEL_CONTRACT.md).

The default is ``1 - Y`` with Y the Rec. 601 luma of the image in [0, 1], the paper's self-regularised
attention: dark pixels get attention near 1, bright ones near 0. The user may paint an edit on top of it,
usually on a smaller preview: the edit, not the edited map, is scaled to the photo, so the full-resolution
default map keeps its detail where nothing was painted.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# Rec. 601 luma weights, negated so that the sum accumulates -Y without a second full-size temporary.
_NEG_LUMA_601 = (np.float32(-0.299), np.float32(-0.587), np.float32(-0.114))


def default_attention(rgb: np.ndarray) -> np.ndarray:
    """rgb: H x W x 3 float32 in [0, 1] -> H x W float32 in [0, 1], ``1 - (0.299 R + 0.587 G + 0.114 B)``.

    Element-wise, one channel after the other: a pixel's value does not depend on the array it is part of,
    so the map of a tile's window equals that window of the whole image's map (the engine computes it per
    window; a matrix product may round differently with the array's shape and memory layout)."""
    attention: np.ndarray = rgb[..., 0] * _NEG_LUMA_601[0]
    for channel in (1, 2):
        term = rgb[..., channel] * _NEG_LUMA_601[channel]
        attention += term
    attention += 1.0
    return np.clip(attention, 0.0, 1.0, out=attention)


def apply_attention_edit(attention: np.ndarray, edit: np.ndarray) -> np.ndarray:
    """attention: H x W in [0, 1]; edit: H x W in [-1, 1] (painted brighten/protect strokes).

    Returns a new H x W float32 map, ``attention + edit`` clipped to [0, 1].
    """
    if attention.shape != edit.shape:
        raise ValueError(f"edit shape {edit.shape} does not match attention shape {attention.shape}")
    edited: np.ndarray = np.add(attention, edit, dtype=np.float32)
    return np.clip(edited, 0.0, 1.0, out=edited)


def resize_plane(plane: np.ndarray, width: int, height: int) -> np.ndarray:
    """H x W float32 -> height x width float32 (box filter down, bilinear up); values keep their range."""
    if plane.shape[1] == width and plane.shape[0] == height:
        return plane.astype(np.float32, copy=False)
    image = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32), mode="F")
    shrinking = width < plane.shape[1]
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    return np.asarray(image.resize((width, height), method), dtype=np.float32)


def edited_attention(rgb: np.ndarray, edit: np.ndarray) -> np.ndarray:
    """The attention for ``rgb`` (H x W x 3 float32 [0, 1]) with a user ``edit`` (h x w float32 in [-1, 1],
    painted at any resolution, e.g. on a preview) resized to H x W and applied: H x W float32 [0, 1]."""
    height, width = rgb.shape[:2]
    return apply_attention_edit(default_attention(rgb), resize_plane(edit, width, height))
