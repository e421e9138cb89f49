"""Shortcuts, preferences and exporting the photo on screen (with its brush edit and strength)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from enlighten_desktop.engine.imageio import read_image
from enlighten_desktop.engine.pipeline import apply_strength
from enlighten_desktop.ui.widgets.compare_view import CompareMode
from enlighten_desktop.ui.widgets.preferences_dialog import PreferencesDialog
from tests.ui.conftest import READY_MS, wait_ready


def test_keyboard_shortcuts_drive_the_view(make_window, qtbot, photo) -> None:
    window = make_window()
    wait_ready(qtbot, window, lambda: window.add_paths([photo]))
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.compare.setFocus()
    qtbot.keyClick(window.compare, Qt.Key.Key_Y)
    assert window.compare.mode == CompareMode.SIDE_BY_SIDE
    qtbot.keyClick(window.compare, Qt.Key.Key_Backslash)
    assert window.compare.mode == CompareMode.BEFORE
    qtbot.keyClick(window.compare, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.compare.transform.zoom_percent == pytest.approx(200)
    qtbot.keyClick(window.compare, Qt.Key.Key_A)
    assert window.adjust.show_overlay.isChecked()
    qtbot.keyClick(window.compare, Qt.Key.Key_B)
    assert window.adjust.brush.isChecked() and window.compare.primary.brush_radius is not None


def test_preferences_are_applied_and_remembered(make_window, qtbot, monkeypatch, settings) -> None:
    window = make_window()

    def accept(dialog: PreferencesDialog) -> int:
        dialog.provider.setCurrentIndex(dialog.provider.findData("cpu"))
        dialog.tile.setValue(192)
        dialog.recursive.setChecked(False)
        return 1

    monkeypatch.setattr(PreferencesDialog, "exec", accept)
    window.show_preferences()
    assert (settings.provider, settings.tile, settings.recursive) == ("cpu", 192, False)
    assert window.session.config.provider == "cpu" and window.session.config.tile == 192


def test_the_automatic_tile_is_offered_and_remembered(make_window, monkeypatch, settings) -> None:
    window = make_window()
    shown = []

    def accept(dialog: PreferencesDialog) -> int:
        shown.append(dialog.tile.text())
        dialog.tile.setValue(0)  # the spin box's lowest value reads "Automatic"
        shown.append(dialog.tile.text())
        return 1

    monkeypatch.setattr(PreferencesDialog, "exec", accept)
    window.show_preferences()
    assert shown == ["64 px", "Automatic"]  # the tests' own tile, then the automatic one
    assert settings.tile is None and window.session.config.tile is None


def test_export_current_writes_the_edited_result_beside_the_original_once(make_window, qtbot, photo) -> None:
    window = make_window()
    wait_ready(qtbot, window, lambda: window.add_paths([photo]))
    original_bytes = photo.read_bytes()
    session = window.session
    session.begin_stroke(QPointF(200, 150))
    session.end_stroke()
    wait_ready(qtbot, window, lambda: None)  # the stroke's re-render starts shortly after the release
    window.adjust.strength.setValue(50)
    qtbot.waitUntil(lambda: session.display_current, timeout=READY_MS)
    with qtbot.waitSignal(session.exported, timeout=READY_MS) as written:
        window.export_current()
    target = written.args[0]
    assert target == photo.with_name("night_enlightened.jpg")
    expected = apply_strength(session.result.original, session.result.enhanced, 0.5)
    assert np.abs(read_image(target).rgb - expected).mean() < 0.02  # JPEG round trip
    assert photo.read_bytes() == original_bytes

    with qtbot.waitSignal(session.failed, timeout=READY_MS):  # a second export never overwrites
        window.export_current()
    assert "already exists" in window.banner.text()
