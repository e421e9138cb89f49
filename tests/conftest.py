"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Qt tests run without a screen; set before any Qt import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def contract_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ONNX model that follows docs/MODEL_CONTRACT.md (see tests/model_factory.py)."""
    from tests.model_factory import write_contract_model

    return write_contract_model(tmp_path_factory.mktemp("models") / "test-enhancer.onnx")
