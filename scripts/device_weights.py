"""Weight files that cross to and from the GPU machine of the device tool, in fp16 under its limits.

At most 8 files of at most 16 MiB come back from a call; the paper's generator (width 32, 8.6 M parameters) is
17.3 MB in fp16 alone, so each weight set is split into parts of at most :data:`PART_BYTES`. Used there by
scripts/device_train.sh (with the machine's python3 and ``PYTHONPATH=.``) and here by
scripts/device_unpack.py.

    python3 scripts/device_weights.py vgg-fp32 PACKED_FP16 OUT_FP32    # the packed VGG-16 back to fp32
    python3 scripts/device_weights.py split CHECKPOINT OUT_DIR NAME     # a checkpoint's G to fp16 parts

``split`` writes ``NAME.raw.K.pt`` and ``NAME.ema.K.pt`` (generator parameters in fp16, its buffers, the
BatchNorm statistics, as they are) and ``NAME.meta.json`` (step, config, info and the part lists).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch

from training.checkpoint import load_checkpoint
from training.config import ModelConfig, from_dict
from training.models.generator import AttentionUNet

PART_BYTES = 15 * 2**20  # under the 16 MiB a returned file may have, torch.save's overhead included
WEIGHT_SETS = {"raw": "generator", "ema": "generator_ema"}  # file tag -> checkpoint key


def meta_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.meta.json"


def vgg_fp32(source: Path, target: Path) -> None:
    """The fp16 VGG-16 state dict of scripts/pack_for_device.py as the fp32 file ``--vgg16-weights`` reads."""
    state = torch.load(source, map_location="cpu", weights_only=True)
    torch.save({k: v.float() for k, v in state.items()}, target)


def parameter_names(model: dict[str, Any]) -> set[str]:
    """Names of the generator's parameters (not its buffers) for a checkpoint's model config."""
    config = from_dict(ModelConfig, model)
    with torch.device("meta"):  # names only: no memory for the weights
        generator = AttentionUNet(width=config.width, norm=config.norm)
    return {name for name, _ in generator.named_parameters()}


def _parts(state: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
    """``state`` in consecutive groups of at most PART_BYTES of tensor data."""
    parts: list[dict[str, torch.Tensor]] = [{}]
    used = 0
    for key, tensor in state.items():
        size = tensor.numel() * tensor.element_size()
        if used + size > PART_BYTES and parts[-1]:
            parts.append({})
            used = 0
        parts[-1][key] = tensor
        used += size
    return parts


def split(checkpoint: Path, folder: Path, name: str) -> list[Path]:
    """Write the generator weights of ``checkpoint`` (raw and moving average) as fp16 parts plus the meta
    file into ``folder``; returns the files written."""
    state = load_checkpoint(checkpoint)
    params = parameter_names(state["config"]["model"])
    written: list[Path] = []
    meta: dict[str, Any] = {
        "name": name,
        "step": state["step"],
        "config": state["config"],
        "info": state["info"],
        "parts": {},
    }
    for tag, key in WEIGHT_SETS.items():
        if state[key] is None:  # a run with --ema-decay 0 keeps no moving average
            continue
        weights = {}
        for k, v in state[key].items():
            if k in params:
                if not torch.isfinite(v).all() or v.abs().max() > torch.finfo(torch.float16).max:
                    raise ValueError(f"{key}.{k} does not fit fp16")
                v = v.half()
            weights[k] = v
        files = []
        for i, part in enumerate(_parts(weights)):
            path = folder / f"{name}.{tag}.{i}.pt"
            torch.save(part, path)
            files.append(path.name)
            written.append(path)
        meta["parts"][tag] = files
    meta_path(folder, name).write_text(json.dumps(meta, indent=1) + "\n")
    return [*written, meta_path(folder, name)]


def join(folder: Path, name: str) -> dict[str, Any]:
    """The checkpoint dict (the parts ``load_generator`` reads: step, config, info, generator,
    generator_ema) rebuilt from what :func:`split` wrote, weights back in fp32."""
    meta = json.loads(meta_path(folder, name).read_text())
    state: dict[str, Any] = {k: meta[k] for k in ("step", "config", "info")}
    for tag, key in WEIGHT_SETS.items():
        state[key] = None
        if tag in meta["parts"]:
            weights: dict[str, torch.Tensor] = {}
            for file in meta["parts"][tag]:
                part = torch.load(folder / file, map_location="cpu", weights_only=True)
                weights |= {k: v.float() if v.dtype == torch.float16 else v for k, v in part.items()}
            state[key] = weights
    return state


def main(argv: list[str]) -> int:
    usage = "usage: device_weights.py vgg-fp32 SRC DST | split CHECKPOINT OUT_DIR NAME\n"
    if argv[:1] == ["vgg-fp32"] and len(argv) == 3:
        vgg_fp32(Path(argv[1]), Path(argv[2]))
        return 0
    if argv[:1] == ["split"] and len(argv) == 4:
        for path in split(Path(argv[1]), Path(argv[2]), argv[3]):
            sys.stdout.write(f"{path} {path.stat().st_size / 2**20:.2f} MiB\n")
        return 0
    sys.stderr.write(usage)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
