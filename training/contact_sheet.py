"""Contact sheets: a few images of a set in rows, one column per method (input | gamma | model | ref)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

CELL = 256
"""Each image is fitted into a CELL x CELL box."""
_HEADER = 24
"""Height of the title row when every title fits on one line; long titles wrap and the row grows."""
_LINE = 12  # pixels per wrapped title line (Pillow's default font is about 10 high)
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
    A title wider than its column wraps at spaces (a method named by its settings runs to several lines), so
    neighbouring titles never overlap.
    """
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    titles = [wrap_title(measure, title, CELL - 8) for title in columns]
    header = _HEADER + _LINE * (max((len(lines) for lines in titles), default=1) - 1)
    width = len(columns) * (CELL + _GAP) + _GAP
    height = header + len(rows) * (CELL + _GAP) + _GAP
    sheet = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for c, lines in enumerate(titles):
        for n, line in enumerate(lines):
            draw.text((_GAP + c * (CELL + _GAP) + 4, 6 + n * _LINE), line, fill=(230, 230, 230))
    for r, row in enumerate(rows):
        if len(row) != len(columns):
            raise ValueError(f"row {r} has {len(row)} images for {len(columns)} columns")
        for c, image in enumerate(row):
            if image is None:
                continue
            thumb = Image.fromarray(image)
            thumb.thumbnail((CELL, CELL), Image.Resampling.LANCZOS)
            x = _GAP + c * (CELL + _GAP) + (CELL - thumb.width) // 2
            y = header + _GAP + r * (CELL + _GAP) + (CELL - thumb.height) // 2
            sheet.paste(thumb, (x, y))
    return sheet


def wrap_title(draw: ImageDraw.ImageDraw, title: str, width: float) -> list[str]:
    """``title`` in lines of at most ``width`` pixels in ``draw``'s font, broken at spaces (a single word
    wider than that keeps a line of its own)."""
    lines: list[str] = []
    for word in title.split():
        joined = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(joined) <= width:
            lines[-1] = joined
        else:
            lines.append(word)
    return lines or [""]
