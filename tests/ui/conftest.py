"""UI test fixtures: isolated settings, the contract test model, small real photos, patched dialogs.

Everything is real (widgets offscreen, engine, ONNX Runtime, files on disk) except modal dialogs and the
OS file browser, which would block or open windows outside the test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from enlighten_desktop.ui.settings import AppSettings

WIDTH, HEIGHT = 256, 192
READY_MS = 20_000  # generous: the box is shared; these are not timing assertions


def write_photo(path: Path, *, seed: int = 0, width: int = WIDTH, height: int = HEIGHT) -> Path:
    """A dark, textured RGB JPEG (a night scene stand-in): gradients plus noise, values mostly < 0.4."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 0.05 + 0.3 * (x / width) * (y / height)
    rgb = np.stack([base * 1.1, base, base * 0.8], axis=-1) + rng.normal(0, 0.02, (height, width, 3))
    # A bright "window" in one corner, so attention varies across the photo.
    rgb[: height // 4, : width // 4] = 0.85
    pixels = (np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, quality=92)
    return path


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    return write_photo(tmp_path / "photos" / "night.jpg")


@pytest.fixture
def settings(tmp_path: Path) -> AppSettings:
    from PySide6.QtCore import QSettings

    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    app_settings = AppSettings(store=store)
    app_settings.queue_state_path = tmp_path / "state" / "queue.json"
    app_settings.tile = 64  # small tiles: several per photo, so progress and cancel are exercised
    app_settings.preview_side = 512
    return app_settings


class DialogCalls:
    """Records what the app asked of the OS instead of showing it."""

    def __init__(self) -> None:
        self.opened_urls: list[str] = []
        self.file_answers: list[str] = []


@pytest.fixture(autouse=True)
def patched_dialogs(monkeypatch: pytest.MonkeyPatch) -> DialogCalls:
    from PySide6.QtGui import QDesktopServices
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    calls = DialogCalls()
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: calls.opened_urls.append(url.toLocalFile()))
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: (list(calls.file_answers), ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: "")
    for name in ("information", "warning", "critical", "question"):
        monkeypatch.setattr(QMessageBox, name, lambda *a, **k: QMessageBox.StandardButton.Ok)
    return calls


@pytest.fixture
def make_window(qtbot, settings: AppSettings, contract_model_path: Path):
    """Build main windows on the isolated settings (several may share one persisted queue)."""
    from enlighten_desktop.ui.main_window import MainWindow

    def make(*, model_path: Path | None = contract_model_path, app_settings: AppSettings = settings):
        window = MainWindow(settings=app_settings, model_path=model_path)
        qtbot.addWidget(window)  # closed (and its workers stopped) at teardown
        window.resize(1000, 700)
        window.show()
        qtbot.waitExposed(window)
        return window

    return make


class RunCounter:
    """Counts runs of a real, loaded EnhancerModel by wrapping its bound ``run`` on the instance."""

    def __init__(self, model) -> None:
        self.calls = 0
        real = model.run

        def counting(image, attention):
            self.calls += 1
            return real(image, attention)

        model.run = counting


def wait_ready(qtbot, window, action) -> None:
    """Run ``action`` and wait until its result is computed and on screen."""
    with qtbot.waitSignal(window.session.stage_changed, timeout=READY_MS,
                          check_params_cb=lambda stage: stage == "ready"):
        action()
    qtbot.waitUntil(lambda: window.session.display_current, timeout=READY_MS)


def paint(pane, points: list[QPointF]) -> None:
    """A real mouse stroke on the view: press, moves with the button held, release."""
    def send(kind, pos, button, buttons):
        QApplication.sendEvent(pane, QMouseEvent(kind, pos, pane.mapToGlobal(pos), button, buttons,
                                                 Qt.KeyboardModifier.NoModifier))

    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    send(QMouseEvent.Type.MouseButtonPress, points[0], left, left)
    for point in points[1:]:
        send(QMouseEvent.Type.MouseMove, point, none, left)
    send(QMouseEvent.Type.MouseButtonRelease, points[-1], left, none)


def qimage_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()
