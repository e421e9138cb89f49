"""The dark theme (the default: photos are judged against a neutral dark surround)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = QColor(232, 162, 58)  # warm amber: the "light" the app brings
WARNING = QColor(240, 190, 60)
ERROR = QColor(235, 95, 85)
OK = QColor(120, 200, 120)


def dark_palette() -> QPalette:
    """A neutral-grey palette so the photo, not the chrome, sets the eye's adaptation."""
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: QColor(38, 38, 40),
        QPalette.ColorRole.WindowText: QColor(220, 220, 222),
        QPalette.ColorRole.Base: QColor(28, 28, 30),
        QPalette.ColorRole.AlternateBase: QColor(44, 44, 47),
        QPalette.ColorRole.ToolTipBase: QColor(50, 50, 54),
        QPalette.ColorRole.ToolTipText: QColor(230, 230, 230),
        QPalette.ColorRole.PlaceholderText: QColor(130, 130, 135),
        QPalette.ColorRole.Text: QColor(220, 220, 222),
        QPalette.ColorRole.Button: QColor(52, 52, 56),
        QPalette.ColorRole.ButtonText: QColor(225, 225, 228),
        QPalette.ColorRole.BrightText: QColor(255, 255, 255),
        # A muted amber for selections: a loud one would pull the eye off the photo.
        QPalette.ColorRole.Highlight: QColor(112, 80, 36),
        QPalette.ColorRole.HighlightedText: QColor(250, 245, 235),
        QPalette.ColorRole.Link: ACCENT.lighter(120),
        QPalette.ColorRole.Light: QColor(70, 70, 74),
        QPalette.ColorRole.Midlight: QColor(58, 58, 62),
        QPalette.ColorRole.Mid: QColor(45, 45, 48),
        QPalette.ColorRole.Dark: QColor(25, 25, 27),
        QPalette.ColorRole.Shadow: QColor(10, 10, 10),
    }
    for role, color in roles.items():
        palette.setColor(role, color)
    disabled = QColor(120, 120, 124)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def apply_dark_theme(app: QApplication) -> None:
    """Fusion draws the same on every OS and honours the palette fully."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
