"""Formats and files of issue 14 through the real command: BMP and GIF inside a folder are read (Pillow
reads both), a multi-page TIFF is reported when only its first page is enhanced and refused for an in-place
edit, and a decompression bomb is refused quoting the limit that was set, with no raw Python warning on the
terminal."""

from __future__ import annotations

import struct
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from enlighten_desktop.engine.imageio import read_image
from tests.cli.test_cli import cli
from tests.cli.test_edit import edit
from tests.faults import sha256

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="runs the edit command's POSIX helper")


def test_bmp_and_gif_in_a_folder_are_enhanced(tmp_path, contract_model_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    Image.fromarray(np.full((32, 48, 3), 20, np.uint8)).save(folder / "scan.bmp")
    Image.fromarray(np.full((32, 48, 3), 20, np.uint8)).convert("P").save(folder / "old.gif")
    run = cli("enhance", folder, "--tile", "64", "--model", contract_model_path)
    assert run.returncode == 0 and "Summary: 2 done" in run.stdout, run.stdout + run.stderr
    for name in ("scan_enlightened.png", "old_enlightened.png"):
        assert read_image(folder / name).rgb.mean() > 20 / 255


def test_multi_page_tiffs_are_reported_and_never_edited_in_place(tmp_path, contract_model_path):
    pages = [Image.fromarray(np.full((32, 48, 3), v, np.uint8)) for v in (20, 120, 220)]
    tiff = tmp_path / "scan.tif"
    pages[0].save(tiff, save_all=True, append_images=pages[1:])
    before = sha256(tiff)
    run = edit(tiff, "--apply", "--model", contract_model_path)
    assert run.returncode == 1 and "has 3 pages; saving it in place would keep only the first" in run.stderr
    assert sha256(tiff) == before
    batch = cli("enhance", tiff, "--model", contract_model_path)
    assert batch.returncode == 0
    assert "only page 1 of its 3 pages was enhanced" in batch.stdout + batch.stderr


def test_a_decompression_bomb_is_refused_quoting_the_limit_and_no_python_warning(
    tmp_path, contract_model_path
):
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = (
        tmp_path / "bomb.png"
    )  # 20,000 x 20,000 declared: above the 250 MP limit, below Pillow's doubled one
    bomb.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 20_000, 20_000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
    run = cli("enhance", bomb, "--model", contract_model_path)
    assert run.returncode == 1
    assert "bomb.png: 20000 x 20000 pixels is above the limit of 250,000,000 pixels." in run.stdout
    assert "Warning" not in run.stderr
