"""The exposure gate (docs/MODEL_CONTRACT.md): a photo-level gain on the default attention, declared by the
model, so that a well-exposed photo is left as it is while a dark one gets the paper's attention.

Real ONNX models (tests/model_factory.py: ``enhanced = image + attention * R``), the real engine and files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enlighten_desktop.cli import main as cli_main
from enlighten_desktop.engine.attention import ExposureGate, default_attention, exposure_gain, mean_luma
from enlighten_desktop.engine.errors import ModelError
from enlighten_desktop.engine.filters import Filters
from enlighten_desktop.engine.item import develop, read_photo
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.pipeline import enhance, run_to_end
from enlighten_desktop.engine.smoothing import MAX_LEVELS
from tests.model_factory import write_contract_model

GATE = "0.25,0.45"


@pytest.fixture
def gated(tmp_path: Path) -> EnhancerModel:
    path = write_contract_model(tmp_path / "gated.onnx", metadata={"enlighten.exposure_gate": GATE})
    return EnhancerModel.load(path, provider="cpu")


@pytest.fixture
def plain(tmp_path: Path) -> EnhancerModel:
    return EnhancerModel.load(write_contract_model(tmp_path / "plain.onnx"), provider="cpu")


def photo(mean: float, *, height: int = 96, width: int = 128, seed: int = 0) -> np.ndarray:
    """A textured grey-ish photo whose luma averages about ``mean`` (H x W x 3 float32 [0, 1])."""
    rng = np.random.default_rng(seed)
    rgb = mean + rng.uniform(-0.08, 0.08, (height, width, 3)) * min(1.0, mean * 4)
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)


@pytest.mark.parametrize(("mean", "gain"), [(0.0, 1.0), (0.20, 1.0), (0.25, 1.0), (0.30, 0.84375),
                                           (0.35, 0.5), (0.40, 0.15625), (0.45, 0.0), (0.50, 0.0)])
def test_gain_follows_the_contracts_worked_values(mean: float, gain: float) -> None:
    assert ExposureGate.parse(GATE).gain_at(mean) == pytest.approx(gain, abs=1e-12)


def test_mean_luma_covers_every_pixel_across_strips() -> None:
    rgb = photo(0.3, height=700, width=50, seed=3)  # many strips, the last one short
    rgb[600:] = 1.0  # a bright band only in the last strips
    expected = (rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])).mean()
    assert mean_luma(rgb) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("text", ["0.45,0.25", "0.3", "0.2,0.3,0.4", "dark,bright", "-0.1,0.5", "0.2,1.5"])
def test_a_malformed_gate_is_refused_when_the_model_loads(tmp_path: Path, text: str) -> None:
    path = write_contract_model(tmp_path / "bad.onnx", metadata={"enlighten.exposure_gate": text})
    with pytest.raises(ModelError, match="malformed model metadata"):
        EnhancerModel.load(path, provider="cpu")


def test_models_without_a_gate_keep_the_papers_attention(plain: EnhancerModel, gated: EnhancerModel) -> None:
    assert plain.contract.exposure_gate is None
    assert gated.contract.exposure_gate == ExposureGate(0.25, 0.45)
    bright = photo(0.55)
    assert exposure_gain(plain.contract.exposure_gate, bright) == 1.0
    assert exposure_gain(gated.contract.exposure_gate, bright) == 0.0


def test_a_well_exposed_photo_comes_back_unchanged_and_a_dark_one_is_lifted_as_before(
        plain: EnhancerModel, gated: EnhancerModel) -> None:
    bright, dark = photo(0.55, seed=1), photo(0.12, seed=2)
    bright_plain = run_to_end(enhance(plain, bright, tile=0)).enhanced
    bright_gated = run_to_end(enhance(gated, bright, tile=0))
    assert np.abs(bright_plain - bright).mean() > 0.05  # without the gate the model lifts it visibly
    assert np.abs(bright_gated.enhanced - bright).max() < 1e-6
    assert bright_gated.attention.max() == 0.0
    dark_plain = run_to_end(enhance(plain, dark, tile=0)).enhanced
    dark_gated = run_to_end(enhance(gated, dark, tile=0)).enhanced
    np.testing.assert_array_equal(dark_gated, dark_plain)
    assert dark_gated.mean() > dark.mean() + 0.05


@pytest.mark.parametrize("filters", [Filters(smoothing=MAX_LEVELS), Filters(colour_noise=1.0),
                                     Filters(luminance_noise=1.0)])
def test_a_well_exposed_photo_comes_back_unchanged_with_any_filter_at_its_strongest(
        gated: EnhancerModel, filters: Filters) -> None:
    # Every filter is scaled by the attention, which the gate sets to 0 for this photo.
    bright = photo(0.55, seed=3)
    result = run_to_end(enhance(gated, bright, tile=0, filters=filters))
    assert not result.attention.any()
    np.testing.assert_array_equal(result.enhanced, bright)


def test_tiles_use_the_photos_gain_not_their_own(gated: EnhancerModel) -> None:
    # Mean luma 0.35 (gain 0.5) made of a dark half (tiles there would get gain 1 from their own mean) and
    # a bright half (gain 0): only the photo-level gain makes tiled equal to whole.
    rgb = np.concatenate([photo(0.12, seed=4), photo(0.58, seed=5)])
    gain = exposure_gain(gated.contract.exposure_gate, rgb)
    assert 0.3 < gain < 0.7
    whole = run_to_end(enhance(gated, rgb, tile=0))
    tiled = run_to_end(enhance(gated, rgb, tile=64))
    np.testing.assert_allclose(tiled.enhanced, whole.enhanced, atol=2e-6)
    np.testing.assert_allclose(whole.attention, default_attention(rgb) * np.float32(gain), atol=1e-7)


def test_a_brush_edit_still_brightens_a_gated_photo(tmp_path: Path, gated: EnhancerModel) -> None:
    path = tmp_path / "bright.png"
    Image.fromarray(np.rint(photo(0.55, seed=6) * 255).astype(np.uint8)).save(path)
    image, stamp = read_photo(path)
    edit = np.zeros((24, 32), np.float32)
    edit[:, :16] = 0.8  # "brighten" painted on the left half, on a smaller map as the app's preview does
    developed = run_to_end(develop(gated, image, stamp, attention_edit=edit, tile=0))
    change = np.abs(developed.result.enhanced - image.rgb).mean(axis=2)
    assert change[:, :60].mean() > 0.05  # painted: enhanced although the photo's gain is 0
    assert change[:, 68:].max() < 1e-6  # not painted: unchanged


def test_the_cli_leaves_a_well_exposed_photo_and_lifts_a_dark_one(tmp_path: Path) -> None:
    model = write_contract_model(tmp_path / "gated.onnx", metadata={"enlighten.exposure_gate": GATE})
    photos = tmp_path / "in"
    photos.mkdir()
    for name, mean, seed in (("bright", 0.55, 7), ("dark", 0.12, 8)):
        Image.fromarray(np.rint(photo(mean, seed=seed) * 255).astype(np.uint8)).save(photos / f"{name}.png")
    out = tmp_path / "out"
    assert cli_main(["enhance", str(photos), "-o", str(out), "--model", str(model), "--save-attention"]) == 0
    levels = {name: np.asarray(Image.open(out / f"{name}_enlightened.png"), np.int16)
              for name in ("bright", "dark")}
    originals = {name: np.asarray(Image.open(photos / f"{name}.png"), np.int16)
                 for name in ("bright", "dark")}
    assert np.abs(levels["bright"] - originals["bright"]).max() == 0
    assert (levels["dark"] - originals["dark"]).mean() > 12
    # The attention map written beside it is the gated one: empty for the well-exposed photo.
    written = sorted(p.name for p in out.iterdir() if "attention" in p.name)
    assert len(written) == 2
    bright_map = next(p for p in out.iterdir() if "attention" in p.name and p.name.startswith("bright"))
    assert np.asarray(Image.open(bright_map)).max() == 0
