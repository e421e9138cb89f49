"""NIQE: the MATLAB release's number on baboon.png, and the pieces that make a port drift from MATLAB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from training.niqe import imresize_half, matlab_luma, niqe, pristine_model

REPO_ROOT = Path(__file__).resolve().parents[2]
# CI checks the data out beside the clone; this machine keeps it at /work/shared/data.
_DATA_CANDIDATES = (REPO_ROOT.parent / "shared" / "data", Path("/work/shared/data"))
BABOON = next((p for d in _DATA_CANDIDATES if (p := d / "niqe" / "baboon.png").is_file()), None)
needs_baboon = pytest.mark.skipif(BABOON is None, reason="shared/data/niqe/baboon.png is not available")

# MATLAB R2021a, NIQE release with its pristine parameters, on BasicSR's tests/data/baboon.png.
MATLAB_BABOON_NIQE = 5.72957


def _baboon() -> np.ndarray:
    assert BABOON is not None
    with Image.open(BABOON) as image:
        return np.asarray(image.convert("RGB"))


@needs_baboon
def test_baboon_matches_the_matlab_release() -> None:
    assert niqe(_baboon()) == pytest.approx(MATLAB_BABOON_NIQE, abs=0.02)


@needs_baboon
def test_blurring_a_natural_image_raises_niqe() -> None:
    image = Image.fromarray(_baboon())
    blurred = np.asarray(image.filter(ImageFilter.GaussianBlur(2)))
    assert niqe(blurred) > niqe(np.asarray(image)) + 1.0


def test_luma_is_matlab_rgb2ycbcr_y_rounded() -> None:
    rgb = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [10, 200, 30]]], dtype=np.uint8)
    # 16 + (65.481 R + 128.553 G + 24.966 B) / 255 with R, G, B in 0..255; 10,200,30 gives 122.33 -> 122.
    np.testing.assert_array_equal(matlab_luma(rgb), [[16, 235, 81, 122]])


def test_half_size_resize_keeps_constants_and_reproduces_a_linear_ramp() -> None:
    assert imresize_half(np.full((9, 14), 7.0)) == pytest.approx(np.full((5, 7), 7.0))
    ramp = np.tile(np.arange(40, dtype=np.float64), (6, 1))
    out = imresize_half(ramp)
    assert out.shape == (3, 20)
    # Output pixel j (0-based) sits at input coordinate 2 j + 0.5; the normalised cubic kernel is exact on
    # straight lines wherever its 8-pixel support stays inside the image (the mirrored borders bend it).
    np.testing.assert_allclose(out[:, 2:-2], np.tile(2 * np.arange(2, 18) + 0.5, (3, 1)), atol=1e-9)


def test_half_size_resize_mirrors_its_borders() -> None:
    # A one-pixel line at the border: MATLAB folds the taps beyond the edge back onto it (symmetric
    # [1:n, n:-1:1] padding), so each output pixel's weights still sum to one and the line keeps its mass.
    image = np.zeros((16, 16))
    image[0, :] = 1.0
    out = imresize_half(image)
    assert out[0, 0] > 0.5
    assert out.sum(axis=0) == pytest.approx(np.full(8, 0.5), abs=1e-12)


def test_pristine_model_is_shipped_with_the_package() -> None:
    model = pristine_model()
    assert model.mean.shape == (36,)
    assert model.cov.shape == (36, 36)
    assert model.window.sum() == pytest.approx(1.0)


def test_flat_blocks_do_not_make_the_score_nan() -> None:
    # Black regions (common in low-light inputs) give NaN features; MATLAB's nanmean/nancov skip them.
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (192, 288, 3), dtype=np.uint8)
    image[:96, :96] = 0
    assert np.isfinite(niqe(image))


def test_too_small_or_flat_image_is_refused() -> None:
    with pytest.raises(ValueError, match="96x96"):
        niqe(np.zeros((95, 300, 3), np.uint8))
    # A covariance needs two blocks: one block, or blocks without texture, cannot be scored.
    with pytest.raises(ValueError, match="two 96x96 blocks"):
        niqe(np.random.default_rng(0).integers(0, 256, (100, 191, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="two 96x96 blocks"):
        niqe(np.zeros((192, 192, 3), np.uint8))
