"""The one way this program puts a file on disk: outputs, in-place saves, batch state and output records.

``write_file`` takes the complete contents (encoded in memory first), writes them to a temporary file beside
the destination, checks every ``os.write`` (a full disk shows up as a short write, then ENOSPC), fsyncs,
reads the file back and compares it with what was meant to be written, lets the caller check that it decodes
(``verify``), and only then renames it over the destination. Success therefore means the bytes are on disk
and decode; any failure leaves the destination as it was and removes the temporary file.

Why in memory: Pillow's encoders write through ``os.write`` on the file's descriptor and do not check for
short writes, so a JPEG on a full disk came out truncated and was reported as saved.

Temporary files are named ``.enlighten-<8 hex>-<name>.tmp`` and locked (``flock``) while in use, so a later
run can recognise a leftover of a killed one (``clean_stale_temporaries``) without touching one in progress.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import secrets
import stat
import threading
from collections.abc import Callable
from pathlib import Path

from .errors import ImageWriteError, OutputExistsError

log = logging.getLogger(__name__)

TEMP_PREFIX = ".enlighten-"
TEMP_SUFFIX = ".tmp"
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"[0-9a-f]{8}-.+" + re.escape(TEMP_SUFFIX), re.DOTALL)
# Names used before this module existed: ".<output name>.<8 hex>.tmp" and tempfile's ".batch-<8>.tmp".
_LEGACY_TEMP_NAMES = (
    re.compile(r"\..+\.(jpe?g|jpe|png|tiff?|webp)\.[0-9a-f]{8}\.tmp", re.IGNORECASE | re.DOTALL),
    re.compile(r"\.batch-[a-z0-9_]{8}\.tmp"),
)
_READ_BACK_CHUNK = 1 << 20
# Folders whose leftovers this process has already removed: once per folder is enough.
_cleaned: set[Path] = set()
_cleaned_lock = threading.Lock()


def write_file(
    target: Path, data: bytes | memoryview, *, overwrite: bool, verify: Callable[[Path], None] | None = None
) -> Path:
    """Put ``data`` at ``target`` atomically (see the module docstring); returns ``target``.

    ``verify(temporary_path)`` may raise ValueError or OSError to reject the written file. An existing
    ``target`` is replaced only with ``overwrite`` and never when its mode marks it read-only (a choice the
    user made, respected even where the OS would allow the rename); its permissions carry over.
    Raises OutputExistsError, or ImageWriteError with a reason a user understands.
    """
    if not target.parent.is_dir():
        raise ImageWriteError(f"Cannot save {target.name}: the folder {target.parent} does not exist.")
    clean_stale_temporaries(target.parent, once=True)
    mode = _replaceable_mode(target, overwrite=overwrite)
    temporary = target.with_name(f"{TEMP_PREFIX}{secrets.token_hex(4)}-{target.name}{TEMP_SUFFIX}")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as err:
        raise ImageWriteError(write_failure(target, err)) from err
    try:
        _lock_in_use(fd)
        try:
            _write_all(fd, memoryview(data))
            os.fsync(fd)
        finally:
            # Closed before the rename: Windows cannot rename an open file. Another run's cleanup could remove
            # the file in the moment between; the rename then fails and nothing was replaced.
            os.close(fd)
        _check_contents(temporary, data)
        if verify is not None:
            verify(temporary)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except (OSError, ValueError) as err:
        temporary.unlink(missing_ok=True)
        raise ImageWriteError(write_failure(target, err)) from err
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(target.parent)
    return target


def _replaceable_mode(target: Path, *, overwrite: bool) -> int | None:
    """The permissions to give the new file when it replaces ``target``; None when there is none."""
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ImageWriteError(write_failure(target, err)) from err
    if not overwrite:
        raise OutputExistsError(f"{target} already exists; choose another name or allow overwriting.")
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise ImageWriteError(f"Cannot save over {target}: the file is read-only.")
    return mode


def _write_all(fd: int, data: memoryview) -> None:
    """Write every byte of ``data``. A short write is not success: the rest is written again, which on a full
    disk is where ENOSPC surfaces; a write that takes no byte at all is an error of its own."""
    while data:
        written = os.write(fd, data)
        if written <= 0:
            raise OSError(errno.EIO, "the disk accepted no more bytes")
        data = data[written:]


def _check_contents(path: Path, data: bytes | memoryview) -> None:
    """Raise ValueError unless ``path`` holds exactly ``data`` (read back after the fsync)."""
    expected = memoryview(data)
    if path.stat().st_size != len(expected):
        raise ValueError(f"{len(expected)} bytes were meant to be written but {path.stat().st_size} arrived")
    with path.open("rb") as fh:
        for start in range(0, len(expected), _READ_BACK_CHUNK):
            chunk = expected[start : start + _READ_BACK_CHUNK]
            if fh.read(len(chunk)) != chunk:
                raise ValueError(f"the file read back differs from what was written (from byte {start} on)")


def _lock_in_use(fd: int) -> None:
    """Mark the temporary file as in use (a shared flock, released when the descriptor closes or the process
    dies). Windows needs no mark: a file open in another process cannot be deleted there."""
    if os.name == "posix":
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)


def _in_use(path: Path) -> bool:
    if os.name != "posix":
        return False
    import fcntl

    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def is_temporary_name(name: str) -> bool:
    """True for the names of this program's temporary files (current and earlier versions)."""
    return bool(_TEMP_NAME.fullmatch(name)) or any(p.fullmatch(name) for p in _LEGACY_TEMP_NAMES)


