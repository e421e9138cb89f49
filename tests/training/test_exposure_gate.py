"""The exposure gate on the training side: the evaluation runs a model as the engine does (the gate's gain on
the attention, from the whole photo's mean luma), exports declare it, and ``python -m training gate`` sets or
removes it on a file without re-exporting. The worked values are the contract's (docs/MODEL_CONTRACT.md).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from tests.shift_model import shift_model
from training import evaluate
from training.__main__ import main as training_main
from training.enhancers import OnnxEnhancer, exposure_gain, parse_gate
from training.export import DEFAULT_EXPOSURE_GATE, contract_metadata, gate_option

LIFT = 60
"""Levels the attention-driven test model adds to a black pixel (attention 1)."""


def flat(mean: float, size: tuple[int, int] = (40, 60)) -> np.ndarray:
    """A flat grey [H, W, 3] float image whose luma is exactly ``mean``."""
    return np.full((*size, 3), mean, np.float64)


@pytest.mark.parametrize(("mean", "gain"), [(0.20, 1.0), (0.30, 0.84375), (0.35, 0.5), (0.40, 0.15625),
                                           (0.45, 0.0), (0.50, 0.0)])
def test_gain_follows_the_contracts_worked_values(mean: float, gain: float) -> None:
    assert exposure_gain(flat(mean), (0.25, 0.45)) == pytest.approx(gain, abs=1e-9)
    assert exposure_gain(flat(mean), None) == 1.0


@pytest.mark.parametrize("text", ["0.45,0.25", "0.3", "a,b", "0.1,1.2"])
def test_malformed_gates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_gate(text)
    with pytest.raises(argparse.ArgumentTypeError):
        gate_option(text)
    assert gate_option("none") is None and gate_option(" 0.25, 0.45 ") == "0.25,0.45"


def test_exports_declare_the_default_gate_unless_told_otherwise() -> None:
    fields = dict(precision="fp32", info={"backbone": "b", "trained_on": "t"}, width=16, params=1, name="n",
                  version="v", trained_on=None)
    assert contract_metadata(**fields)["enlighten.exposure_gate"] == DEFAULT_EXPOSURE_GATE == "0.25,0.45"
    assert "enlighten.exposure_gate" not in contract_metadata(**fields, exposure_gate=None)


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """Three well-exposed photos (mean luma 0.5 to 0.6) with texture."""
    folder = tmp_path / "ref"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(3):
        rgb = rng.integers(90 + 10 * index, 200 + 10 * index, (48, 64, 3), dtype=np.uint8)
        Image.fromarray(rgb).save(folder / f"s{index:03d}.png")
    return folder


def _no_harm_row(photos: Path, model: Path, out: Path) -> dict[str, str]:
    assert evaluate.main(["--no-harm", str(photos), "--model", str(model), "--out", str(out)]) == 0
    with (out / "no_harm.csv").open(newline="") as table:
        return next(csv.DictReader(table))


def test_no_harm_of_the_same_graph_with_and_without_the_gate(photos: Path, tmp_path: Path) -> None:
    plain = shift_model(tmp_path / "plain.onnx", LIFT, by_attention=True)
    gated = shift_model(tmp_path / "gated.onnx", LIFT, by_attention=True,
                        metadata={"enlighten.exposure_gate": "0.25,0.45"})
    assert _no_harm_row(photos, plain, tmp_path / "plain")["no harm"] == "FAIL"
    row = _no_harm_row(photos, gated, tmp_path / "gated")
    assert (row["luma change"], row["no harm"]) == ("+0.000", "PASS")
    # A dark photo gets the full attention either way: the same output from both files.
    dark = (np.random.default_rng(1).random((32, 48, 3)) * 60).astype(np.uint8)
    np.testing.assert_array_equal(OnnxEnhancer(path=gated)(dark), OnnxEnhancer(path=plain)(dark))
    assert OnnxEnhancer(path=gated)(dark).mean() > dark.mean() + 20


def _gate_of(path: Path) -> str | None:
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}.get("enlighten.exposure_gate")


def test_the_gate_command_sets_and_removes_it_and_rewrites_the_checksums(tmp_path: Path) -> None:
    model = shift_model(tmp_path / "m.onnx", LIFT, by_attention=True)
    listing = tmp_path / "SHA256SUMS"
    listing.write_text(f"{'0' * 64}  m.onnx\n{'1' * 64}  other.onnx\n")
    assert training_main(["gate", str(model), "--exposure-gate", "0.2,0.5"]) == 0
    assert _gate_of(model) == "0.2,0.5"
    assert OnnxEnhancer(path=model).gate == (0.2, 0.5)
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    assert listing.read_text() == f"{digest}  m.onnx\n{'1' * 64}  other.onnx\n"
    assert training_main(["gate", str(model), "--exposure-gate", "none"]) == 0
    assert _gate_of(model) is None and OnnxEnhancer(path=model).gate is None
    with pytest.raises(SystemExit):
        training_main(["gate", str(tmp_path / "missing.onnx")])
