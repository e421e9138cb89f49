"""Luminance noise reduction (engine/noise.py): the output's luma guided-filtered by itself below a
threshold, edges and chroma kept, scaled by the attention; real ONNX models, real files, the real CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enlighten_desktop.cli import main as cli_main
from enlighten_desktop.engine.filters import Filters
from enlighten_desktop.engine.item import read_photo
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.noise import LUMINANCE_MAX_LEVELS, reduce_luminance_noise
from enlighten_desktop.engine.pipeline import enhance, run_to_end
from enlighten_desktop.engine.smoothing import box_mean
from tests.engine.test_colour_noise import noisy_dark_photo
from tests.model_factory import write_contract_model

LUMA = np.array([0.299, 0.587, 0.114], np.float32)
LEVEL = 1.0 / 255.0


def grainy(height: int, width: int, *, sigma_levels: float, seed: int) -> np.ndarray:
    """A warm grey with luma grain of ``sigma_levels`` (H x W x 3 float32)."""
    rng = np.random.default_rng(seed)
    grain = rng.normal(0.0, sigma_levels * LEVEL, (height, width, 1)).astype(np.float32)
    return np.clip(np.array([0.45, 0.40, 0.35], np.float32) + grain, 0.0, 1.0)


def test_grain_below_the_threshold_is_smoothed_and_the_colour_kept() -> None:
    rgb = grainy(64, 64, sigma_levels=4.0, seed=0)
    cleaned = reduce_luminance_noise(rgb, np.ones((64, 64), np.float32), 1.0)
    assert (cleaned @ LUMA).std() < (rgb @ LUMA).std() / 3
    # All three channels move alike: the chroma (R - Y, B - Y) is what it was.
    np.testing.assert_allclose(cleaned[..., 0] - cleaned @ LUMA, rgb[..., 0] - rgb @ LUMA, atol=1e-6)
    np.testing.assert_allclose(cleaned[..., 2] - cleaned @ LUMA, rgb[..., 2] - rgb @ LUMA, atol=1e-6)


def test_an_edge_and_texture_above_the_threshold_are_kept() -> None:
    rgb = grainy(64, 64, sigma_levels=1.0, seed=1)
    rgb[:, 32:] += np.float32(60 * LEVEL)  # a lamp's edge
    # Texture whose standard deviation (16 levels) is twice the threshold at 50 % (8 levels).
    checks = np.indices((64, 16)).sum(axis=0) % 2 * np.float32(2 * LUMINANCE_MAX_LEVELS * LEVEL)
    rgb[:, :16] += checks[..., None]
    ones = np.ones((64, 64), np.float32)
    luma = (rgb @ LUMA).astype(np.float64)
    box_blur = np.abs(box_mean(luma, 2) - luma)[:, 30:34].max()  # what a plain 5 x 5 blur does
    strongest, half = reduce_luminance_noise(rgb, ones, 1.0), reduce_luminance_noise(rgb, ones, 0.5)
    assert np.abs(strongest - rgb)[:, 30:34].max() < box_blur / 3
    assert np.abs(half - rgb)[:, 30:34].max() < 3 * LEVEL
    # Three quarters of the texture are kept.
    assert np.abs(half - rgb)[:, 2:14].mean() < 0.25 * LUMINANCE_MAX_LEVELS * LEVEL


def test_the_weight_scales_the_change_and_zero_changes_nothing() -> None:
    rgb = grainy(48, 64, sigma_levels=4.0, seed=2)
    weight = np.zeros((48, 64), np.float32)
    weight[:, 32:] = 0.5
    half = reduce_luminance_noise(rgb, weight, 0.8)
    full = reduce_luminance_noise(rgb, np.ones_like(weight), 0.8)
    np.testing.assert_array_equal(half[:, :32], rgb[:, :32])
    np.testing.assert_allclose(half[:, 32:], 0.5 * (rgb[:, 32:] + full[:, 32:]), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(reduce_luminance_noise(rgb, np.ones_like(weight), 0.0), rgb)


@pytest.mark.parametrize("amount", [-0.1, 1.5, float("nan")])
def test_amounts_out_of_range_are_refused(amount: float) -> None:
    with pytest.raises(ValueError, match="luminance noise reduction must be between 0 and 1"):
        reduce_luminance_noise(grainy(16, 16, sigma_levels=4.0, seed=3), np.ones((16, 16), np.float32),
                               amount)


@pytest.fixture
def model(tmp_path: Path) -> EnhancerModel:
    return EnhancerModel.load(write_contract_model(tmp_path / "m.onnx"), provider="cpu")


def test_the_engine_cleans_after_the_colour_and_tiles_agree(tmp_path: Path) -> None:
    path = write_contract_model(tmp_path / "wide.onnx", metadata={"enlighten.tile_margin": "64"})
    stamped = EnhancerModel.load(path, provider="cpu")
    rgb = noisy_dark_photo(208, 240, seed=9)
    coloured = run_to_end(enhance(stamped, rgb, filters=Filters(colour_noise=1.0), tile=0))
    both_filters = Filters(colour_noise=1.0, luminance_noise=0.5)
    both = run_to_end(enhance(stamped, rgb, filters=both_filters, tile=0)).enhanced
    expected = reduce_luminance_noise(coloured.enhanced, coloured.attention, 0.5)
    np.testing.assert_allclose(both, expected, rtol=0, atol=1e-6)
    assert not np.array_equal(both, coloured.enhanced)
    tiled = run_to_end(enhance(stamped, rgb, filters=both_filters, tile=48)).enhanced
    assert np.abs(np.round(both * 255) - np.round(tiled * 255)).max() <= 1


def test_cli_takes_a_percentage_and_refuses_a_bad_value(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    model_path = write_contract_model(tmp_path / "m.onnx")
    source = tmp_path / "dark.png"
    Image.fromarray(np.round(noisy_dark_photo(96, 128, seed=10) * 255).astype(np.uint8)).save(source)
    status = cli_main(["enhance", str(source), "-o", str(tmp_path / "out"), "--model", str(model_path),
                       "--provider", "cpu", "--luminance-noise", "60"])
    assert status == 0
    written = np.asarray(Image.open(next((tmp_path / "out").glob("dark*.png"))))
    image, _ = read_photo(source)
    loaded = EnhancerModel.load(model_path, provider="cpu")
    chosen = Filters(photo_colour=1.0, colour_noise=1.0, luminance_noise=0.6)
    expected = run_to_end(enhance(loaded, image.rgb, filters=chosen)).enhanced
    np.testing.assert_array_equal(written, np.round(expected * 255).astype(np.uint8))
    with pytest.raises(SystemExit) as refused:
        cli_main(["enhance", str(source), "--model", str(model_path), "--luminance-noise", "-5"])
    assert refused.value.code == 2
    assert "--luminance-noise: must be a percentage from 0 to 100, not '-5'" in capsys.readouterr().err
