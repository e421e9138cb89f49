"""A training checkpoint holding the generator of an exported model, for ``train --init-generator``.

    .venv/bin/python scripts/checkpoint_from_onnx.py resources/models/enlightengan.onnx -o RUNS/shipped.pt

The exported graph keeps the convolutions' parameters under their PyTorch names; they are loaded into an
``AttentionUNet`` of the model's width (``enlighten.width``) without normalisation layers. A BatchNorm
generator comes back as its norm-free equivalent, since the export folds its (running) statistics into the
convolutions. With ``--width`` the generator is widened to that width computing the same function
(``generator.widen``). The rebuilt (or widened) generator is checked against the ONNX file at two sizes before
it is written. The checkpoint carries the model's ``trained_on`` and ``backbone`` as its info, so an export of
a fine-tuned run says where it started.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training.checkpoint import save_generator_checkpoint  # noqa: E402 - after the path is set
from training.config import ModelConfig  # noqa: E402
from training.export import check_parity  # noqa: E402
from training.models.generator import AttentionUNet, widen  # noqa: E402


def generator_of(path: Path) -> tuple[AttentionUNet, dict[str, str]]:
    """The generator whose parameters ``path`` holds, and the model's metadata."""
    model = onnx.load(str(path))
    metadata = {p.key: p.value for p in model.metadata_props}
    generator = AttentionUNet(width=int(metadata["enlighten.width"]), norm="none")
    weights = {i.name: torch.from_numpy(np.array(numpy_helper.to_array(i))) for i in model.graph.initializer}
    expected = generator.state_dict()
    missing = sorted(set(expected) - set(weights))
    if missing:
        raise SystemExit(
            f"{path} lacks generator parameters {missing[:5]}: not an exported AttentionUNet, or one whose "
            "identical tensors (such as untrained zero biases) the export merged")
    generator.load_state_dict({name: weights[name] for name in expected})
    return generator.eval(), metadata


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="an .onnx exported by `python -m training export`")
    parser.add_argument("-o", "--output", type=Path, required=True, help="checkpoint to write")
    parser.add_argument("--width", type=int, help="widen the generator to this width (a multiple of its own)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the widening's random weight split")
    args = parser.parse_args()
    generator, metadata = generator_of(args.model)
    if args.width is not None:
        generator = widen(generator, args.width, seed=args.seed)
    differences = check_parity(generator, args.model)
    save_generator_checkpoint(
        generator.state_dict(), ModelConfig(width=generator.width, norm="none"),
        {"backbone": metadata["enlighten.backbone"], "trained_on": metadata["enlighten.trained_on"]},
        args.output)
    sys.stdout.write(f"{args.output}: generator of {args.model} (max |onnx - torch| "
                     f"{max(differences):.1e})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
