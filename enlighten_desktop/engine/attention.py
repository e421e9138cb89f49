"""The attention map: where the model brightens. One place computes it (docs/MODEL_CONTRACT.md).

The default is ``1 - Y`` with Y the Rec. 601 luma of the image in [0, 1], the paper's self-regularised
attention: dark pixels get attention near 1, bright ones near 0. The user may paint an edit on top of it.
"""

from __future__ import annotations

import numpy as np

# Rec. 601 luma weights, negated so that one matrix product gives -Y without a full-size temporary.
_NEG_LUMA_601 = np.array([-0.299, -0.587, -0.114], dtype=np.float32)


def default_attention(rgb: np.ndarray) -> np.ndarray:
    """rgb: H x W x 3 float32 in [0, 1] -> H x W float32 in [0, 1], ``1 - (0.299 R + 0.587 G + 0.114 B)``."""
    attention = np.matmul(rgb, _NEG_LUMA_601)
    attention += 1.0
    return np.clip(attention, 0.0, 1.0, out=attention)


def apply_attention_edit(attention: np.ndarray, edit: np.ndarray) -> np.ndarray:
    """attention: H x W in [0, 1]; edit: H x W in [-1, 1] (painted brighten/protect strokes).

    Returns a new H x W float32 map, ``attention + edit`` clipped to [0, 1].
    """
    if attention.shape != edit.shape:
        raise ValueError(f"edit shape {edit.shape} does not match attention shape {attention.shape}")
    edited = np.add(attention, edit, dtype=np.float32)
    return np.clip(edited, 0.0, 1.0, out=edited)
