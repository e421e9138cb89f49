"""scripts/checkpoint_from_onnx.py: an exported generator comes back as a checkpoint computing the same."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from tests.training.test_export import export_generator
from training.checkpoint import load_generator
from training.models.generator import AttentionUNet, default_attention

_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "checkpoint_from_onnx.py"


def _export(path: Path, norm: str) -> AttentionUNet:
    torch.manual_seed(0)
    generator = AttentionUNet(width=4, norm=norm).eval()
    with torch.no_grad():  # as after training: no two tensors alike (the export merges identical ones)
        for parameter in generator.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.01)
    export_generator(generator, path)
    return generator


def convert(model: Path, checkpoint: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(_SCRIPT), str(model), "-o", str(checkpoint), *options],
                          capture_output=True, text=True, check=False)


def test_the_generator_comes_back_with_its_weights_and_where_it_was_trained(tmp_path: Path) -> None:
    original = _export(tmp_path / "m.onnx", "none")
    run = convert(tmp_path / "m.onnx", tmp_path / "g.pt")
    assert run.returncode == 0, run.stderr
    rebuilt, info = load_generator(tmp_path / "g.pt")
    assert info["trained_on"] == "synthetic" and info["model"]["norm"] == "none" and info["step"] == 0
    for name, value in original.state_dict().items():
        assert torch.equal(rebuilt.state_dict()[name], value), name


def test_a_batchnorm_generator_comes_back_as_its_norm_free_equivalent(tmp_path: Path) -> None:
    original = _export(tmp_path / "bn.onnx", "batch")  # eval mode: the export folds BatchNorm into the convs
    assert convert(tmp_path / "bn.onnx", tmp_path / "g.pt").returncode == 0
    rebuilt, info = load_generator(tmp_path / "g.pt")
    x = torch.rand(1, 3, 48, 64) * 2 - 1
    attention = default_attention((x + 1) / 2)
    with torch.no_grad():
        assert (rebuilt(x, attention) - original(x, attention)).abs().max() < 1e-3
    assert info["model"]["norm"] == "none"


def test_the_generator_comes_back_widened_computing_the_same(tmp_path: Path) -> None:
    original = _export(tmp_path / "m.onnx", "none")
    run = convert(tmp_path / "m.onnx", tmp_path / "g.pt", "--width", "8")
    assert run.returncode == 0, run.stderr
    rebuilt, info = load_generator(tmp_path / "g.pt")
    assert rebuilt.width == 8 and info["model"]["width"] == 8
    x = torch.rand(1, 3, 48, 64) * 2 - 1
    attention = default_attention((x + 1) / 2)
    with torch.no_grad():
        assert (rebuilt(x, attention) - original(x, attention)).abs().max() < 1e-4


def test_a_graph_without_the_generators_parameters_is_refused(tmp_path: Path) -> None:
    from tests.model_factory import write_contract_model

    run = convert(write_contract_model(tmp_path / "other.onnx", metadata={"enlighten.width": "4"}),
                  tmp_path / "g.pt")
    assert run.returncode != 0 and "not an exported AttentionUNet" in run.stderr
    assert not (tmp_path / "g.pt").exists()
