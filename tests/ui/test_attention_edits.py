"""Attention-brush edits belong to their photo for the whole session: kept when the user looks at another
photo, undone by Reset, and used when the photo is exported."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QPointF

from enlighten_desktop.engine.formats import Format
from enlighten_desktop.engine.outputs import OutputOptions
from enlighten_desktop.ui.widgets.attention_overlay import heatmap_rgba
from tests.ui.conftest import paint, qimage_array, wait_ready, write_photo

PAINTED = (slice(18, 30), slice(20, 41))  # photo pixels under the stroke below (brush radius 20 px)
FAR = (slice(150, 192), slice(180, 256))  # beyond the model's reach from the stroke


def paint_stroke(qtbot, window) -> None:
    """Brighten ("add") a short horizontal stroke over the photo's bright top-left corner."""
    window.adjust.brush_size.setValue(10)  # proxy pixels; 20 photo pixels with the 128-px proxy
    window.adjust.softness.setValue(0)
    window.adjust.add.setChecked(True)
    window.adjust.brush.setChecked(True)
    pane, transform = window.compare.primary, window.compare.transform
    stroke = [transform.to_widget(QPointF(x, 24), pane.pane_size()) for x in (20, 40)]
    wait_ready(qtbot, window, lambda: paint(pane, stroke))


def select(qtbot, window, row: int) -> None:
    wait_ready(qtbot, window, lambda: window.queue_panel.table.selectRow(row))


def test_an_edit_survives_switching_to_another_photo_and_back_and_reset_clears_it(
        make_window, qtbot, tmp_path, settings) -> None:
    settings.preview_side = 128  # the edit is painted on a 128 x 96 proxy, the result is 256 x 192
    first = write_photo(tmp_path / "in" / "first.jpg")
    second = write_photo(tmp_path / "in" / "second.jpg", seed=1)
    window = make_window()
    wait_ready(qtbot, window, lambda: window.add_paths([first, second]))
    default = window.session.result.attention.copy()
    paint_stroke(qtbot, window)
    edited = window.session.result.attention.copy()
    assert window.session.result_is_full and (edited - default)[PAINTED].min() > 0.5

    select(qtbot, window, 1)
    assert window.session.path == second.resolve() and not window.session.brush.has_edits
    select(qtbot, window, 0)
    assert window.session.path == first.resolve() and window.session.result_is_full
    assert np.array_equal(window.session.result.attention, edited)  # preview and full run both edited
    shown = qimage_array(window.compare.primary.overlay[0])  # the heat-map shows the edit from the start
    assert np.array_equal(shown, heatmap_rgba(window.session.current_attention())[..., :3])

    wait_ready(qtbot, window, window.adjust.reset.click)
    assert np.array_equal(window.session.result.attention, default)
    select(qtbot, window, 1)
    select(qtbot, window, 0)
    assert not window.session.brush.has_edits
    assert np.array_equal(window.session.result.attention, default)


def test_exporting_the_queue_uses_each_photos_own_edit(make_window, qtbot, tmp_path, settings) -> None:
    settings.preview_side = 128
    edited = write_photo(tmp_path / "in" / "edited.jpg")
    plain = write_photo(tmp_path / "in" / "plain.jpg")  # the same pixels, never painted
    window = make_window()
    wait_ready(qtbot, window, lambda: window.add_paths([edited, plain]))
    paint_stroke(qtbot, window)
    on_screen = np.rint(window.session.result.enhanced * 255)  # the full-size result with the edit
    select(qtbot, window, 1)  # the edited photo is no longer on screen when the queue is exported
    out = tmp_path / "out"
    window.queue_panel.options.set_options(OutputOptions(folder=out, format=Format.PNG))
    with qtbot.waitSignal(window.runner.finished, timeout=30_000):
        window.queue_panel.export.click()

    assert [item.status for item in window.queue.items()] == ["done", "done"]
    with_edit, without = (np.asarray(Image.open(out / f"{name}_enlightened.png"), dtype=np.float32)
                          for name in ("edited", "plain"))
    assert np.abs(with_edit - on_screen).max() <= 1  # what the user saw, rounding aside
    # Brightened where painted (8-bit levels; measured +21 on the bright corner, where outputs near 255).
    assert with_edit[PAINTED].mean() > without[PAINTED].mean() + 10
    assert np.array_equal(with_edit[FAR], without[FAR])
