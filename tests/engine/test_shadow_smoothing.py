"""Shadow smoothing (engine/smoothing.py): 8-bit steps and compression blocks smoothed before the lift, within
a bound the user sets and the attention scales; real ONNX models (tests/model_factory.py), real files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enlighten_desktop.cli import main as cli_main
from enlighten_desktop.engine.filters import DEFAULT_FILTERS, Filters
from enlighten_desktop.engine.item import develop, process_item, read_photo
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.outputs import NewFiles, OutputOptions
from enlighten_desktop.engine.pipeline import enhance, enhance_in_place, run_to_end
from enlighten_desktop.engine.smoothing import (
    AUTO_LEVELS,
    AUTO_RAMP,
    EDGE_LEVELS,
    MAX_LEVELS,
    RADIUS,
    auto_levels,
    box_mean,
    smooth_shadows,
)
from tests.model_factory import write_contract_model

LEVEL = 1.0 / 255.0


def blocky_shadows(height: int = 96, width: int = 128, *, seed: int = 0) -> np.ndarray:
    """A dark photo as a heavily compressed phone shot stores it: flat 8x8 blocks whose levels differ by one
    (2 to 5 of 255) over a smooth gradient, in 8-bit steps (H x W x 3 float32)."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 2, (height // 8, width // 8, 1)).repeat(8, axis=0).repeat(8, axis=1)
    gradient = np.linspace(2, 4, width)[None, :, None]
    return ((np.floor(gradient) + blocks) * LEVEL).repeat(3, axis=2).astype(np.float32)


def block_steps(rgb: np.ndarray) -> float:
    """How much larger the mean step across 8x8 block boundaries is than inside blocks (0: no grid)."""
    luma = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    across = np.abs(np.diff(luma, axis=1))
    on_grid = across[:, 7::8].mean()
    inside = np.delete(across, np.s_[7::8], axis=1).mean()
    return float(on_grid - inside) / LEVEL


def test_box_mean_is_the_mean_of_the_box_cut_at_the_borders() -> None:
    plane = np.random.default_rng(1).random((13, 17))
    radius = 3
    expected = np.empty_like(plane)
    for row in range(13):
        for col in range(17):
            expected[row, col] = plane[max(0, row - radius):row + radius + 1,
                                       max(0, col - radius):col + radius + 1].mean()
    np.testing.assert_allclose(box_mean(plane, radius), expected, rtol=0, atol=1e-12)


def test_blocks_one_level_apart_are_smoothed_within_the_bound() -> None:
    rgb = blocky_shadows()
    attention = np.ones(rgb.shape[:2], np.float32)
    smoothed = smooth_shadows(rgb, attention, 1.0)
    assert block_steps(rgb) > 0.2
    assert block_steps(smoothed) < block_steps(rgb) / 4
    assert np.abs(smoothed - rgb).max() <= 1.0 * LEVEL + 1e-7


def test_the_bound_follows_the_attention_and_zero_changes_nothing() -> None:
    rgb = blocky_shadows()
    attention = np.zeros(rgb.shape[:2], np.float32)
    attention[:, 64:] = 0.5
    smoothed = smooth_shadows(rgb, attention, 2.0)
    np.testing.assert_array_equal(smoothed[:, :64], rgb[:, :64])
    assert np.abs(smoothed[:, 64:] - rgb[:, 64:]).max() <= 1.0 * LEVEL + 1e-7
    np.testing.assert_array_equal(smooth_shadows(rgb, np.ones_like(attention), 0.0), rgb)


def test_edges_and_texture_above_the_threshold_are_kept() -> None:
    rgb = np.full((64, 64, 3), 4 * LEVEL, np.float32)
    rgb[:, 32:] = 40 * LEVEL  # a lamp's edge in the dark
    texture = np.random.default_rng(2).choice([-6.0, 6.0], (64, 16, 3)) * LEVEL  # far above EDGE_LEVELS
    rgb[:, :16] = 20 * LEVEL + texture
    smoothed = smooth_shadows(rgb, np.ones((64, 64), np.float32), MAX_LEVELS)
    assert EDGE_LEVELS < 6
    # Beside the edge (within the filter's radius) and in the texture, pixels hardly move.
    assert np.abs(smoothed - rgb)[:, 32 - RADIUS:32 + RADIUS].max() < 0.25 * LEVEL
    assert np.abs(smoothed - rgb)[:, 4:12].mean() < 0.5 * LEVEL


@pytest.mark.parametrize("levels", [-0.5, MAX_LEVELS + 0.5, float("nan")])
def test_levels_out_of_range_are_refused(levels: float) -> None:
    rgb = blocky_shadows(32, 32)
    with pytest.raises(ValueError, match="shadow smoothing must be between 0 and"):
        smooth_shadows(rgb, np.ones((32, 32), np.float32), levels)


