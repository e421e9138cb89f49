"""The engine against the golden model of docs/MODEL_CONTRACT.md (tests/golden): the same file and the same
expected results are checked by the training tests, so the two sides of the contract cannot drift apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.pipeline import enhance, run_to_end

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


@pytest.fixture(scope="module")
def golden_model() -> EnhancerModel:
    return EnhancerModel.load(GOLDEN / "contract-golden.onnx", provider="cpu")


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN / "contract-golden.npz") as arrays:
        return dict(arrays)


def test_the_golden_model_passes_the_engines_contract_check(golden_model):
    contract = golden_model.contract
    assert (contract.input_range, contract.attention, contract.size_multiple) == ("-1,1", "1-luma601", 16)


@pytest.mark.parametrize("name", ["small", "photo"])
@pytest.mark.parametrize("tile", [0, 16])
def test_the_engine_gives_the_contracts_result_whole_and_tiled(golden_model, golden, name, tile):
    rgb = golden[f"{name}_input"].astype(np.float32) / 255
    result = run_to_end(enhance(golden_model, rgb, tile=tile)).enhanced
    # float32 rounding only: edge or symmetric padding moves pixels by 2e-3 to 4e-3 (measured).
    np.testing.assert_allclose(result, golden[f"{name}_output"], atol=2e-6)
