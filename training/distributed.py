"""One process or several under torchrun: rank, world size and device, and the process group around them."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class DistContext:
    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Only the main rank writes files (checkpoints, samples, logs)."""
        return self.rank == 0


def init_distributed() -> DistContext:
    """Join torchrun's process group if there is one (nccl on CUDA, gloo on CPU); else a single process.

    Each rank takes the GPU ``LOCAL_RANK`` when CUDA is available, the CPU otherwise."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
        # Every step has the same shapes (fixed crop, fixed patches): let cuDNN time its algorithms once.
        torch.backends.cudnn.benchmark = True
    if world_size == 1:
        return DistContext(rank=0, world_size=1, device=device)
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    return DistContext(rank=dist.get_rank(), world_size=dist.get_world_size(), device=device)


def shutdown_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap(module: nn.Module, ctx: DistContext) -> nn.Module:
    """DistributedDataParallel around ``module`` when there are several ranks; the module itself otherwise."""
    if ctx.world_size == 1:
        return module
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids)


def unwrap(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, DistributedDataParallel) else module


def barrier(ctx: DistContext) -> None:
    if ctx.world_size > 1:
        dist.barrier()
