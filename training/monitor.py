"""What a run shows while it trains: a text progress line with the losses, sample sheets, TensorBoard scalars.

All of it is written by the main rank only (the trainer decides)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

log = logging.getLogger("training")


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """A progress line for logs (no terminal tricks, so it reads well in files and under torchrun)."""

    def __init__(self, *, total: int, start: int, width: int = 20) -> None:
        self.total, self.start, self.width = total, start, width
        self.t0 = time.monotonic()

    def line(self, step: int, values: dict[str, float]) -> str:
        done = step / max(self.total, 1)
        filled = int(done * self.width)
        rate = (time.monotonic() - self.t0) / max(step - self.start, 1)
        eta = rate * (self.total - step)
        losses = " ".join(f"{k} {v:.4g}" for k, v in values.items())
        bar = "#" * filled + "-" * (self.width - filled)
        return f"[{bar}] {step}/{self.total} {rate:.2f} s/step eta {format_duration(eta)} | {losses}"


def _to_uint8(x: torch.Tensor) -> np.ndarray:
    """[C, H, W] in [-1, 1] (C = 1 or 3) -> [H, W, 3] uint8."""
    x = ((x.float().clamp(-1, 1) + 1) * 127.5).round().byte().cpu()
    if x.shape[0] == 1:
        x = x.expand(3, -1, -1)
    return x.permute(1, 2, 0).numpy()


def write_sample_sheet(
    path: Path, low: torch.Tensor, enhanced: torch.Tensor, attention: torch.Tensor
) -> None:
    """One row per image: input | output | attention. low, enhanced [N, 3, H, W] in [-1, 1]; attention
    [N, 1, H, W] in [0, 1]."""
    rows = [
        np.concatenate([_to_uint8(i), _to_uint8(o), _to_uint8(a * 2 - 1)], axis=1)
        for i, o, a in zip(low, enhanced, attention, strict=True)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)


class Scalars:
    """TensorBoard scalars when tensorboard is installed; nothing otherwise (said once in the log)."""

    def __init__(self, log_dir: Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            log.info("tensorboard is not installed: no scalar logs")
            self.writer = None
        else:
            self.writer = SummaryWriter(log_dir=str(log_dir))

    def add(self, step: int, values: dict[str, float]) -> None:
        if self.writer is not None:
            for k, v in values.items():
                self.writer.add_scalar(k, v, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
