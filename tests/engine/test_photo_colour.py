"""Photo colour (engine/colour.py): the model's luma with the photo's hues, by the attention and by how far
the photo's colour can be trusted; the shipped model through the real engine and CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enlighten_desktop.cli import main as cli_main
from enlighten_desktop.engine.colour import PHOTO_COLOURFULNESS, TRUSTED_LUMA, keep_photo_colour
from enlighten_desktop.engine.filters import DEFAULT_FILTERS, NO_FILTERS, Filters
from enlighten_desktop.engine.model import EnhancerModel, default_model_path
from enlighten_desktop.engine.pipeline import enhance, run_to_end, tile_margin

LUMA = np.array([0.299, 0.587, 0.114], np.float32)
# Dim saturated colours of the kind the shipped model turns (a red toy, teal, violet, green, blue), and grey.
DIM_COLOURS = np.array([[63, 6, 6], [28, 42, 43], [40, 10, 40], [10, 40, 10], [10, 10, 40], [30, 30, 30]],
                       np.float32) / 255.0


def patches(colours: np.ndarray, side: int = 48) -> np.ndarray:
    """A row of flat ``side`` px squares of ``colours`` (H x W x 3 float32)."""
    return np.concatenate([np.broadcast_to(c, (side, side, 3)) for c in colours], axis=1).astype(np.float32)


def hue(rgb: np.ndarray) -> np.ndarray:
    """Hue angle in degrees of each pixel's chroma (RGB minus luma) in the opponent plane."""
    chroma = rgb - (rgb @ LUMA)[..., None]
    red_cyan = chroma[..., 0] - 0.5 * (chroma[..., 1] + chroma[..., 2])
    green_blue = np.sqrt(3.0) / 2.0 * (chroma[..., 1] - chroma[..., 2])
    return np.degrees(np.arctan2(green_blue, red_cyan))