@pytest.fixture
def model(tmp_path: Path) -> EnhancerModel:
    return EnhancerModel.load(write_contract_model(tmp_path / "m.onnx"), provider="cpu")


def test_the_model_sees_the_smoothed_shadows_and_the_blend_keeps_the_original(model: EnhancerModel) -> None:
    rgb = blocky_shadows(128, 160)
    result = run_to_end(enhance(model, rgb, filters=Filters(smoothing=1.5), tile=0))
    seen = smooth_shadows(rgb, result.attention, 1.5)
    assert not np.array_equal(seen, rgb)
    # The attention comes from the photo as it is; the model is given the smoothed photo with it.
    direct = run_to_end(enhance(model, seen, attention=result.attention, tile=0)).enhanced
    np.testing.assert_array_equal(result.enhanced, direct)
    plain = run_to_end(enhance(model, rgb, tile=0)).enhanced
    off = run_to_end(enhance(model, rgb, filters=Filters(smoothing=0.0), tile=0)).enhanced
    np.testing.assert_array_equal(off, plain)
    half = rgb.copy()
    run_to_end(enhance_in_place(model, half, strength=0.5, filters=Filters(smoothing=1.5), tile=0))
    np.testing.assert_allclose(half, 0.5 * rgb + 0.5 * result.enhanced, rtol=0, atol=1e-6)


def test_tiles_agree_with_the_whole_image_when_smoothing(model: EnhancerModel) -> None:
    rgb = blocky_shadows(160, 208, seed=3)
    rgb += np.random.default_rng(4).normal(0, 3 * LEVEL, rgb.shape).astype(np.float32)
    np.clip(rgb, 0, 1, out=rgb)
    whole = run_to_end(enhance(model, rgb, filters=Filters(smoothing=2.0), tile=0)).enhanced
    tiled = run_to_end(enhance(model, rgb, filters=Filters(smoothing=2.0), tile=48)).enhanced
    assert np.abs(np.round(whole * 255) - np.round(tiled * 255)).max() <= 1


@pytest.mark.parametrize(("made", "other"), [
    (Filters(smoothing=1.0), Filters()),
    (Filters(colour_noise=0.6), Filters(colour_noise=1.0)),
    (Filters(luminance_noise=0.5), Filters()),
])
def test_a_kept_result_serves_only_the_filters_it_was_made_with(tmp_path: Path, model: EnhancerModel,
                                                                made: Filters, other: Filters) -> None:
    source = tmp_path / "dark.png"
    Image.fromarray(np.round(blocky_shadows() * 255).astype(np.uint8)).save(source)
    image, stamp = read_photo(source)
    developed = run_to_end(develop(model, image, stamp, filters=made))
    assert developed.serves(source, model, tile=None, edit=None, filters=made)
    assert not developed.serves(source, model, tile=None, edit=None, filters=other)
    out = tmp_path / "out"
    written = run_to_end(process_item(model, source, NewFiles(OutputOptions(folder=out)), reuse=developed,
                                      filters=made)).output
    fresh = run_to_end(process_item(model, source, NewFiles(OutputOptions(folder=tmp_path / "fresh")),
                                    filters=made)).output
    assert written is not None and fresh is not None
    np.testing.assert_array_equal(np.asarray(Image.open(written)), np.asarray(Image.open(fresh)))


def test_cli_smooths_on_request_and_refuses_a_bad_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    model_path = write_contract_model(tmp_path / "m.onnx")
    source = tmp_path / "dark.png"
    Image.fromarray(np.round(blocky_shadows() * 255).astype(np.uint8)).save(source)
    for name, extra in [("plain", []), ("smooth", ["--smooth-shadows", "1.5"])]:
        status = cli_main(["enhance", str(source), "-o", str(tmp_path / name), "--model", str(model_path),
                           "--provider", "cpu", *extra])
        assert status == 0
    plain = np.asarray(Image.open(next((tmp_path / "plain").glob("dark*.png"))))
    smooth = np.asarray(Image.open(next((tmp_path / "smooth").glob("dark*.png"))))
    image, _ = read_photo(source)
    chosen = Filters(smoothing=1.5, colour_noise=DEFAULT_FILTERS.colour_noise)
    expected = run_to_end(enhance(EnhancerModel.load(model_path, provider="cpu"), image.rgb, filters=chosen))
    np.testing.assert_array_equal(smooth, np.round(expected.enhanced * 255).astype(np.uint8))
    assert not np.array_equal(smooth, plain)
    with pytest.raises(SystemExit) as refused:
        cli_main(["enhance", str(source), "--model", str(model_path), "--smooth-shadows", "9"])
    assert refused.value.code == 2
    assert "--smooth-shadows: must be 'auto' or a number of levels from 0 to 4" in capsys.readouterr().err



