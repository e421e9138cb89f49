"""``python -m training export``: checkpoint -> ONNX per docs/MODEL_CONTRACT.md, checked against PyTorch.

The generator is rebuilt from the checkpoint's own stored config (nothing else is needed), put in eval mode
(BatchNorm uses its running statistics) and exported with dynamic batch, height and width. The contract
metadata is attached, the ONNX Runtime output is compared with PyTorch's at two sizes that differ from the
tracing size (a failed comparison is an error, not a warning), and ``<file>.sha256`` is written beside it.
``--int8 CALIB_DIR`` adds a statically quantised variant (see training/quantize.py).
"""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from training.checkpoint import load_generator
from training.enhancers import parse_gate
from training.models.generator import SIZE_MULTIPLE, count_parameters, default_attention
from training.onnx_files import set_metadata, write_sha256
from training.quantize import add_int8_arguments, write_int8

log = logging.getLogger(__name__)

CONTRACT_VERSION = "1"
RECEPTIVE_MARGIN = 128
"""Overlap per tile side the engine should use: each output pixel sees about 260 px of input (MODEL.md)."""
OPSET = 18
INPUT_NAMES = ("image", "attention")
OUTPUT_NAME = "enhanced"
TRACE_SIZE = (64, 96)
# Batch, height, width of the parity check: both differ from TRACE_SIZE (a size baked into the graph, such as
# a fixed Resize output, would fail) and the first uses batch 2 (the batch axis is dynamic too).
PARITY_SIZES = ((2, 96, 160), (1, 208, 144))
PARITY_TOLERANCE = 1e-3
"""Largest accepted |ONNX - PyTorch| in the [-1, 1] output scale: an eighth of one 8-bit level (2 / 255).
fp32 kernels differ in summation order only: measured 1e-7 to 2e-7 on trained and untrained generators."""


class ParityError(RuntimeError):
    """The exported graph does not compute what the PyTorch generator computes."""


DEFAULT_EXPOSURE_GATE = "0.25,0.45"
"""The mean luma below which a photo gets the full attention and above which none (docs/MODEL_CONTRACT.md).
From the training folders, not the dev sets: every train_low photo's mean luma is at most 0.26 (SICE
under-exposed frames: below 0.20), and 0.45 is about the median of train_normal (0.44) and of the
well-exposed SICE frames (0.49)."""


def contract_metadata(
    *, precision: str, info: dict, width: int, params: int, name: str, version: str, trained_on: str | None,
    exposure_gate: str | None = DEFAULT_EXPOSURE_GATE,
) -> dict[str, str]:
    """The ``enlighten.*`` metadata of docs/MODEL_CONTRACT.md (all values strings).

    ``info`` is the checkpoint's info (``backbone``, ``trained_on``; see training/checkpoint.py).
    ``exposure_gate``: ``low,high`` of the photo-level attention gain; None: no gate (the paper's attention).
    """
    gate = {} if exposure_gate is None else {"enlighten.exposure_gate": exposure_gate}
    return gate | {
        "enlighten.contract": CONTRACT_VERSION,
        "enlighten.model_name": name,
        "enlighten.model_version": version,
        "enlighten.precision": precision,
        "enlighten.input_range": "-1,1",
        "enlighten.attention": "1-luma601",
        "enlighten.size_multiple": str(SIZE_MULTIPLE),
        "enlighten.receptive_margin": str(RECEPTIVE_MARGIN),
        "enlighten.backbone": str(info["backbone"]),
        "enlighten.width": str(width),
        "enlighten.params": str(params),
        "enlighten.trained_on": trained_on if trained_on is not None else str(info["trained_on"]),
    }


