"""Export: checkpoint -> ONNX with the contract's inputs, metadata and checksum; parity; the int8 variant."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from PIL import Image

from training import export
from training.checkpoint import load_generator, save_checkpoint
from training.config import ModelConfig, TrainConfig, to_dict
from training.enhancers import OnnxEnhancer
from training.models.generator import AttentionUNet, count_parameters

WIDTH = 4
BACKBONE = "efficientnet_lite0:blocks.10"


def he_generator() -> AttentionUNet:
    """A tiny generator whose residual is as large as a trained model's (std about 0.2).

    The paper's N(0, 0.02) init makes the output almost equal to the input, so parity and int8 checks would
    pass whatever the graph did; He-initialised weights give a residual that depends on the whole U-Net.
    """
    torch.manual_seed(0)
    generator = AttentionUNet(width=WIDTH, norm="batch")
    with torch.no_grad():
        for module in generator.modules():
            if isinstance(module, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(module.weight, a=0.2)
            if isinstance(module, torch.nn.BatchNorm2d):
                # Non-trivial running statistics: eval mode must use them, not batch statistics.
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 2.0)
    return generator


def export_generator(generator: AttentionUNet, path: Path) -> Path:
    """``generator`` exported to ``path`` with the contract's metadata, as ``training export`` does."""
    metadata = export.contract_metadata(
        precision="fp32", info={"backbone": BACKBONE, "trained_on": "synthetic"}, width=generator.width,
        params=count_parameters(generator), name="enlightengan", version="9.9", trained_on=None,
    )
    export.export_onnx(generator, path, metadata=metadata)
    return path


def dark_image(h: int, w: int, seed: int) -> np.ndarray:
    """A smooth dark [h, w, 3] uint8 image (a low-light stand-in: mean luminance about 0.15)."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0.02, 0.3, (4, 4, 3))
    image = Image.fromarray(np.round(coarse * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(image)


def write_dark_photos(folder: Path, count: int) -> list[Path]:
    """``count`` dark PNGs of varied sizes in ``folder`` (calibration or evaluation inputs)."""
    for i in range(count):
        Image.fromarray(dark_image(112 + 8 * i, 144, seed=i)).save(folder / f"low_{i}.png")
    return sorted(folder.iterdir())


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One export through the command's entry point (fp32 and int8), shared by the tests below."""
    root = tmp_path_factory.mktemp("export")
    generator = he_generator()
    checkpoint = root / "step_000010.pt"
    info = {"backbone": BACKBONE, "params": count_parameters(generator), "trained_on": "synthetic test data"}
    save_checkpoint(
        {
            "step": 10,
            "config": to_dict(TrainConfig(model=ModelConfig(width=WIDTH, norm="batch"))),
            "generator": generator.state_dict(),
            "generator_ema": None,
            "info": info,
        },
        checkpoint,
    )
    calib = root / "calib"
    calib.mkdir()
    for i in range(5):
        Image.fromarray(dark_image(120 + 8 * i, 160, seed=i)).save(calib / f"low_{i}.png")
    output = root / "model.onnx"
    argv = [str(checkpoint), "-o", str(output), "--int8", str(calib), "--calib-images", "3"]
    argv += ["--model-version", "9.9"]
    assert export.main(argv) == 0
    return {"checkpoint": checkpoint, "fp32": output, "int8": root / "model-int8.onnx"}


