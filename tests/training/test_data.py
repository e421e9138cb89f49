"""Unpaired crops: sizes, determinism, weights, curriculum, rank split, bad files skipped with a warning,
degradation, vary and recolouring."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from training.config import DataConfig, TrainConfig
from training.data import CHROMA_SCALE_RANGE, StepSampler, UnpairedCrops, crop_at_step, recolour

# Each low image is one flat grey level, so a crop tells which file it came from.
LOW_LEVELS = {"day_a.png": 40, "day_b.png": 80, "night_a.png": 120, "night_b.jpg": 160}


def _folders(tmp_path: Path, *, corrupt: bool = False) -> tuple[Path, Path]:
    low, normal = tmp_path / "low", tmp_path / "normal"
    low.mkdir()
    normal.mkdir()
    for name, level in LOW_LEVELS.items():
        size = (20, 24) if name == "day_a.png" else (60, 40)  # one smaller than the crop: resized up
        Image.new("RGB", size, (level, level, level)).save(low / name)
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)).save(normal / f"n{i}.png")
    (low / "notes.txt").write_text("not an image, ignored by suffix")
    if corrupt:
        (low / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    return low, normal


def _level(sample: dict) -> int:
    return round((sample["low"].mean().item() + 1) * 127.5)


def test_crops_have_the_right_size_range_and_are_deterministic(tmp_path: Path) -> None:
    low, normal = _folders(tmp_path)
    make = lambda: UnpairedCrops(low_dir=low, normal_dir=normal, global_batch=2, seed=3, crop=32)  # noqa: E731
    a, b = make(), make()
    for k in (0, 1, 7):
        sample = a[k]
        assert sample["low"].shape == sample["normal"].shape == (3, 32, 32)
        assert -1.0 <= sample["normal"].min() and sample["normal"].max() <= 1.0
        assert all(np.array_equal(sample[key].numpy(), b[k][key].numpy()) for key in ("low", "normal"))
    assert not np.array_equal(a[0]["normal"].numpy(), a[1]["normal"].numpy())


def test_each_epoch_visits_every_low_image_once(tmp_path: Path) -> None:
    low, normal = _folders(tmp_path)
    data = UnpairedCrops(low_dir=low, normal_dir=normal, global_batch=2, crop=16)
    assert len(data) == 4
    for epoch in range(2):
        levels = sorted(_level(data[k]) for k in range(epoch * 4, epoch * 4 + 4))
        assert levels == sorted(LOW_LEVELS.values())


def test_sampling_weights_by_filename_glob(tmp_path: Path) -> None:
    low, normal = _folders(tmp_path)
    rules = (("night_*", 1.0), ("*", 0.0))
    data = UnpairedCrops(low_dir=low, normal_dir=normal, global_batch=2, crop=16, low_weights=rules)
    assert {_level(data[k]) for k in range(24)} == {120, 160}


def test_crop_curriculum_follows_the_step(tmp_path: Path) -> None:
    low, normal = _folders(tmp_path)
    schedule = ((0, 16), (2, 32))
    data = UnpairedCrops(low_dir=low, normal_dir=normal, global_batch=2, crop=48, crop_schedule=schedule)
    assert [data[k]["low"].shape[-1] for k in (0, 3, 4, 9)] == [16, 16, 32, 32]  # steps 0, 1, 2, 4
    assert crop_at_step(10, 48) == 48


def test_ranks_split_each_global_batch_without_overlap() -> None:
    single = StepSampler(global_batch=4, start_step=5)
    ranks = [StepSampler(global_batch=4, rank=r, world_size=2, start_step=5) for r in range(2)]
    first = lambda s, n: [k for _, k in zip(range(n), iter(s), strict=False)]  # noqa: E731
    assert first(single, 4) == list(range(20, 24))
    assert first(ranks[0], 2) + first(ranks[1], 2) == first(single, 4)
    with pytest.raises(ValueError, match="divisible"):
        StepSampler(global_batch=3, world_size=2)


def test_unreadable_file_is_skipped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    low, normal = _folders(tmp_path, corrupt=True)
    data = UnpairedCrops(low_dir=low, normal_dir=normal, global_batch=1, crop=16)
    with caplog.at_level(logging.WARNING, logger="training.data"):
        levels = [_level(data[k]) for k in range(3 * len(data))]  # three epochs: the bad file comes up 3x
    assert set(levels) <= set(LOW_LEVELS.values())
    warnings = [r for r in caplog.records if "broken.jpg" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


def test_a_folder_of_only_bad_files_fails_clearly(tmp_path: Path) -> None:
    low, normal = _folders(tmp_path)
    for f in low.glob("*.*g"):
        f.write_bytes(b"garbage")
    data = UnpairedCrops(low_dir=low, normal_dir=normal, global_batch=1, crop=16)
    with pytest.raises(RuntimeError, match="only unreadable images"):
        data[0]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no images"):
        UnpairedCrops(low_dir=tmp_path / "empty", normal_dir=normal, global_batch=1)


def test_degradation_gives_noisy_compressed_inputs_and_keeps_the_clean_crop_as_target(tmp_path: Path) -> None:
    low, normal = _folders(tmp_path)
    plain = UnpairedCrops(low_dir=low, normal_dir=normal, global_batch=2, seed=3, crop=32)
    assert all(torch.equal(plain[k]["low"], plain[k]["low_target"]) for k in range(8))
    data = UnpairedCrops(
        low_dir=low,
        normal_dir=normal,
        global_batch=2,
        seed=3,
        crop=32,
        degrade_noise=0.05,
        degrade_jpeg_quality=30,
    )
    samples = [data[k] for k in range(40)]
    for k, sample in enumerate(samples):
        # The clean target is the crop the run would see without degradation; the draws are deterministic.
        assert np.array_equal(sample["low_target"].numpy(), plain[k]["low"].numpy())
        assert np.array_equal(sample["low"].numpy(), data[k]["low"].numpy())
    degraded = [s for s in samples if not np.array_equal(s["low"].numpy(), s["low_target"].numpy())]
    assert 10 <= len(degraded) <= 30  # about half
    # Flat grey crops become grainy (by a drawn amount, so some barely) around the same level.
    assert np.mean([s["low"].std().item() for s in degraded]) > 0.01
    assert max(s["low_target"].std().item() for s in degraded) < 1e-6
    assert max(abs(s["low"].mean() - s["low_target"].mean()).item() for s in degraded) < 0.05


@pytest.mark.parametrize(("noise", "quality"), [(-0.1, 0), (0.0, 95)])
def test_degradation_settings_are_checked(noise: float, quality: int) -> None:
    with pytest.raises(ValueError, match="degrade_noise must be >= 0 and degrade_jpeg_quality in 0..90"):
        DataConfig(degrade_noise=noise, degrade_jpeg_quality=quality)


def test_vary_darkens_the_input_by_2_to_4_and_keeps_the_undarkened_crop_as_target(tmp_path: Path) -> None:
    """The authors' "vary": half the low crops are divided by t in {2.00, 2.01, ..., 4.00} for G and the
    attention map, while the self-feature-preserving target is the crop as it was."""
    low, normal = _folders(tmp_path)
    data = UnpairedCrops(low_dir=low, normal_dir=normal, global_batch=2, seed=5, crop=16, vary=0.5)
    factors = []
    for k in range(200):
        sample = data[k]
        target01, input01 = (sample["low_target"] + 1) / 2, (sample["low"] + 1) / 2
        assert torch.equal(sample["low_target"], data[k]["low_target"])  # deterministic
        if not torch.equal(input01, target01):
            factors.append((target01.mean() / input01.mean()).item())
            assert torch.allclose(input01 * factors[-1], target01, atol=1e-5)  # one factor, every pixel
    assert 70 <= len(factors) <= 130  # about half
    assert 2.0 - 1e-4 <= min(factors) and max(factors) <= 4.0 + 1e-4
    assert all(abs(f * 100 - round(f * 100)) < 1e-3 for f in factors)  # steps of 0.01
    assert max(factors) - min(factors) > 1.5  # drawn over the whole range
    assert DataConfig().vary == 0.5 and (DataConfig().vary_min, DataConfig().vary_max) == (2.0, 4.0)
    with pytest.raises(ValueError, match="vary"):
        DataConfig(vary_min=4.0, vary_max=2.0)


def test_flips_both_ways_and_short_side_resize(tmp_path: Path) -> None:
    low, normal = tmp_path / "low", tmp_path / "normal"
    low.mkdir()
    normal.mkdir()
    # A 40x60 gradient, bright at the bottom right: each flip moves the brightest corner.
    ramp = np.add.outer(np.arange(40), np.arange(60)).astype(np.float64)
    Image.fromarray((ramp / ramp.max() * 255).astype(np.uint8)).convert("RGB").save(low / "ramp.png")
    Image.new("RGB", (50, 70), (200, 200, 200)).save(normal / "n.png")
    data = UnpairedCrops(
        low_dir=low, normal_dir=normal, global_batch=1, crop=32, short_side=32, hflip=True, vflip=True
    )
    corners = set()
    for k in range(40):
        crop = data[k]["low_target"][0]  # the 40x60 image resized to 32x48, cropped to 32x32
        assert crop.shape == (32, 32)
        y, x = np.unravel_index(int(crop.argmax()), crop.shape)
        corners.add((y > 16, x > 16))
    assert corners == {(False, False), (False, True), (True, False), (True, True)}
    assert DataConfig().vflip and DataConfig().short_side == 400


def test_an_epoch_is_the_larger_folder_and_normal_extra_adds_images(tmp_path: Path) -> None:
    low, normal = _folders(tmp_path)  # 4 low, 2 normal
    extra = tmp_path / "extra"
    extra.mkdir()
    for i in range(5):
        Image.new("RGB", (40, 40), (250, 10 * i, 0)).save(extra / f"e{i}.png")
    plain = UnpairedCrops(low_dir=low, normal_dir=normal, global_batch=2, crop=16)
    assert len(plain) == 4
    mixed = UnpairedCrops(low_dir=low, normal_dir=normal, normal_extra_dir=extra, global_batch=2, crop=16)
    assert len(mixed) == 7 and len(mixed.normal) == 7
    reds = sum(mixed[k]["normal"][0].mean().item() > 0.9 for k in range(60))  # red: from the extra folder
    assert 20 <= reds <= 50
    assert TrainConfig().data.normal_extra == ""


def test_recolour_permutes_the_channels_and_scales_the_chroma_within_its_range() -> None:
    # A dark orange patch and a grey one; no channel near 0 or 1, so nothing clips at up to 2x chroma.
    pixels = np.array([[[0.30, 0.18, 0.10], [0.2, 0.2, 0.2]]], np.float32)
    luma = np.array([0.299, 0.587, 0.114], np.float32)
    orders = set()
    for seed in range(60):
        out = recolour(pixels, np.random.default_rng(seed))
        np.testing.assert_allclose(out[0, 1], 0.2, atol=1e-6)  # grey has no colour to change
        orange = out[0, 0]
        orders.add(tuple(np.argsort(orange)))
        # Which source channel went where: the channel ranks never change (a positive chroma scaling).
        permuted = np.sort(pixels[0, 0])[np.argsort(np.argsort(orange))]
        scale = np.linalg.norm(orange - orange @ luma) / np.linalg.norm(permuted - permuted @ luma)
        assert CHROMA_SCALE_RANGE[0] - 1e-4 <= scale <= CHROMA_SCALE_RANGE[1] + 1e-4
        # Scaling around the luma of the permuted pixel keeps that luma.
        assert orange @ luma == pytest.approx(permuted @ luma, abs=1e-5)
    assert len(orders) == 6


def test_colour_augment_recolours_input_and_target_alike(tmp_path: Path) -> None:
    low, normal = tmp_path / "low", tmp_path / "normal"
    low.mkdir()
    normal.mkdir()
    Image.new("RGB", (40, 40), (90, 40, 20)).save(low / "dark_orange.png")
    Image.new("RGB", (40, 40), (128, 128, 128)).save(normal / "grey.png")
    common = {"low_dir": low, "normal_dir": normal, "global_batch": 2, "seed": 5, "crop": 16}
    plain = UnpairedCrops(**common)
    data = UnpairedCrops(**common, colour_augment=0.5)
    samples = [data[k] for k in range(40)]
    recoloured = [s for k, s in enumerate(samples) if not torch.equal(s["low"], plain[k]["low"])]
    assert 10 <= len(recoloured) <= 30  # about half
    assert all(torch.equal(s["low"], s["low_target"]) for s in samples)
    # Other hues than the file's orange (red first, blue last) reach the generator.
    assert any(s["low"][2].mean() > s["low"][0].mean() for s in recoloured)


def test_colour_augment_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="colour_augment must be a probability"):
        DataConfig(colour_augment=1.5)
