"""Training's side of docs/MODEL_CONTRACT.md against the golden model (tests/golden), the same files the
engine's tests check: `training evaluate` runs a model as the app does, and exports what the app accepts.
The training package and the app share this file format, never code: nothing here imports the app."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from training.enhancers import OnnxEnhancer
from training.export import contract_metadata

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN / "contract-golden.npz") as arrays:
        return dict(arrays)


@pytest.mark.parametrize("name", ["small", "photo"])
def test_evaluate_runs_the_golden_model_as_the_contract_says(golden, name):
    enhancer = OnnxEnhancer(path=GOLDEN / "contract-golden.onnx", threads=1)
    result = enhancer.enhance01(golden[f"{name}_input"].astype(np.float32) / 255)
    # The 5 x 7 photo is smaller than its pads: only the contract's reflect rule gives this result.
    np.testing.assert_allclose(result, golden[f"{name}_output"], atol=2e-6)


def test_exports_declare_the_golden_models_contract_fields():
    model = onnx.load(str(GOLDEN / "contract-golden.onnx"))
    golden = {entry.key: entry.value for entry in model.metadata_props}
    exported = contract_metadata(precision="fp32", info={"backbone": "vgg16:relu5_1", "trained_on": "x"},
                                 width=32, params=1, name="n", version="v", trained_on=None)
    shared = ("enlighten.contract", "enlighten.input_range", "enlighten.attention", "enlighten.size_multiple")
    assert {key: exported[key] for key in shared} == {key: golden[key] for key in shared}
