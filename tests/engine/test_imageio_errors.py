"""Bad inputs give typed errors naming the file; writes are atomic and never clobber by accident."""

from __future__ import annotations

import os
import signal
import struct
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from enlighten_desktop.engine.errors import (
    ImageReadError,
    ImageTooLargeError,
    ImageWriteError,
    OutputExistsError,
    UnsupportedFormatError,
)
from enlighten_desktop.engine.imageio import read_image, read_preview, write_image


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.jpg"
    pixels = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, quality=90)
    return path


def test_missing_file(tmp_path):
    with pytest.raises(ImageReadError, match=r"nowhere\.jpg was not found"):
        read_image(tmp_path / "nowhere.jpg")


def test_zero_byte_file(tmp_path):
    (tmp_path / "empty.png").touch()
    with pytest.raises(ImageReadError, match=r"empty\.png is empty"):
        read_image(tmp_path / "empty.png")


def test_folder_instead_of_file(tmp_path):
    (tmp_path / "album.jpg").mkdir()
    with pytest.raises(ImageReadError, match="is a folder"):
        read_image(tmp_path / "album.jpg")


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif", ".webp", ".heic"])
def test_random_bytes_and_text_with_an_image_suffix(tmp_path, suffix):
    noise = tmp_path / f"noise{suffix}"
    noise.write_bytes(np.random.default_rng(2).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    text = tmp_path / f"notes{suffix}"
    text.write_text("Shopping list: film, batteries\n" * 20)
    for path in (noise, text):
        with pytest.raises(ImageReadError, match=path.name + " is not an image"):
            read_image(path)


def test_unsupported_suffix_and_unsupported_content(tmp_path):
    icon = tmp_path / "icon.ico"
    Image.new("RGB", (16, 16)).save(icon)
    with pytest.raises(UnsupportedFormatError, match=r"'\.ico' files are not supported"):
        read_image(icon)
    disguised = tmp_path / "icon.png"
    disguised.write_bytes(icon.read_bytes())
    with pytest.raises(UnsupportedFormatError, match="icon.png is a ICO image"):
        read_image(disguised)


def test_truncated_jpeg(tmp_path, photo):
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(photo.read_bytes()[: photo.stat().st_size // 2])
    with pytest.raises(ImageReadError, match=r"cut\.jpg.*truncated or damaged"):
        read_image(cut)


@pytest.mark.parametrize("bits", [8, 16])
def test_truncated_png(tmp_path, bits):
    full = tmp_path / "full.png"
    pixels = np.random.default_rng(4).integers(0, 2**bits, (64, 64, 3)).astype(f"uint{bits}")
    write_image(full, pixels / (2**bits - 1), metadata=_meta(bits))
    cut = tmp_path / "cut.png"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size * 2 // 3])
    with pytest.raises(ImageReadError, match=r"cut\.png"):
        read_image(cut)


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    # 100,000 x 100,000 RGB declared in a 100-byte file: decoding would need 30 GB.
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
    )
    with pytest.raises(ImageTooLargeError, match="bomb.png"):
        read_image(bomb)
    with pytest.raises(ImageTooLargeError):
        read_preview(bomb, max_side=128)


# The 4096-pixel photo is above 3000, where Pillow's own guard would only warn (a raw Python warning on the
# user's terminal), and more than twice 1500, where Pillow would refuse quoting twice the limit: the message
# must quote the limit that was set, and no warning may escape ("error" turns one into a failure).
@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("max_pixels", [3000, 1500])
def test_max_pixels_limit(photo, max_pixels):
    limit = f"photo.jpg: 64 x 64 pixels is above the limit of {max_pixels:,} pixels"
    with pytest.raises(ImageTooLargeError, match=limit):
        read_image(photo, max_pixels=max_pixels)
    assert read_image(photo, max_pixels=4096).rgb.shape == (64, 64, 3)
    assert Image.MAX_IMAGE_PIXELS != max_pixels  # Pillow's global limit is restored


def test_existing_output_is_not_overwritten_unless_asked(tmp_path, photo):
    loaded = read_image(photo)
    target = tmp_path / "out.png"
    target.write_bytes(b"precious")
    with pytest.raises(OutputExistsError, match="out.png already exists"):
        write_image(target, loaded.rgb, metadata=loaded.metadata)
    assert target.read_bytes() == b"precious"
    write_image(target, loaded.rgb, metadata=loaded.metadata, overwrite=True)
    with Image.open(target) as written:
        assert written.size == (64, 64)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png", "photo.jpg"]


def test_read_only_target_and_missing_folder(tmp_path, photo):
    loaded = read_image(photo)
    target = tmp_path / "locked.tif"
    target.write_bytes(b"keep me")
    target.chmod(0o444)
    with pytest.raises(ImageWriteError, match="read-only"):
        write_image(target, loaded.rgb, metadata=loaded.metadata, overwrite=True)
    assert target.read_bytes() == b"keep me"
    with pytest.raises(ImageWriteError, match="does not exist"):
        write_image(tmp_path / "no" / "such.jpg", loaded.rgb, metadata=loaded.metadata)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder(tmp_path, photo):
    loaded = read_image(photo)
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ImageWriteError, match="permission denied"):
            write_image(folder / "x.jpg", loaded.rgb, metadata=loaded.metadata)
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_failure_mid_write_leaves_no_temp_file_and_the_target_untouched(tmp_path):
    """A real I/O failure after the encoder has written part of the file (like a full disk)."""
    import resource

    noisy = np.random.default_rng(5).random((256, 256, 3), dtype=np.float32)  # ~390 KB as 16-bit PNG
    target = tmp_path / "edit.png"
    target.write_bytes(b"the photographer's previous version")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, hard))
    try:
        with pytest.raises(ImageWriteError, match="edit.png.*too large"):
            write_image(target, noisy, metadata=_meta(16), overwrite=True)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous_handler)
    assert target.read_bytes() == b"the photographer's previous version"
    assert [p.name for p in tmp_path.iterdir()] == ["edit.png"]


