"""Helpers of the fault tests: what must hold after any failed save."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

from enlighten_desktop.engine.safewrite import is_temporary_name

_REAL_WRITE = os.write  # taken at import: a test may have replaced os.write by the time one is made


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temporaries(folder: Path) -> list[str]:
    """Temporary files of ours left in ``folder`` (there must be none after a save, failed or not)."""
    return sorted(p.name for p in folder.iterdir() if is_temporary_name(p.name))


class DiskFullAfter:
    """Stands in for ``os.write`` on a disk with ``room`` bytes left: the write that crosses it is short (as
    the kernel's is), every later one fails with ENOSPC. Writes below the limit really happen."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.written = 0

    def __call__(self, fd: int, data) -> int:
        left = self.room - self.written
        if left <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        done = _REAL_WRITE(fd, bytes(memoryview(data)[:left]))
        self.written += done
        return done
