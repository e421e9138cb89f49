"""The one-line notice above the photo, in both windows."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel

from enlighten_desktop.ui import theme


class Banner(QLabel):
    """A one-line notice above the photo: missing model, CPU fallback, a failed photo, batch done."""

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setOpenExternalLinks(False)
        self.setContentsMargins(10, 6, 10, 6)
        self.hide()

    def show_message(self, text: str, colour: QColor = theme.WARNING) -> None:
        self.setStyleSheet(f"background: {colour.darker(260).name()}; color: {colour.lighter(130).name()};")
        self.setText(text)
        self.show()
