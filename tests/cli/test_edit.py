"""`enlighten-desktop edit FILE --apply` played as a photo editor host plays it: a real subprocess on a real
16-bit TIFF, read back with tifffile; crashes and refusals checked byte for byte.
"""

from __future__ import annotations

import fcntl
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms

from enlighten_desktop.engine.encoders import encode_tiff
from enlighten_desktop.engine.filters import DEFAULT_FILTERS
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.pipeline import enhance, run_to_end

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX resource limits, signals and locks")

REPO = Path(__file__).resolve().parents[2]
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:lr="http://ns.adobe.com/lightroom/1.0/"'
       b' xmp:Rating="3" lr:hierarchicalSubject="Trips|Lisbon"/></rdf:RDF></x:xmpmeta>')
# Runs the CLI with the default action of SIGXFSZ (Python ignores it): a write over the file size limit then
# kills the process on the spot, mid-save, with no chance to clean up.
KILLABLE = ("import signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_DFL); "
            "from enlighten_desktop.__main__ import main; sys.exit(main(sys.argv[1:]))")


def edit(*args, code: str | None = None, file_limit: int | None = None, env=None):
    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "enlighten_desktop"]
    environment = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    return subprocess.run([*command, "edit", *map(str, args)], cwd=REPO, env=environment, capture_output=True,
                          text=True, timeout=120, preexec_fn=limit_file_size if file_limit else None)


@pytest.fixture
def lightroom_tiff(tmp_path) -> Path:
    """What Lightroom's "Edit In" hands over: 16-bit, ZIP-compressed TIFF with ICC, EXIF and XMP.

    Written with the engine's TIFF encoder because tifffile alone cannot write an Exif sub-IFD; everything
    below is checked with tifffile and Pillow's parsers.
    """
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x013B] = "Nikon", "Z 6II", "A. Photographer"
    exif[0x8769] = {0x9003: "2025:11:02 21:14:09", 0x8827: 12800, 0x829A: 1 / 15}
    pixels = np.rint(np.random.default_rng(5).uniform(0.02, 0.25, (64, 96, 3)) * 65535).astype(np.uint16)
    path = tmp_path / "DSC_0042-Edit.tif"
    with open(path, "w+b") as fh:  # the encoder reads back what it wrote to link the Exif IFD
        encode_tiff(fh, pixels, icc=ICC, exif=exif.tobytes(), xmp=XMP, quality=95, compression="deflate")
    return path


def test_a_16_bit_tiff_comes_back_16_bit_enhanced_with_its_compression_icc_exif_and_xmp(
    lightroom_tiff, contract_model_path
):
    with tifffile.TiffFile(lightroom_tiff) as tif:
        original = tif.pages.first.asarray()
    run = edit(lightroom_tiff, "--apply", "--tile", "32", "--model", contract_model_path)
    assert run.returncode == 0, run.stderr
    assert f"Saved {lightroom_tiff}" in run.stdout

    with tifffile.TiffFile(lightroom_tiff) as tif:
        page = tif.pages.first
        assert page.dtype == np.uint16 and page.shape == original.shape
        assert page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        assert page.tags["InterColorProfile"].value == ICC
        assert page.tags["XMP"].value == XMP
        assert page.tags["Make"].value == "Nikon" and page.tags["Artist"].value == "A. Photographer"
        exif = page.tags["ExifTag"].value
        assert exif["DateTimeOriginal"] == "2025:11:02 21:14:09" and exif["ISOSpeedRatings"] == 12800
        saved = page.asarray()
    # The pixels are the engine's full-resolution, tiled result of the fp32 model, to the 16-bit level.
    model = EnhancerModel.load(contract_model_path, provider="cpu")
    expected = run_to_end(enhance(model, original.astype(np.float32) / 65535, tile=32,
                                  filters=DEFAULT_FILTERS)).enhanced
    assert np.abs(saved / 65535 - expected).max() <= 0.51 / 65535
    assert saved.mean() > original.mean() * 1.2


