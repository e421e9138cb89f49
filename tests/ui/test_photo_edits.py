"""The store of edits the photo view writes and the queue reads (Qt-free)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from enlighten_desktop.ui.photo_edits import PhotoEdits


def test_an_edit_is_kept_as_it_was_when_kept_and_forgotten_when_undone_to_nothing():
    edits, path = PhotoEdits(), Path("/photos/a.jpg")
    painted = np.zeros((4, 6), np.float32)
    painted[1, 2] = 0.5
    edits.keep_edit(path, painted)
    painted[1, 2] = -1.0  # the brush keeps painting into its own array
    handed = edits.edit(path)
    assert handed is not None and handed[1, 2] == 0.5
    handed[0, 0] = 1.0  # a queue run holding it does not change what is kept
    assert edits.edit(path)[0, 0] == 0.0

    edits.keep_edit(path, np.zeros((4, 6), np.float32))
    assert edits.edit(path) is None
    assert edits.edit(Path("/photos/other.jpg")) is None
