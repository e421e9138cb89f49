"""enhance() and enhance_in_place(): tiled = whole image, padding, progress and cancellation, strength,
attention maps, the write-back that keeps one image buffer, the automatic tile."""

from __future__ import annotations

import numpy as np
import pytest

from enlighten_desktop.bench import synthetic_photo
from enlighten_desktop.engine.attention import apply_attention_edit, default_attention
from enlighten_desktop.engine.errors import CancelledError
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.pipeline import (
    MODEL_MEMORY_BUDGET,
    CancelToken,
    apply_strength,
    auto_tile,
    enhance,
    enhance_in_place,
    run_to_end,
)
from enlighten_desktop.engine.tiling import plan_tiles, read_window
from tests.model_factory import write_contract_model


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


def tile_by_tile(model: EnhancerModel, rgb: np.ndarray, *, tile: int, margin: int) -> np.ndarray:
    """The oracle: every window read from an untouched copy of ``rgb``, every core pasted into a new image."""
    out = np.empty_like(rgb)
    for each in plan_tiles(*rgb.shape[:2], tile=tile, margin=margin, multiple=16):
        window = read_window(rgb, each.window)
        raw = model.run(np.ascontiguousarray(window.transpose(2, 0, 1)[None]) * 2 - 1,
                        default_attention(window)[None, None])[0].transpose(1, 2, 0)
        out[each.core] = np.clip((raw[each.core_in_window] + 1) / 2, 0, 1)
    return out


@pytest.mark.parametrize(("height", "tile", "margin"), [
    (101, 16, 0),  # no margin; the last tile row is 5 rows whose padding reflects into the row above
    (101, 32, 16),
    (150, 16, 48),  # margin wider than a tile: windows reach two rows of tiles back
    (150, 48, 32),
])
def test_in_place_every_window_sees_the_original_pixels(cpu_model, height, tile, margin):
    photo = synthetic_photo(157, height, seed=5)
    expected = tile_by_tile(cpu_model, photo, tile=tile, margin=margin)
    rgb = photo.copy()
    run_to_end(enhance_in_place(cpu_model, rgb, tile=tile, margin=margin))
    np.testing.assert_allclose(rgb, expected, rtol=0, atol=1e-6)


def test_in_place_strength_is_apply_strength_exactly(cpu_model, photo, whole):
    for strength in (0.0, 0.3, 1.0):
        rgb = photo.copy()
        run_to_end(enhance_in_place(cpu_model, rgb, tile=32, strength=strength))
        enhanced = run_to_end(enhance(cpu_model, photo, tile=32)).enhanced
        np.testing.assert_array_equal(rgb, apply_strength(photo, enhanced, strength))


def test_in_place_holds_about_a_row_of_tiles_beside_the_image(cpu_model):
    import tracemalloc

    photo = synthetic_photo(640, 480, seed=1)
    rgb = photo.copy()
    tracemalloc.start()
    try:
        run_to_end(enhance_in_place(cpu_model, rgb, tile=64))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Two rows of 64 px tiles (one being filled, the margin band of the one before) and one window's arrays:
    # about a third of this image; an image-sized output buffer alone would be all of it.
    assert peak < 0.5 * photo.nbytes
    assert np.abs(rgb - run_to_end(enhance(cpu_model, photo, tile=64)).enhanced).max() == 0


def test_the_automatic_tile_fits_the_memory_budget_with_the_models_tile_margin(tmp_path, cpu_model):
    metadata = {"enlighten.tile_margin": "16", "enlighten.width": "16"}
    stamped = EnhancerModel.load(write_contract_model(tmp_path / "m.onnx", metadata=metadata), provider="cpu")
    assert (stamped.contract.tile_margin, cpu_model.contract.tile_margin) == (16, 32)  # default: receptive
    tile = auto_tile(stamped)
    # 28 bytes per window pixel per unit of width (scripts/window_memory.py): width 16 -> 448 B/px, 1 GiB ->
    # a 1536 px window, less the margin on both sides.
    assert tile == 1536 - 2 * 16
    assert auto_tile(stamped, budget=MODEL_MEMORY_BUDGET // 4) == 768 - 2 * 16
    assert auto_tile(stamped, budget=1) == 16  # never below the size multiple
    steps = enhance(stamped, synthetic_photo(1600, 64))
    assert next(steps).total == 2  # 1504 px cores: two tiles across, one down
    steps.close()
