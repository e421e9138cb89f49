"""Channel equalisation before int8 quantisation: the float network is unchanged, every equalised channel
peaks alike, BatchNorm blocks it, and ``python -m training quantize`` uses it unless ``--equalize 0``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from tests.training.test_export import WIDTH, dark_image, export_generator, write_dark_photos
from training import quantize
from training.enhancers import contract_inputs
from training.models.generator import AttentionUNet
from training.quantize import CalibrationImages, equalize_channels


def _export(tmp_path_factory: pytest.TempPathFactory, norm: str) -> Path:
    """A tiny He-initialised generator as contract ONNX, channels differing in range as a trained one's."""
    torch.manual_seed(0)
    generator = AttentionUNet(width=WIDTH, norm=norm)
    with torch.no_grad():
        for module in generator.modules():
            if isinstance(module, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(module.weight, a=0.2)
                module.weight.mul_(torch.empty(module.out_channels, 1, 1, 1).uniform_(-1.0, 1.0).exp())
                module.bias.uniform_(-0.1, 0.1)
        generator.to_residual.weight.mul_(0.05)  # a residual of a trained model's size (std about 0.2)
    return export_generator(generator, tmp_path_factory.mktemp(norm) / "model.onnx")


@pytest.fixture(scope="module")
def plain_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Without norm layers, as the shipped model."""
    return _export(tmp_path_factory, "none")


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_dark_photos(tmp_path_factory.mktemp("photos"), 6)


def _run(model: onnx.ModelProto, feeds: dict[str, np.ndarray], outputs: list[str]) -> list[np.ndarray]:
    probed = onnx.ModelProto()
    probed.CopyFrom(model)
    probed.graph.output.extend(onnx.helper.make_empty_tensor_value_info(name) for name in outputs)
    session = ort.InferenceSession(probed.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(["enhanced", *outputs], feeds)


def _conv_outputs(model: onnx.ModelProto) -> list[str]:
    return [node.output[0] for node in model.graph.node if node.op_type == "Conv"]


def test_equalising_keeps_the_float_output_and_makes_every_rescaled_channel_peak_at_one(
    plain_model: Path, photos: list[Path]
) -> None:
    original, equalised = onnx.load(str(plain_model)), onnx.load(str(plain_model))
    convs = _conv_outputs(original)
    assert equalize_channels(equalised, photos, 1.0) == len(convs) - 1  # the last one writes the residual
    peaks: list[np.ndarray] = []
    reader = CalibrationImages(photos)
    while (feeds := reader.get_next()) is not None:
        before, after = _run(original, feeds, []), _run(equalised, feeds, convs[:-1])
        np.testing.assert_allclose(after[0], before[0], atol=1e-4)
        batch = [np.abs(value).max(axis=(0, 2, 3)) for value in after[1:]]
        peaks = [np.maximum(p, b) for p, b in zip(peaks, batch, strict=True)] if peaks else batch
    np.testing.assert_allclose(np.concatenate(peaks), 1.0, rtol=1e-4)
    held_out = contract_inputs(dark_image(96, 160, seed=42) / 255.0)  # not a calibration image: same output
    np.testing.assert_allclose(_run(equalised, held_out, [])[0], _run(original, held_out, [])[0], atol=1e-4)


def test_a_batchnorm_after_the_activation_blocks_equalising(
    tmp_path_factory: pytest.TempPathFactory, photos: list[Path]
) -> None:
    # BatchNorm adds a shift after LeakyRelu: y = a * x + b is not positively homogeneous, so scaling the
    # channel before it would change the output. Only the convolutions without a norm after them qualify.
    model = onnx.load(str(_export(tmp_path_factory, "batch")))
    norms = {node.input[0] for node in model.graph.node if node.op_type == "BatchNormalization"}
    free = [node for node in model.graph.node if node.op_type == "Conv"
            and not any(node.output[0] in n.input and n.output[0] in norms for n in model.graph.node)]
    assert 0 < equalize_channels(model, photos, 1.0) == len(free) - 1


def test_quantize_command_equalises_by_default_and_not_with_strength_0(
    plain_model: Path, photos: list[Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    argv = [str(plain_model), "--calib", str(photos[0].parent), "--calib-images", "4"]
    caplog.set_level("INFO", logger="training.quantize")
    assert quantize.main([*argv, "-o", str(tmp_path / "plain.onnx"), "--equalize", "0"]) == 0
    assert "equalised the channels" not in caplog.text
    assert quantize.main([*argv, "-o", str(tmp_path / "equalised.onnx")]) == 0
    assert "equalised the channels of 22 convolutions (strength 0.9)" in caplog.text
    plain, equalised = (onnx.load(str(tmp_path / name)) for name in ("plain.onnx", "equalised.onnx"))
    weights = [{t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
               for m in (plain, equalised)]
    scales = [name for name in weights[0] if name.endswith("weight_scale")]
    assert scales and any(not np.allclose(weights[0][n], weights[1][n]) for n in scales)
    feeds = contract_inputs(dark_image(128, 160, seed=7) / 255.0)
    reference = _run(onnx.load(str(plain_model)), feeds, [])[0]
    for model in (plain, equalised):  # both still compute the generator, to int8 precision
        assert np.abs(_run(model, feeds, [])[0] - reference).max() < 0.2
