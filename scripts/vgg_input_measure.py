"""Which input normalisation makes VGG-16's self-feature-preserving loss pull a darkened crop back up?

The authors feed their caffe VGG-16 0..255 BGR without subtracting the mean; our weights are torchvision's,
trained on (x - mean) / std. This script measures both candidates of training.features.VGG_INPUTS on real
low-light crops in the situation the loss is used in ("vary"): the target is a crop x, the generator sees
x / t (t in 2..4). It prints the median SFP loss, against x, of outputs a generator might produce:

- ``identity``: x / t unchanged (where a generator that learns nothing stays; it must cost clearly more than
  content damage, or the loss does not pull outputs brighter);
- ``half gain``: 0.5 t * x / t, half-way back;
- ``gamma``: (x / t) ** g with g putting its mean at x's mean (a tone curve, not the exact gain);
- ``blur`` and ``noise``: x itself, blurred (3x3 box) or with Gaussian noise of sigma 0.03 (content damage,
  which the loss is there to forbid).

The ratio identity / blur is how strongly the loss asks for brightness against how strongly it guards content.

    python scripts/vgg_input_measure.py ../shared/data/train_low [--crops 16] [--side 128]

Needs `python -m training fetch-vgg16` first.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from training.data import list_images
from training.features import VGG_INPUTS, build_backbone
from training.losses import sfp_loss


def crops(folder: Path, count: int, side: int, seed: int) -> list[torch.Tensor]:
    """``count`` random side x side crops in [-1, 1], [1, 3, side, side], from images of ``folder``."""
    rng = np.random.default_rng(seed)
    files = list_images(folder)
    out = []
    for index in rng.choice(len(files), size=count, replace=False):
        with Image.open(files[index]) as image:
            pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
        h, w = pixels.shape[:2]
        y, x = int(rng.integers(h - side + 1)), int(rng.integers(w - side + 1))
        crop = pixels[y : y + side, x : x + side].transpose(2, 0, 1)
        out.append(torch.from_numpy(np.ascontiguousarray(crop))[None] * 2 - 1)
    return out


def candidates(x01: torch.Tensor, t: float) -> dict[str, torch.Tensor]:
    """The outputs compared, [1, 3, H, W] in [0, 1] (see the module docstring)."""
    dark = x01 / t
    gamma = (x01.mean().clamp(1e-3, 0.999).log() / dark.mean().clamp(1e-3, 0.999).log()).item()
    noise = torch.randn(x01.shape, generator=torch.Generator().manual_seed(0)) * 0.03
    return {
        "identity": dark,
        "half gain": (dark * 0.5 * t).clamp(0, 1),
        "gamma": dark.clamp_min(0).pow(gamma),
        "blur": F.avg_pool2d(x01, 3, stride=1, padding=1, count_include_pad=False),
        "noise": (x01 + noise).clamp(0, 1),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("low_folder", type=Path)
    parser.add_argument("--crops", type=int, default=16)
    parser.add_argument("--side", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    samples = crops(args.low_folder, args.crops, args.side, args.seed)
    factors = np.random.default_rng(args.seed + 1).integers(200, 401, size=len(samples)) / 100.0
    sys.stdout.write(f"{len(samples)} crops of {args.side} px; median SFP loss against the crop x\n")
    for name in VGG_INPUTS:
        backbone = build_backbone("vgg16", vgg_input=name)
        rows: dict[str, list[float]] = {}
        for x, t in zip(samples, factors, strict=True):
            for label, output in candidates((x + 1) / 2, float(t)).items():
                with torch.no_grad():
                    rows.setdefault(label, []).append(sfp_loss(backbone, x, output * 2 - 1).item())
        medians = {label: float(np.median(values)) for label, values in rows.items()}
        cells = "  ".join(f"{label} {value:.4f}" for label, value in medians.items())
        ratio = medians["identity"] / medians["blur"]
        sys.stdout.write(f"{name:17s} {cells}  identity/blur {ratio:.2f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
