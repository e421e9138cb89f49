"""Contact sheets: a few images of a set in rows, one column per method (input | gamma | model | ref)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

CELL = 256
"""Each image is fitted into a CELL x CELL box."""
_HEADER = 24
_GAP = 4
_BACKGROUND = (32, 32, 32)


def evenly_spaced(count: int, rows: int) -> list[int]:
    """Indices of ``rows`` items spread evenly over ``count`` (all of them when there are fewer)."""
    if count <= rows:
        return list(range(count))
    return [round(i * (count - 1) / (rows - 1)) for i in range(rows)] if rows > 1 else [0]


def contact_sheet(columns: Sequence[str], rows: Sequence[Sequence[np.ndarray | None]]) -> Image.Image:
    """Lay out ``rows`` of [H, W, 3] uint8 images (None leaves a cell empty) under the ``columns`` titles.

    Returns an RGB image of (len(columns) * CELL) x (len(rows) * CELL) pixels plus gaps and a title row.
    """
    width = len(columns) * (CELL + _GAP) + _GAP
    height = _HEADER + len(rows) * (CELL + _GAP) + _GAP
    sheet = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for c, title in enumerate(columns):
        draw.text((_GAP + c * (CELL + _GAP) + 4, 6), title, fill=(230, 230, 230))
    for r, row in enumerate(rows):
        if len(row) != len(columns):
            raise ValueError(f"row {r} has {len(row)} images for {len(columns)} columns")
        for c, image in enumerate(row):
            if image is None:
                continue
            thumb = Image.fromarray(image)
            thumb.thumbnail((CELL, CELL), Image.Resampling.LANCZOS)
            x = _GAP + c * (CELL + _GAP) + (CELL - thumb.width) // 2
            y = _HEADER + _GAP + r * (CELL + _GAP) + (CELL - thumb.height) // 2
            sheet.paste(thumb, (x, y))
    return sheet
