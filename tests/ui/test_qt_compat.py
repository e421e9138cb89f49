"""Emitting signals must not unbalance the interpreter's reference counts (PySide6 6.12.0 bug guard)."""

from __future__ import annotations

import gc
import sys

from enlighten_desktop.ui.qt_compat import _Probe, emit


def bool_references() -> int:
    gc.collect()
    return sys.getrefcount(True) + sys.getrefcount(False)


def test_many_emits_leave_the_reference_counts_of_true_and_false_as_they_were() -> None:
    probe = _Probe()
    before = bool_references()
    for _ in range(500):
        emit(probe.ping)
    assert bool_references() == before
