"""Tiny unpaired image folders and a tiny training config for the trainer tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from training.config import DataConfig, LossConfig, ModelConfig, OptimConfig, TrainConfig


@pytest.fixture(autouse=True)
def _empty_weights_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see VGG-16 weights a developer fetched into the real cache: CI has none."""
    monkeypatch.setenv("ENLIGHTEN_TRAINING_CACHE", str(tmp_path_factory.mktemp("weights_cache")))


@pytest.fixture(scope="session")
def tiny_folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Four dark and four bright random images of 64x56 pixels (sizes not multiples of the crop)."""
    root = tmp_path_factory.mktemp("tiny_data")
    rng = np.random.default_rng(0)
    for name, scale, offset in (("low", 60, 0), ("normal", 150, 100)):
        (root / name).mkdir()
        for i in range(4):
            pixels = (rng.random((56, 64, 3)) * scale + offset).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{name}_{i}.png")
    return root / "low", root / "normal"


@pytest.fixture()
def tiny_config(tiny_folders: tuple[Path, Path]) -> TrainConfig:
    """A config that trains a width-4 generator on 32-48 px crops (patches of 32 px), with the backbone that
    needs no download."""
    low, normal = tiny_folders
    return TrainConfig(
        model=ModelConfig(width=4, norm="batch", d_base=8),
        data=DataConfig(low=str(low), normal=str(normal), crop=48),
        loss=LossConfig(patch_size=32, backbone="efficientnet_lite0"),
        optim=OptimConfig(max_steps=3),
        batch_size=2,
        ema_decay=0.9,
        log_every=1,
        sample_every=2,
        checkpoint_every=1,
        threads=1,
    )


@pytest.fixture()
def vgg16_weights_file(tmp_path: Path) -> Path:
    """A state-dict file with torchvision's VGG-16 keys (random values): features.* convs and a classifier."""
    gen = torch.Generator().manual_seed(0)
    state: dict[str, torch.Tensor] = {}
    c_in, index = 3, 0
    for item in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if item == "M":
            index += 1
            continue
        state[f"features.{index}.weight"] = torch.randn(item, c_in, 3, 3, generator=gen) * 0.05
        state[f"features.{index}.bias"] = torch.randn(item, generator=gen) * 0.01
        c_in, index = item, index + 2
    state["classifier.0.weight"] = torch.zeros(4, 4)
    path = tmp_path / "vgg16.pth"
    torch.save(state, path)
    return path
