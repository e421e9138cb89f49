"""NIQE (Mittal, Soundararajan, Bovik 2013), ported faithfully from the published MATLAB release.

The score the EnlightenGAN paper reports (Table I) comes from that MATLAB code, so every step follows it:
the Y channel of MATLAB's ``rgb2ycbcr`` (16-235 range) rounded to integers, 96x96 blocks (the image cropped
to whole blocks, no border crop), a 7x7 Gaussian window for local mean and deviation ('replicate' borders),
18 asymmetric-generalised-Gaussian features per block at two scales, the second scale made by MATLAB's
antialiased bicubic ``imresize(im, 0.5)``, and the Mahalanobis-like distance to the MATLAB pristine model
(shipped in ``training/resources/niqe_pris_params.npz``, see the README there). Lower is better.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import numpy as np
from scipy.ndimage import correlate
from scipy.special import gamma

BLOCK_SIZE = 96
"""Side of the square blocks NIQE fits its features on (at full scale)."""

# The shape grid of the MATLAB release: 0.2:0.001:10, built from integers so it has exactly its 9801 points.
_SHAPES = 0.2 + 0.001 * np.arange(9801)
_AGGD_RATIO = gamma(2 / _SHAPES) ** 2 / (gamma(1 / _SHAPES) * gamma(3 / _SHAPES))
# Neighbour products of the release's computefeature.m: horizontal, vertical, and the two diagonals.
_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))


class PristineModel(NamedTuple):
    """The MATLAB pristine model: mean [36] and covariance [36, 36] of the features, and the 7x7 window."""

    mean: np.ndarray
    cov: np.ndarray
    window: np.ndarray


@lru_cache(maxsize=1)
def pristine_model() -> PristineModel:
    """Load the MATLAB release's pristine parameters shipped with the package."""
    with resources.files("training.resources").joinpath("niqe_pris_params.npz").open("rb") as f:
        params = np.load(f)
        return PristineModel(
            mean=params["mu_pris_param"].reshape(-1),
            cov=params["cov_pris_param"],
            window=params["gaussian_window"],
        )


def matlab_luma(rgb: np.ndarray) -> np.ndarray:
    """Y of MATLAB's ``rgb2ycbcr`` on a uint8 image, rounded as MATLAB's uint8 result is.

    rgb: [H, W, 3] uint8 (or [H, W] already grey). Returns [H, W] float64 with integer values in [16, 235].
    """
    if rgb.ndim == 2:
        return rgb.astype(np.float64)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an [H, W, 3] uint8 RGB image, got {rgb.shape} {rgb.dtype}")
    y = 16.0 + rgb.astype(np.float64) @ np.array([65.481, 128.553, 24.966]) / 255.0
    return np.round(y)


def niqe(rgb: np.ndarray) -> float:
    """NIQE of an RGB image as the MATLAB release computes it (lower is better, about 2-10 on photos).

    rgb: [H, W, 3] uint8 RGB (or [H, W] uint8 grey); at least 96x96 pixels.
    """
    return niqe_of_luma(matlab_luma(rgb))


