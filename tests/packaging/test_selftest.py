"""``enlighten-desktop selftest`` from the source tree: it passes on a good install and fails, with the
reason, on a wrong model, a stale or damaged reference and a model whose checksum does not match."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from enlighten_desktop.cli import main
from enlighten_desktop.engine.imageio import read_image
from enlighten_desktop.selftest import (
    BLOCK,
    PROVIDER_MEAN_TOLERANCE,
    REFERENCE_TOLERANCE,
    THUMBNAIL_FILE,
    box_means,
    compare_providers,
    compare_reference,
    make_reference,
)
from tests.model_factory import write_contract_model


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, contract_model_path: Path) -> Path:
    return make_reference(model_path=contract_model_path, out_dir=tmp_path_factory.mktemp("selftest")).parent


def selftest(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["selftest", *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_passes_and_names_the_provider_that_ran(contract_model_path: Path, reference: Path) -> None:
    code, out, _ = selftest("--model", str(contract_model_path), "--reference", str(reference))
    assert code == 0, out
    assert "Provider that ran: CPUExecutionProvider" in out
    assert "[PASS] CPU vs reference" in out
    assert out.rstrip().endswith("Selftest passed.")


def test_another_model_fails_against_the_reference(tmp_path: Path, reference: Path) -> None:
    other = write_contract_model(tmp_path / "other.onnx", seed=1)
    code, out, _ = selftest("--model", str(other), "--reference", str(reference))
    assert code == 1
    assert "[FAIL] reference matches the model" in out
    assert "[FAIL] CPU vs reference" in out  # its output really differs, not only its checksum
    assert "Selftest FAILED." in out


def test_damaged_model_is_refused(tmp_path: Path, contract_model_path: Path, reference: Path) -> None:
    model = tmp_path / "enlightengan.onnx"
    model.write_bytes(contract_model_path.read_bytes())
    (tmp_path / "SHA256SUMS").write_text(f"{'0' * 64}  {model.name}\n", encoding="utf-8")
    code, _, err = selftest("--model", str(model), "--reference", str(reference))
    assert code == 1
    assert "damaged" in err


def test_missing_reference_is_an_error(tmp_path: Path, contract_model_path: Path) -> None:
    code, _, err = selftest("--model", str(contract_model_path), "--reference", str(tmp_path))
    assert code == 1
    assert "reference" in err and "missing" in err


def test_reference_tolerance_separates_rounding_from_real_change(reference: Path) -> None:
    expected = read_image(reference / THUMBNAIL_FILE).rgb
    h, w = expected.shape[:2]
    # A CPU result whose box means equal the reference, up to 16-bit storage rounding.
    cpu = np.repeat(np.repeat(expected, BLOCK, axis=0), BLOCK, axis=1)
    assert compare_reference(cpu, expected).passed
    nudged = cpu.copy()
    nudged[:BLOCK, :BLOCK] += 0.5 * REFERENCE_TOLERANCE / 255  # half the tolerance in one box
    assert compare_reference(nudged, expected).passed
    changed = cpu.copy()
    changed[:BLOCK, :BLOCK] += 2 * REFERENCE_TOLERANCE / 255  # twice the tolerance in one box of h*w
    assert not compare_reference(changed, expected).passed
    assert not compare_reference(cpu[: (h - 1) * BLOCK], expected).passed


def test_provider_comparison_admits_rounding_not_a_shift() -> None:
    rng = np.random.default_rng(0)
    cpu = rng.random((64, 96, 3), dtype=np.float32)
    rounded = cpu + rng.normal(0, 0.3 / 255, cpu.shape).astype(np.float32)  # float16-like noise
    assert compare_providers(rounded, cpu, name="GPU").passed
    shifted = cpu + 2 * PROVIDER_MEAN_TOLERANCE / 255
    assert not compare_providers(shifted, cpu, name="GPU").passed


def test_box_means_drop_the_remainder_and_average_each_box() -> None:
    rgb = np.zeros((2 * BLOCK + 3, BLOCK + 5, 3), np.float32)
    rgb[:BLOCK, :BLOCK] = 1.0
    rgb[BLOCK : 2 * BLOCK, :BLOCK, 1] = 0.5
    means = box_means(rgb)
    assert means.shape == (2, 1, 3)
    np.testing.assert_allclose(means[:, 0], [[1, 1, 1], [0, 0.5, 0]])

