"""scripts/colour_patches.py: flat colours through a checkpoint, against its tone target, and how many colour
directions its last features have."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import torch

from training.checkpoint import save_checkpoint
from training.config import LossConfig, ModelConfig, TrainConfig, to_dict
from training.models.generator import AttentionUNet

_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "colour_patches.py"


def _checkpoint(path: Path, generator: AttentionUNet) -> None:
    config = TrainConfig(model=ModelConfig(width=4, norm="none"), loss=LossConfig(tone_fixed_gamma=0.5))
    info = {"backbone": "vgg16:relu5_1", "trained_on": "test"}
    save_checkpoint({"step": 7, "config": to_dict(config), "generator": generator.state_dict(),
                     "generator_ema": None, "info": info}, path)


def _run(checkpoint: Path) -> str:
    run = subprocess.run([sys.executable, str(_SCRIPT), str(checkpoint)], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr
    return run.stdout


def _singular_values(report: str) -> list[float]:
    match = re.search(r"singular values: (.*)$", report, re.MULTILINE)
    assert match, report
    return [float(v) for v in match.group(1).split(", ")]


def test_an_identity_generator_hands_each_colour_back_and_misses_its_target(tmp_path: Path) -> None:
    torch.manual_seed(0)
    _checkpoint(tmp_path / "identity.pt", AttentionUNet(width=4, norm="none", init="he"))
    report = _run(tmp_path / "identity.pt")
    assert "(step 7, raw)" in report
    # gamma 0.5 of (63, 6, 6) / 255 under the default S-curve lifts every channel; the output stays the input.
    red = next(line for line in report.splitlines() if line.strip().startswith("red"))
    assert "in (63, 6, 6)" in red and "out (63, 6, 6)" in red
    target = tuple(int(v) for v in re.search(r"target \((\d+), (\d+), (\d+)\)", red).groups())
    assert all(t > i for t, i in zip(target, (63, 6, 6), strict=True))


def test_the_singular_values_count_the_directions_the_last_features_tell_colours_apart_by(
    tmp_path: Path,
) -> None:
    torch.manual_seed(0)
    generator = AttentionUNet(width=4, norm="none", init="he")
    last = generator.up[-1].conv2.conv
    with torch.no_grad():  # all but one of the last features zero: one direction at most
        last.weight[1:] = 0
        last.bias[1:] = 0
    _checkpoint(tmp_path / "one.pt", generator)
    _checkpoint(tmp_path / "full.pt", AttentionUNet(width=4, norm="none", init="he"))
    one, full = _singular_values(_run(tmp_path / "one.pt")), _singular_values(_run(tmp_path / "full.pt"))
    assert one[0] > 0 and all(v == 0 for v in one[1:]), one
    assert full[1] > 0, full  # a random network tells colours apart along more than one direction
