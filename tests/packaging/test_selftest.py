"""``enlighten-desktop selftest`` from the source tree: it passes on a good install and fails, with the
reason, on a wrong model, a stale or damaged reference and a model whose checksum does not match."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from enlighten_desktop.cli import main
from enlighten_desktop.engine.imageio import read_image
from enlighten_desktop.selftest import (
    BLOCK,
    THUMBNAIL_FILE,
    Tolerances,
    box_means,
    compare_providers,
    compare_reference,
)
from scripts.make_selftest_reference import (
    MIN_TOLERANCES,
    NOISE_MARGIN,
    UNMEASURED_PROVIDER,
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
    tolerance = 1.0
    expected = read_image(reference / THUMBNAIL_FILE).rgb
    h = expected.shape[0]
    # A CPU result whose box means equal the reference, up to 16-bit storage rounding.
    cpu = np.repeat(np.repeat(expected, BLOCK, axis=0), BLOCK, axis=1)
    assert compare_reference(cpu, expected, tolerance=tolerance).passed
    nudged = cpu.copy()
    nudged[:BLOCK, :BLOCK] += 0.5 * tolerance / 255  # half the tolerance in one box
    assert compare_reference(nudged, expected, tolerance=tolerance).passed
    changed = cpu.copy()
    changed[:BLOCK, :BLOCK] += 2 * tolerance / 255  # twice the tolerance, in a single box
    assert not compare_reference(changed, expected, tolerance=tolerance).passed
    assert not compare_reference(cpu[: (h - 1) * BLOCK], expected, tolerance=tolerance).passed


def test_provider_comparison_admits_rounding_not_a_shift() -> None:
    tolerances = Tolerances(reference_max=1.0, provider_p999=2.0, provider_mean=0.5)
    rng = np.random.default_rng(0)
    cpu = rng.random((64, 96, 3), dtype=np.float32)
    rounded = cpu + rng.normal(0, 0.3 / 255, cpu.shape).astype(np.float32)  # float16-like noise
    assert compare_providers(rounded, cpu, name="GPU", tolerances=tolerances).passed
    shifted = cpu + 2 * tolerances.provider_mean / 255
    assert not compare_providers(shifted, cpu, name="GPU", tolerances=tolerances).passed


def test_tolerances_come_from_measurements(tmp_path: Path, contract_model_path: Path) -> None:
    """Provider tolerances follow the int8 stand-in's measured deviation (floors where it is smaller);
    without one they are the unmeasured defaults; the reference tolerance follows the noise response."""
    stand_in = write_contract_model(tmp_path / "other.onnx", seed=1)  # far from the model: large deviation
    with_int8 = json.loads(make_reference(model_path=contract_model_path, out_dir=tmp_path / "a",
                                          int8_path=stand_in).read_text())
    measured, tolerances = with_int8["measured"], with_int8["tolerances"]
    assert measured["int8_p999"] > MIN_TOLERANCES.provider_p999
    assert tolerances["provider_p999"] == pytest.approx(measured["int8_p999"], abs=0.01)
    assert tolerances["provider_mean"] == pytest.approx(
        max(MIN_TOLERANCES.provider_mean, measured["int8_mean"]), abs=0.01)
    assert tolerances["reference_max"] == pytest.approx(
        max(MIN_TOLERANCES.reference_max, NOISE_MARGIN * measured["noise_box_max"]), abs=0.01)
    without = json.loads(make_reference(model_path=contract_model_path, out_dir=tmp_path / "b").read_text())
    assert "int8_p999" not in without["measured"]
    assert without["tolerances"]["provider_p999"] == UNMEASURED_PROVIDER.provider_p999


def test_box_means_drop_the_remainder_and_average_each_box() -> None:
    rgb = np.zeros((2 * BLOCK + 3, BLOCK + 5, 3), np.float32)
    rgb[:BLOCK, :BLOCK] = 1.0
    rgb[BLOCK : 2 * BLOCK, :BLOCK, 1] = 0.5
    means = box_means(rgb)
    assert means.shape == (2, 1, 3)
    np.testing.assert_allclose(means[:, 0], [[1, 1, 1], [0, 0.5, 0]])

