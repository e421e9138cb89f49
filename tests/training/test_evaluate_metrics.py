"""PSNR and SSIM against a reference frame: the published definitions' defining properties."""

from __future__ import annotations

import numpy as np
import pytest

from training.metrics import psnr, ssim


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