def clean_stale_temporaries(folder: Path, *, once: bool = False) -> list[Path]:
    """Remove the temporary files a killed run of this program left in ``folder``; returns them.

    Files in use by a running save are left alone. ``once``: skip folders this process cleaned before.
    A file that cannot be removed (permissions) is logged and left; the save that follows is not affected.
    """
    folder = folder.resolve()
    with _cleaned_lock:
        if once and folder in _cleaned:
            return []
        _cleaned.add(folder)
    removed = []
    try:
        names = [entry.name for entry in os.scandir(folder) if entry.is_file(follow_symlinks=False)]
    except OSError as err:
        log.warning("Could not look for leftover temporary files in %s: %s", folder, err)
        return []
    for name in filter(is_temporary_name, names):
        path = folder / name
        try:
            if _in_use(path):
                continue
            path.unlink()
        except FileNotFoundError:
            continue  # another run removed or renamed it first
        except OSError as err:
            log.warning("Could not remove the leftover temporary file %s: %s", path, err)
            continue
        log.info("Removed %s, left by an interrupted save", path)
        removed.append(path)
    return removed


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX: fsync the folder); a failure is reported, the file is saved."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as err:
        log.warning("Saved in %s, but the folder could not be flushed to disk: %s", folder, err)


def check_writable_folder(folder: Path) -> None:
    """Raise ImageWriteError unless a file can be created in the existing folder ``folder``: it is a folder,
    not marked read-only (respected even for root, as for files), and a probe file can really be made."""
    if not folder.is_dir():
        raise ImageWriteError(f"Cannot save in {folder}: it is a file, not a folder.")
    if not folder.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise ImageWriteError(f"Cannot save in {folder}: the folder is read-only.")
    probe = folder / f"{TEMP_PREFIX}{secrets.token_hex(4)}-probe{TEMP_SUFFIX}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        # Once made, the probe has answered. It may already be gone: a save in this folder on another thread
        # (the batch writes one photo while it prepares the next) removes unlocked temporaries it finds.
        probe.unlink(missing_ok=True)
    except OSError as err:
        raise ImageWriteError(f"Cannot save in {folder}: {_reason(err)}.") from err


def write_failure(target: Path, err: Exception) -> str:
    """A sentence for a failed save of ``target``, naming the cause in a user's words."""
    return f"Cannot save {target.name} in {target.parent}: {_reason(err)}."


def _reason(err: Exception) -> str:
    reasons = {
        errno.EACCES: "permission denied (is the folder or file read-only or open in another program?)",
        errno.EPERM: "permission denied (is the folder or file read-only or open in another program?)",
        errno.EROFS: "the disk is read-only",
        errno.ENOSPC: "the disk is full",
        errno.EFBIG: "the file is too large for this disk or file system",
        getattr(errno, "EDQUOT", -1): "your disk quota is exhausted",
    }
    return reasons.get(getattr(err, "errno", None), str(err) or type(err).__name__)
