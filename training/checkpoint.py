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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from training.config import ModelConfig, TrainConfig, from_dict, to_dict
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


def save_generator_checkpoint(weights: dict[str, torch.Tensor], model: ModelConfig, info: dict[str, Any],
                              path: Path) -> None:
    """A checkpoint of a generator alone, at step 0 with no moving average (what scripts make from other
    generators): enough for ``export`` and ``train --init-generator``, not for ``--resume``."""
    save_checkpoint({"step": 0, "config": to_dict(TrainConfig(model=model)), "generator": weights,
                     "generator_ema": None, "info": info}, path)


def load_checkpoint(path: str | Path, *, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; a clear error for anything else."""
    state = torch.load(Path(path), map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a training checkpoint of format {CHECKPOINT_FORMAT}")
    return state


@dataclass
class TrainingState:
    """The live parts of a run a checkpoint holds: :func:`training_state` reads them into the layout above,
    :func:`restore_training_state` loads that layout back into them in place. Modules are unwrapped from DDP.
    """

    generator: nn.Module
    generator_ema: nn.Module | None
    d_global: nn.Module
    d_local: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d_global: torch.optim.Optimizer
    opt_d_local: torch.optim.Optimizer
    scaler: torch.amp.GradScaler


def training_state(parts: TrainingState, *, step: int, config: TrainConfig, info: dict) -> dict[str, Any]:
    """The checkpoint dict of a run at ``step`` (for :func:`save_checkpoint`), RNG states included, so that a
    resumed run goes on exactly as an uninterrupted one."""
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    return {
        "step": step,
        "config": to_dict(config),
        "generator": parts.generator.state_dict(),
        "generator_ema": parts.generator_ema.state_dict() if parts.generator_ema is not None else None,
        "d_global": parts.d_global.state_dict(),
        "d_local": parts.d_local.state_dict(),
        "opt_g": parts.opt_g.state_dict(),
        "opt_d_global": parts.opt_d_global.state_dict(),
        "opt_d_local": parts.opt_d_local.state_dict(),
        "scaler": parts.scaler.state_dict(),
        "rng": {"torch": torch.get_rng_state(), "cuda": cuda_rng},
        "info": info,
    }


def restore_training_state(state: dict[str, Any], parts: TrainingState) -> int:
    """Load a checkpoint dict (:func:`load_checkpoint`) into ``parts`` and the RNGs; returns its step."""
    parts.generator.load_state_dict(state["generator"])
    if parts.generator_ema is not None:
        parts.generator_ema.load_state_dict(state["generator_ema"] or state["generator"])
    parts.d_global.load_state_dict(state["d_global"])
    parts.d_local.load_state_dict(state["d_local"])
    parts.opt_g.load_state_dict(state["opt_g"])
    parts.opt_d_global.load_state_dict(state["opt_d_global"])
    parts.opt_d_local.load_state_dict(state["opt_d_local"])
    parts.scaler.load_state_dict(state["scaler"])
    torch.set_rng_state(state["rng"]["torch"])
    if state["rng"]["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    return int(state["step"])


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
