"""A checkpoint whose generator is a weighted average of two generators' weights, for export or ``train
--init-generator``:

    .venv/bin/python scripts/interpolate_generators.py A.pt B.pt --fraction 0.5 -o BLEND.pt

weights = (1 - fraction) x A's + fraction x B's, tensor by tensor. Averaging weights (not outputs) keeps one
network's cost. It means something only when B was fine-tuned from A or both from one ancestor (the shipped
model's stages 6 and 9, for instance): then the two lie in one basin and the blend moves between their
behaviours; for unrelated networks it is noise. Each side uses its moving average when its run kept one
(as export does). The result is not the average of the two outputs: the networks are not linear, so measure
it as any other model (scripts/score_checkpoint.sh ... raw).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training.checkpoint import load_generator, save_generator_checkpoint  # noqa: E402 - after the path is set
from training.config import ModelConfig, from_dict  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path, help="checkpoint A")
    parser.add_argument("second", type=Path, help="checkpoint B")
    parser.add_argument("--fraction", type=float, required=True, help="B's share, from 0 (A) to 1 (B)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="checkpoint to write")
    args = parser.parse_args(argv)
    if not 0.0 <= args.fraction <= 1.0:
        parser.error(f"--fraction must be from 0 to 1, not {args.fraction}")
    first, first_info = load_generator(args.first)
    second, second_info = load_generator(args.second)
    if first_info["model"] != second_info["model"]:
        parser.error(f"the generators differ in shape: {first_info['model']} against {second_info['model']}")
    second_weights = second.state_dict()
    blended = {name: (1.0 - args.fraction) * weight + args.fraction * second_weights[name]
               for name, weight in first.state_dict().items()}
    trained_on = (f"weights {1.0 - args.fraction:g} x ({first_info['trained_on']}) + "
                  f"{args.fraction:g} x ({second_info['trained_on']})")
    save_generator_checkpoint(blended, from_dict(ModelConfig, first_info["model"]),
                              {"backbone": first_info["backbone"], "trained_on": trained_on}, args.output)
    sys.stdout.write(f"{args.output}: {1.0 - args.fraction:g} x {args.first} + "
                     f"{args.fraction:g} x {args.second}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
