"""``python -m training evaluate --no-harm DIR``: well-exposed photos through a model, each compared with
itself, judged against issue 13's bars; and the clipped-highlight columns of the per-set table.

The models are real ONNX graphs with the contract's interface whose effect is known exactly (identity; a shift
by +51 levels), so the expected numbers follow from the test images alone.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.shift_model import shift_model
from training import evaluate, no_harm
from training.metrics import CLIP_LEVEL, clipped_percent

SHIFT = 51
"""Levels the brightening model adds: 0.2 of the range, i.e. 0.4 on the contract's [-1, 1] scale."""
H, W = 100, 200
"""No multiple of 16: the enhancer's padding and cropping are part of what is measured."""
BRIGHT_SHARES = (10, 25, 50)
"""Percent of each test photo covered by a bright patch that the shift pushes to CLIP_LEVEL or above."""


def _photo(seed: int, bright_percent: int) -> np.ndarray:
    """A textured well-exposed [H, W, 3] uint8 photo, values 40..150, with the top ``bright_percent`` of its
    rows holding a red channel of 200 (clipped after a +51 shift, 204 is the highest that still fits)."""
    rng = np.random.default_rng(seed)
    rgb = rng.integers(40, 151, (H, W, 3), dtype=np.uint8)
    rgb[: H * bright_percent // 100, :, 0] = 200
    return rgb


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "ref"
    folder.mkdir()
    for seed, share in enumerate(BRIGHT_SHARES):
        Image.fromarray(_photo(seed, share)).save(folder / f"s{seed:03d}.png")
    return folder


@pytest.fixture
def identity_model(tmp_path: Path) -> Path:
    return shift_model(tmp_path / "identity.onnx", 0)


@pytest.fixture
def brightening_model(tmp_path: Path) -> Path:
    return shift_model(tmp_path / "brighten.onnx", SHIFT)


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as f:
        return {row.get("method") or row["set"]: row for row in csv.DictReader(f)}


def _model_row(photos: Path, model: Path, out: Path, *options: str) -> dict[str, str]:
    """Run the no-harm report of ``model`` on ``photos``; its row of no_harm.csv."""
    assert evaluate.main(["--no-harm", str(photos), "--model", str(model), "--out", str(out), *options]) == 0
    return _rows(out / "no_harm.csv")["model"]


def _verdicts(row: dict[str, str]) -> list[str]:
    """PASS/FAIL per bar, then overall."""
    return [row[f"bar {bar.statistic}"] for bar in no_harm.BARS] + [row["no harm"]]


def test_identity_model_changes_nothing_and_passes(
    photos: Path, identity_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    row = _model_row(photos, identity_model, out)
    assert (row["images"], row["luma change"], row["clip grew"]) == ("3", "+0.000", "0/3")
    # Unchanged photos have infinite PSNR: capped, so the mean stays a number.
    assert row["PSNR mean"] == row["PSNR worst"] == f"{no_harm.PSNR_CAP_DB:.2f}"
    assert row["clip growth median"] == row["clip growth max"] == "0.00"
    assert _verdicts(row) == ["PASS"] * 4
    printed = capsys.readouterr().out
    assert "| model | 3 |" in printed
    assert "model: PSNR mean 100.000 dB (bar >= 20.000 dB): PASS" in printed
    assert not (out / "summary.csv").exists()


def test_brightening_model_fails_every_bar_with_the_right_numbers(
    photos: Path, brightening_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    row = _model_row(photos, brightening_model, out, "--sheet-rows", "2")
    # Every pixel gains 51 levels and none reaches 255: luma +0.2, PSNR 20 log10(255 / 51) everywhere.
    assert float(row["luma change"]) == pytest.approx(SHIFT / 255, abs=5e-4)
    assert float(row["luma out"]) - float(row["luma in"]) == pytest.approx(0.2, abs=1e-3)
    expected_psnr = 20 * np.log10(255 / SHIFT)
    assert float(row["PSNR mean"]) == pytest.approx(expected_psnr, abs=5e-3)
    assert float(row["PSNR worst"]) == pytest.approx(expected_psnr, abs=5e-3)
    # The bright rows (red 200 -> 251) are the only new clipped highlights: 10, 25 and 50 percent.
    assert float(row["clip growth median"]) == pytest.approx(25.0)
    assert float(row["clip growth max"]) == pytest.approx(50.0)
    assert row["clip grew"] == "3/3"
    assert _verdicts(row) == ["FAIL"] * 4
    printed = capsys.readouterr().out
    assert "model: luma change +0.200 (bar <= +0.050): FAIL" in printed
    assert "model: clip growth median 25.000 pt (bar <= 1.000 pt): FAIL" in printed
    assert "FAIL" in (out / "no_harm.md").read_text()

    with (out / "no_harm_per_image.csv").open(newline="") as table:
        per_image = list(csv.DictReader(table))
    assert [float(r["clip_growth"]) for r in per_image] == pytest.approx(BRIGHT_SHARES)
    with Image.open(out / "no_harm_contact.jpg") as sheet:
        width, height = sheet.size
    # Two rows of input | model.
    assert 2 * 256 < width < 3 * 256 and 2 * 256 < height < 3 * 256


def test_baseline_and_model_each_get_their_row(photos: Path, identity_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    argv = ["--no-harm", str(photos), "--model", str(identity_model), "--baseline", "gamma"]
    assert evaluate.main([*argv, "--out", str(out)]) == 0
    rows = _rows(out / "no_harm.csv")
    assert list(rows) == ["gamma", "model"]
    # The gamma curve aims every photo at luma 0.4: these photos (about 0.4 already) move a little.
    assert float(rows["gamma"]["PSNR mean"]) < no_harm.PSNR_CAP_DB


def test_measure_counts_only_new_clipping_and_caps_psnr() -> None:
    original = np.full((4, 5, 3), 100, np.uint8)
    original[0] = 255  # 5 of 20 pixels clipped already
    output = original.copy()
    output[1, :2, 2] = CLIP_LEVEL  # 2 more: 10 points
    harm = no_harm.measure("a.png", "m", original, output)
    assert harm.clipped_in == pytest.approx(25.0)
    assert harm.clip_growth == pytest.approx(10.0)
    assert harm.luma_change == pytest.approx(2 * 0.114 * 150 / 255 / 20)
    assert harm.psnr < no_harm.PSNR_CAP_DB
    assert no_harm.measure("a.png", "m", original, original).psnr == no_harm.PSNR_CAP_DB
    assert clipped_percent(np.full((2, 2, 3), CLIP_LEVEL - 1, np.uint8)) == 0.0


@pytest.mark.parametrize(
    ("statistic", "value", "passes"),
    [
        ("luma change", 0.05, True),
        ("luma change", 0.0501, False),
        ("luma change", -0.2, True),
        ("PSNR mean", 20.0, True),
        ("PSNR mean", 19.99, False),
        ("clip growth median", 1.0, True),
        ("clip growth median", 1.01, False),
    ],
)
def test_bars_are_issue_13s(statistic: str, value: float, passes: bool) -> None:
    (bar,) = [b for b in no_harm.BARS if b.statistic == statistic]
    assert bar.passes(value) is passes


def test_no_harm_needs_something_to_run(photos: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        evaluate.main(["--no-harm", str(photos), "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit):
        evaluate.main(["--model", "m.onnx", "--out", str(tmp_path / "out")])


def test_set_table_reports_clipped_highlights_and_how_often_they_grew(
    photos: Path, brightening_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    argv = [str(photos), "--no-harm", str(photos), "--model", str(brightening_model), "--out", str(out)]
    assert evaluate.main(argv) == 0
    row = _rows(out / "summary.csv")["ref"]
    assert float(row["clip% input"]) == pytest.approx(0.0)
    assert float(row["clip% model"]) == pytest.approx(np.mean(BRIGHT_SHARES), abs=0.01)
    assert row["clip grew model"] == "100.0"
    # Both reports from one run, side by side in --out.
    assert (out / "no_harm.csv").is_file() and (out / "ref_contact.jpg").is_file()