def sample_inputs(batch: int, height: int, width: int, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs as the contract defines them: image [N, 3, H, W] in [-1, 1], attention 1 - luma601 [N, 1, H, W].

    The image is a smooth random field plus fine noise, so that both flat and textured regions are checked.
    """
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(batch, 3, height // 16 + 1, width // 16 + 1, generator=g)
    smooth = nn.functional.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=True)
    image01 = (smooth + 0.1 * torch.rand(batch, 3, height, width, generator=g)).clamp(0, 1)
    return image01 * 2 - 1, default_attention(image01)


def export_onnx(generator: nn.Module, path: Path, *, metadata: dict[str, str]) -> None:
    """Export ``generator`` (in eval mode) to ``path`` with dynamic N, H, W and the given metadata.

    Uses the TorchScript exporter (``dynamo=False``) of the pinned torch 2.13. The torch.export-based one
    produces an equivalent graph here (same parity, same operators) but takes about ten times longer (12 s of
    CPU for even a tiny generator). The trace turns the bilinear 2x upsampling into Resize nodes with fixed
    *scales*, not fixed sizes, so the graph stays valid at every H and W (check_parity tests other sizes).
    """
    generator = generator.eval()
    dims = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings(), torch.no_grad():
        # The generator's input checks compare traced sizes in Python; they leave no trace in the graph.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", "You are using the legacy TorchScript-based ONNX export")
        torch.onnx.export(
            generator,
            sample_inputs(1, *TRACE_SIZE),
            str(path),
            dynamo=False,
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes={name: dims for name in (*INPUT_NAMES, OUTPUT_NAME)},
            opset_version=OPSET,
            do_constant_folding=True,
        )
    set_metadata(path, metadata)


def check_parity(
    generator: nn.Module,
    path: Path,
    *,
    sizes: Sequence[tuple[int, int, int]] = PARITY_SIZES,
    tolerance: float = PARITY_TOLERANCE,
) -> list[float]:
    """Max |ONNX Runtime - PyTorch| of the output at each (N, H, W) of ``sizes``.

    Raises ParityError when a difference exceeds ``tolerance`` or an output shape differs.
    """
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    differences = []
    for seed, (n, h, w) in enumerate(sizes):
        image, attention = sample_inputs(n, h, w, seed=seed + 1)
        with torch.no_grad():
            expected = generator.eval()(image, attention).numpy()
        (actual,) = session.run([OUTPUT_NAME], {"image": image.numpy(), "attention": attention.numpy()})
        if actual.shape != expected.shape:
            raise ParityError(f"{path}: output {actual.shape} at {n}x{h}x{w}, PyTorch gives {expected.shape}")
        differences.append(float(np.abs(actual - expected).max()))
        log.info("parity %dx3x%dx%d: max |onnx - torch| = %.2e", n, h, w, differences[-1])
    if max(differences) > tolerance:
        raise ParityError(
            f"{path} differs from the PyTorch generator by up to {max(differences):.3g} "
            f"(tolerance {tolerance})"
        )
    return differences


def int8_path(path: Path) -> Path:
    """``model.onnx`` -> ``model-int8.onnx`` (the contract's naming of the shipped pair)."""
    return path.with_name(f"{path.stem}-int8{path.suffix}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training export",
        description="Export a training checkpoint to ONNX (docs/MODEL_CONTRACT.md), checked against PyTorch.",
    )
    add = parser.add_argument
    add("checkpoint", type=Path, help="checkpoint written by `python -m training train`")
    add("-o", "--output", type=Path, required=True, help="ONNX file to write (fp32)")
    add("--int8", type=Path, metavar="CALIB_DIR", help="also write <output>-int8.onnx, calibrated on these")
    add_int8_arguments(parser)
    add("--ema", action=argparse.BooleanOptionalAction, default=True, help="use the moving average of G")
    add("--model-name", default="enlightengan")
    add("--model-version", help="default: YYYY.MM.DD of today")
    add("--trained-on", help="data summary for the metadata (default: the checkpoint's)")
    add_gate_argument(parser)
    return parser


def add_gate_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--exposure-gate", type=gate_option, default=DEFAULT_EXPOSURE_GATE, metavar="LOW,HIGH|none",
        help="photo-level attention gain: full below mean luma LOW, none above HIGH (default: %(default)s); "
        "'none': the paper's attention on every photo")


def gate_option(text: str) -> str | None:
    """``--exposure-gate``'s value: ``low,high`` checked and normalised, or None for "none"."""
    if text.strip().lower() == "none":
        return None
    try:
        gate = parse_gate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if gate is None:
        raise argparse.ArgumentTypeError("give LOW,HIGH or none")
    return f"{gate[0]:g},{gate[1]:g}"


def main(argv: list[str]) -> int:
    """Export the fp32 model (and the int8 one with --int8); print the checks' numbers."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    generator, info = load_generator(args.checkpoint, ema=args.ema)
    kind = "moving-average" if info["ema"] else "raw"
    log.info("checkpoint %s: step %s, %s weights", args.checkpoint, info["step"], kind)
    if info["ema"] and info["model"]["norm"] == "batch":
        # The trainer gives the moving average G's own BatchNorm statistics, which belong to the raw weights.
        log.warning(
            "BatchNorm generator exported from the moving average: its BatchNorm statistics are those of "
            "the raw weights; compare with --no-ema (the raw weights scored better on the GPU run, "
            "docs/TRAINING.md)"
        )
    fields = dict(
        info=info,
        width=int(info["model"]["width"]),
        params=count_parameters(generator),
        name=args.model_name,
        version=args.model_version or datetime.date.today().strftime("%Y.%m.%d"),
        trained_on=args.trained_on,
        exposure_gate=args.exposure_gate,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(generator, args.output, metadata=contract_metadata(precision="fp32", **fields))
    differences = check_parity(generator, args.output)
    write_sha256(args.output)
    lines = [f"{args.output}: fp32, max |onnx - torch| " + ", ".join(f"{d:.2e}" for d in differences)]
    if args.int8 is not None:
        metadata = contract_metadata(precision="int8", **fields)
        lines.append(write_int8(args.output, int8_path(args.output), args.int8, args, metadata))
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