def test_automatic_levels_follow_the_photos_darkness() -> None:
    def photo_at(mean: float) -> np.ndarray:
        return np.full((16, 16, 3), mean, np.float32)

    assert auto_levels(photo_at(0.005)) == AUTO_LEVELS
    assert auto_levels(photo_at(AUTO_RAMP.low)) == pytest.approx(AUTO_LEVELS)
    assert auto_levels(photo_at(AUTO_RAMP.high)) == pytest.approx(0.0, abs=1e-9)
    assert auto_levels(photo_at(0.4)) == 0.0
    between = [auto_levels(photo_at(m)) for m in np.linspace(AUTO_RAMP.low, AUTO_RAMP.high, 6)]
    assert all(a > b for a, b in zip(between, between[1:], strict=False))
    # A dark photo with a bright area is judged by its mean: the lamp counts.
    lamp = photo_at(0.01)
    lamp[:, :4] = 1.0
    assert auto_levels(lamp) == 0.0


def test_automatic_smoothing_is_one_level_for_the_whole_photo_in_every_tile(model: EnhancerModel) -> None:
    rgb = blocky_shadows(160, 208, seed=5)
    rgb[:, 160:] += np.float32(0.12)  # a brighter strip: the mean lands on the ramp, above a dark tile's mean
    level = auto_levels(rgb)
    assert 0.0 < level < AUTO_LEVELS and auto_levels(rgb[:, :96]) == AUTO_LEVELS
    auto = Filters(auto_smoothing=True)
    whole = run_to_end(enhance(model, rgb, filters=auto, tile=0)).enhanced
    fixed = run_to_end(enhance(model, rgb, filters=Filters(smoothing=level), tile=0)).enhanced
    np.testing.assert_array_equal(whole, fixed)
    assert not np.array_equal(whole, run_to_end(enhance(model, rgb, tile=0)).enhanced)
    tiled = run_to_end(enhance(model, rgb, filters=auto, tile=48)).enhanced
    # Every tile is smoothed at the whole photo's level (not at its own, which is higher in the dark tiles)...
    np.testing.assert_array_equal(
        tiled, run_to_end(enhance(model, rgb, filters=Filters(smoothing=level), tile=48)).enhanced)
    # ... so the tiles agree with the whole photo.
    assert np.abs(np.round(whole * 255) - np.round(tiled * 255)).max() <= 1
    # A photo past the ramp's end is not smoothed at all.
    bright = np.clip(rgb + np.float32(0.1), 0, 1)
    np.testing.assert_array_equal(run_to_end(enhance(model, bright, filters=auto, tile=0)).enhanced,
                                  run_to_end(enhance(model, bright, tile=0)).enhanced)


def test_filters_are_automatic_or_a_level_and_say_which() -> None:
    with pytest.raises(ValueError, match="either automatic or a number of levels"):
        Filters(smoothing=1.0, auto_smoothing=True)
    auto = Filters.chosen(smoothing=None, photo_colour=0.0, colour_noise=1.0, luminance_noise=0.0)
    assert auto == Filters(auto_smoothing=True, colour_noise=1.0)
    assert auto.describe() == "shadow smoothing automatic, colour noise reduction 100 %"
    chosen = Filters.chosen(smoothing=1.5, photo_colour=0.5, colour_noise=0.0, luminance_noise=0.5)
    assert chosen.describe() == "shadow smoothing 1.5, photo colour 50 %, luminance noise reduction 50 %"
    assert Filters().describe() == ""
    dark = blocky_shadows(32, 32)
    assert auto.describe(dark) == "shadow smoothing automatic (1 level), colour noise reduction 100 %"
    assert auto.describe(np.full((8, 8, 3), 0.5, np.float32)).startswith(
        "shadow smoothing automatic (none for this photo)")
    assert auto.for_photo(dark) == Filters(smoothing=AUTO_LEVELS, colour_noise=1.0)
    assert Filters(smoothing=2.0).for_photo(dark) == Filters(smoothing=2.0)


def test_cli_smooths_automatically_on_request(tmp_path: Path) -> None:
    model_path = write_contract_model(tmp_path / "m.onnx")
    source = tmp_path / "dark.png"
    Image.fromarray(np.round(blocky_shadows() * 255).astype(np.uint8)).save(source)
    status = cli_main(["enhance", str(source), "-o", str(tmp_path / "auto"), "--model", str(model_path),
                       "--provider", "cpu", "--smooth-shadows", "auto", "--colour-noise", "0"])
    assert status == 0
    written = np.asarray(Image.open(next((tmp_path / "auto").glob("dark*.png"))))
    image, _ = read_photo(source)
    model = EnhancerModel.load(model_path, provider="cpu")
    expected = run_to_end(enhance(model, image.rgb, filters=Filters(smoothing=AUTO_LEVELS)))
    np.testing.assert_array_equal(written, np.round(expected.enhanced * 255).astype(np.uint8))
