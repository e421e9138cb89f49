"""The base of this program's enumerations of words (formats, statuses, stages)."""

from __future__ import annotations

from enum import Enum


class TextEnum(str, Enum):
    """Members are their text: they compare equal to it, go into JSON and Qt signals as it, and print as it
    (Python 3.11 formats a plain ``(str, Enum)`` member as ``Class.NAME``). ``enum.StrEnum`` needs 3.11."""

    def __str__(self) -> str:
        return str(self.value)
