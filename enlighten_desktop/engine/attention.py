"""The attention map: where the model brightens. One place computes it (docs/MODEL_CONTRACT.md).

The default is ``1 - Y`` with Y the Rec. 601 luma of the image in [0, 1], the paper's self-regularised
attention: dark pixels get attention near 1, bright ones near 0. The user may paint an edit on top of it,
usually on a smaller preview: the edit, not the edited map, is scaled to the photo, so the full-resolution
default map keeps its detail where nothing was painted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

# Rec. 601 luma weights, negated so that the sum accumulates -Y without a second full-size temporary.
_NEG_LUMA_601 = (np.float32(-0.299), np.float32(-0.587), np.float32(-0.114))
LUMA_601 = np.array([0.299, 0.587, 0.114])
# Rows per strip when averaging a photo's luma: no full-size temporary, and a strip's float64 copy (4.6 MB at
# 6000 px wide) stays in cache.
_MEAN_ROWS = 32


def default_attention(rgb: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """rgb: H x W x 3 float32 in [0, 1] -> H x W float32 in [0, 1], ``(1 - (0.299 R + 0.587 G + 0.114 B))``
    times ``gain``, the photo's exposure gain (``ExposureGate.gain``; 1 without a gate).

    Element-wise, one channel after the other: a pixel's value does not depend on the array it is part of,
    so the map of a tile's window equals that window of the whole image's map (the engine computes it per
    window; a matrix product may round differently with the array's shape and memory layout)."""
    attention: np.ndarray = rgb[..., 0] * _NEG_LUMA_601[0]
    for channel in (1, 2):
        term = rgb[..., channel] * _NEG_LUMA_601[channel]
        attention += term
    attention += 1.0
    np.clip(attention, 0.0, 1.0, out=attention)
    if gain != 1.0:
        attention *= np.float32(gain)
    return attention


def mean_luma(rgb: np.ndarray) -> float:
    """The mean Rec. 601 luma of every pixel of ``rgb`` (H x W x 3 float32 [0, 1]), in float64: each strip's
    luma as a matrix-vector product, then summed. Summing each strip's channels first took 6-8x as long (0.36
    s at 24 MP against 45-60 ms), and the engine takes this mean once for the exposure gate and once for
    automatic shadow smoothing."""
    total = 0.0
    for top in range(0, rgb.shape[0], _MEAN_ROWS):
        total += float((rgb[top:top + _MEAN_ROWS].astype(np.float64) @ LUMA_601).sum())
    return total / max(1, int(rgb.shape[0]) * int(rgb.shape[1]))


@dataclass(frozen=True)
class ExposureGate:
    """A photo-level gain on the attention map, declared by a model (``enlighten.exposure_gate``).

    A convolutional generator run tile by tile sees a neighbourhood, never the whole photo, so it cannot tell
    a dark corner of a well-exposed photo from a dark photo, and lifts both. The engine sees the whole photo:
    it scales the map by ``1 - smoothstep((m - low) / (high - low))``, m the photo's mean luma, so a dark
    photo (m <= low) keeps the paper's attention and a well-exposed one (m >= high) is left as it is. The
    user's brush edit is added after the gain: painting still brightens a bright photo."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.low < self.high <= 1.0:
            raise ValueError(f"exposure gate needs 0 <= low < high <= 1, got {self.low}, {self.high}")

    @classmethod
    def parse(cls, text: str) -> ExposureGate:
        """``"0.25,0.45"`` -> ExposureGate(0.25, 0.45); ValueError when malformed."""
        parts = text.replace(" ", "").split(",")
        if len(parts) != 2:
            raise ValueError(f"exposure gate '{text}' is not 'low,high'")
        return cls(float(parts[0]), float(parts[1]))

    def gain_at(self, mean: float) -> float:
        """The gain for a photo of mean luma ``mean``: 1 up to ``low``, 0 from ``high``, smooth between."""
        t = min(1.0, max(0.0, (mean - self.low) / (self.high - self.low)))
        return 1.0 - t * t * (3.0 - 2.0 * t)


def exposure_gain(gate: ExposureGate | None, rgb: np.ndarray) -> float:
    """The gain ``gate`` gives the default attention of the photo ``rgb`` (H x W x 3 float32 [0, 1]: the
    whole photo, never one tile); 1 without a gate."""
    return 1.0 if gate is None else gate.gain_at(mean_luma(rgb))


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


def edited_attention(rgb: np.ndarray, edit: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """The attention for ``rgb`` (H x W x 3 float32 [0, 1]; its exposure ``gain`` applied) with a user
    ``edit`` (h x w float32 in [-1, 1], painted at any resolution, e.g. on a preview) resized to H x W and
    applied: H x W float32 [0, 1]."""
    height, width = rgb.shape[:2]
    return apply_attention_edit(default_attention(rgb, gain), resize_plane(edit, width, height))
