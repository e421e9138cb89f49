"""Two CPU processes under torchrun (gloo) train like one process with the same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import torch

from training.checkpoint import load_checkpoint
from training.config import ModelConfig, OptimConfig, TrainConfig, to_dict
from training.trainer import train


def test_two_ranks_average_gradients_over_the_global_batch(tiny_config: TrainConfig, tmp_path: Path) -> None:
    # LayerNorm (no batch statistics) and the warm-start loss (a per-sample mean) make the global-batch
    # gradient exactly the average of the two ranks' gradients; the third step is a GAN step.
    config = replace(
        tiny_config,
        model=ModelConfig(width=4, norm="layer", d_base=8),
        optim=OptimConfig(max_steps=3, warmup_steps=2),
        ema_decay=0.0,
    )
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(to_dict(config)))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "training",
        "train",
        "--config",
        str(config_file),
        "--out",
        str(tmp_path / "ddp"),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]

    train(config, tmp_path / "single")
    train(replace(config, batch_size=1), tmp_path / "rank0_alone")  # what rank 0 would do without syncing

    def generator(run: str, step: int) -> dict[str, torch.Tensor]:
        return load_checkpoint(tmp_path / run / "checkpoints" / f"step_{step:06d}.pt")["generator"]

    ddp, single, alone = generator("ddp", 2), generator("single", 2), generator("rank0_alone", 2)
    for k in single:
        assert torch.allclose(ddp[k], single[k], rtol=0, atol=1e-6), k
    assert max((alone[k] - single[k]).abs().max().item() for k in single) > 1e-5
    last = load_checkpoint(tmp_path / "ddp" / "checkpoints" / "last.pt")
    assert last["step"] == 3 and not torch.equal(
        last["generator"]["to_residual.weight"], ddp["to_residual.weight"]
    )
    # Only rank 0 writes: one progress log, one set of samples.
    assert result.stderr.count("3/3") == 1
    assert sorted(p.name for p in (tmp_path / "ddp" / "samples").iterdir()) == [
        "step_000002.png",
        "step_000003.png",
    ]
