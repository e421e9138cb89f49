"""Tile plans and reflect padding, checked against numpy's own reflect padding."""

from __future__ import annotations

import numpy as np
import pytest

from enlighten_desktop.engine.tiling import plan_tiles, read_window, reflect_indices


@pytest.mark.parametrize(
    ("height", "width", "tile", "margin"), [(37, 53, 16, 16), (100, 64, 32, 40), (5, 3, 16, 0)]
)
def test_cores_cover_every_pixel_once_and_windows_sit_on_the_grid(height, width, tile, margin):
    cover = np.zeros((height, width), dtype=int)
    for each in plan_tiles(height, width, tile=tile, margin=margin, multiple=16):
        rows, cols = each.window
        assert rows.start % 16 == cols.start % 16 == 0
        assert (rows.stop - rows.start) % 16 == (cols.stop - cols.start) % 16 == 0
        assert rows.stop <= -(-height // 16) * 16 and cols.stop <= -(-width // 16) * 16
        inner_rows, inner_cols = each.core_in_window
        assert inner_rows.start + rows.start == each.core[0].start
        assert inner_cols.start + cols.start == each.core[1].start
        cover[each.core] += 1
    assert (cover == 1).all()


def test_zero_tile_means_one_window_for_the_whole_padded_image():
    (only,) = plan_tiles(37, 53, tile=0, margin=32, multiple=16)
    assert only.window == (slice(0, 48), slice(0, 64))
    assert only.core == (slice(0, 37), slice(0, 53))


@pytest.mark.parametrize(("length", "pad"), [(5, 11), (17, 15), (2, 14), (1, 15), (40, 8)])
def test_reflect_indices_match_numpy_reflect_padding(length, pad):
    expected = np.pad(np.arange(length), (0, pad), mode="reflect")
    np.testing.assert_array_equal(reflect_indices(slice(0, length + pad), length), expected)


def test_read_window_equals_the_window_of_the_padded_image():
    rng = np.random.default_rng(1)
    image = rng.random((21, 30, 3), dtype=np.float32)
    padded = np.pad(image, ((0, 11), (0, 2), (0, 0)), mode="reflect")
    window = (slice(16, 32), slice(0, 32))
    np.testing.assert_array_equal(read_window(image, window), padded[window])
    assert np.shares_memory(read_window(image, (slice(0, 16), slice(0, 16))), image)


def test_an_axis_that_fits_in_one_window_is_not_split():
    plan = plan_tiles(1000, 3000, tile=768, margin=128, multiple=16)
    assert all(each.window[0] == slice(0, 1008) for each in plan)
    assert len(plan) == 4
    assert max(each.window[1].stop - each.window[1].start for each in plan) <= 768 + 2 * 128


@pytest.mark.parametrize(("height", "width"), [(4000, 6000), (1536, 2048), (1000, 3001)])
def test_one_images_windows_share_one_shape_and_give_every_core_its_margin(height, width):
    plan = plan_tiles(height, width, tile=1408, margin=64, multiple=16)
    assert len({(w[0].stop - w[0].start, w[1].stop - w[1].start) for w in (t.window for t in plan)}) == 1
    for each in plan:
        for axis, length in ((0, height), (1, width)):
            window, inner = each.window[axis], each.core_in_window[axis]
            padded = -(-length // 16) * 16
            assert inner.start >= 64 or window.start == 0
            assert window.stop - window.start - inner.stop >= 64 or window.stop == padded
