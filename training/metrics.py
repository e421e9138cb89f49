"""Image metrics on 8-bit RGB: PSNR and SSIM against a reference frame, mean luminance, clipped highlights,
and how an enhancement changed its source's colours (hue turn, colourfulness kept).

PSNR and SSIM follow the usual published definitions so the numbers compare with papers: PSNR over all three
channels with a peak of 255; SSIM of Wang et al. (2004) with an 11x11 Gaussian window (sigma 1.5), K1 = 0.01,
K2 = 0.03, the map averaged over the 'valid' region (5 px border dropped) of each channel, then over channels.
"""

from __future__ import annotations

from dataclasses import dataclass

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


COLOUR_MIN_LUMA = 0.04
"""Source luma (0..1) under which a pixel's colour is left out of :func:`colour_change`: a few 8-bit levels of
chroma there are quantisation and sensor noise, not a colour the photo has."""
COLOUR_MIN_SATURATION = 0.1
"""Chroma magnitude per unit luma under which a source pixel counts as grey: its hue is not defined."""
COLOUR_MIN_PIXELS = 100


@dataclass(frozen=True)
class ColourChange:
    """How an enhancement changed a photo's colours, over its coloured pixels (see :func:`colour_change`)."""

    hue_turn: float
    colour_kept: float


def _hue_and_saturation(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Luma, chroma magnitude, hue angle (radians) and chroma per unit luma of [..., 3] RGB in [0, 1]."""
    luma = rgb @ LUMA601
    chroma = rgb - luma[..., None]
    # The chroma plane's two opponent axes (red against green+blue, green against blue).
    red_cyan = chroma[..., 0] - 0.5 * (chroma[..., 1] + chroma[..., 2])
    green_blue = (np.sqrt(3.0) / 2.0) * (chroma[..., 1] - chroma[..., 2])
    magnitude = np.hypot(red_cyan, green_blue)
    return luma, magnitude, np.arctan2(green_blue, red_cyan), magnitude / np.maximum(luma, 1e-6)


def colour_change(image: np.ndarray, source: np.ndarray) -> ColourChange | None:
    """How ``image`` (an enhancement of ``source``; both [H, W, 3] uint8) changed the source's colours.

    Over the source's coloured pixels (luma at least COLOUR_MIN_LUMA, chroma per unit luma at least
    COLOUR_MIN_SATURATION, no channel clipped in either image):

    - ``hue_turn``: the mean absolute change of hue, in degrees, weighted by the source pixel's chroma. A lift
      that scales R, G and B alike turns no hue; a per-channel curve turns them a little; a network that
      guesses colour turns teal to sky blue and red to orange.
    - ``colour_kept``: the median ratio of chroma per unit luma, output over source. 1 keeps the colourfulness
      (RGB scaled alike); a per-channel gamma lowers it (a lifted photo looks washed out).

    None when fewer than COLOUR_MIN_PIXELS pixels qualify (a grey or black photo has no colour to change).
    """
    _check_pair(image, source)
    src_luma, src_magnitude, src_hue, src_saturation = _hue_and_saturation(source / _PEAK)
    out_luma, _, out_hue, out_saturation = _hue_and_saturation(image / _PEAK)
    unclipped = (source < CLIP_LEVEL).all(axis=2) & (image < CLIP_LEVEL).all(axis=2)
    coloured = (src_luma >= COLOUR_MIN_LUMA) & (src_saturation >= COLOUR_MIN_SATURATION) & (out_luma > 0)
    selected = unclipped & coloured
    if selected.sum() < COLOUR_MIN_PIXELS:
        return None
    turn = np.abs(np.angle(np.exp(1j * (out_hue[selected] - src_hue[selected]))))
    weights = src_magnitude[selected]
    return ColourChange(
        hue_turn=float(np.degrees(np.sum(turn * weights) / np.sum(weights))),
        colour_kept=float(np.median(out_saturation[selected] / src_saturation[selected])),
    )
