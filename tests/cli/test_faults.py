"""The fault and bad-input cases of issue 14, played as a user plays them: the real command in a subprocess,
on real files, on a real nearly-full file system (a 2 MB tmpfs, mounted when the tests run as root) or under a
file size limit (the kernel cuts the write short). After each: originals byte for byte, no partial output and
no temporary file, a plain reason, and the rest of the batch done."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enlighten_desktop.engine.imageio import read_image
from tests.cli.test_cli import cli
from tests.cli.test_edit import edit
from tests.faults import sha256, temporaries

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file systems, modes and limits")


def noisy_jpeg(path: Path, *, seed: int = 0, size: tuple[int, int] = (96, 64), quality: int = 70) -> Path:
    """A dark, grainy night photo at a modest JPEG quality: its enhanced copy at quality 95 is larger."""
    rng = np.random.default_rng(seed)
    pixels = np.clip(rng.normal(40, 25, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, quality=quality)
    return path


def test_edit_of_a_jpeg_cut_short_by_the_kernel_fails_and_keeps_the_original(tmp_path, contract_model_path):
    photo = noisy_jpeg(tmp_path / "photo.jpg", size=(320, 240))
    before = sha256(photo)
    # The save may take only half the photo's size: the kernel's write stops short there (SIGXFSZ is ignored
    # by Python), which Pillow's JPEG encoder did not notice: a truncated file was reported as saved.
    run = edit(
        photo, "--apply", "--tile", "64", "--model", contract_model_path, file_limit=photo.stat().st_size // 2
    )
    assert run.returncode == 1, run.stdout
    assert "Cannot save photo.jpg" in run.stderr and "too large" in run.stderr and "Saved" not in run.stdout
    assert sha256(photo) == before and temporaries(tmp_path) == []


def test_edit_on_a_nearly_full_disk_keeps_the_original(small_disk, contract_model_path):
    photo = noisy_jpeg(small_disk.root / "photo.jpg", size=(320, 240))
    before = sha256(photo)
    # Room for a copy of the photo but not for its enhanced, quality-95 version: the write itself fails.
    small_disk.fill(leave=photo.stat().st_size + 8192)
    run = edit(photo, "--apply", "--tile", "64", "--model", contract_model_path)
    assert run.returncode == 1, run.stdout
    assert run.stderr.strip().splitlines()[-1] == (
        f"Error: Cannot save photo.jpg in {small_disk.root}: the disk is full."
    )
    assert sha256(photo) == before and temporaries(small_disk.root) == []
    # With less room than a copy of the photo, the edit is refused before the model runs.
    small_disk.fill(leave=0)
    run = edit(photo, "--apply", "--model", contract_model_path)
    assert run.returncode == 1 and "Not enough room on the disk" in run.stderr and "tile" not in run.stderr
    assert sha256(photo) == before


def test_a_batch_onto_a_disk_that_fills_fails_those_items_and_goes_on(
    small_disk, tmp_path, contract_model_path
):
    photos = [noisy_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=i, size=(320, 240)) for i in range(4)]
    before = {p: sha256(p) for p in photos}
    out = small_disk.root / "out"
    # Room for the sources' size (the pre-flight estimate for JPEG to JPEG), not for the larger results.
    small_disk.fill(leave=sum(p.stat().st_size for p in photos) + 16384)
    run = cli("enhance", tmp_path / "in", "-o", out, "--tile", "64", "--model", contract_model_path)
    assert run.returncode == 1
    failed = [line for line in run.stdout.splitlines() if line.startswith("  failed: ")]
    done = sorted(out.glob("*_enlightened.jpg"))
    assert failed and done and len(failed) + len(done) == 4, run.stdout
    assert all(line.endswith(f"in {out}: the disk is full.") for line in failed)
    assert all(read_image(path).rgb.shape == (240, 320, 3) for path in done)  # every result decodes
    assert temporaries(out) == [] and {p: sha256(p) for p in photos} == before


def test_a_full_or_read_only_output_folder_is_refused_before_the_model_runs(small_disk, tmp_path):
    photo = noisy_jpeg(tmp_path / "in" / "p.jpg")
    missing_model = tmp_path / "no-model.onnx"  # reached only after the checks
    small_disk.fill(leave=0)
    full = cli("enhance", photo, "-o", small_disk.root / "out", "--model", missing_model)
    assert full.returncode == 1 and "Traceback" not in full.stderr
    assert f"Error: Not enough room on the disk of {small_disk.root}" in full.stderr
    read_only = tmp_path / "ro"
    read_only.mkdir()
    read_only.chmod(0o555)
    refused = cli("enhance", photo, "-o", read_only, "--model", missing_model)
    assert refused.stderr.strip() == f"Error: Cannot save in {read_only}: the folder is read-only."
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    as_file = cli("enhance", photo, "-o", a_file, "--model", missing_model)
    assert as_file.stderr.strip() == f"Error: Cannot save in {a_file}: it is a file, not a folder."
    assert a_file.read_text() == "not a folder"


def test_state_naming_a_photo_a_folder_or_another_file_is_refused(tmp_path, contract_model_path):
    photos = [noisy_jpeg(tmp_path / "photos" / f"p{i}.jpg", seed=i) for i in range(2)]
    notes = tmp_path / "notes.json"
    notes.write_text(json.dumps({"mine": True}))
    before = {p: sha256(p) for p in [*photos, notes]}
    # What `enhance --state photos/*.jpg -o out` becomes once the shell has expanded it, and its cousins.
    cases = {
        photos[0]: "is named like a photo, so it was left alone",
        tmp_path / "photos": "is a folder",
        notes: "is not a batch state file, so it was left alone",
    }
    for state, reason in cases.items():
        run = cli(
            "enhance", "--state", state, photos[1], "-o", tmp_path / "out", "--model", contract_model_path
        )
        assert run.returncode == 2 and "argument --state: " in run.stderr and reason in run.stderr, run.stderr
    assert {p: sha256(p) for p in before} == before
    assert not (tmp_path / "out").exists()


def test_overwrite_never_replaces_an_original_through_a_format_collision(tmp_path, contract_model_path):
    folder = tmp_path / "shoot"
    noisy_jpeg(folder / "q0.jpg")
    Image.fromarray(np.full((64, 96, 3), 30, np.uint8)).save(folder / "q0.png")
    before = sha256(folder / "q0.png")
    as_png = ("--template", "{stem}", "--format", "png", "--overwrite", "--model", contract_model_path)
    run = cli("enhance", folder, *as_png)
    assert run.returncode == 1
    original = f"failed: {folder / 'q0.jpg'}: {folder / 'q0.png'} is an original photo of this batch"
    assert original in run.stdout
    assert sha256(folder / "q0.png") == before
    # Named alone, q0.png is not an input of the batch, but still not a file this program wrote.
    alone = cli("enhance", folder / "q0.jpg", *as_png)
    assert alone.returncode == 1 and "was not written by Enlighten Desktop" in alone.stdout
    assert sha256(folder / "q0.png") == before
    # An earlier result of its own is replaced, and a later scan of the folder does not take it for a photo.
    out = tmp_path / "out"
    for _ in range(2):
        again = cli("enhance", folder / "q0.jpg", "-o", out, *as_png)
        assert again.returncode == 0 and "Summary: 1 done" in again.stdout, again.stdout
    assert "no supported photos found" in cli("enhance", out, "--model", contract_model_path).stderr


def test_the_input_folder_as_output_folder_enhances_its_photos(tmp_path, contract_model_path):
    folder = tmp_path / "shoot"
    noisy_jpeg(folder / "a.jpg")
    noisy_jpeg(folder / "b.jpg", seed=1)
    run = cli("enhance", folder, "-o", folder, "--tile", "64", "--model", contract_model_path)
    assert run.returncode == 0 and "Summary: 2 done, 0 skipped, 0 failed" in run.stdout, run.stderr
    again = cli("enhance", folder, "-o", folder, "--model", contract_model_path)
    assert "Summary: 0 done, 2 skipped" in again.stdout  # its results are not taken for new photos


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strength", "5"], "argument --strength: must be a number from 0 to 1, not '5'"),
        (["--strength", "nan"], "argument --strength: must be a number from 0 to 1, not 'nan'"),
        (["--quality", "0"], "argument --quality: must be a whole number from 1 to 100, not '0'"),
        (["--quality", "500"], "argument --quality: must be a whole number from 1 to 100, not '500'"),
        (
            ["--template", "{name}"],
            "must contain {stem} (the photo's name) and no other field: {name} is unknown",
        ),
        (["--template", "bright"], "must contain {stem}"),
        (["--template", "../../x_{stem}"], "must be a plain file name: no folders"),
        (["--tile", "-1"], "argument --tile: must be auto, 0 (the whole image) or a size in px, not '-1'"),
        (["--tile", "big"], "argument --tile: must be auto, 0 (the whole image) or a size in px, not 'big'"),
    ],
)
def test_bad_option_values_are_usage_errors(tmp_path, args, message):
    photo = noisy_jpeg(tmp_path / "p.jpg")
    run = cli("enhance", photo, *args)
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.jpg"]


def test_edit_strength_out_of_range_is_a_usage_error(tmp_path):
    photo = noisy_jpeg(tmp_path / "p.jpg")
    run = edit(photo, "--apply", "--strength", "inf")
    assert run.returncode == 2 and "argument --strength: must be a number from 0 to 1" in run.stderr


def test_leftovers_of_a_killed_edit_are_cleaned_by_the_next_one(tmp_path, contract_model_path):
    photo = noisy_jpeg(tmp_path / "photo.jpg")
    leftover = tmp_path / ".enlighten-0badf00d-photo.jpg.tmp"
    leftover.touch()  # what kill -9 in the middle of a save leaves
    run = edit(photo, "--apply", "--model", contract_model_path, env={"PYTHONWARNINGS": "error"})
    assert run.returncode == 0, run.stderr
    assert not leftover.exists() and os.listdir(tmp_path) == ["photo.jpg"]
