"""scripts/interpolate_generators.py: two generators' weights averaged into a loadable checkpoint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from training.checkpoint import load_generator, save_checkpoint
from training.config import ModelConfig, TrainConfig, to_dict
from training.models.generator import AttentionUNet

_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "interpolate_generators.py"


def _checkpoint(path: Path, *, width: int, seed: int, with_moving_average: bool) -> AttentionUNet:
    """A checkpoint of a random generator; returns the generator export would use (the moving average when
    the checkpoint has one)."""
    torch.manual_seed(seed)
    raw = AttentionUNet(width=width, norm="none")
    average = AttentionUNet(width=width, norm="none")
    state = {"step": 10, "config": to_dict(TrainConfig(model=ModelConfig(width=width, norm="none"))),
             "generator": raw.state_dict(),
             "generator_ema": average.state_dict() if with_moving_average else None,
             "info": {"backbone": "vgg16:relu5_1", "trained_on": f"run {seed}"}}
    save_checkpoint(state, path)
    return average if with_moving_average else raw


def interpolate(first: Path, second: Path, output: Path, fraction: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(_SCRIPT), str(first), str(second), "--fraction", fraction,
                           "-o", str(output)], capture_output=True, text=True, check=False)


def test_each_weight_is_the_weighted_average_of_the_exported_weights(tmp_path: Path) -> None:
    first = _checkpoint(tmp_path / "a.pt", width=4, seed=1, with_moving_average=True)
    second = _checkpoint(tmp_path / "b.pt", width=4, seed=2, with_moving_average=False)
    run = interpolate(tmp_path / "a.pt", tmp_path / "b.pt", tmp_path / "blend.pt", "0.25")
    assert run.returncode == 0, run.stderr
    blend, info = load_generator(tmp_path / "blend.pt")
    second_weights = second.state_dict()
    for name, weight in first.state_dict().items():
        torch.testing.assert_close(blend.state_dict()[name], 0.75 * weight + 0.25 * second_weights[name])
    assert info["model"]["width"] == 4 and info["trained_on"] == "weights 0.75 x (run 1) + 0.25 x (run 2)"


def test_generators_of_different_shapes_are_refused(tmp_path: Path) -> None:
    _checkpoint(tmp_path / "a.pt", width=4, seed=1, with_moving_average=False)
    _checkpoint(tmp_path / "b.pt", width=8, seed=2, with_moving_average=False)
    run = interpolate(tmp_path / "a.pt", tmp_path / "b.pt", tmp_path / "blend.pt", "0.5")
    assert run.returncode != 0 and "differ in shape" in run.stderr
    assert not (tmp_path / "blend.pt").exists()


def test_a_fraction_outside_0_to_1_is_refused(tmp_path: Path) -> None:
    _checkpoint(tmp_path / "a.pt", width=4, seed=1, with_moving_average=False)
    run = interpolate(tmp_path / "a.pt", tmp_path / "a.pt", tmp_path / "blend.pt", "1.5")
    assert run.returncode != 0 and "--fraction must be from 0 to 1" in run.stderr
