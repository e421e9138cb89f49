"""scripts/scale_agreement.py: which frames it takes, the sizes it works at, its score and verdict, run end to
end through the app's engine with a model whose result is known."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.shift_model import shift_model

_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "scale_agreement.py"
_spec = importlib.util.spec_from_file_location("scale_agreement", _SCRIPT)
scale_agreement = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scale_agreement)


def _save(path: Path, width: int, height: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 120, (4, 5, 3), dtype=np.uint8)
    Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC).save(path)


def test_takes_each_scenes_largest_frames_above_the_size_floor(tmp_path: Path) -> None:
    for name, size in (("7_0_", (300, 200)), ("7_1_", (300, 200)), ("7_2_", (150, 100)), ("8_0_", (80, 60))):
        _save(tmp_path / f"{name}.png", *size)
    frames = scale_agreement.large_frames(tmp_path, min_megapixels=0.01)
    assert [p.name for p in frames] == ["7_0_.png", "7_1_.png"]


def test_working_size_keeps_the_aspect_ratio_at_about_a_megapixel() -> None:
    height, width = scale_agreement.working_size(2160, 3840, 1.0)
    assert (height, width) == (750, 1333)
    assert height * width == pytest.approx(1e6, rel=0.01)


def test_verdict_fails_when_any_frame_is_below_30_db(tmp_path: Path) -> None:
    scores = {"a.png": "41.00", "b.png": "29.99", "c.png": "35"}
    rows = [{"file": name, "PSNR": score} for name, score in scores.items()]
    markdown = scale_agreement.write_tables(tmp_path, rows)
    assert "median PSNR 35.00 dB, worst 29.99 dB (b.png); 2/3 frames at or above 30 dB" in markdown
    assert markdown.rstrip().endswith("FAIL")
    assert (tmp_path / "scale_agreement.csv").read_text().splitlines()[0] == "file,PSNR"


def test_a_pointwise_model_agrees_across_scales_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    _save(photos / "1_0_.png", 400, 250)
    model = shift_model(tmp_path / "brighten.onnx", 40)
    # The model alone: the engine's filters are not pointwise.
    argv = [str(photos), "--model", str(model), "--out", str(out), "--megapixels", "0.03", "--tile", "64",
            "--smooth-shadows", "0", "--colour-noise", "0"]
    monkeypatch.setattr(sys, "argv", ["scale_agreement.py", *argv, "--min-megapixels", "0.05"])
    scale_agreement.main()
    # A per-pixel curve commutes with averaging except where it clips and in 8-bit rounding.
    (row,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| 1_0_.png")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:3] == ["400x250", "219x137"]
    assert float(cells[3]) > 45
    assert (out / "1_0__AB.jpg").is_file() and (out / "scale_agreement_contact.jpg").is_file()
    assert "PASS" in (out / "scale_agreement.md").read_text()
