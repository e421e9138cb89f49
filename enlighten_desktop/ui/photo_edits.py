"""What the user did to each photo in this session, kept where the photo view and the queue both see it.

Qt-free, owned by the window: the photo view (``PhotoSession``) writes each photo's attention-brush edit when
a stroke ends, an undo or a reset, and the full-size result it computed; the queue (``BatchRunner``) reads
them to export a photo as it looks on screen, reusing that result rather than running the model again.
Everything here is used on the GUI thread only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from enlighten_desktop.engine.item import Developed


class PhotoEdits:
    """Attention edits by photo (h x w float32 in [-1, 1] at the photo's preview size) for the whole session,
    and the full-size result of the photo on screen (one at a time: it is as big as the photo, twice)."""

    def __init__(self) -> None:
        self._edits: dict[Path, np.ndarray] = {}
        self._developed: Developed | None = None

    def edit(self, path: Path) -> np.ndarray | None:
        """A copy of the edit of ``path`` (the caller may run with it while painting goes on), or None."""
        edit = self._edits.get(path)
        return None if edit is None else edit.copy()

    def keep_edit(self, path: Path, edit: np.ndarray | None) -> None:
        """Remember ``edit`` (copied) for ``path``; None, or an edit undone to nothing, forgets it."""
        if edit is None or not np.any(edit):
            self._edits.pop(path, None)
        else:
            self._edits[path] = edit.copy()

    def developed(self, path: Path) -> Developed | None:
        """The full-size result kept for photo ``path``, if it is the one kept."""
        developed = self._developed
        return developed if developed is not None and developed.image.path == path else None

    def keep_developed(self, developed: Developed | None) -> None:
        """Keep ``developed`` (the photo on screen's full-size result) in place of the one kept before."""
        self._developed = developed
