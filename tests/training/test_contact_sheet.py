"""Contact sheet titles: long method names wrap inside their column instead of running into the next."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from training.contact_sheet import _GAP, _HEADER, CELL, contact_sheet, wrap_title

LONG = "enlightengan shadow smoothing automatic, photo colour 100 %, colour noise reduction 100 %"


def cells(count: int) -> list[np.ndarray]:
    return [np.full((CELL, CELL, 3), 128, np.uint8) for _ in range(count)]


def test_short_titles_keep_one_title_line() -> None:
    sheet = contact_sheet(["input", "model"], [cells(2), cells(2)])
    assert sheet.size == (2 * (CELL + _GAP) + _GAP, _HEADER + 2 * (CELL + _GAP) + _GAP)


def test_a_long_title_wraps_within_its_column_and_leaves_the_next_column_blank() -> None:
    sheet = contact_sheet([LONG, ""], [cells(2)])
    header = sheet.height - (CELL + 2 * _GAP)
    assert header > _HEADER  # the title row grew to hold the wrapped lines
    title_row = np.asarray(sheet)[:header]
    second_column = title_row[:, _GAP + CELL + _GAP:]
    assert second_column.max() == 32  # only the background: no letter of the first title spilled over
    assert title_row[:, : _GAP + CELL].max() > 200  # the first title is drawn


def test_wrap_breaks_at_spaces_within_the_width() -> None:
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    lines = wrap_title(draw, LONG, CELL - 8)
    assert len(lines) > 1
    assert " ".join(lines) == LONG
    assert all(draw.textlength(line) <= CELL - 8 for line in lines)