def hue_turn(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs((hue(a) - hue(b) + 180.0) % 360.0 - 180.0)


def saturation(rgb: np.ndarray) -> np.ndarray:
    """Chroma magnitude per unit luma."""
    luma = rgb @ LUMA
    return np.linalg.norm(rgb - luma[..., None], axis=-1) / luma


def test_the_output_keeps_its_luma_and_takes_the_photos_hue_and_colourfulness() -> None:
    photo = patches(DIM_COLOURS[:4])  # all above the trusted luma
    # A lift that guesses colour: every pixel brightened to one grey-ish tint, as a network blind to hue.
    guessed = np.clip(photo * 0.3 + np.array([0.2, 0.18, 0.17], np.float32), 0.0, 1.0)
    kept = keep_photo_colour(guessed, photo, np.ones(photo.shape[:2], np.float32))
    np.testing.assert_allclose(kept @ LUMA, guessed @ LUMA, atol=1e-5)
    assert hue_turn(kept, photo).max() < 0.5
    assert hue_turn(guessed, photo).max() > 30.0
    np.testing.assert_allclose(saturation(kept), PHOTO_COLOURFULNESS * saturation(photo), rtol=1e-3)


def test_the_weight_scales_the_change_and_zero_changes_nothing() -> None:
    photo = patches(DIM_COLOURS[:3])
    lifted = np.clip(photo * 3.0 + 0.1, 0.0, 1.0)
    ones = np.ones(photo.shape[:2], np.float32)
    full = keep_photo_colour(lifted, photo, ones)
    half = keep_photo_colour(lifted, photo, 0.5 * ones)
    np.testing.assert_allclose(half, 0.5 * (lifted + full), atol=1e-6)
    np.testing.assert_array_equal(keep_photo_colour(lifted, photo, 0.0 * ones), lifted)


def test_near_black_keeps_the_models_colour_and_trust_grows_with_the_photos_luma() -> None:
    low, high = TRUSTED_LUMA
    # One slightly green-yellow dark grey at three levels: under, inside and above the trusted ramp.
    tint = np.array([1.0, 1.05, 0.6], np.float32)
    levels = np.array([low * 0.7, (low + high) / 2, high * 1.5], np.float32)
    photo = patches(levels[:, None] * tint / (tint @ LUMA))
    neutral = np.repeat((photo @ LUMA)[..., None] * 6.0, 3, axis=2)  # the model's lift: neutral grey
    kept = keep_photo_colour(neutral, photo, np.ones(photo.shape[:2], np.float32))
    moved = np.abs(kept - neutral).max(axis=2)[0, ::48]
    assert moved[0] == 0.0  # a lift of 20 would turn a level of noise into a cast: left alone
    assert 0.0 < moved[1] < moved[2]


def test_a_colour_lifted_beyond_the_gamut_keeps_its_luma_and_hue_and_loses_saturation() -> None:
    photo = patches(np.array([[120, 20, 10]], np.float32) / 255.0)
    # Luma 0.85: that red cannot be this bright.
    bright = np.repeat((photo @ LUMA)[..., None] * 4.0, 3, axis=2)
    kept = keep_photo_colour(bright, photo, np.ones(photo.shape[:2], np.float32))
    assert kept.min() >= 0.0 and kept.max() <= 1.0
    np.testing.assert_allclose(kept @ LUMA, bright @ LUMA, atol=1e-5)
    assert hue_turn(kept, photo).max() < 0.5
    assert saturation(kept).max() < PHOTO_COLOURFULNESS * saturation(photo).min()


def test_photo_colour_amount_is_checked() -> None:
    with pytest.raises(ValueError, match="photo colour must be between 0 and 1"):
        Filters(photo_colour=1.2)


@pytest.fixture(scope="module")
def shipped() -> EnhancerModel:
    return EnhancerModel.load(default_model_path(), provider="cpu")


def test_the_shipped_model_turns_dim_colours_and_photo_colour_turns_them_back(shipped: EnhancerModel) -> None:
    photo = patches(DIM_COLOURS, side=64)
    centres = (slice(32, 33), slice(32, photo.shape[1], 64))
    model_only = run_to_end(enhance(shipped, photo, tile=0)).enhanced
    kept = run_to_end(enhance(shipped, photo, filters=Filters(photo_colour=1.0), tile=0)).enhanced
    coloured = slice(0, 5)  # the grey patch has no hue
    turned_by_model = hue_turn(model_only[centres], photo[centres])[0, coloured]
    turned_kept = hue_turn(kept[centres], photo[centres])[0, coloured]
    # What this filter exists for: the shipped model (2026.12.03.2) turns the blue patch by 15 degrees and the
    # green one by 11 (the models before it: violet 17, red over 20); if a new model fixes it, re-measure.
    assert turned_by_model.max() > 10.0
    assert turned_kept.max() < 3.0
    # Brightness stays the model's; the grey patch, which the model tints a little, comes out as grey as its
    # attention (0.88 there) lets it.
    np.testing.assert_allclose(kept @ LUMA, model_only @ LUMA, atol=2e-3)
    assert np.ptp(kept[centres][0, 5]) < 0.2 * np.ptp(model_only[centres][0, 5])


def test_a_bright_photo_the_model_leaves_alone_keeps_its_colour(shipped: EnhancerModel) -> None:
    photo = patches(np.array([[200, 120, 60], [90, 160, 210], [230, 200, 40]], np.float32) / 255.0, 64)
    plain = run_to_end(enhance(shipped, photo, tile=0)).enhanced
    kept = run_to_end(enhance(shipped, photo, filters=Filters(photo_colour=1.0), tile=0)).enhanced
    # The exposure gate gives a well-exposed photo no attention: nothing to recolour.
    np.testing.assert_array_equal(kept, plain)


def test_cli_keeps_photo_colour_by_default_and_takes_a_percentage(tmp_path: Path) -> None:
    source = tmp_path / "toys.png"
    Image.fromarray(np.round(patches(DIM_COLOURS) * 255).astype(np.uint8)).save(source)
    written = {}
    runs = {"default": [], "off": ["--photo-colour", "0"], "half": ["--photo-color", "50"]}
    for name, extra in runs.items():
        out = tmp_path / name
        assert cli_main(["enhance", str(source), "-o", str(out), "--provider", "cpu", *extra]) == 0
        written[name] = np.asarray(Image.open(next(out.glob("toys*.png")))) / 255.0
    assert DEFAULT_FILTERS.photo_colour == 1.0
    blue = (24, 4 * 48 + 24)  # the patch the shipped model turns most
    photo = patches(DIM_COLOURS)
    turned = {name: float(hue_turn(image[blue], photo[blue])) for name, image in written.items()}
    assert turned["default"] < 3.0 and turned["off"] > 10.0
    assert turned["default"] < turned["half"] < turned["off"]


def test_photo_colour_alone_does_not_widen_the_tiles(cpu_model: EnhancerModel) -> None:
    # It works pixel by pixel: the noise filters' reach is theirs alone.
    assert tile_margin(cpu_model, Filters(photo_colour=1.0)) == tile_margin(cpu_model, NO_FILTERS)
    assert tile_margin(cpu_model, Filters(colour_noise=1.0)) > tile_margin(cpu_model, NO_FILTERS)
