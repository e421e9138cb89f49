"""Static int8 quantisation of an exported generator, calibrated on real low-light images, and its check.

Activations are uint8 and weights int8 per output channel (this CPU has AVX-512 VNNI, so the full 8-bit range
is safe; no ``reduce_range``). The final ``R * A + I`` stays in float: quantising ``enhanced`` would put the
output on a grid of about one 8-bit level (its range is wider than [-1, 1]) and the input image, added there
at full precision, would lose exactly the detail the residual design keeps.

Issue 16's options, measured on the shipped width-16 model against fp32 over the 154 real photos of
shared/data (``scripts/bench_table.py --only int8``; PSNR median / worst photo, largest difference):
- every convolution quantised, 24 ``train_low`` images, min-max ranges: 34.7 / 29.8 dB, 46 levels;
- first and last convolutions in fp32: 35.1 / 32.1 dB, 39 levels;
- the same on 96 ``train_low`` images plus the 16 darkest and 16 brightest of ``train_normal`` and
  ``train_normal_sice``: 35.2 / 26.8 dB, 47 levels (the bright frames widen the ranges the darkest photos then
  use coarsely), so no extra frames are taken;
- 99.99th-percentile ranges (``--percentile 99.99``) with the fp32 ends: 37.5 / 31.2 dB, 63 levels (better on
  most photos, clipped on the worst);
- empirical bias correction (Nagel et al. 2019: each quantised convolution's mean error per channel on the
  24 calibration crops, against fp32, taken out of its int32 bias; one pass over the uncorrected int8
  network): 34.5 / 31.4 dB, 44 levels. Worse: the worst photos' shift is their own, not the calibration
  set's mean, so no correction is made;
- channel equalisation (``--equalize``, equalize_channels) before quantising, fp32 ends: strength 0.9, the
  default, 41.1 / 35.8 dB, 28 levels. On a 768x1024 crop of dev_real/132 every activation's SNR against
  fp32 rises by 3 to 9 dB (about 5 at most levels) and the output's error falls from 6.1 to 3.1 levels RMS.
  The strength matters, and not smoothly: on a 32-photo screening set (the 12 worst photos of the fp32-ends
  model, the 8 worst with percentile ranges and with bias correction, 14 spread over all; the fp32-ends model
  scores 34.2 / 32.1 dB there) strengths 0.6, 0.75, 0.85, 0.9, 0.95 and 1 give 31.8 / 28.4, 37.5 / 34.6,
  35.7 / 33.7, 37.8 / 36.6, 38.6 / 35.9 and 38.9 / 31.6 dB; 0.75 on 96 images 34.8 / 31.8 dB; 0.9 with
  every convolution quantised 36.9 / 34.4 dB.
Before equalisation the worst photos' error was mostly smooth (about 6 of 7.3 levels RMS survive a 17 px box
blur): a tone shift built up over the decoder levels, where an activation's one 8-bit range, set by its widest
channel (2 to 5 times the median channel's), rounds the narrow channels of a dark photo coarsely (the
activations' SNR against fp32 was 6 to 11 dB in the deepest levels of dev_real/132). Keeping the full- or
half-resolution decoder level in fp32 gained about 3 dB on the worst photo but costs 18% of the model's
arithmetic; the ends or the deep levels in fp32 changed nothing.

The model retrained from He's initialisation (run s36, docs/TRAINING.md) broke that recipe: with the first and
last convolutions in fp32 its int8 file scored 36.4 / 29.8 dB on 20 real photos through the engine, and on a
screen of its 12 worst frames (whole images of at most 1024 px) 31.8 / 28.7 dB; no equalisation strength (0.75
to 1), 99.999th-percentile ranges or 64 calibration images got the worst of them past 31.1 dB. Keeping any one
level's convolutions in fp32 changed nothing, because the activations between them were still rounded (each
LeakyRelu, MaxPool and gate is an 8-bit op of its own). Rounding one activation at a time to 8 bits in PyTorch
(that image's own range, dev_real 450_2 and dev_eval s245_1909 at 768 px; a one-off probe, not kept) found the
cause: the first convolution's output alone costs 29.4 and 33.1 dB, the first level's output 40.1 and 36.5 dB,
every deeper activation 42 dB or more (most over 50). The first level's features carry a dark photo's whole
signal on a small part of their range, and everything after them magnifies it. So --float-ends keeps the whole
first level in float, its activations and the pool and gate that read its output included (_float_ends): 37.8
/ 36.3 dB on the same screen, and on all 154 real photos through the engine (``scripts/bench_table.py --only
int8``) 39.4 / 35.8 dB, 2.93x the speed of fp32.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
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
from training.onnx_files import set_metadata, write_sha256

log = logging.getLogger(__name__)

QUANT_FORMATS = {"qoperator": QuantFormat.QOperator, "qdq": QuantFormat.QDQ}
# (H, W) crops for calibration: several shapes, multiples of 16, so ranges are not tuned to one aspect.
CALIBRATION_SIZES = ((256, 256), (256, 384), (384, 256))
COMPARE_MAX_SIDE = 512
# Convolutions of the full-resolution first level kept in float with --float-ends (module docstring).
FLOAT_LEVEL_CONVOLUTIONS = 2
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
    """Feeds each image once, cover-cropped to the calibration sizes in turn.

    ``set_range`` lets the quantiser calibrate one image per pass (ONNX Runtime's ``CalibStridedMinMax``,
    which every calibration method honours): a pass keeps every activation of its images, about 120 MB per
    256 px crop at width 16, and the histogram methods cannot stack the activations of crops of different
    shapes.
    """

    def __init__(self, paths: Sequence[Path]) -> None:
        self._paths = list(paths)
        self.set_range(0, len(self._paths))

    def __len__(self) -> int:
        return len(self._paths)

    def set_range(self, start_index: int, end_index: int) -> None:
        self._feeds = self._iterate(start_index, end_index)

    def _iterate(self, start: int, end: int) -> Iterator[dict[str, np.ndarray]]:
        for i in range(start, end):
            size = CALIBRATION_SIZES[i % len(CALIBRATION_SIZES)]
            yield contract_inputs(cover_crop(load_rgb(self._paths[i]), size) / 255.0)

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


def _readers(model: onnx.ModelProto) -> dict[str, list[onnx.NodeProto]]:
    """The nodes that read each tensor, by tensor name."""
    readers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)
    return readers


def _float_ends(model: onnx.ModelProto) -> list[str]:
    """Names of the nodes kept in float at the network's ends: the node that joins ``image`` and ``attention``
    for the first convolution (quantising that join would round the input anyway), the whole first level (its
    FLOAT_LEVEL_CONVOLUTIONS convolutions, the activations between and after them, and the nodes reading the
    level's output: the max-pool down to level 2 and the skip's gate), and the last convolution."""
    nodes = model.graph.node
    producers = {out: node for node in nodes for out in node.output}
    consumers = _readers(model)
    convs = [node for node in nodes if node.op_type == "Conv"]
    head = [producers[i].name for i in convs[0].input[:1] if i in producers]
    level, node, seen = [convs[0]], convs[0], 1
    while len(readers := consumers.get(node.output[0], [])) == 1 and (
        readers[0].op_type != "Conv" or seen < FLOAT_LEVEL_CONVOLUTIONS
    ):
        node = readers[0]
        seen += node.op_type == "Conv"
        level.append(node)
    if len(readers) > 1:
        level.extend(readers)
    return head + [node.name for node in level] + [convs[-1].name]


# Ops that commute with scaling a channel by s > 0 and never mix channels: LeakyRelu and MaxPool are
# positively homogeneous per channel, Resize (over H and W) is linear per channel.
CHANNELWISE_OPS = frozenset({"LeakyRelu", "Relu", "MaxPool", "Resize"})


def _channels(model: onnx.ModelProto) -> dict[str, int]:
    """Channel count (dimension 1) of every tensor whose count ONNX shape inference knows."""
    inferred = onnx.shape_inference.infer_shapes(model)
    infos = [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]
    return {info.name: dims[1].dim_value for info in infos
            if len(dims := info.type.tensor_type.shape.dim) > 1 and dims[1].dim_value > 0}


def _channel_consumers(
    model: onnx.ModelProto, tensor: str, channels: dict[str, int]
) -> list[tuple[onnx.NodeProto, int]] | None:
    """The convolutions that read channel c of ``tensor`` as their input channel ``offset + c`` through
    channel-wise ops only (CHANNELWISE_OPS, a Mul by a one-channel map, Concat), as (convolution, offset);
    None when any path leads anywhere else (a graph output, an Add, a grouped convolution, a weight), where
    scaling the channel would change the result."""
    consumers = _readers(model)
    outputs = {out.name for out in model.graph.output}
    found, todo = [], [(tensor, 0)]
    while todo:
        name, offset = todo.pop()
        if name in outputs:
            return None
        for node in consumers.get(name, []):
            others = [i for i in node.input[1:] if i]
            if node.op_type == "Conv" and node.input[0] == name and name not in others:
                if any(a.name == "group" and a.i != 1 for a in node.attribute):
                    return None
                found.append((node, offset))
            elif node.op_type in CHANNELWISE_OPS and node.input[0] == name:
                todo.append((node.output[0], offset))
            elif node.op_type == "Mul" and len(node.input) == 2 and node.input[0] != node.input[1] and all(
                channels.get(i) == 1 for i in node.input if i != name
            ):
                todo.append((node.output[0], offset))
            elif (node.op_type == "Concat" and onnx.helper.get_node_attr_value(node, "axis") == 1
                  and list(node.input).count(name) == 1):
                before = list(node.input)[: list(node.input).index(name)]
                if any(i not in channels for i in before):
                    return None
                todo.append((node.output[0], offset + sum(channels[i] for i in before)))
            else:
                return None
    return found


def _channel_peaks(
    model: onnx.ModelProto, tensors: Sequence[str], images: Sequence[Path]
) -> list[np.ndarray]:
    """Largest |value| of each channel of ``tensors`` over ``images`` (fp32, the calibration crops)."""
    probed = onnx.ModelProto()
    probed.CopyFrom(model)
    del probed.graph.output[:]
    probed.graph.output.extend(onnx.helper.make_empty_tensor_value_info(name) for name in tensors)
    session = ort.InferenceSession(probed.SerializeToString(), providers=["CPUExecutionProvider"])
    peaks = [np.zeros(0)] * len(tensors)
    reader = CalibrationImages(images)
    while (feeds := reader.get_next()) is not None:
        for i, value in enumerate(session.run(list(tensors), feeds)):
            peak = np.abs(value).max(axis=(0, 2, 3))
            peaks[i] = np.maximum(peaks[i], peak) if peaks[i].size else peak
    return peaks


def equalize_channels(model: onnx.ModelProto, images: Sequence[Path], strength: float) -> int:
    """Rescale the output channels of every convolution whose channels reach only other convolutions, so
    the channels of each activation span similar ranges; returns how many convolutions were rescaled.

    An 8-bit activation has one range for all its channels, set by its widest channel (2 to 5 times the
    median channel's width in the shipped model), so the narrow channels are rounded coarsely. Dividing
    channel c of a convolution (weights and bias) by s_c and multiplying the input channel c of the
    convolutions reading it by s_c leaves the float network unchanged, as every op between them is
    channel-wise and positively homogeneous (LeakyRelu, MaxPool, Resize, the Mul by the one-channel attention
    map, Concat). With the channel's calibration peak |x_c| and the largest weight w_c its readers apply,
    s_c = |x_c| ** strength / w_c ** (1 - strength), SmoothQuant's migration: strength 1 makes every channel
    peak at 1; smaller strengths leave part of the spread in the activation and move less of it into the
    readers' weights, whose int8 range per output channel a grown input column would coarsen for the other
    columns. 0.9 measured best on the real photos (module docstring).
    """
    channels = _channels(model)
    weights = {t.name: t for t in model.graph.initializer}
    plans = []
    for conv in (node for node in model.graph.node if node.op_type == "Conv"):
        readers = _channel_consumers(model, conv.output[0], channels)
        if readers and len(conv.input) > 2 and all(name in weights for name in conv.input[1:3]):
            plans.append((conv, readers))
    peaks = _channel_peaks(model, [conv.output[0] for conv, _ in plans], images)
    arrays = {name: onnx.numpy_helper.to_array(t).astype(np.float64) for name, t in weights.items()}
    scales = []
    for (_, readers), peak in zip(plans, peaks, strict=True):
        columns = [np.abs(arrays[r.input[1]][:, o:o + len(peak)]).max(axis=(0, 2, 3)) for r, o in readers]
        reach = np.max(columns, axis=0)
        usable = (peak > 0) & (reach > 0)  # a channel that is always 0 (or never read) keeps its scale
        scales.append(np.where(usable, np.where(usable, peak, 1.0) ** strength
                               / np.where(usable, reach, 1.0) ** (1 - strength), 1.0))
    for (conv, readers), scale in zip(plans, scales, strict=True):
        arrays[conv.input[1]] /= scale[:, None, None, None]
        arrays[conv.input[2]] /= scale
        for reader, offset in readers:
            arrays[reader.input[1]][:, offset:offset + len(scale)] *= scale[None, :, None, None]
    changed = {n for conv, readers in plans for n in (*conv.input[1:3], *(r.input[1] for r, _ in readers))}
    for name in changed:
        dtype = onnx.helper.tensor_dtype_to_np_dtype(weights[name].data_type)
        weights[name].CopyFrom(onnx.numpy_helper.from_array(arrays[name].astype(dtype), name))
    return len(plans)


@dataclass(frozen=True)
class Int8Options:
    """How quantize_int8 quantises.

    quant_format: "qoperator" (QLinearConv kernels) or "qdq". float_ends: keep the first level and the last
    convolution in fp32 (_float_ends: they work at full resolution with few channels, so they cost little
    time, and their rounding reaches the output unattenuated). percentile: each activation's range
    covers this percentile of its calibration values (None: min to max), so rare extremes do not coarsen the
    steps every photo is rounded to. equalize: rescale the channels first (equalize_channels) with this
    strength (None: as exported).
    """

    quant_format: str = "qoperator"
    float_ends: bool = True
    percentile: float | None = None
    equalize: float | None = 0.9


def quantize_int8(
    fp32_path: Path,
    out_path: Path,
    *,
    calibration: Sequence[Path],
    metadata: dict[str, str],
    options: Int8Options = Int8Options(),
) -> None:
    """Write the statically quantised model of ``fp32_path`` to ``out_path`` with ``metadata``.

    calibration: images whose activation ranges set the quantisation scales. Weights are int8 per output
    channel. The generator's BatchNorm follows its activation, so the pre-processing cannot fold it into the
    convolution before it (and folding it into the next one would be wrong at the zero-padded borders): a
    BatchNorm generator keeps it in float between a dequantise and a quantise. The shipped model has none.
    """
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        # Shape inference and graph fusions first, as ONNX Runtime recommends before static quantisation.
        # Its symbolic shape inference cannot follow the dynamic H and W through the bilinear Resize nodes;
        # ONNX's own shape inference is enough for the quantiser.
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        graph = onnx.load(str(prepared))
        if options.equalize is not None:
            rescaled = equalize_channels(graph, calibration, options.equalize)
            log.info("equalised the channels of %d convolutions (strength %s)", rescaled, options.equalize)
            onnx.save(graph, str(prepared))
        excluded = _float_tail(graph) + (_float_ends(graph) if options.float_ends else [])
        log.info("calibrating on %d images; kept in float: %s", len(calibration), excluded)
        method = CalibrationMethod.MinMax if options.percentile is None else CalibrationMethod.Percentile
        quantize_static(
            str(prepared),
            str(out_path),
            CalibrationImages(calibration),
            quant_format=QUANT_FORMATS[options.quant_format],
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
            calibrate_method=method,
            extra_options={"CalibStridedMinMax": 1, "CalibPercentile": options.percentile},
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


def add_int8_arguments(parser: argparse.ArgumentParser) -> None:
    """The quantisation options shared by ``export --int8`` and ``quantize``."""
    add = parser.add_argument
    # QOperator measured faster here: 2.07x fp32's speed against QDQ's 1.74x (paper width, 512x512, 2 cores).
    add("--int8-format", choices=tuple(QUANT_FORMATS), default="qoperator", help="int8 graph form")
    add("--calib-images", type=int, default=24, help="calibration images taken from CALIB_DIR")
    add("--float-ends", action=argparse.BooleanOptionalAction, default=True,
        help="keep the first level (two convolutions and their activations) and the last convolution in fp32")
    add("--percentile", type=float, default=0.0,
        help="percentile of each activation's calibration values its range covers (0: min to max)")
    add("--equalize", type=float, default=0.9, metavar="STRENGTH",
        help="first rescale the convolutions' channels so each activation's channels span similar ranges; "
             "STRENGTH in (0, 1] is the share of the channels' spread moved into the next weights "
             "(0: as exported)")


def write_int8(fp32_path: Path, out_path: Path, calib_dir: Path, args: argparse.Namespace,
               metadata: dict[str, str]) -> str:
    """Quantise ``fp32_path`` to ``out_path`` as ``args`` (add_int8_arguments) say, write its ``.sha256`` and
    return a line comparing it with fp32 on images of ``calib_dir`` held out of the calibration."""
    calibration, held_out = split_images(calib_dir, args.calib_images)
    options = Int8Options(quant_format=args.int8_format, float_ends=args.float_ends,
                          percentile=args.percentile or None, equalize=args.equalize or None)
    quantize_int8(fp32_path, out_path, calibration=calibration, metadata=metadata, options=options)
    write_sha256(out_path)
    report = compare_int8(fp32_path, out_path, images=held_out)
    return f"{out_path}: int8 ({args.int8_format}), {len(calibration)} calibration images, {report}"


def main(argv: list[str]) -> int:
    """``python -m training quantize``: an int8 model from any exported fp32 one; prints the check's line."""
    parser = argparse.ArgumentParser(
        prog="python -m training quantize",
        description="Quantise an exported fp32 model (docs/MODEL_CONTRACT.md) to int8, calibrated on photos.",
    )
    parser.add_argument("model", type=Path, help="fp32 .onnx written by `python -m training export`")
    parser.add_argument("-o", "--output", type=Path, required=True, help="int8 .onnx to write")
    parser.add_argument("--calib", type=Path, required=True, metavar="CALIB_DIR",
                        help="low-light photos to calibrate on (e.g. train_low; never the evaluation sets)")
    add_int8_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    metadata = {p.key: p.value for p in onnx.load(str(args.model)).metadata_props}
    if metadata.get("enlighten.precision") != "fp32":
        parser.error(f"{args.model} is not an fp32 contract model (enlighten.precision = "
                     f"{metadata.get('enlighten.precision')!r})")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    line = write_int8(args.model, args.output, args.calib, args, {**metadata, "enlighten.precision": "int8"})
    sys.stdout.write(line + "\n")
    return 0
