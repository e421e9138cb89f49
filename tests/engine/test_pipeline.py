"""enhance(): tiled = whole image, padding, progress and cancellation, strength, attention maps."""

from __future__ import annotations

import numpy as np
import pytest

from enlighten_desktop.bench import synthetic_photo
from enlighten_desktop.engine.attention import apply_attention_edit, default_attention
from enlighten_desktop.engine.errors import CancelledError
from enlighten_desktop.engine.pipeline import CancelToken, apply_strength, enhance, run_to_end


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return synthetic_photo(157, 101, seed=3)  # odd sizes: 101 x 157 pads to 112 x 160


@pytest.fixture(scope="module")
def whole(cpu_model, photo):
    return run_to_end(enhance(cpu_model, photo, tile=0))


@pytest.mark.parametrize("tile", [16, 32, 48])
def test_tiles_much_smaller_than_the_image_give_the_whole_image_result(cpu_model, photo, whole, tile):
    tiled = run_to_end(enhance(cpu_model, photo, tile=tile))
    np.testing.assert_allclose(tiled.enhanced, whole.enhanced, rtol=0, atol=1e-5)


def test_without_context_margin_tiles_would_differ(cpu_model, photo, whole):
    # Shows that the agreement above depends on the margin: the model's receptive field is ~13 px.
    seamy = run_to_end(enhance(cpu_model, photo, tile=32, margin=0))
    assert np.abs(seamy.enhanced - whole.enhanced).max() > 1e-3


def test_odd_sizes_are_reflect_padded_and_cropped_back(cpu_model, photo, whole):
    padded = np.pad(photo, ((0, 11), (0, 3), (0, 0)), mode="reflect")
    image = np.ascontiguousarray(padded.transpose(2, 0, 1)[None]) * 2 - 1
    raw = cpu_model.run(image, default_attention(padded)[None, None])[0]
    expected = np.clip((raw.transpose(1, 2, 0)[:101, :157] + 1) / 2, 0, 1)
    assert whole.enhanced.shape == photo.shape
    np.testing.assert_allclose(whole.enhanced, expected, rtol=0, atol=1e-6)


def test_an_image_smaller_than_the_size_multiple_works(cpu_model):
    tiny = synthetic_photo(3, 5)
    assert run_to_end(enhance(cpu_model, tiny)).enhanced.shape == (5, 3, 3)


def test_progress_counts_tiles_and_the_result_brightens(cpu_model, photo):
    seen = []
    result = run_to_end(enhance(cpu_model, photo, tile=32), seen.append)
    assert [p.done for p in seen] == list(range(len(seen)))
    assert seen[-1].done == seen[-1].total == 4 * 5
    assert result.enhanced.mean() > photo.mean() + 0.1
    np.testing.assert_array_equal(result.attention, default_attention(photo))


def test_cancel_during_a_tile_stops_before_the_next_one(cpu_model, photo):
    token = CancelToken()
    steps = enhance(cpu_model, photo, tile=32, cancel=token)
    next(steps)
    assert next(steps).done == 1
    token.cancel()  # as if set from the GUI thread while tile 2 would run
    with pytest.raises(CancelledError):
        next(steps)


def test_strength_blends_without_rerunning(photo, whole):
    assert np.array_equal(apply_strength(photo, whole.enhanced, 0.0), photo)
    assert np.array_equal(apply_strength(photo, whole.enhanced, 1.0), whole.enhanced)
    half = apply_strength(photo, whole.enhanced, 0.5)
    np.testing.assert_allclose(half, (photo + whole.enhanced) / 2, atol=1e-6)
    assert half.dtype == np.float32
    in_place = whole.enhanced.copy()
    assert apply_strength(photo, in_place, 0.5, out=in_place) is in_place
    np.testing.assert_array_equal(in_place, half)


def test_zero_attention_returns_the_input(cpu_model, photo):
    result = run_to_end(enhance(cpu_model, photo, attention=np.zeros(photo.shape[:2], np.float32)))
    np.testing.assert_allclose(result.enhanced, photo, atol=1e-6)


def test_a_user_edited_attention_map_is_used_and_returned(cpu_model, photo, whole):
    edit = np.zeros(photo.shape[:2], np.float32)
    edit[:, :50] = -1.0  # "protect" the left part
    edited = apply_attention_edit(whole.attention, edit)
    result = run_to_end(enhance(cpu_model, photo, attention=edited, tile=32))
    assert result.attention is edited
    np.testing.assert_allclose(result.enhanced[:, :50], photo[:, :50], atol=1e-6)
    # Beyond the edit plus the receptive field (13 px, 16 px pooling blocks) nothing changes.
    assert np.abs(result.enhanced[:, 64:] - whole.enhanced[:, 64:]).max() < 1e-5


def test_wrong_attention_shape_is_refused(cpu_model, photo):
    with pytest.raises(ValueError, match="attention shape"):
        run_to_end(enhance(cpu_model, photo, attention=np.zeros((10, 10), np.float32)))