def _torch_and_onnx(checkpoint: Path, model: Path, n: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    generator, _ = load_generator(checkpoint)
    image, attention = export.sample_inputs(n, h, w, seed=7)
    with torch.no_grad():
        expected = generator(image, attention).numpy()
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    (actual,) = session.run(["enhanced"], {"image": image.numpy(), "attention": attention.numpy()})
    return expected, actual


@pytest.mark.parametrize(("n", "h", "w"), [(1, 48, 240), (3, 176, 64)])
def test_onnx_matches_pytorch_at_sizes_other_than_the_tracing_size(
    exported: dict[str, Path], n: int, h: int, w: int
) -> None:
    expected, actual = _torch_and_onnx(exported["checkpoint"], exported["fp32"], n, h, w)
    assert actual.shape == (n, 3, h, w)
    # Not a no-op model: the residual moves the output well away from the input.
    assert np.abs(expected - export.sample_inputs(n, h, w, seed=7)[0].numpy()).mean() > 0.02
    np.testing.assert_allclose(actual, expected, atol=1e-4)


def test_contract_inputs_outputs_and_metadata(exported: dict[str, Path]) -> None:
    for precision in ("fp32", "int8"):
        session = ort.InferenceSession(str(exported[precision]), providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == ["image", "attention"]
        assert [o.name for o in session.get_outputs()] == ["enhanced"]
        assert [d for d in session.get_inputs()[0].shape if isinstance(d, int)] == [3]
        meta = session.get_modelmeta().custom_metadata_map
        assert meta == {
            **{k: v for k, v in meta.items() if not k.startswith("enlighten.")},
            "enlighten.contract": "1",
            "enlighten.model_name": "enlightengan",
            "enlighten.model_version": "9.9",
            "enlighten.precision": precision,
            "enlighten.input_range": "-1,1",
            "enlighten.attention": "1-luma601",
            "enlighten.size_multiple": "16",
            "enlighten.receptive_margin": "128",
            "enlighten.backbone": BACKBONE,
            "enlighten.width": str(WIDTH),
            "enlighten.params": str(count_parameters(AttentionUNet(width=WIDTH))),
            "enlighten.trained_on": "synthetic test data",
            "enlighten.exposure_gate": "0.25,0.45",  # the default gate, in fp32 and carried to int8
        }


def test_sha256_file_matches_each_export(exported: dict[str, Path]) -> None:
    for precision in ("fp32", "int8"):
        model = exported[precision]
        digest, name = model.with_name(model.name + ".sha256").read_text().split()
        assert name == model.name
        assert digest == hashlib.sha256(model.read_bytes()).hexdigest()


def test_int8_output_is_close_to_fp32_on_a_smooth_image(exported: dict[str, Path]) -> None:
    rgb = dark_image(144, 208, seed=11)
    fp32 = OnnxEnhancer(path=exported["fp32"])(rgb).astype(int)
    int8 = OnnxEnhancer(path=exported["int8"])(rgb).astype(int)
    assert np.abs(fp32 - rgb).mean() > 5  # the model changes the image, so closeness means something
    difference = np.abs(fp32 - int8)
    # Activations get 256 steps over their calibrated range and the error compounds through ~20 layers: on
    # this smooth image inside the calibrated range it measured about 0.9 levels on average and 7 at the 99th
    # percentile. Random He-initialised weights amplify errors more than trained ones, hence the margin; a
    # broken quantisation (wrong scales, an unquantised input range) is off by tens of levels.
    assert difference.mean() < 2.5
    assert np.percentile(difference, 99) < 16


def test_int8_adds_the_input_image_in_float(exported: dict[str, Path]) -> None:
    # enhanced = R * A + I: requantising I there would cost up to a level everywhere, even where R = 0.
    graph = onnx.load(str(exported["int8"])).graph
    producer = next(node for node in graph.node if "enhanced" in node.output)
    assert producer.op_type == "Add"
    assert "image" in producer.input


def test_parity_check_fails_loudly_when_the_graph_differs(exported: dict[str, Path]) -> None:
    generator, _ = load_generator(exported["checkpoint"])
    with torch.no_grad():
        generator.to_residual.bias.add_(0.05)
    with pytest.raises(export.ParityError, match="differs from the PyTorch generator"):
        export.check_parity(generator, exported["fp32"])


def test_exporting_a_batchnorm_moving_average_warns_and_no_ema_does_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    generator = he_generator()
    checkpoint = tmp_path / "step_000010.pt"
    save_checkpoint(
        {
            "step": 10,
            "config": to_dict(TrainConfig(model=ModelConfig(width=WIDTH, norm="batch"))),
            "generator": generator.state_dict(),
            "generator_ema": generator.state_dict(),
            "info": {"backbone": BACKBONE, "params": count_parameters(generator), "trained_on": "synthetic"},
        },
        checkpoint,
    )
    with caplog.at_level(logging.WARNING, logger="training"):
        assert export.main([str(checkpoint), "-o", str(tmp_path / "ema.onnx")]) == 0
    assert any("--no-ema" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="training"):
        assert export.main([str(checkpoint), "-o", str(tmp_path / "raw.onnx"), "--no-ema"]) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
