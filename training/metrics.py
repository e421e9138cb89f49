"""Image metrics on 8-bit RGB: PSNR and SSIM against a reference frame, mean luminance and clipped highlights.

PSNR and SSIM follow the usual published definitions so the numbers compare with papers: PSNR over all three
channels with a peak of 255; SSIM of Wang et al. (2004) with an 11x11 Gaussian window (sigma 1.5), K1 = 0.01,
K2 = 0.03, the map averaged over the 'valid' region (5 px border dropped) of each channel, then over channels.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from training.enhancers import LUMA601

_PEAK = 255.0
_SIGMA = 1.5
# truncate * sigma = 5 px: the 11x11 window of Wang et al.
_TRUNCATE = 5 / _SIGMA
_C1 = (0.01 * _PEAK) ** 2
_C2 = (0.03 * _PEAK) ** 2
CLIP_LEVEL = 250
"""A pixel counts as a clipped highlight when any channel is at least this (issue 13's definition): 250 rather
than 255 because JPEG ringing and chroma subsampling keep blown skies a few levels below the ceiling."""


def _check_pair(image: np.ndarray, reference: np.ndarray) -> None:
    if image.shape != reference.shape:
        raise ValueError(f"image {image.shape} and reference {reference.shape} differ in size")
    if image.dtype != np.uint8 or reference.dtype != np.uint8:
        raise ValueError(f"expected uint8 images, got {image.dtype} and {reference.dtype}")


def psnr(image: np.ndarray, reference: np.ndarray) -> float:
    """PSNR in dB of ``image`` against ``reference``, both [H, W, 3] uint8; infinite when they are equal."""
    _check_pair(image, reference)
    mse = np.mean((image.astype(np.float64) - reference.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(_PEAK**2 / mse))


def ssim(image: np.ndarray, reference: np.ndarray) -> float:
    """Mean SSIM in [-1, 1] (1 = identical) of ``image`` against ``reference``, both [H, W, 3] uint8."""
    _check_pair(image, reference)
    border = round(_SIGMA * _TRUNCATE)
    if min(image.shape[:2]) <= 2 * border:
        raise ValueError(f"SSIM needs images larger than {2 * border}x{2 * border}, got {image.shape}")
    scores = []
    for channel in range(image.shape[2]):
        x = image[..., channel].astype(np.float64)
        y = reference[..., channel].astype(np.float64)

        def blur(a: np.ndarray) -> np.ndarray:
            return gaussian_filter(a, _SIGMA, truncate=_TRUNCATE)[border:-border, border:-border]

        mu_x, mu_y = blur(x), blur(y)
        var_x = blur(x * x) - mu_x**2
        var_y = blur(y * y) - mu_y**2
        cov = blur(x * y) - mu_x * mu_y
        numerator = (2 * mu_x * mu_y + _C1) * (2 * cov + _C2)
        denominator = (mu_x**2 + mu_y**2 + _C1) * (var_x + var_y + _C2)
        scores.append(np.mean(numerator / denominator))
    return float(np.mean(scores))


def mean_luma(rgb: np.ndarray) -> float:
    """Mean BT.601 luminance of [H, W, 3] uint8 RGB, in [0, 1]."""
    return float((rgb.astype(np.float64) / 255.0 @ LUMA601).mean())


def clipped_percent(rgb: np.ndarray) -> float:
    """Share of the pixels of [H, W, 3] uint8 RGB with any channel >= CLIP_LEVEL, in percent (0..100)."""
    return float((rgb >= CLIP_LEVEL).any(axis=2).mean() * 100.0)
