"""How a generator treats flat, dim, saturated colours, and how many colour directions its last features have:

    .venv/bin/python scripts/colour_patches.py RUN/checkpoints/step_001500.pt [MORE.pt ...] [--raw] \
        [--tone-config RUN/config.json]

For each checkpoint (moving average unless ``--raw``) and each patch below (one colour over 64x64 pixels, with
its default attention map), it prints the input, the tone target and the output at the patch centre in 8-bit
levels, and the mean absolute difference between output and target. The target is the checkpoint's own run's
(its ``tone_*`` settings), or another run's with ``--tone-config`` (a generator-only checkpoint, such as one
made from an ONNX file, carries default settings). Then the singular values of the features entering the
output layer (``to_residual``) at the patch centres, one row per patch, centred over the patches: the first
is mostly brightness, each further large one a direction in which the network tells colours apart. A network
with one or two large values projects every hue onto an axis (warm against cool), and a colour off that axis
comes out turned (docs/TRAINING.md, "The network guesses colour").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402 - after the path is set
import torch  # noqa: E402

from training.checkpoint import checkpoint_config, load_checkpoint, load_generator  # noqa: E402
from training.config import LossConfig, TrainConfig, from_dict  # noqa: E402
from training.losses import tone_target  # noqa: E402
from training.models.generator import default_attention  # noqa: E402

# Dim, saturated colours of night scenes (8-bit sRGB), around the hue circle, and one grey.
PATCHES: dict[str, tuple[int, int, int]] = {
    "red": (63, 6, 6),
    "orange": (60, 30, 5),
    "yellow": (50, 45, 5),
    "green": (10, 40, 10),
    "teal": (8, 40, 40),
    "blue": (10, 20, 60),
    "violet": (40, 10, 40),
    "pink": (60, 20, 35),
    "grey": (30, 30, 30),
}
PATCH_SIDE = 64


def _levels(image: torch.Tensor) -> tuple[int, int, int]:
    """The centre pixel of [1, 3, H, W] in [-1, 1] as 8-bit levels."""
    centre = image[0, :, PATCH_SIDE // 2, PATCH_SIDE // 2]
    r, g, b = (int(v) for v in torch.round((centre.clamp(-1, 1) + 1) * 127.5).tolist())
    return r, g, b


def probe(checkpoint: Path, *, ema: bool, loss_config: LossConfig | None) -> None:
    generator, info = load_generator(checkpoint, ema=ema)
    if loss_config is None:
        loss_config = checkpoint_config(load_checkpoint(checkpoint)).loss
    features: list[torch.Tensor] = []
    hook = generator.to_residual.register_forward_hook(
        lambda _module, inputs, _output: features.append(inputs[0][0, :, PATCH_SIDE // 2, PATCH_SIDE // 2])
    )
    weights = "moving average" if info["ema"] else "raw"
    sys.stdout.write(f"{checkpoint} (step {info['step']}, {weights})\n")
    errors = []
    with torch.no_grad():
        for name, colour in PATCHES.items():
            low = (torch.tensor(colour, dtype=torch.float32) / 127.5 - 1.0).view(1, 3, 1, 1)
            low = low.expand(1, 3, PATCH_SIDE, PATCH_SIDE).contiguous()
            output = generator(low, default_attention((low + 1.0) * 0.5))
            target = _levels(tone_target(low, loss_config))
            out = _levels(output)
            error = float(np.mean(np.abs(np.subtract(out, target))))
            errors.append(error)
            sys.stdout.write(f"  {name:7s} in {colour!s:15s} target {target!s:16s} out {out!s:16s} "
                             f"|out - target| {error:5.1f}\n")
    hook.remove()
    centre_features = torch.stack(features)
    singular = torch.linalg.svdvals(centre_features - centre_features.mean(dim=0)).tolist()
    sys.stdout.write(f"  mean |out - target| {np.mean(errors):.1f} levels; last features' singular values: "
                     + ", ".join(f"{s:.2f}" for s in singular[:5]) + "\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", type=Path, nargs="+")
    parser.add_argument("--raw", action="store_true", help="G's own weights instead of the moving average")
    parser.add_argument("--tone-config", type=Path,
                        help="a run's config.json whose tone target to compare with (default: the run's own)")
    args = parser.parse_args(argv)
    loss_config = None
    if args.tone_config is not None:
        loss_config = from_dict(TrainConfig, json.loads(args.tone_config.read_text(encoding="utf-8"))).loss
    for checkpoint in args.checkpoints:
        probe(checkpoint, ema=not args.raw, loss_config=loss_config)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
