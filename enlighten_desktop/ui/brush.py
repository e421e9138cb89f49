"""The attention brush: painted edits to the attention map, with undo and reset (numpy only).

The edit is an H x W float32 map in [-1, 1] at the working (preview) resolution; the engine adds it to the
default attention (engine.attention.apply_attention_edit). Adding raises attention (more enhancement),
subtracting lowers it (protects). One stroke never builds up beyond ``flow``: overlapping dabs within a
stroke take the maximum, as in photo editors, so slow strokes and fast strokes give the same result.
"""

from __future__ import annotations

import math

import numpy as np

MAX_UNDO = 30


class AttentionBrush:
    """Holds the edit map of one photo and paints strokes into it."""

    def __init__(self, *, height: int, width: int, radius: float = 40.0, softness: float = 0.5,
                 flow: float = 0.6) -> None:
        self.edit = np.zeros((height, width), dtype=np.float32)
        self.radius = radius  # pixels of the edit map
        self.softness = softness  # 0 = hard edge, 1 = falls off from the centre
        self.flow = flow  # the most one stroke changes the attention by
        self.subtract = False
        self._undo: list[np.ndarray] = []
        self._stroke: np.ndarray | None = None  # max coverage of the current stroke, 0..1
        self._base: np.ndarray | None = None
        self._last: tuple[float, float] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        height, width = self.edit.shape
        return height, width

    @property
    def has_edits(self) -> bool:
        return bool(np.any(self.edit))

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def begin(self, x: float, y: float) -> None:
        """Start a stroke at (x, y), edit-map pixels."""
        self._undo.append(self.edit.copy())
        del self._undo[:-MAX_UNDO]
        self._base = self.edit.copy()
        self._stroke = np.zeros_like(self.edit)
        self._last = (x, y)
        self._dab(x, y)

    def move(self, x: float, y: float) -> None:
        """Continue the stroke to (x, y), laying dabs every quarter radius so the line has no gaps."""
        if self._last is None:
            return
        x0, y0 = self._last
        step = max(1.0, self.radius / 4)
        count = max(1, math.ceil(math.hypot(x - x0, y - y0) / step))
        for i in range(1, count + 1):
            t = i / count
            self._dab(x0 + (x - x0) * t, y0 + (y - y0) * t)
        self._last = (x, y)

    def end(self) -> None:
        self._stroke = self._base = self._last = None

    def undo(self) -> bool:
        """Restore the map as it was before the last stroke; False when there is nothing to undo."""
        if not self._undo:
            return False
        self.edit = self._undo.pop()
        return True

    def reset(self) -> None:
        """Clear every edit (undoable)."""
        if self.has_edits:
            self._undo.append(self.edit.copy())
            del self._undo[:-MAX_UNDO]
        self.edit = np.zeros_like(self.edit)

    def _dab(self, x: float, y: float) -> None:
        if self._stroke is None or self._base is None:
            return
        height, width = self.edit.shape
        r = max(0.5, self.radius)
        top, bottom = max(0, int(y - r)), min(height, int(math.ceil(y + r)) + 1)
        left, right = max(0, int(x - r)), min(width, int(math.ceil(x + r)) + 1)
        if top >= bottom or left >= right:
            return
        yy, xx = np.mgrid[top:bottom, left:right].astype(np.float32)
        distance = np.hypot(xx - x, yy - y)
        # Full strength inside (1 - softness) * r, then a smoothstep down to zero at r.
        ramp = max(1e-3, self.softness * r)
        t = np.clip((r - distance) / ramp, 0.0, 1.0)
        coverage = t * t * (3.0 - 2.0 * t)
        window = (slice(top, bottom), slice(left, right))
        np.maximum(self._stroke[window], coverage, out=self._stroke[window])
        sign = -1.0 if self.subtract else 1.0
        painted = self._base[window] + sign * self.flow * self._stroke[window]
        self.edit[window] = np.clip(painted, -1.0, 1.0)