def test_image_too_wide_for_the_format(tmp_path):
    with pytest.raises(ImageWriteError, match="16383 pixels"):
        write_image(tmp_path / "pano.webp", np.zeros((1, 17_000, 3), np.float32), metadata=_meta(8))
    assert list(tmp_path.iterdir()) == []


def test_unknown_output_format_and_bad_bits(tmp_path):
    rgb = np.zeros((2, 2, 3), np.float32)
    with pytest.raises(UnsupportedFormatError, match="choose JPEG, PNG, TIFF or WebP"):
        write_image(tmp_path / "x.bmp", rgb, metadata=_meta(8))
    with pytest.raises(UnsupportedFormatError, match="8 or 16"):
        write_image(tmp_path / "x.png", rgb, metadata=_meta(8), bits=12)
    assert (
        write_image(tmp_path / "x.bmp", rgb, metadata=_meta(8), format="png").read_bytes()[:4] == b"\x89PNG"
    )


def test_new_files_follow_the_umask_and_overwrites_keep_the_mode(tmp_path, photo):
    if sys.platform == "win32":
        pytest.skip("POSIX permissions")
    loaded = read_image(photo)
    previous = os.umask(0o022)
    try:
        fresh = write_image(tmp_path / "fresh.jpg", loaded.rgb, metadata=loaded.metadata)
    finally:
        os.umask(previous)
    assert fresh.stat().st_mode & 0o777 == 0o644
    fresh.chmod(0o640)
    write_image(fresh, loaded.rgb, metadata=loaded.metadata, overwrite=True)
    assert fresh.stat().st_mode & 0o777 == 0o640


def _meta(bits: int):
    from enlighten_desktop.engine.imageio import ImageMetadata

    return ImageMetadata(format="PNG", bits=bits, icc_profile=None, exif=None, xmp=None, compression=None)
