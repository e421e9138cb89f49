"""The attention brush paints bounded, undoable edits (numpy only)."""

from __future__ import annotations

import numpy as np

from enlighten_desktop.ui.brush import AttentionBrush


def test_a_stroke_adds_where_painted_and_nowhere_else() -> None:
    brush = AttentionBrush(height=100, width=200, radius=10, softness=0.0, flow=0.5)
    brush.begin(20, 50)
    brush.move(120, 50)
    brush.end()
    assert np.allclose(brush.edit[50, 20:121], 0.5)  # the whole line, no gaps between dabs
    assert brush.edit[50, 150] == 0 and brush.edit[5, 60] == 0


def test_overlapping_dabs_in_one_stroke_do_not_build_up_but_a_second_stroke_does() -> None:
    brush = AttentionBrush(height=50, width=50, radius=8, softness=0.5, flow=0.4)
    brush.begin(25, 25)
    for _ in range(20):
        brush.move(25.5, 25)
        brush.move(25, 25)
    brush.end()
    assert np.isclose(brush.edit.max(), 0.4)
    brush.begin(25, 25)
    brush.end()
    assert np.isclose(brush.edit.max(), 0.8)


def test_softness_makes_the_edge_fall_off() -> None:
    hard = AttentionBrush(height=60, width=60, radius=20, softness=0.0, flow=1.0)
    soft = AttentionBrush(height=60, width=60, radius=20, softness=1.0, flow=1.0)
    for brush in (hard, soft):
        brush.begin(30, 30)
        brush.end()
    assert hard.edit[30, 45] == 1.0
    assert 0.0 < soft.edit[30, 45] < 0.5


def test_subtract_undo_and_reset() -> None:
    brush = AttentionBrush(height=40, width=40, radius=5, softness=0.0, flow=0.7)
    brush.subtract = True
    brush.begin(10, 10)
    brush.end()
    assert np.isclose(brush.edit[10, 10], -0.7)
    brush.subtract = False
    brush.begin(30, 30)
    brush.end()
    assert brush.undo()
    assert brush.edit[30, 30] == 0 and np.isclose(brush.edit[10, 10], -0.7)
    brush.reset()
    assert not brush.has_edits
    assert brush.undo()  # reset is undoable
    assert np.isclose(brush.edit[10, 10], -0.7)
    assert brush.undo() and not brush.has_edits and not brush.undo()