def test_strength_blends_between_the_original_and_the_full_result(lightroom_tiff, tmp_path,
                                                                 contract_model_path):
    full = tmp_path / "full.tif"
    full.write_bytes(lightroom_tiff.read_bytes())
    original = tifffile.imread(lightroom_tiff).astype(np.float64)
    for path, strength in ((full, "1"), (lightroom_tiff, "0.25")):
        run = edit(path, "--apply", "--strength", strength, "--tile", "32", "--model", contract_model_path)
        assert run.returncode == 0, run.stderr
    quarter = tifffile.imread(lightroom_tiff).astype(np.float64)
    expected = original + 0.25 * (tifffile.imread(full) - original)
    assert np.abs(quarter - expected).max() <= 1.0


def test_a_crash_mid_save_leaves_the_original_byte_for_byte(lightroom_tiff, contract_model_path):
    before = lightroom_tiff.read_bytes()
    run = edit(lightroom_tiff, "--apply", "--tile", "32", "--model", contract_model_path, code=KILLABLE,
               file_limit=4096)
    assert run.returncode == -signal.SIGXFSZ, run.stderr  # killed by the kernel while writing
    assert lightroom_tiff.read_bytes() == before
    # What the host sees is unchanged; the dead process could only leave its hidden temporary file, which the
    # next edit in that folder removes.
    leftovers = {p.name for p in lightroom_tiff.parent.iterdir()} - {lightroom_tiff.name}
    assert all(name.startswith(".enlighten-") and name.endswith(f"-{lightroom_tiff.name}.tmp") for name in
               leftovers)
    assert edit(lightroom_tiff, "--apply", "--tile", "32", "--model", contract_model_path).returncode == 0
    assert [p.name for p in lightroom_tiff.parent.iterdir()] == [lightroom_tiff.name]


def test_a_failed_write_reports_the_reason_and_leaves_the_original_and_nothing_else(
    lightroom_tiff, contract_model_path
):
    before = lightroom_tiff.read_bytes()
    run = edit(lightroom_tiff, "--apply", "--tile", "32", "--model", contract_model_path, file_limit=4096)
    assert run.returncode == 1
    assert "Cannot save DSC_0042-Edit.tif" in run.stderr and "too large" in run.stderr
    assert lightroom_tiff.read_bytes() == before
    assert [p.name for p in lightroom_tiff.parent.iterdir()] == [lightroom_tiff.name]


def test_a_file_the_host_holds_locked_is_refused_with_a_clear_message(lightroom_tiff, contract_model_path):
    before = lightroom_tiff.read_bytes()
    with open(lightroom_tiff, "r+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # the subprocess is another process: it runs into this lock
        run = edit(lightroom_tiff, "--apply", "--tile", "32", "--model", contract_model_path)
    assert run.returncode == 1
    assert "in use by another program" in run.stderr and "Traceback" not in run.stderr
    assert lightroom_tiff.read_bytes() == before


def test_a_read_only_file_is_refused_with_a_clear_message(lightroom_tiff, contract_model_path):
    before = lightroom_tiff.read_bytes()
    lightroom_tiff.chmod(0o444)
    run = edit(lightroom_tiff, "--apply", "--model", contract_model_path)
    assert run.returncode == 1 and "read-only" in run.stderr
    assert lightroom_tiff.read_bytes() == before


def test_the_default_model_is_the_bundled_fp32_file(lightroom_tiff, tmp_path):
    before = lightroom_tiff.read_bytes()
    run = edit(lightroom_tiff, "--apply", env={"ENLIGHTEN_RESOURCES": str(tmp_path / "no-resources")})
    assert run.returncode == 1
    assert f"{tmp_path / 'no-resources' / 'models' / 'enlightengan.onnx'} is missing" in run.stderr
    assert lightroom_tiff.read_bytes() == before