def niqe_of_luma(luma: np.ndarray) -> float:
    """NIQE of a luma plane [H, W] float in the 0-255 range (already rounded, see :func:`matlab_luma`)."""
    rows, cols = luma.shape[0] // BLOCK_SIZE, luma.shape[1] // BLOCK_SIZE
    if rows == 0 or cols == 0:
        raise ValueError(f"NIQE needs at least {BLOCK_SIZE}x{BLOCK_SIZE} pixels, got {luma.shape}")
    model = pristine_model()
    image = luma[: rows * BLOCK_SIZE, : cols * BLOCK_SIZE].astype(np.float64)
    features = []
    for scale in (1, 2):
        normalised = _mscn(image, model.window)
        features.append(_block_features(normalised, BLOCK_SIZE // scale))
        if scale == 1:
            image = imresize_half(image)
    distorted = np.concatenate(features, axis=1)
    # MATLAB's nanmean per feature, and nancov's default: drop every block that has a NaN feature.
    complete = distorted[~np.isnan(distorted).any(axis=1)]
    if len(complete) < 2:
        raise ValueError(
            f"NIQE needs at least two {BLOCK_SIZE}x{BLOCK_SIZE} blocks with texture (not flat); this "
            f"{luma.shape[0]}x{luma.shape[1]} image has {len(complete)} of {len(distorted)}"
        )
    mean = np.nanmean(distorted, axis=0)
    cov = np.cov(complete, rowvar=False)
    diff = model.mean - mean
    return float(np.sqrt(diff @ np.linalg.pinv((model.cov + cov) / 2) @ diff))


def _mscn(image: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients (I - mu) / (sigma + 1), MATLAB 'replicate' borders."""
    mu = correlate(image, window, mode="nearest")
    sigma = np.sqrt(np.abs(correlate(image * image, window, mode="nearest") - mu * mu))
    return (image - mu) / (sigma + 1.0)


def _block_features(normalised: np.ndarray, size: int) -> np.ndarray:
    """18 features per block [n_blocks, 18]; block order does not matter (only the mean and covariance do)."""
    rows, cols = normalised.shape[0] // size, normalised.shape[1] // size
    blocks = normalised[: rows * size, : cols * size].reshape(rows, size, cols, size).swapaxes(1, 2)
    blocks = blocks.reshape(rows * cols, size, size)
    alpha, left, right = _fit_aggd(blocks.reshape(len(blocks), -1))
    features = [alpha, (left + right) / 2]
    for shift in _SHIFTS:
        # MATLAB's circshift wraps around, as np.roll does.
        pairs = blocks * np.roll(blocks, shift, axis=(1, 2))
        alpha, left, right = _fit_aggd(pairs.reshape(len(blocks), -1))
        mean = (right - left) * gamma(2 / alpha) / gamma(1 / alpha)
        features += [alpha, mean, left, right]
    return np.stack(features, axis=1)


def _fit_aggd(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moment-matching fit of an asymmetric generalised Gaussian to each row of ``samples`` [n, m].

    Returns (shape, left scale, right scale), each [n]; the shape comes from the release's 0.2:0.001:10 grid.
    """
    negative, positive = samples < 0, samples > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        left_std = np.sqrt(np.sum(np.where(negative, samples**2, 0), axis=1) / negative.sum(axis=1))
        right_std = np.sqrt(np.sum(np.where(positive, samples**2, 0), axis=1) / positive.sum(axis=1))
        gamma_hat = left_std / right_std
        r_hat = np.mean(np.abs(samples), axis=1) ** 2 / np.mean(samples**2, axis=1)
        r_hat_norm = r_hat * (gamma_hat**3 + 1) * (gamma_hat + 1) / (gamma_hat**2 + 1) ** 2
    # A flat block (or one without negative or positive values) has a NaN ratio: MATLAB's min() then returns
    # the first grid point, 0.2, and np.argmin the first NaN, index 0: the same shape, and NaN scales.
    position = np.argmin((_AGGD_RATIO[None, :] - r_hat_norm[:, None]) ** 2, axis=1)
    alpha = _SHAPES[position]
    scale = np.sqrt(gamma(1 / alpha) / gamma(3 / alpha))
    return alpha, left_std * scale, right_std * scale


def _cubic(x: np.ndarray) -> np.ndarray:
    """MATLAB imresize's bicubic kernel (Keys, a = -0.5)."""
    ax = np.abs(x)
    return (1.5 * ax**3 - 2.5 * ax**2 + 1) * (ax <= 1) + (-0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2) * (
        (ax > 1) & (ax <= 2)
    )


def _half_size_weights(length: int) -> np.ndarray:
    """Dense [ceil(length / 2), length] matrix of MATLAB imresize's antialiased bicubic weights for scale 0.5.

    Antialiasing stretches the kernel by 1/scale (width 8 input pixels); borders are mirrored symmetrically
    (MATLAB's ``[1:n, n:-1:1]`` index wrap), which folds the out-of-range taps back onto the edge pixels.
    """
    scale, width = 0.5, 4.0 / 0.5
    out = np.arange(1, int(np.ceil(length * scale)) + 1, dtype=np.float64)
    centre = out / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(centre - width / 2)
    taps = left[:, None] + np.arange(int(np.ceil(width)) + 2)[None, :]
    weights = scale * _cubic(scale * (centre[:, None] - taps))
    weights /= weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(length), np.arange(length - 1, -1, -1)])
    columns = mirror[(taps.astype(np.int64) - 1) % len(mirror)]
    matrix = np.zeros((len(out), length))
    np.add.at(matrix, (np.repeat(np.arange(len(out)), taps.shape[1]), columns.ravel()), weights.ravel())
    return matrix


def imresize_half(image: np.ndarray) -> np.ndarray:
    """MATLAB's ``imresize(image, 0.5)`` (bicubic, antialiasing on) of a float image [H, W].

    Returns [ceil(H / 2), ceil(W / 2)] float64, unrounded, as MATLAB returns for a double input. MATLAB
    resizes the rows first and then the columns; both are linear, so the order only matters to the last bit.
    """
    return _half_size_weights(image.shape[0]) @ image @ _half_size_weights(image.shape[1]).T
