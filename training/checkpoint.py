"""Checkpoints that carry their own configuration: resume needs the run folder, export needs only the file.

Layout (a dict saved with torch.save, loadable with ``weights_only=True``): ``format``, ``step``, ``config``
(TrainConfig as a dict), ``generator`` / ``generator_ema`` (state dicts; ema may be None), ``d_global``,
``d_local``, the three optimizer states, ``scaler``, ``rng`` and ``info`` (backbone tag, parameter count,
data summary) for export's metadata and the model card.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

import torch

from training.config import ModelConfig, TrainConfig, from_dict
from training.models.generator import AttentionUNet

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1


def checkpoint_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "checkpoints"


def step_path(run_dir: Path, step: int) -> Path:
    return checkpoint_dir(run_dir) / f"step_{step:06d}.pt"


def last_path(run_dir: Path) -> Path:
    return checkpoint_dir(run_dir) / "last.pt"


def save_checkpoint(state: dict[str, Any], path: Path, *, also: Path | None = None) -> None:
    """Write atomically (temporary file then rename), so a crash never leaves a half-written checkpoint.

    ``also`` gets the same file as a hard link (a copy where links are not possible): last.pt costs no
    extra disk space or time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": CHECKPOINT_FORMAT, **state}, tmp)
    os.replace(tmp, path)
    if also is not None:
        tmp = also.with_name(also.name + ".tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(path, tmp)
        except OSError:
            shutil.copyfile(path, tmp)
        os.replace(tmp, also)


def load_checkpoint(path: str | Path, *, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; a clear error for anything else."""
    state = torch.load(Path(path), map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a training checkpoint of format {CHECKPOINT_FORMAT}")
    return state


def checkpoint_config(state: dict[str, Any]) -> TrainConfig:
    return from_dict(TrainConfig, state["config"])


def load_generator(path: str | Path, *, ema: bool = True) -> tuple[AttentionUNet, dict[str, Any]]:
    """The generator of a checkpoint, on the CPU in eval mode, and the checkpoint's ``info`` plus ``step``,
    ``ema`` (whether the moving average was used) and ``model`` (ModelConfig as a dict).

    ``ema=True`` takes the moving average of G when the run kept one, else the raw weights."""
    state = load_checkpoint(path)
    model = from_dict(ModelConfig, state["config"]["model"])
    generator = AttentionUNet(width=model.width, norm=model.norm)
    use_ema = ema and state.get("generator_ema") is not None
    generator.load_state_dict(state["generator_ema"] if use_ema else state["generator"])
    info = {**state["info"], "step": state["step"], "ema": use_ema, "model": state["config"]["model"]}
    return generator.eval(), info
