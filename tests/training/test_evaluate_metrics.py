"""PSNR and SSIM against a reference frame: the published definitions' defining properties; the colour change
of an enhancement against its source."""

from __future__ import annotations

import numpy as np
import pytest

from training.metrics import COLOUR_MIN_PIXELS, colour_change, psnr, ssim


def _image(seed: int = 0, shape: tuple[int, int, int] = (48, 64, 3)) -> np.ndarray:
    return np.random.default_rng(seed).integers(20, 236, shape, dtype=np.uint8)


def test_psnr_follows_its_definition_over_all_channels() -> None:
    reference = _image()
    assert psnr(reference, reference) == float("inf")
    # Off by 4 levels everywhere: MSE 16, PSNR = 10 log10(255^2 / 16) = 36.12 dB.
    assert psnr(reference + 4, reference) == pytest.approx(10 * np.log10(255**2 / 16))
    one_channel = reference.copy()
    one_channel[..., 1] += 4  # a third of the samples off by 4: MSE 16 / 3
    assert psnr(one_channel, reference) == pytest.approx(10 * np.log10(255**2 * 3 / 16))


def test_ssim_is_one_for_identical_images_and_falls_with_structure_loss() -> None:
    reference = _image()
    assert ssim(reference, reference) == pytest.approx(1.0)
    noise = np.random.default_rng(1).normal(0, 25, reference.shape)
    noisy = np.clip(reference + noise, 0, 255).astype(np.uint8)
    flat = np.full_like(reference, int(reference.mean()))
    assert ssim(noisy, reference) == pytest.approx(ssim(reference, noisy))
    assert 0.0 < ssim(flat, reference) < ssim(noisy, reference) < 0.95
    # A pure brightness change keeps the structure: SSIM stays far above the flat image's.
    assert ssim(reference // 2, reference) > 5 * ssim(flat, reference)


def test_mismatched_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in size"):
        psnr(_image(shape=(48, 64, 3)), _image(shape=(64, 48, 3)))
    with pytest.raises(ValueError, match="differ in size"):
        ssim(_image(shape=(48, 64, 3)), _image(shape=(64, 48, 3)))


def _dim_colours() -> np.ndarray:
    """A dim [64, 64, 3] photo of four saturated colours (teal, red, violet, yellow) with sensor noise."""
    rng = np.random.default_rng(3)
    patches = np.array([[10, 60, 60], [70, 12, 10], [45, 20, 60], [70, 65, 12]], np.float64)
    image = np.repeat(np.repeat(patches.reshape(2, 2, 3), 32, axis=0), 32, axis=1)
    return np.clip(image + rng.normal(0, 1.5, image.shape), 0, 255).astype(np.uint8)


def test_a_lift_that_scales_rgb_alike_keeps_every_colour() -> None:
    source = _dim_colours()
    change = colour_change(np.clip(source.astype(np.float64) * 3, 0, 255).astype(np.uint8), source)
    assert change is not None
    assert change.hue_turn < 1.0
    assert change.colour_kept == pytest.approx(1.0, abs=0.02)


def test_a_per_channel_curve_washes_colour_out_and_a_colour_guess_turns_hues() -> None:
    source = _dim_colours()
    per_channel = np.round(255 * (source / 255.0) ** 0.4).astype(np.uint8)
    washed = colour_change(per_channel, source)
    assert washed is not None
    assert 0.3 < washed.colour_kept < 0.8
    assert washed.hue_turn < 10.0
    # Teal to sky blue, red to orange: green moved toward the mean of red and blue, as a network that guesses
    # colour from context does; the luma hardly changes, the hues turn.
    guessed = per_channel.astype(np.float64)
    guessed[..., 1] = 0.3 * guessed[..., 1] + 0.35 * (guessed[..., 0] + guessed[..., 2])
    turned = colour_change(np.round(guessed).astype(np.uint8), source)
    assert turned is not None
    assert turned.hue_turn > washed.hue_turn + 15.0


def test_colour_change_leaves_out_black_grey_and_clipped_pixels() -> None:
    source = _dim_colours()
    grey = np.repeat(source.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
    assert colour_change(grey, grey) is None
    black = (source // 16).astype(np.uint8)  # under the luma floor: its chroma is a few levels of noise
    assert colour_change(black * 3, black) is None
    clipped = np.full_like(source, 255)
    assert colour_change(clipped, source) is None
    assert COLOUR_MIN_PIXELS < source.shape[0] * source.shape[1]
    with pytest.raises(ValueError, match="differ in size"):
        colour_change(source[:32], source)
