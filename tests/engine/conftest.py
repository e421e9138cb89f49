"""Fixtures for the engine tests: the contract test model, loaded once, on the CPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from enlighten_desktop.engine.model import EnhancerModel


@pytest.fixture(scope="session")
def cpu_model(contract_model_path: Path) -> EnhancerModel:
    return EnhancerModel.load(contract_model_path, provider="cpu")
