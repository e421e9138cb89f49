"""scripts/dark_side.py: its detail measures, and a run end to end through the app's engine with the
contract test model on real files (detail table, crop sheet, scored set with references)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.model_factory import write_contract_model

_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "dark_side.py"
_spec = importlib.util.spec_from_file_location("dark_side", _SCRIPT)
dark_side = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dark_side)


def test_chroma_detail_sees_colour_speckle_that_luma_detail_does_not() -> None:
    rng = np.random.default_rng(0)
    grey = np.full((64, 64, 3), 40, np.uint8)
    assert dark_side.detail(grey) == (0.0, 0.0)
    # Red and blue traded against each other at equal luma: colour speckle only.
    swing = rng.choice([-1, 1], (64, 64)) * 10
    speckled = grey.astype(np.int16)
    speckled[..., 0] += (swing * 0.114 / 0.299).round().astype(np.int16)
    speckled[..., 2] -= swing.astype(np.int16)
    chroma, luma = dark_side.detail(speckled.astype(np.uint8))
    assert chroma > 3.0
    assert luma < 0.5


def test_a_coloured_veil_over_the_blacks_is_measured_on_the_input_s_black_pixels_only(tmp_path: Path) -> None:
    frame = np.full((80, 80, 3), 200, np.uint8)
    frame[:, :40] = 3  # the left half is black, the right half bright
    Image.fromarray(frame).save(tmp_path / "half.png")

    def olive_veil(rgb: np.ndarray) -> np.ndarray:
        return np.clip(rgb.astype(np.int16) + np.array([40, 30, 0]), 0, 255).astype(np.uint8)

    rows, _ = dark_side.detail_table([tmp_path / "half.png"], {"olive": olive_veil})
    by_method = {row["method"]: row for row in rows}
    assert float(by_method["input"]["near-black luma (levels)"]) == pytest.approx(3.0, abs=0.05)
    assert float(by_method["input"]["near-black cast (levels)"]) == 0.0
    # Only the black half counts: its veil, not the bright half's clipped values.
    assert float(by_method["olive"]["near-black luma (levels)"]) == pytest.approx(3 + 40 * 0.299 + 30 * 0.587,
                                                                                  abs=0.05)
    assert float(by_method["olive"]["near-black cast (levels)"]) == pytest.approx(40.0)
    assert by_method["olive"]["near-black R, G, B (levels)"] == "43.0, 33.0, 3.0"


def test_a_run_writes_the_tables_and_the_crops_of_every_method(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    real, low, ref = tmp_path / "real", tmp_path / "low", tmp_path / "ref"
    for folder in (real, low, ref):
        folder.mkdir()
    for scene in ("3", "5"):
        dark = rng.integers(0, 30, (24, 32, 3), dtype=np.uint8)
        Image.fromarray(dark).resize((320, 240), Image.Resampling.BICUBIC).save(real / f"{scene}_0_.png")
    Image.fromarray(rng.integers(0, 20, (200, 240, 3), dtype=np.uint8)).save(low / "s1_1.png")
    Image.fromarray(rng.integers(60, 200, (200, 240, 3), dtype=np.uint8)).save(ref / "s1.png")
    model = write_contract_model(tmp_path / "toy.onnx")
    out = tmp_path / "out"
    status = dark_side.main([str(model), "--smoothing", "0", "2", "--folder", str(real), "--min-megapixels",
                             "0.05", "--sheet-scenes", "1", "--scored", str(low), "--ref", str(ref),
                             "--also", str(low / "s1_1.png"), "--out", str(out)])
    assert status == 0
    report = (out / "dark_side.md").read_text()
    detail, scored = report.split("full size")
    for method in ("| input |", "| toy |", "| toy shadow smoothing 2 |"):  # a row each in the detail table
        assert detail.count(method) == 1
    with Image.open(out / "dark_side_crops.jpg") as sheet:
        assert sheet.width > 3 * dark_side.SHEET_CROP  # input and two methods side by side
        assert sheet.height > 2 * dark_side.SHEET_CROP  # the darkest scene's row and the --also image's
    assert "s1_1.png)" in report  # the --also image comes last
    # The scored set, as training evaluate tables it: one row, a column per metric and method.
    header, _, row = [line for line in scored.splitlines() if line.startswith("|")]
    values = dict(zip(header.split("|"), row.split("|"), strict=True))
    for method in ("toy", "toy shadow smoothing 2", "reference"):
        assert float(values[f" NIQE {method} "]) > 0
    assert float(values[" PSNR toy "]) > 0 and float(values[" PSNR toy shadow smoothing 2 "]) > 0
    assert (out / "scored_contact.jpg").is_file()
