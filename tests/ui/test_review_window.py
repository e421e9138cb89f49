"""The review window of the editor hand-off: Save writes over the file as the host expects, Cancel and a
failed save leave it byte for byte. Real widgets offscreen, the real engine and contract model, real files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PySide6.QtCore import Qt

from enlighten_desktop.edit_command import FAILED, NOT_SAVED, SAVED
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.pipeline import apply_strength, enhance, run_to_end
from enlighten_desktop.ui.models import EngineConfig, ModelCache
from enlighten_desktop.ui.review_window import ReviewWindow

ICC = b"\0\0\x02\x0cfake-profile-bytes-kept-verbatim"
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/><!-- xmp:Rating="5" --></x:xmpmeta>'


def write_tiff16(path: Path) -> Path:
    """A dark 16-bit TIFF with ICC and XMP, deflate-compressed, as a host exports it."""
    pixels = np.rint(np.random.default_rng(2).uniform(0.03, 0.3, (64, 96, 3)) * 65535).astype(np.uint16)
    tifffile.imwrite(path, pixels, photometric="rgb", compression="zlib", iccprofile=ICC,
                     extratags=[(700, "B", len(XMP), XMP, True)], metadata=None)
    return path


@pytest.fixture
def tiff16(tmp_path) -> Path:
    return write_tiff16(tmp_path / "IMG_0007.tif")


def show_review(qtbot, path: Path, settings, model_path: Path) -> ReviewWindow:
    config = EngineConfig(model_path=model_path, provider="cpu", tile=settings.tile,
                          preview_side=settings.preview_side)
    window = ReviewWindow(path=path, settings=settings, config=config, models=ModelCache())
    qtbot.addWidget(window)
    window.show()
    return window


def open_review(qtbot, path: Path, settings, model_path: Path) -> ReviewWindow:
    """A review window whose full-size result is ready to save."""
    window = show_review(qtbot, path, settings, model_path)
    qtbot.waitUntil(window.save_button.isEnabled, timeout=30000)
    return window


def test_save_writes_the_full_result_at_the_chosen_strength_over_the_file(qtbot, tiff16, settings,
                                                                          contract_model_path):
    original = tifffile.imread(tiff16).astype(np.float32) / 65535
    window = open_review(qtbot, tiff16, settings, contract_model_path)
    window.adjust.strength.setValue(40)
    with qtbot.waitSignal(window.finished, timeout=30000) as finished:
        qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)
    assert finished.args[0].result == SAVED
    assert not window.isVisible()

    with tifffile.TiffFile(tiff16) as tif:
        page = tif.pages.first
        assert page.dtype == np.uint16 and page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        assert page.tags["InterColorProfile"].value == ICC and page.tags["XMP"].value == XMP
        saved = page.asarray() / 65535
    model = EnhancerModel.load(contract_model_path, provider="cpu")
    full = run_to_end(enhance(model, original, tile=settings.tile,
                              filters=settings.filters)).enhanced
    np.testing.assert_allclose(saved, apply_strength(original, full, 0.4), atol=1e-4)
    assert saved.mean() > original.mean() + 0.01


def test_cancel_after_edits_leaves_the_file_byte_for_byte(qtbot, tiff16, settings, contract_model_path):
    before = tiff16.read_bytes()
    window = open_review(qtbot, tiff16, settings, contract_model_path)
    window.adjust.strength.setValue(70)
    cancel = window.buttons.button(window.buttons.StandardButton.Cancel)
    with qtbot.waitSignal(window.finished, timeout=10000) as finished:
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert finished.args[0].result == NOT_SAVED
    assert tiff16.read_bytes() == before


def test_closing_the_window_or_pressing_escape_is_a_cancel(qtbot, tiff16, settings, contract_model_path):
    before = tiff16.read_bytes()
    window = open_review(qtbot, tiff16, settings, contract_model_path)
    with qtbot.waitSignal(window.finished, timeout=10000) as finished:
        window.close()
    assert finished.args[0].result == NOT_SAVED and tiff16.read_bytes() == before

    window = open_review(qtbot, tiff16, settings, contract_model_path)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    with qtbot.waitSignal(window.finished, timeout=10000) as finished:
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert finished.args[0].result == NOT_SAVED and not window.isVisible()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_a_failed_save_says_why_keeps_the_window_and_the_file(qtbot, tiff16, settings, contract_model_path):
    before = tiff16.read_bytes()
    window = open_review(qtbot, tiff16, settings, contract_model_path)
    tiff16.chmod(0o444)  # the host (or the user) locked it meanwhile
    window.save()
    qtbot.waitUntil(lambda: "read-only" in window.banner.text(), timeout=10000)
    assert window.isVisible() and window.outcome is None and window.save_button.isEnabled()
    assert tiff16.read_bytes() == before
    tiff16.chmod(0o644)  # fixed: saving again works
    with qtbot.waitSignal(window.finished, timeout=30000) as finished:
        window.save()
    assert finished.args[0].result == SAVED and tiff16.read_bytes() != before


def test_a_photo_that_cannot_be_enhanced_closes_as_failed_and_untouched(qtbot, tiff16, settings, tmp_path):
    before = tiff16.read_bytes()
    window = show_review(qtbot, tiff16, settings, tmp_path / "no-such-model.onnx")
    qtbot.waitUntil(lambda: "No enhancement model" in window.banner.text(), timeout=10000)
    assert not window.save_button.isEnabled()
    with qtbot.waitSignal(window.finished, timeout=10000) as finished:
        window.close()
    assert finished.args[0].result == FAILED and "No enhancement model" in finished.args[0].message
    assert tiff16.read_bytes() == before
