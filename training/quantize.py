"""Static int8 quantisation of an exported generator, calibrated on real low-light images, and its check.

Activations are uint8 and weights int8 per output channel (this CPU has AVX-512 VNNI, so the full 8-bit range
is safe; no ``reduce_range``). The final ``R * A + I`` stays in float: quantising ``enhanced`` would put the
output on a grid of about one 8-bit level (its range is wider than [-1, 1]) and the input image, added there
at full precision, would lose exactly the detail the residual design keeps.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quant_pre_process,
    quantize_static,
)
from PIL import Image

from training.contact_sheet import evenly_spaced
from training.enhancers import OnnxEnhancer, contract_inputs
from training.evaluate import list_images, load_rgb
from training.onnx_files import set_metadata

log = logging.getLogger(__name__)

QUANT_FORMATS = {"qoperator": QuantFormat.QOperator, "qdq": QuantFormat.QDQ}
# (H, W) crops for calibration: several shapes, multiples of 16, so ranges are not tuned to one aspect.
CALIBRATION_SIZES = ((256, 256), (256, 384), (384, 256))
COMPARE_MAX_SIDE = 512
BENCH_SIZE = (512, 512)


def cover_crop(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize [H, W, 3] uint8 so it covers ``size`` = (h, w), then centre-crop to exactly that size."""
    h, w = size
    image = Image.fromarray(rgb)
    scale = max(h / image.height, w / image.width)
    resized = image.resize(
        (max(w, round(image.width * scale)), max(h, round(image.height * scale))), Image.Resampling.BICUBIC
    )
    top, left = (resized.height - h) // 2, (resized.width - w) // 2
    return np.asarray(resized.crop((left, top, left + w, top + h)))


class CalibrationImages(CalibrationDataReader):
    """Feeds each image once, cover-cropped to the calibration sizes in turn."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self._feeds = self._iterate(list(paths))

    @staticmethod
    def _iterate(paths: list[Path]) -> Iterator[dict[str, np.ndarray]]:
        for i, path in enumerate(paths):
            size = CALIBRATION_SIZES[i % len(CALIBRATION_SIZES)]
            yield contract_inputs(cover_crop(load_rgb(path), size) / 255.0)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def split_images(folder: Path, calibration: int, compare: int = 4) -> tuple[list[Path], list[Path]]:
    """``calibration`` images spread over ``folder``, and ``compare`` others held out to check the result."""
    images = list_images(folder)
    if not images:
        raise FileNotFoundError(f"no calibration images in {folder}")
    chosen = [images[i] for i in evenly_spaced(len(images), calibration)]
    rest = [p for p in images if p not in chosen] or images
    return chosen, [rest[i] for i in evenly_spaced(len(rest), compare)]


def _float_tail(model: onnx.ModelProto) -> list[str]:
    """Names of the nodes computing ``enhanced = residual * attention + image`` (kept in float)."""
    producers = {out: node for node in model.graph.node for out in node.output}
    add = producers[model.graph.output[0].name]
    muls = [producers[i] for i in add.input if i in producers and producers[i].op_type == "Mul"]
    return [add.name] + [mul.name for mul in muls]


def quantize_int8(
    fp32_path: Path,
    out_path: Path,
    *,
    calibration: Sequence[Path],
    quant_format: str,
    metadata: dict[str, str],
) -> None:
    """Write the statically quantised model of ``fp32_path`` to ``out_path`` with ``metadata``.

    calibration: low-light images whose activation ranges (min/max) set the quantisation scales.
    """
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        # Shape inference and graph fusions first, as ONNX Runtime recommends before static quantisation.
        # Its symbolic shape inference cannot follow the dynamic H and W through the bilinear Resize nodes;
        # ONNX's own shape inference is enough for the quantiser.
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        excluded = _float_tail(onnx.load(str(prepared)))
        log.info("calibrating on %d images; kept in float: %s", len(calibration), excluded)
        quantize_static(
            str(prepared),
            str(out_path),
            CalibrationImages(calibration),
            quant_format=QUANT_FORMATS[quant_format],
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
            calibrate_method=CalibrationMethod.MinMax,
        )
    set_metadata(out_path, metadata)


@dataclass(frozen=True)
class Int8Report:
    """int8 vs fp32: seconds per run on BENCH_SIZE, and output difference in 8-bit levels on real images."""

    fp32_seconds: float
    int8_seconds: float
    mean_levels: float
    max_levels: float
    images: int

    def __str__(self) -> str:
        return (
            f"{self.fp32_seconds / self.int8_seconds:.2f}x the speed of fp32 "
            f"({self.int8_seconds:.3f} s vs {self.fp32_seconds:.3f} s at {BENCH_SIZE[0]}x{BENCH_SIZE[1]}); "
            f"output vs fp32 on {self.images} images: mean {self.mean_levels:.2f}, "
            f"max {self.max_levels:.0f} levels of 255"
        )


def seconds_per_run(enhancer: OnnxEnhancer, feeds: dict[str, np.ndarray], runs: int = 3) -> float:
    """Median wall time of ``runs`` inferences after one warm-up run."""
    enhancer.session.run(None, feeds)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        enhancer.session.run(None, feeds)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def compare_int8(fp32_path: Path, int8_path: Path, *, images: Sequence[Path]) -> Int8Report:
    """Time both models on one BENCH_SIZE crop and compare their 8-bit outputs on ``images``.

    Images are shrunk to at most COMPARE_MAX_SIDE px so whole-image inference stays small.
    """
    fp32, int8 = OnnxEnhancer(path=fp32_path), OnnxEnhancer(path=int8_path)
    differences = []
    for path in images:
        image = Image.fromarray(load_rgb(path))
        image.thumbnail((COMPARE_MAX_SIDE, COMPARE_MAX_SIDE), Image.Resampling.BICUBIC)
        rgb = np.asarray(image)
        differences.append(np.abs(fp32(rgb).astype(np.int16) - int8(rgb).astype(np.int16)))
    feeds = contract_inputs(cover_crop(load_rgb(images[0]), BENCH_SIZE) / 255.0)
    return Int8Report(
        fp32_seconds=seconds_per_run(fp32, feeds),
        int8_seconds=seconds_per_run(int8, feeds),
        mean_levels=float(np.mean([d.mean() for d in differences])),
        max_levels=float(max(d.max() for d in differences)),
        images=len(images),
    )
