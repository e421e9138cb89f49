"""int8 quantisation: which nodes stay in float, calibration over many passes and by percentile, and
``python -m training quantize`` on an exported fp32 model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from tests.training.test_export import dark_image, export_generator, he_generator, write_dark_photos
from training import quantize
from training.quantize import Int8Options, quantize_int8

INT8_METADATA = {"enlighten.precision": "int8"}


@pytest.fixture(scope="module")
def fp32_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny exported BatchNorm generator with the contract's metadata."""
    return export_generator(he_generator(), tmp_path_factory.mktemp("fp32") / "model.onnx")


@pytest.fixture(scope="module")
def dark_photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_dark_photos(tmp_path_factory.mktemp("dark"), 8)


def _quantize(fp32: Path, out: Path, calibration: list[Path], **options: object) -> onnx.GraphProto:
    quantize_int8(fp32, out, calibration=calibration, metadata=INT8_METADATA, options=Int8Options(**options))
    return onnx.load(str(out)).graph


def _convolutions(graph: onnx.GraphProto) -> list[str]:
    return [node.op_type for node in graph.node if node.op_type in ("Conv", "QLinearConv")]


def test_float_ends_keep_the_input_the_first_level_and_the_last_convolution_in_float(
    fp32_model: Path, dark_photos: list[Path], tmp_path: Path
) -> None:
    graph = _quantize(fp32_model, tmp_path / "ends.onnx", dark_photos, float_ends=True)
    convs = _convolutions(graph)
    assert convs == ["Conv"] * 2 + ["QLinearConv"] * (len(convs) - 3) + ["Conv"]
    producers = {out: node for node in graph.node for out in node.output}
    first, second = [node for node in graph.node if node.op_type == "Conv"][:2]
    joined = producers[first.input[0]]  # the input image is not rounded to 8 bits before the first layer
    assert joined.op_type == "Concat" and list(joined.input) == ["image", "attention"]
    assert producers[second.input[0]].op_type != "DequantizeLinear"  # the first level stays in float
    after, node = [], second
    while len(readers := [n for n in graph.node if node.output[0] in n.input]) == 1:
        node = readers[0]
        after.append(node.op_type)
    assert after and not any(op.startswith(("QLinear", "Quantize")) for op in after)
    assert sorted(n.op_type for n in readers) == ["MaxPool", "Mul"]  # rounded after the pool and the gate

    graph = _quantize(fp32_model, tmp_path / "all.onnx", dark_photos, float_ends=False)
    assert set(_convolutions(graph)) == {"QLinearConv"}


def _scales(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    return {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer if t.name.endswith("_scale")}


def _bright_photo(path: Path) -> Path:
    brightened = dark_image(128, 128, seed=99).astype(int) * 3 + 60
    Image.fromarray(np.clip(brightened, 0, 255).astype(np.uint8)).save(path)
    return path


def test_every_calibration_pass_counts(fp32_model: Path, dark_photos: list[Path], tmp_path: Path) -> None:
    bright = _bright_photo(tmp_path / "bright.png")
    # One image per pass, the bright one first: the ranges of all passes must be merged (ONNX Runtime's
    # CalibMaxIntermediateOutputs, by contrast, drops the passes before the last), so every activation's
    # min-max range covers at least the bright image's own. Not equalised: the channels' scales would then
    # depend on the calibration images too, and the ranges of the two models would not compare.
    plain = {"percentile": None, "equalize": None}
    alone = _scales(_quantize(fp32_model, tmp_path / "alone.onnx", [bright], **plain))
    merged = _scales(_quantize(fp32_model, tmp_path / "merged.onnx", [bright, *dark_photos], **plain))
    assert merged.keys() == alone.keys()
    assert all(np.all(merged[name] >= alone[name] * (1 - 1e-6)) for name in alone)
    assert any(np.any(merged[name] > alone[name] * 1.01) for name in alone)  # and the dark ones count too


def test_percentile_ranges_leave_out_rare_extremes(
    fp32_model: Path, dark_photos: list[Path], tmp_path: Path
) -> None:
    calibration = [*dark_photos, _bright_photo(tmp_path / "bright.png")]
    full = _scales(_quantize(fp32_model, tmp_path / "minmax.onnx", calibration, percentile=None))
    clipped = _scales(_quantize(fp32_model, tmp_path / "percentile.onnx", calibration, percentile=99.0))
    # Activation scales only (weights are not calibrated): a range that leaves out the top and bottom 1 % of
    # the values is narrower, so its steps are finer.
    names = [name for name in full if full[name].ndim == 0 and "weight" not in name]
    assert names and all(clipped[name] <= full[name] for name in names)
    assert sum(clipped[name] < 0.9 * full[name] for name in names) > len(names) // 2


def test_quantize_command_writes_an_int8_model_with_the_fp32_models_metadata(
    fp32_model: Path, dark_photos: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "models" / "model-int8.onnx"
    argv = [str(fp32_model), "-o", str(out), "--calib", str(dark_photos[0].parent), "--calib-images", "3"]
    assert quantize.main(argv) == 0
    assert "3 calibration images" in capsys.readouterr().out
    metadata = {p.key: p.value for p in onnx.load(str(out)).metadata_props if p.key.startswith("enlighten.")}
    fp32_metadata = {p.key: p.value for p in onnx.load(str(fp32_model)).metadata_props}
    assert metadata == {**fp32_metadata, "enlighten.precision": "int8"}
    assert out.with_name(out.name + ".sha256").read_text().split()[1] == out.name


def test_quantize_command_refuses_a_model_that_is_not_fp32(
    fp32_model: Path, dark_photos: list[Path], tmp_path: Path
) -> None:
    int8 = tmp_path / "int8.onnx"
    _quantize(fp32_model, int8, dark_photos)
    with pytest.raises(SystemExit) as exit_info:
        quantize.main([str(int8), "-o", str(tmp_path / "again.onnx"), "--calib", str(dark_photos[0].parent)])
    assert exit_info.value.code == 2
