"""A path field with its "…" browse button, as the export options and the preferences lay it out."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton


def path_row(field: QLineEdit, browse: Callable[[], None], tooltip: str) -> QHBoxLayout:
    """The field and a "…" button that calls ``browse``, side by side."""
    button = QPushButton("…")
    button.setToolTip(tooltip)
    button.clicked.connect(browse)
    row = QHBoxLayout()
    row.addWidget(field)
    row.addWidget(button)
    return row
