"""Saving over the source: format, bit depth, compression, alpha, file mode kept; refusals change nothing.

Real files, real locks held by another process, the real contract model. Results are inspected with tifffile.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import numpy as np
import pytest
import tifffile

from enlighten_desktop.engine.errors import ImageWriteError, UnsupportedFormatError
from enlighten_desktop.engine.imageio import read_image
from enlighten_desktop.engine.inplace import InPlace, check_replaceable, edit_path, save_in_place
from enlighten_desktop.engine.item import FileStamp, process_item
from enlighten_desktop.engine.pipeline import enhance, run_to_end

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions and locks")

# Holds an exclusive lock of the kind given in argv[2] on argv[1] until its stdin closes.
LOCK_HOLDER = """
import fcntl, sys
handle = open(sys.argv[1], "r+b")
getattr(fcntl, sys.argv[2])(handle, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


def apply_in_place(model, path):
    """What ``edit --apply`` runs: the per-item API with the in-place writer."""
    return process_item(model, edit_path(path), InPlace(), tile=32)


@pytest.fixture
def rgba16_tiff(tmp_path):
    """A dark 16-bit RGBA TIFF, LZW-compressed, written by tifffile as another program would."""
    rng = np.random.default_rng(0)
    pixels = np.rint(rng.uniform(0.02, 0.3, (40, 48, 4)) * 65535).astype(np.uint16)
    pixels[..., 3] = np.linspace(0, 65535, 48).astype(np.uint16)[None, :]
    path = tmp_path / "scan.tif"
    tifffile.imwrite(path, pixels, photometric="rgb", extrasamples=["unassalpha"], compression="lzw",
                     metadata=None)
    return path


def test_a_16_bit_rgba_tiff_keeps_depth_compression_alpha_and_file_mode(rgba16_tiff, cpu_model):
    os.chmod(rgba16_tiff, 0o640)
    source = read_image(rgba16_tiff)
    expected = run_to_end(enhance(cpu_model, source.rgb, tile=32)).enhanced

    assert run_to_end(apply_in_place(cpu_model, rgba16_tiff)).output == rgba16_tiff

    with tifffile.TiffFile(rgba16_tiff) as saved:
        page = saved.pages.first
        assert page.dtype == np.uint16 and page.shape == (40, 48, 4)
        assert page.compression == tifffile.COMPRESSION.LZW
        pixels = page.asarray()
    np.testing.assert_array_equal(pixels[..., 3], np.rint(source.alpha * 65535))
    np.testing.assert_allclose(pixels[..., :3] / 65535, expected, atol=0.6 / 65535)
    assert pixels[..., :3].mean() / 65535 > source.rgb.mean() + 0.02  # visibly enhanced
    assert stat.S_IMODE(rgba16_tiff.stat().st_mode) == 0o640


def test_a_file_changed_by_the_host_meanwhile_is_left_as_the_host_saved_it(rgba16_tiff):
    image = read_image(rgba16_tiff)
    stamp = FileStamp.of(rgba16_tiff)
    tifffile.imwrite(rgba16_tiff, np.zeros((40, 48, 3), np.uint16), photometric="rgb")  # the host re-renders
    newer = rgba16_tiff.read_bytes()

    with pytest.raises(ImageWriteError, match="changed by another program"):
        save_in_place(image, image.rgb, stamp=stamp)
    assert rgba16_tiff.read_bytes() == newer


@pytest.mark.parametrize("lock", ["flock", "lockf"])
def test_a_lock_held_by_another_program_is_reported_and_released_locks_are_not(rgba16_tiff, lock):
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(rgba16_tiff), lock],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ImageWriteError, match="in use by another program"):
            check_replaceable(rgba16_tiff)
    finally:
        holder.communicate("", timeout=10)
    check_replaceable(rgba16_tiff)


def test_a_read_only_file_is_refused_before_the_model_runs(rgba16_tiff, cpu_model):
    before = rgba16_tiff.read_bytes()
    os.chmod(rgba16_tiff, 0o444)
    steps = apply_in_place(cpu_model, rgba16_tiff)
    with pytest.raises(ImageWriteError, match="read-only"):
        next(steps)  # fails at once: no tile was run
    assert rgba16_tiff.read_bytes() == before


def test_heif_cannot_be_saved_in_place_and_is_refused_before_the_model_runs(tmp_path, cpu_model):
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    path = tmp_path / "phone.heic"
    Image.fromarray(np.full((32, 32, 3), 40, np.uint8)).save(path)
    before = path.read_bytes()
    with pytest.raises(UnsupportedFormatError, match="16-bit TIFF"):
        next(apply_in_place(cpu_model, path))
    assert path.read_bytes() == before


def test_editing_through_a_symbolic_link_replaces_the_linked_photo(rgba16_tiff, tmp_path, cpu_model):
    link = tmp_path / "link.tif"
    link.symlink_to(rgba16_tiff)
    before = rgba16_tiff.read_bytes()

    assert run_to_end(apply_in_place(cpu_model, link)).output == rgba16_tiff
    assert link.is_symlink() and rgba16_tiff.read_bytes() != before
