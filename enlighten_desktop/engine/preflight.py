"""Checks made before the model runs, so that a batch that cannot be saved fails in a second, not after an
hour: every output folder exists (or can be made), is a folder and takes files, and its disk has room for a
rough estimate of the results. The write path (``safewrite``) still checks every write: an estimate is only
an estimate, and the disk may fill while the batch runs.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from pathlib import Path

from .errors import ImageWriteError
from .formats import Format
from .safewrite import check_writable_folder

log = logging.getLogger(__name__)

# Rough bytes per pixel of a photo stored in each format (8-bit; PNG and TIFF twice that at 16 bits), to
# turn a source's file size into a pixel count and a pixel count into an output size. Lossy formats are
# taken at their large end (quality 95 output), lossless at their small end (photos compress to ~2/3).
_BYTES_PER_PIXEL = {
    Format.JPEG: 0.5,
    Format.WEBP: 0.4,
    Format.HEIF: 0.3,
    Format.RAW: 1.5,
    Format.PNG: 2.0,
    Format.TIFF: 2.0,
    Format.BMP: 3.0,
    Format.GIF: 0.5,
}
_SIXTEEN_BIT_FACTOR = 2.0


def estimated_output_bytes(source: Path, output_format: Format, bits: int | None) -> int:
    """About how many bytes the result of ``source`` takes as ``output_format`` (at ``bits``, None: 8)."""
    try:
        size = source.stat().st_size
    except OSError:
        return 0  # the item will fail on reading; it needs no room
    # An unknown suffix fails on reading; TIFF's estimate is as good as any for it.
    source_format = Format.of_suffix(source.suffix) or Format.TIFF
    pixels = size / _BYTES_PER_PIXEL[source_format]
    per_pixel = _BYTES_PER_PIXEL[output_format] * (_SIXTEEN_BIT_FACTOR if bits == 16 else 1.0)
    return int(pixels * per_pixel)


def existing_ancestor(folder: Path) -> Path:
    """``folder`` or its nearest parent that exists (what an output folder not yet made will live in)."""
    folder = folder.absolute()
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def check_output_folders(needs: dict[Path, int]) -> None:
    """Raise ImageWriteError unless each folder of ``needs`` (folder -> estimated bytes of its outputs) can
    take its files: the folder or the parent it will be made in is a folder and writable, and each disk has
    room for the outputs of all the folders on it. Makes nothing; the folders are made when first written."""
    by_disk: dict[int, tuple[Path, int]] = {}
    for folder, need in needs.items():
        base = existing_ancestor(folder)
        if base != folder and not base.is_dir():
            raise ImageWriteError(f"Cannot save in {folder}: {base} is a file, not a folder.")
        check_writable_folder(base)
        device = base.stat().st_dev
        first, total = by_disk.get(device, (base, 0))
        by_disk[device] = (first, total + need)
    for base, need in by_disk.values():
        check_room(base, need)


def check_room(
    folder: Path, need: int, *, advice: str = "Free some space or choose another output folder."
) -> None:
    """ImageWriteError when the disk of the existing ``folder`` has less than ``need`` bytes free."""
    free = shutil.disk_usage(folder).free
    if free < need:
        sizes = f"{_size(free)} free, about {_size(need)} needed"
        raise ImageWriteError(f"Not enough room on the disk of {folder}: {sizes}. {advice}")
    log.debug("%s: %d bytes free, about %d needed", folder, free, need)


def _size(count: float) -> str:
    if count < 1000:
        return f"{count:.0f} bytes"
    units = iter(("KB", "MB", "GB"))
    unit = next(units)
    count /= 1000
    while count >= 1000 and unit != "GB":
        unit, count = next(units), count / 1000
    return f"{count:.1f} {unit}"


def folder_needs(targets: Iterable[tuple[Path, int]]) -> dict[Path, int]:
    """Sum the (output path, estimated bytes) pairs per output folder."""
    needs: dict[Path, int] = {}
    for target, need in targets:
        needs[target.parent] = needs.get(target.parent, 0) + need
    return needs
