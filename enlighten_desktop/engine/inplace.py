"""Edit in place: enhance a photo and save the result over the same file, as photo-editor hosts expect.

Lightroom Classic ("Edit In > Other editor"), Capture One ("Edit With"), darktable and GIMP hand a file to the
editor and read back whatever that file holds afterwards. So the file keeps its format, bit depth (a 16-bit
TIFF stays 16-bit), TIFF compression, ICC profile, EXIF and XMP: pixels come from ``imageio.read_image`` and
go back through ``imageio.write_image`` with the source's own metadata, format and bit depth and
``overwrite=True``, by ``InPlace``, the writer of ``item.process_item`` for this hand-off. That write is
atomic (temporary file beside it, fsync, rename), so a failure or a crash mid-save leaves the original
byte-for-byte as it was. JPEG and WebP are lossy: saving re-encodes them once.

What "the file is still open in the host" can mean, per OS (checked by ``check_replaceable``):

* Windows: a program that opened the file without sharing write access makes our open for writing fail with a
  sharing violation, and one that holds a byte-range lock (``LockFileEx``) is seen by ``msvcrt.locking``.
  Both are reported before any work; a handle opened later still makes the final rename fail, which
  ``write_image`` reports as ImageWriteError with the file untouched.
* Linux and macOS: the OS never locks open files. Only cooperative locks are visible: an exclusive ``flock``
  or ``fcntl``/``lockf`` lock held by another process. A host that merely keeps the file open cannot be
  detected; the rename is still safe for it (it keeps reading the old contents).
* On every OS, a file that changed while we worked (the host rewrote it) is detected by its size,
  modification time and file id, and the save is refused rather than overwrite the host's newer version.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from enlighten_desktop.engine.errors import ImageWriteError, UnsupportedFormatError
from enlighten_desktop.engine.imageio import LoadedImage, write_image
from enlighten_desktop.engine.item import FileStamp
from enlighten_desktop.engine.preflight import check_room

log = logging.getLogger(__name__)

_IN_USE = "is in use by another program (still open in your photo editor?); close it there and try again"


def edit_path(path: str | os.PathLike[str]) -> Path:
    """The real file behind ``path``: a symbolic link is followed, so the save replaces its target."""
    return Path(path).resolve()


def check_replaceable(path: Path) -> None:
    """Raise ImageWriteError when ``path`` cannot be replaced now: missing, read-only, or locked by another
    program (see the module docstring for what each OS lets us see). Changes nothing."""
    try:
        mode = path.stat().st_mode
    except OSError as err:
        raise ImageWriteError(f"Cannot save over {path}: {err.strerror or err}.") from err
    # Checked on the mode bits, so a read-only mark is respected even by root (whom the OS would let write).
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise ImageWriteError(f"Cannot save over {path}: the file is read-only; make it writable and retry.")
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    except OSError as err:
        if err.errno in (errno.EACCES, errno.EPERM, errno.EBUSY, errno.ETXTBSY):
            raise ImageWriteError(f"Cannot save over {path}: it {_IN_USE}.") from err
        raise ImageWriteError(f"Cannot save over {path}: {err.strerror or err}.") from err
    try:
        if _locked_by_another(fd):
            raise ImageWriteError(f"Cannot save over {path}: it {_IN_USE}.")
    finally:
        os.close(fd)


def _locked_by_another(fd: int) -> bool:
    """True when another process holds a lock that an exclusive, non-blocking lock attempt runs into.

    The probe lock is released at once; it is taken only to learn whether someone else holds one.
    """
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return True
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return False
    import fcntl

    # flock() and fcntl() locks are separate on Linux (flock is BSD-style, lockf/fcntl POSIX record locks):
    # a program may use either, so both are probed.
    for lock in (fcntl.flock, fcntl.lockf):
        try:
            lock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return True
            raise
        lock(fd, fcntl.LOCK_UN)
    return False


def check_rewritable_format(image: LoadedImage) -> None:
    """UnsupportedFormatError when ``image`` cannot be written back whole: its format cannot be written (HEIF,
    camera raw, BMP, GIF), or it has more pages than the first, which saving in place would drop."""
    if not image.metadata.format.writable:
        raise UnsupportedFormatError(
            f"{image.path.name} is {image.metadata.format}, which cannot be saved in place. Have your photo "
            "editor hand over a 16-bit TIFF instead."
        )
    if image.metadata.pages > 1:
        raise UnsupportedFormatError(
            f"{image.path.name} has {image.metadata.pages} pages; saving it in place would keep only the "
            "first, so it was left alone. Enhance it into a new file with `enlighten-desktop enhance`."
        )


def check_unchanged(path: Path, stamp: FileStamp) -> None:
    """ImageWriteError when ``path`` is no longer the version ``stamp`` was taken of (the host rewrote it)."""
    if FileStamp.of(path) != stamp:
        raise ImageWriteError(
            f"{path.name} was changed by another program while it was being edited; it was left as that "
            "program saved it. Open it again to edit the new version."
        )


def save_in_place(image: LoadedImage, rgb: np.ndarray, *, stamp: FileStamp) -> Path:
    """Write ``rgb`` (H x W x 3 float32 [0, 1], same size as ``image``) over ``image.path`` atomically, in the
    source's format, bit depth and compression, with its ICC profile, EXIF, XMP and alpha.

    ``stamp`` is the file as it was read: if it changed since, nothing is written. Raises ImageWriteError
    (changed, read-only, locked, disk full...) or UnsupportedFormatError; on any error the file is untouched.
    """
    path = image.path
    if rgb.shape != image.rgb.shape:
        raise ValueError(f"result shape {rgb.shape} differs from the photo's {image.rgb.shape}")
    check_rewritable_format(image)
    check_unchanged(path, stamp)
    check_replaceable(path)
    metadata = image.metadata
    written = write_image(path, rgb, metadata=metadata, alpha=image.alpha, format=metadata.format.lower(),
                          bits=metadata.bits, overwrite=True)
    log.info("Saved %s in place (%s, %d-bit)", path, metadata.format, metadata.bits)
    return written


@dataclass(frozen=True)
class InPlace:
    """The writer of ``item.process_item`` that saves the result over the photo itself (``save_in_place``).
    Give it the photo's ``edit_path``, so that a symbolic link's target is what is replaced. ``reviewed``:
    the version of the file the user reviewed (and whose result is reused); a file rewritten since is refused
    rather than enhanced afresh and saved unseen."""

    reviewed: FileStamp | None = None

    def prepare(self, source: Path) -> Path:
        """Before any work: ``source`` can be replaced now, and its disk has room for the new version,
        which is written beside the original before it replaces it."""
        if self.reviewed is not None:
            check_unchanged(source, self.reviewed)
        check_replaceable(source)
        check_room(source.parent, source.stat().st_size, advice="Free some space and try again.")
        return source

    def accept(self, image: LoadedImage) -> None:
        check_rewritable_format(image)

    @property
    def writes_attention(self) -> bool:
        return False

    def write(
        self, image: LoadedImage, stamp: FileStamp, rgb: np.ndarray, attention: np.ndarray | None
    ) -> Path:
        return save_in_place(image, rgb, stamp=stamp)
