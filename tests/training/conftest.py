"""Tiny unpaired image folders and a tiny training config for the trainer tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.config import DataConfig, LossConfig, ModelConfig, OptimConfig, TrainConfig


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
    """A config that trains a width-4 generator on 32-48 px crops (patches of 32 px)."""
    low, normal = tiny_folders
    return TrainConfig(
        model=ModelConfig(width=4, norm="batch", d_base=8),
        data=DataConfig(low=str(low), normal=str(normal), crop=48),
        loss=LossConfig(patch_size=32),
        optim=OptimConfig(max_steps=3),
        batch_size=2,
        ema_decay=0.9,
        log_every=1,
        sample_every=2,
        checkpoint_every=1,
        threads=1,
    )
