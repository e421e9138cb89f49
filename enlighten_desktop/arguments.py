"""argparse types for the command line's options: a value out of range is a usage error (exit status 2) that
says what is allowed, not a value clamped, a crash later, or a file written outside the output folder."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path


def strength(text: str) -> float:
    """0 = the original, 1 = the full effect; nan and infinities are refused."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {text!r}")
    return value


def int_range(low: int, high: int | None = None) -> Callable[[str], int]:
    """A type for whole numbers from ``low`` to ``high`` (None: no upper bound)."""
    allowed = f"from {low} to {high}" if high is not None else f"of {low} or more"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number {allowed}, not {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be a whole number {allowed}, not {text!r}")
        return value

    parse.__name__ = "whole number"  # what argparse calls the type in its own messages
    return parse


def template(text: str) -> str:
    from enlighten_desktop.engine.outputs import check_template  # the engine is imported when it is needed

    try:
        return check_template(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def state_path(text: str) -> Path:
    """A new file or an earlier batch state; never a folder or a photo (which the batch would delete)."""
    from enlighten_desktop.engine.batch_state import BatchState
    from enlighten_desktop.engine.errors import BatchStateError

    path = Path(text)
    try:
        BatchState.check_path(path)
    except BatchStateError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return path
