"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Qt tests run without a screen; set before any Qt import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# torch 2.13 marks its TorchScript ONNX exporter, which training.export uses (the exporter the golden and
# shipped models were made with), as deprecated on every call; that one warning is expected, not a bug here.
TORCH_ONNX_EXPORTER_DEPRECATION = (
    "ignore:The feature will be removed. Please remove usage of this function:DeprecationWarning"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A warning in any test is an error (an unclosed file, a deprecated call: each one a bug to fix, not
    noise to scroll past), but for the one torch warning above."""
    for item in items:
        item.add_marker(pytest.mark.filterwarnings("error", TORCH_ONNX_EXPORTER_DEPRECATION))


@pytest.fixture(scope="session")
def contract_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ONNX model that follows docs/MODEL_CONTRACT.md (see tests/model_factory.py)."""
    from tests.model_factory import write_contract_model

    return write_contract_model(tmp_path_factory.mktemp("models") / "test-enhancer.onnx")


class SmallDisk:
    """A real, nearly full file system: writes on it fail as on a full disk (short writes, then ENOSPC)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def free(self) -> int:
        import shutil

        return shutil.disk_usage(self.root).free

    def fill(self, *, leave: int) -> None:
        """Take all but about ``leave`` bytes (rounded down to the file system's 4 KB blocks)."""
        with open(self.root / "filler", "ab") as filler:
            filler.write(b"\0" * max(self.free() - leave, 0))


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 2 MB tmpfs mounted for this test (as the fault campaign did); skipped where it cannot be mounted."""
    import subprocess

    if getattr(os, "geteuid", lambda: -1)() != 0:
        pytest.skip("mounting a small tmpfs needs root; the full-disk cases run in CI as root")
    root = tmp_path / "disk"
    root.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(root)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield SmallDisk(root)
    finally:
        subprocess.run(["umount", "--lazy", str(root)], check=True)
