"""The command line end to end, as a user runs it: a subprocess on real files, exit codes, summaries."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from enlighten_desktop.engine.imageio import read_image
from tests.engine.test_batch import save_photo

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "enlighten_desktop", *map(str, args)], cwd=REPO,
                          env=environment, capture_output=True, text=True, timeout=120)


@pytest.fixture
def shoot(tmp_path):
    root = tmp_path / "shoot"
    save_photo(root / "a.jpg", seed=1)
    save_photo(root / "b.png", seed=2)
    save_photo(root / "day2" / "c.png", seed=3)
    return root


def test_a_corrupt_photo_fails_alone_and_the_exit_status_says_so(shoot, tmp_path, contract_model_path):
    (shoot / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    run = cli("enhance", shoot, "--recursive", "-o", tmp_path / "out", "--tile", "32",
              "--model", contract_model_path)
    assert run.returncode == 1, run.stderr
    assert "Summary: 2 done, 0 skipped, 1 failed (on CPUExecutionProvider)" in run.stdout
    assert "failed: " in run.stdout and "b.png" in run.stdout
    assert "[3/3]" in run.stderr and "\r" not in run.stderr  # plain progress when not a terminal
    assert (tmp_path / "out" / "a_enlightened.jpg").is_file()
    assert (tmp_path / "out" / "day2" / "c_enlightened.png").is_file()
    assert not (tmp_path / "out" / ".enlighten-batch.json").exists()  # a finished batch leaves no state


def test_existing_results_are_skipped_and_replaced_only_when_asked(shoot, contract_model_path):
    first = cli("enhance", shoot, "--model", contract_model_path)
    assert first.returncode == 0 and "Summary: 2 done, 0 skipped, 0 failed" in first.stdout
    again = cli("enhance", shoot, "--model", contract_model_path)
    assert again.returncode == 0, again.stderr
    assert "Summary: 0 done, 2 skipped, 0 failed" in again.stdout and "already exists" in again.stdout
    forced = cli("enhance", shoot, "--model", contract_model_path, "--overwrite")
    assert "Summary: 2 done, 0 skipped, 0 failed" in forced.stdout


def test_format_and_bits_choose_the_output(shoot, tmp_path, contract_model_path):
    run = cli("enhance", shoot / "a.jpg", "-o", tmp_path / "out", "--format", "png", "--bits", "16",
              "--model", contract_model_path)
    assert run.returncode == 0, run.stderr
    written = read_image(tmp_path / "out" / "a_enlightened.png")
    assert written.metadata.bits == 16 and written.rgb.shape == (40, 48, 3)


def test_a_missing_gpu_runs_on_the_cpu_with_a_notice(shoot, tmp_path, contract_model_path):
    run = cli("enhance", shoot / "a.jpg", "-o", tmp_path / "out", "--provider", "cuda",
              "--model", contract_model_path)
    assert run.returncode == 0, run.stderr
    assert "Notice: CUDAExecutionProvider" in run.stderr and "CPU" in run.stderr
    assert "(on CPUExecutionProvider)" in run.stdout


def test_impossible_options_are_a_usage_error(shoot, contract_model_path):
    run = cli("enhance", shoot, "--format", "jpeg", "--bits", "16", "--model", contract_model_path)
    assert run.returncode == 2 and "16 bits" in run.stderr


def test_a_missing_bundled_model_is_explained(shoot, tmp_path):
    empty = {"ENLIGHTEN_RESOURCES": str(tmp_path / "no-resources")}
    run = cli("enhance", shoot, env=empty)
    assert run.returncode == 1
    assert "bundled model is not installed" in run.stderr and "--model" in run.stderr
    info = cli("info", env=empty)
    assert info.returncode == 1 and "Providers available: " in info.stdout and "not usable" in info.stdout


def test_info_reports_model_checksum_and_the_provider_that_runs(contract_model_path):
    import hashlib

    run = cli("info", "--model", contract_model_path, "--provider", "dml")
    assert run.returncode == 0, run.stderr
    assert "test-enhancer 0.0.1, fp32, contract 1" in run.stdout
    assert hashlib.sha256(contract_model_path.read_bytes()).hexdigest() in run.stdout
    assert "Running on: CPUExecutionProvider" in run.stdout and "DmlExecutionProvider" in run.stdout
    assert "exposure gate: none" in run.stdout


def test_info_reports_the_models_exposure_gate(tmp_path):
    from tests.model_factory import write_contract_model

    model = write_contract_model(tmp_path / "gated.onnx", metadata={"enlighten.exposure_gate": "0.25,0.45"})
    run = cli("info", "--model", model)
    assert run.returncode == 0, run.stderr
    assert "exposure gate: full attention up to mean luma 0.25, none from 0.45" in run.stdout


def test_bench_reports_speed_memory_and_tiled_agreement(contract_model_path):
    run = cli("bench", "--model", contract_model_path, "--size", "192x128", "--tile", "32", "--runs", "2")
    assert run.returncode == 0, run.stderr
    # It measures what enhance does by default: automatic shadow smoothing (none for this synthetic photo,
    # mean luma 0.13), photo colour and colour noise reduction, whose reach (40 px) is wider than this
    # model's tile margin (32 px). The margin becomes 48 px (a multiple of 16), a window 128 px: the image's
    # 128 rows need no split.
    assert ("192x128, shadow smoothing automatic (none for this photo), photo colour 100 %, colour noise "
            "reduction 100 % "
            "(6 tile(s) of 32) on CPUExecutionProvider") in run.stdout
    assert "ms/MP" in run.stdout and "peak RSS" in run.stdout and "n/a" not in run.stdout
    agree = cli("bench", "--model", contract_model_path, "--size", "192x128", "--tile", "32",
                "--compare-whole", "--colour-noise", "0", "--smooth-shadows", "0")
    # Photo colour works pixel by pixel: the tiles agree with it on (the default) as without.
    assert "192x128, photo colour 100 % tile 32 vs whole image" in agree.stdout, agree.stderr
    assert "max difference 0.000 levels" in agree.stdout
    # Shadow smoothing widens the windows by its reach, so tiles still agree with the whole image.
    smoothed = cli("bench", "--model", contract_model_path, "--size", "192x128", "--tile", "32",
                   "--compare-whole", "--smooth-shadows", "2", "--colour-noise", "0", "--photo-colour", "0")
    assert "192x128, shadow smoothing 2 tile 32 vs whole image" in smoothed.stdout, smoothed.stderr
    assert "max difference 0.000 levels" in smoothed.stdout
    # Colour noise reduction reads the model's output within the margin: as close as the model's own tiles.
    cleaned = cli("bench", "--model", contract_model_path, "--size", "192x128", "--tile", "32",
                  "--compare-whole", "--colour-noise", "100", "--smooth-shadows", "0", "--photo-colour", "0")
    assert "192x128, colour noise reduction 100 % tile 32 vs whole image" in cleaned.stdout, cleaned.stderr
    assert re.search(r"[01] levels after rounding to 8 bits", cleaned.stdout), cleaned.stdout


def test_options_and_sub_commands_go_to_the_cli_not_the_gui():
    run = cli("--help")
    assert run.returncode == 0 and "enhance" in run.stdout and "bench" in run.stdout


def test_the_command_lines_defaults_are_the_engines():
    from enlighten_desktop.cli import build_parser
    from enlighten_desktop.engine.outputs import OutputOptions

    enhance = build_parser().parse_args(["enhance", "photo.jpg"])
    given = OutputOptions()
    assert (enhance.tile, enhance.quality, enhance.template) == (None, given.quality, given.template)
    assert build_parser().parse_args(["edit", "photo.jpg"]).tile is None  # the engine's automatic tile
    assert build_parser().parse_args(["edit", "photo.jpg", "--tile", "auto"]).tile is None
    assert build_parser().parse_args(["enhance", "photo.jpg", "--tile", "0"]).tile == 0
    # The filters, too: automatic shadow smoothing, photo colour and colour noise reduction, as the app's
    # first start.
    from enlighten_desktop import arguments
    from enlighten_desktop.engine.filters import DEFAULT_FILTERS, Filters

    assert arguments.filters(enhance) == DEFAULT_FILTERS == Filters(auto_smoothing=True, photo_colour=1.0,
                                                                    colour_noise=1.0)
