"""Turn the files a GPU run of scripts/device_train.sh returned into a run folder with a checkpoint.

    python scripts/device_unpack.py FILES_DIR [--name paper] --out /work/runs/gpu_vgg_paper
    python -m training export RUN/checkpoints/last.pt -o RUN/raw.onnx --no-ema     # then export, evaluate

FILES_DIR is where the device tool put the call's files (its ``files_at``). The run folder gets
``checkpoints/step_NNNNNN.pt`` and ``last.pt`` (step, config, info, generator and its moving average, fp16
weights back in fp32), ``config.json``, ``samples/`` and ``train.log``. The checkpoint has no discriminators,
optimizer states or RNG states (too large to return from the machine): ``export``, ``--init-generator`` and
anything else that reads it with ``training.checkpoint.load_generator`` work; ``--resume`` does not.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from device_weights import join

from training.checkpoint import last_path, load_generator, save_checkpoint, step_path
from training.config import TrainConfig, from_dict, save_config


def unpack(folder: Path, name: str, run: Path) -> Path:
    """Write the run folder; returns its checkpoint (``step_NNNNNN.pt``, also linked as ``last.pt``)."""
    if last_path(run).exists():
        raise SystemExit(f"{run} already holds a checkpoint: pick another --out")
    state = join(folder, name)
    path = step_path(run, state["step"])
    save_checkpoint(state, path, also=last_path(run))
    for ema in (False, True):  # read back as export will: strict keys and shapes for both weight sets
        load_generator(path, ema=ema)
    save_config(from_dict(TrainConfig, state["config"]), run / "config.json")
    sample = folder / f"{name}.sample.png"
    if sample.is_file():
        (run / "samples").mkdir(exist_ok=True)
        shutil.copyfile(sample, run / "samples" / f"step_{state['step']:06d}.png")
    log = folder / f"{name}.log"
    if log.is_file():
        shutil.copyfile(log, run / "train.log")
    return path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", type=Path, help="folder holding NAME.meta.json and NAME.{raw,ema}.K.pt")
    parser.add_argument("--name", default="paper", help="the NAME the run had on the machine")
    parser.add_argument("--out", type=Path, required=True, help="run folder to write")
    args = parser.parse_args(argv)
    path = unpack(args.files, args.name, args.out)
    _, info = load_generator(path)
    sys.stdout.write(
        f"{path}: step {info['step']}, width {info['model']['width']}, {info['model']['norm']} norm, "
        f"backbone {info['backbone']}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
