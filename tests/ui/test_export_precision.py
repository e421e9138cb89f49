"""Previews use the int8 model; exports use fp32 unless the user ticks "Export with the int8 model" in
Preferences. Two DIFFERENT contract models stand in for fp32 and its ``-int8`` sibling, so an export shows
which of them produced it. Real widgets offscreen, the real engine and ONNX Runtime, real files.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from enlighten_desktop.engine.filters import DEFAULT_FILTERS
from enlighten_desktop.engine.formats import Format
from enlighten_desktop.engine.imageio import read_image
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.outputs import OutputOptions
from enlighten_desktop.engine.pipeline import enhance, run_to_end
from enlighten_desktop.ui.models import EngineConfig
from enlighten_desktop.ui.settings import AppSettings
from enlighten_desktop.ui.widgets.preferences_dialog import PreferencesDialog
from tests.model_factory import write_contract_model
from tests.ui.conftest import wait_ready

BATCH_MS = 30_000  # generous: the box is shared; these are not timing assertions


@pytest.fixture
def model_pair(tmp_path: Path) -> tuple[Path, Path]:
    """An fp32 model and, beside it as ``<stem>-int8.onnx``, a model with other weights."""
    folder = tmp_path / "models"
    folder.mkdir()
    fp32 = write_contract_model(folder / "lit.onnx", seed=0)
    int8 = write_contract_model(folder / "lit-int8.onnx", seed=5, metadata={"enlighten.precision": "int8"})
    return fp32, int8


def engine_levels(model_path: Path, photo: Path, tile: int) -> np.ndarray:
    """What the engine alone makes of ``photo`` with ``model_path``, in 8-bit levels (float32), with the
    default filters but photo colour, which would replace most of what tells these two test models apart
    (colour)."""
    model = EnhancerModel.load(model_path, provider="cpu")
    filters = replace(DEFAULT_FILTERS, photo_colour=0.0)
    result = run_to_end(enhance(model, read_image(photo).rgb, tile=tile, filters=filters))
    return np.rint(np.clip(result.enhanced, 0, 1) * 255).astype(np.float32)


def choose_in_preferences(qtbot, window, *, export_int8: bool) -> None:
    """Open Preferences from the window, set the checkbox with a click if needed, press OK."""
    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, PreferencesDialog)
        if dialog.export_int8.isChecked() != export_int8:
            qtbot.mouseClick(dialog.export_int8, Qt.MouseButton.LeftButton)
        dialog.accept()

    QTimer.singleShot(0, answer)
    window.show_preferences()


def export_queue(qtbot, window, photo: Path, out: Path) -> np.ndarray:
    """Queue ``photo`` afresh, export it as PNG into ``out`` and return the written levels."""
    window.runner.remove_rows(list(range(window.queue.rowCount())))
    window.queue_panel.options.set_options(OutputOptions(folder=out, format=Format.PNG))
    window.add_paths([photo])
    with qtbot.waitSignal(window.runner.finished, timeout=BATCH_MS):
        window.queue_panel.export.click()
    assert [item.status for item in window.queue.items()] == ["done"]
    return np.asarray(Image.open(out / f"{photo.stem}_enlightened.png"), dtype=np.float32)


def test_exports_and_the_full_view_use_fp32_by_default_and_int8_when_chosen(
        make_window, qtbot, tmp_path, settings, photo, model_pair) -> None:
    fp32, int8 = model_pair
    settings.model_path = fp32
    settings.photo_colour = 0.0  # as engine_levels: keep what tells the two models apart
    settings.preview_side = 128  # a 128 x 96 preview, then the viewer's own full-resolution run
    expected_fp32 = engine_levels(fp32, photo, settings.tile)
    expected_int8 = engine_levels(int8, photo, settings.tile)
    # Most values must differ by more than the 1-level tolerance below, or the checks could not tell the
    # models apart (measured: 64 % of them, by up to 12 levels).
    assert (np.abs(expected_fp32 - expected_int8) > 1).mean() > 0.5

    window = make_window(model_path=None)  # the model chosen in Preferences (settings), as for a user
    assert not settings.export_int8
    wait_ready(qtbot, window, lambda: window.add_paths([photo]))
    assert window.session.result_is_full
    assert np.abs(np.rint(window.session.result.enhanced * 255) - expected_fp32).max() <= 1
    exported = export_queue(qtbot, window, photo, tmp_path / "out-fp32")
    assert np.abs(exported - expected_fp32).max() <= 1

    wait_ready(qtbot, window, lambda: choose_in_preferences(qtbot, window, export_int8=True))
    assert settings.export_int8
    # The viewer re-ran the photo: at full resolution it now shows what the int8 model gives.
    assert window.session.result_is_full
    assert np.abs(np.rint(window.session.result.enhanced * 255) - expected_int8).max() <= 1
    exported = export_queue(qtbot, window, photo, tmp_path / "out-int8")
    assert np.abs(exported - expected_int8).max() <= 1
    # "Export current photo" writes the viewer's result: the same model's.
    window.queue_panel.options.set_options(OutputOptions(folder=tmp_path / "out-current", format=Format.PNG))
    with qtbot.waitSignal(window.session.exported, timeout=BATCH_MS) as saved:
        window.export_current()
    assert np.abs(np.asarray(Image.open(saved.args[0]), dtype=np.float32) - expected_int8).max() <= 1

    wait_ready(qtbot, window, lambda: choose_in_preferences(qtbot, window, export_int8=False))
    assert not settings.export_int8
    exported = export_queue(qtbot, window, photo, tmp_path / "out-fp32-again")
    assert np.abs(exported - expected_fp32).max() <= 1


def test_the_int8_choice_round_trips_and_is_greyed_out_without_an_int8_model(
        qtbot, tmp_path, settings, model_pair, contract_model_path) -> None:
    fp32, _int8 = model_pair
    settings.model_path = fp32
    dialog = PreferencesDialog(settings=settings)
    qtbot.addWidget(dialog)
    assert dialog.export_int8.isEnabled() and not dialog.export_int8.isChecked()
    qtbot.mouseClick(dialog.export_int8, Qt.MouseButton.LeftButton)
    assert dialog.export_int8.isChecked()
    dialog.apply()
    settings.store.sync()

    reopened = AppSettings(store=type(settings.store)(settings.store.fileName(), settings.store.format()))
    assert reopened.export_int8 is True
    again = PreferencesDialog(settings=reopened)
    qtbot.addWidget(again)
    assert again.export_int8.isEnabled() and again.export_int8.isChecked()

    # contract_model_path has no "-int8" file beside it: the choice cannot apply, and the box says so.
    again.model_path.setText(str(contract_model_path))
    assert not again.export_int8.isEnabled() and not again.export_int8.isChecked()
    assert "No int8 variant" in again.export_int8.toolTip()
    lonely = EngineConfig(model_path=contract_model_path, export_int8=True)
    assert lonely.export_model() == lonely.preview_model() == contract_model_path
    # Back on a model with an int8 variant, the user's choice is still there.
    again.model_path.setText(str(fp32))
    assert again.export_int8.isEnabled() and again.export_int8.isChecked()
    qtbot.mouseClick(again.export_int8, Qt.MouseButton.LeftButton)
    again.apply()
    assert reopened.export_int8 is False
