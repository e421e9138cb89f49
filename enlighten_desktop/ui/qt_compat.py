"""Work-arounds for bugs of the installed Qt binding, detected at import so they switch off by themselves.

PySide6 6.12.0: ``SignalInstance.emit()`` returns its ``True``/``False`` result without a new reference.
Every discarded result then releases one reference the interpreter never gave, and once enough emits
have happened Python aborts (``bool_dealloc: deallocating True or False``), typically at exit. The UI
therefore emits its own signals through :func:`emit`, which gives the result the reference it lacks.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal, SignalInstance


class _Probe(QObject):
    ping = Signal()


def _emit_result_is_borrowed() -> bool:
    probe = _Probe()
    rounds = 8
    before = sys.getrefcount(True) + sys.getrefcount(False)
    for _ in range(rounds):
        probe.ping.emit()
    lost = before - (sys.getrefcount(True) + sys.getrefcount(False))
    # Give back what the probe itself took, so the probe leaves the counts as it found them.
    for _ in range(max(0, lost)):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return lost >= rounds


EMIT_RESULT_BORROWED = _emit_result_is_borrowed()


def emit(signal: SignalInstance, *args: object) -> None:
    """``signal.emit(*args)``, safe on bindings whose emit() under-references its result."""
    result = signal.emit(*args)
    if EMIT_RESULT_BORROWED:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))
