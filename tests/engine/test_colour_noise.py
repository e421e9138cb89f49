"""Colour noise reduction (engine/noise.py): the output's chroma guided-filtered by its luma, the luma
kept, scaled by the attention; real ONNX models (tests/model_factory.py), real files, the real CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enlighten_desktop.cli import main as cli_main
from enlighten_desktop.engine.filters import DEFAULT_FILTERS, Filters
from enlighten_desktop.engine.item import read_photo
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.noise import (
    COLOUR_BLOCK,
    COLOUR_REACH,
    check_amount,
    reduce_colour_noise,
)
from enlighten_desktop.engine.pipeline import enhance, enhance_in_place, run_to_end
from enlighten_desktop.engine.smoothing import box_mean
from tests.model_factory import write_contract_model

LUMA = np.array([0.299, 0.587, 0.114], np.float32)
LEVEL = 1.0 / 255.0


def chroma(rgb: np.ndarray) -> np.ndarray:
    """R - Y and B - Y (H x W x 2)."""
    luma = rgb @ LUMA
    return np.stack([rgb[..., 0] - luma, rgb[..., 2] - luma], axis=-1)


def speckle(rgb: np.ndarray) -> float:
    """Mean absolute difference of the chroma from its 9 x 9 box mean: colour noise, not colour."""
    planes = chroma(rgb).astype(np.float64)
    return float(np.mean([np.abs(planes[..., k] - box_mean(planes[..., k], 4)).mean() for k in range(2)]))


def colour_noise(shape: tuple[int, int], sigma: float, seed: int) -> np.ndarray:
    """Noise in R and B with G set so that it adds no luma: the blotches a lift makes of sensor noise,
    smoothed over a few pixels as demosaicing and compression leave them (H x W x 3 float32)."""
    rng = np.random.default_rng(seed)
    coarse = rng.normal(0.0, sigma, (shape[0] // 4 + 1, shape[1] // 4 + 1, 2)).repeat(4, 0).repeat(4, 1)
    red, blue = coarse[: shape[0], : shape[1], 0], coarse[: shape[0], : shape[1], 1]
    green = -(LUMA[0] * red + LUMA[2] * blue) / LUMA[1]
    return np.stack([red, green, blue], axis=-1).astype(np.float32)


def test_chroma_noise_is_reduced_and_the_luma_kept() -> None:
    base = np.full((96, 128, 3), 0.4, np.float32)
    base[..., 0] += 0.05  # a warm grey: the colour to keep
    rgb = base + colour_noise((96, 128), 0.03, seed=0)
    cleaned = reduce_colour_noise(rgb, np.ones((96, 128), np.float32))
    np.testing.assert_allclose(cleaned @ LUMA, rgb @ LUMA, rtol=0, atol=1e-6)
    assert chroma(cleaned).std(axis=(0, 1)).max() < chroma(rgb).std(axis=(0, 1)).min() / 4
    np.testing.assert_allclose(chroma(cleaned).mean(axis=(0, 1)), chroma(base).mean(axis=(0, 1)), atol=0.003)


def test_colour_stays_on_its_side_of_a_luma_edge() -> None:
    # A dim red wall beside a bright blue sign. A plain 16 px blur of the chroma would give the pixels next
    # to the edge half of the other side's colour (27 to 49 % within 8 px); the luma guide keeps it out.
    rgb = np.empty((64, 96, 3), np.float32)
    rgb[:, :48] = (0.30, 0.10, 0.08)
    rgb[:, 48:] = (0.35, 0.60, 0.95)
    rgb += colour_noise((64, 96), 0.02, seed=1)
    np.clip(rgb, 0.0, 1.0, out=rgb)
    cleaned = chroma(reduce_colour_noise(rgb, np.ones((64, 96), np.float32)))
    left, right = chroma(rgb)[:, :40].mean(axis=(0, 1)), chroma(rgb)[:, 56:].mean(axis=(0, 1))
    for column in range(40, 56):
        own, other = (left, right) if column < 48 else (right, left)
        share_of_other = (cleaned[:, column].mean(axis=0) - own) / (other - own)
        assert np.all(share_of_other < 0.08), (column, share_of_other)


def test_the_weight_scales_the_change_and_zero_changes_nothing() -> None:
    rgb = np.clip(0.3 + colour_noise((64, 64), 0.03, seed=2), 0.0, 1.0)
    weight = np.zeros((64, 64), np.float32)
    weight[:, 32:] = 0.5
    half = reduce_colour_noise(rgb, weight)
    full = reduce_colour_noise(rgb, np.ones_like(weight))
    np.testing.assert_array_equal(half[:, :32], rgb[:, :32])
    np.testing.assert_allclose(half[:, 32:], 0.5 * (rgb[:, 32:] + full[:, 32:]), rtol=0, atol=1e-6)


def test_a_crop_on_the_block_grid_gives_the_whole_image_result_away_from_its_edges() -> None:
    rng = np.random.default_rng(3)
    rgb = np.clip(rng.random((160, 176, 3)).astype(np.float32) * 0.3 + colour_noise((160, 176), 0.03, 3),
                  0.0, 1.0)
    weight = rng.random((160, 176)).astype(np.float32)
    whole = reduce_colour_noise(rgb, weight)
    top, left = 5 * COLOUR_BLOCK, 3 * COLOUR_BLOCK
    crop = reduce_colour_noise(rgb[top:, left:], weight[top:, left:])
    reach = COLOUR_REACH
    inner = np.s_[top + reach : 160 - reach, left + reach : 176 - reach]
    np.testing.assert_allclose(crop[reach : 160 - top - reach, reach : 176 - left - reach], whole[inner],
                               rtol=0, atol=1e-6)


@pytest.mark.parametrize("amount", [-0.1, 1.5, float("nan")])
def test_amounts_out_of_range_are_refused(amount: float) -> None:
    with pytest.raises(ValueError, match="colour noise reduction must be between 0 and 1"):
        check_amount(amount, "colour noise reduction")


def noisy_dark_photo(height: int, width: int, seed: int) -> np.ndarray:
    """A dark scene with texture and coloured sensor noise (H x W x 3 float32 [0, 1])."""
    rng = np.random.default_rng(seed)
    tint = np.array([1.0, 0.9, 0.7], np.float32)
    scene = np.linspace(0.03, 0.12, width, dtype=np.float32)[None, :, None] * tint
    scene = scene + rng.normal(0, 0.01, (height, width, 1)).astype(np.float32)
    return np.clip(scene + colour_noise((height, width), 0.01, seed), 0.0, 1.0).astype(np.float32)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("smoothing", 4.5, "shadow smoothing must be between 0 and 4"),
    ("colour_noise", 1.5, "colour noise reduction must be between 0 and 1"),
    ("luminance_noise", -0.1, "luminance noise reduction must be between 0 and 1"),
])
def test_filters_out_of_range_are_refused_when_made(field: str, value: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Filters(**{field: value})


@pytest.fixture
def model(tmp_path: Path) -> EnhancerModel:
    return EnhancerModel.load(write_contract_model(tmp_path / "m.onnx"), provider="cpu")


def test_the_engine_cleans_the_models_output_by_its_attention(model: EnhancerModel) -> None:
    rgb = noisy_dark_photo(128, 160, seed=4)
    plain = run_to_end(enhance(model, rgb, tile=0))
    cleaned = run_to_end(enhance(model, rgb, filters=Filters(colour_noise=0.8), tile=0)).enhanced
    expected = reduce_colour_noise(plain.enhanced, plain.attention * np.float32(0.8))
    np.testing.assert_allclose(cleaned, expected, rtol=0, atol=1e-6)
    assert speckle(cleaned) < speckle(plain.enhanced) / 2
    off = run_to_end(enhance(model, rgb, filters=Filters(colour_noise=0.0), tile=0)).enhanced
    np.testing.assert_array_equal(off, plain.enhanced)
    half = rgb.copy()
    run_to_end(enhance_in_place(model, half, strength=0.5, filters=Filters(colour_noise=0.8), tile=0))
    np.testing.assert_allclose(half, 0.5 * rgb + 0.5 * cleaned, rtol=0, atol=1e-6)


def test_tiles_agree_with_the_whole_image_with_colour_noise_reduction(tmp_path: Path) -> None:
    # Stamped with a tile margin wider than the filter's reach, as the shipped model is (64 px).
    path = write_contract_model(tmp_path / "wide.onnx", metadata={"enlighten.tile_margin": "64"})
    stamped = EnhancerModel.load(path, provider="cpu")
    rgb = noisy_dark_photo(208, 240, seed=5)
    whole = run_to_end(enhance(stamped, rgb, filters=Filters(colour_noise=1.0), tile=0)).enhanced
    tiled = run_to_end(enhance(stamped, rgb, filters=Filters(colour_noise=1.0), tile=48)).enhanced
    assert np.abs(np.round(whole * 255) - np.round(tiled * 255)).max() <= 1


def test_cli_cleans_by_default_takes_a_percentage_and_refuses_a_bad_value(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model_path = write_contract_model(tmp_path / "m.onnx")
    source = tmp_path / "dark.png"
    Image.fromarray(np.round(noisy_dark_photo(96, 128, seed=8) * 255).astype(np.uint8)).save(source)
    runs = {"default": [], "off": ["--colour-noise", "0"], "forty": ["--color-noise", "40"]}
    written = {}
    for name, extra in runs.items():
        status = cli_main(["enhance", str(source), "-o", str(tmp_path / name), "--model", str(model_path),
                           "--provider", "cpu", *extra])
        assert status == 0
        written[name] = np.asarray(Image.open(next((tmp_path / name).glob("dark*.png"))))
    image, _ = read_photo(source)
    loaded = EnhancerModel.load(model_path, provider="cpu")
    for name, amount in [("default", DEFAULT_FILTERS.colour_noise), ("off", 0.0), ("forty", 0.4)]:
        chosen = Filters(photo_colour=DEFAULT_FILTERS.photo_colour, colour_noise=amount)
        expected = run_to_end(enhance(loaded, image.rgb, filters=chosen)).enhanced
        np.testing.assert_array_equal(written[name], np.round(expected * 255).astype(np.uint8))
    assert speckle(written["default"] / 255.0) < speckle(written["off"] / 255.0) / 2
    with pytest.raises(SystemExit) as refused:
        cli_main(["enhance", str(source), "--model", str(model_path), "--colour-noise", "150"])
    assert refused.value.code == 2
    message = "--colour-noise/--color-noise: must be a percentage from 0 to 100, not '150'"
    assert message in capsys.readouterr().err
