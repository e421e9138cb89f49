"""The controls of the photo on screen, wired once for every window that shows one.

``PhotoControls`` connects an AdjustPanel (strength, shadow smoothing, noise reduction, heat-map, attention
brush) and a CompareView to a PhotoSession, and remembers the choices in AppSettings. The main window and the
review window of the editor hand-off both use it, so the two behave alike.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QImage

from enlighten_desktop.ui.photo_session import PhotoSession
from enlighten_desktop.ui.settings import AppSettings
from enlighten_desktop.ui.widgets.adjust_panel import SMOOTHING_STEPS_PER_LEVEL, AdjustPanel
from enlighten_desktop.ui.widgets.compare_view import CompareView


class PhotoControls(QObject):
    """Wires ``adjust`` and ``compare`` to ``session``; restores and records the choices in ``settings``."""

    def __init__(self, *, session: PhotoSession, compare: CompareView, adjust: AdjustPanel,
                 settings: AppSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.compare, self.adjust, self.settings = session, compare, adjust, settings
        self._overlay: QImage | None = None
        session.strength = settings.strength
        adjust.strength.setValue(round(settings.strength * 100))
        session.filters = settings.filters
        adjust.smoothing.setValue(round(settings.smoothing * SMOOTHING_STEPS_PER_LEVEL))
        adjust.auto_smoothing.setChecked(settings.auto_smoothing)
        adjust.photo_colour.setValue(round(settings.photo_colour * 100))
        adjust.colour_noise.setValue(round(settings.colour_noise * 100))
        adjust.luminance_noise.setValue(round(settings.luminance_noise * 100))
        adjust.opacity.setValue(round(settings.overlay_opacity * 100))
        adjust.brush_size.setValue(settings.brush_size)
        adjust.softness.setValue(round(settings.brush_softness * 100))

        session.photo_loaded.connect(self._on_photo_loaded)
        session.original_ready.connect(compare.set_before)
        session.result_ready.connect(compare.set_after)
        session.overlay_ready.connect(self._on_overlay)
        compare.stroke_started.connect(session.begin_stroke)
        compare.stroke_moved.connect(session.continue_stroke)
        compare.stroke_finished.connect(session.end_stroke)
        adjust.strength.valueChanged.connect(self._on_strength)
        for slider in (adjust.smoothing, adjust.photo_colour, adjust.colour_noise, adjust.luminance_noise):
            slider.valueChanged.connect(self._on_filters)
        adjust.auto_smoothing.toggled.connect(self._on_filters)
        adjust.show_overlay.toggled.connect(lambda _on: self.update_overlay())
        adjust.opacity.valueChanged.connect(lambda _v: self.update_overlay())
        adjust.brush.toggled.connect(self._on_brush_toggled)
        adjust.brush_size.valueChanged.connect(lambda _v: self.apply_brush())
        adjust.softness.valueChanged.connect(lambda _v: self.apply_brush())
        adjust.subtract.toggled.connect(lambda _v: self.apply_brush())
        adjust.undo.clicked.connect(session.undo_edit)
        adjust.reset.clicked.connect(session.reset_edit)

    @Slot(object, int, int)
    def _on_photo_loaded(self, before: tuple[QImage, ...], width: int, height: int) -> None:
        self.compare.set_images(before=before, after=None, width=width, height=height)
        photo = self.session.photo
        self.adjust.set_auto_level(None if photo is None else photo.auto_smoothing)
        self.apply_brush()

    def _on_overlay(self, image: QImage) -> None:
        self._overlay = image
        self.update_overlay()

    def update_overlay(self) -> None:
        opacity = self.adjust.opacity.value() / 100
        self.settings.overlay_opacity = opacity
        shown = self.adjust.show_overlay.isChecked() and self._overlay is not None
        self.compare.set_overlay(self._overlay if shown else None, opacity)

    def _on_strength(self, value: int) -> None:
        self.settings.strength = value / 100
        self.session.set_strength(value / 100)

    def _on_filters(self, _value: int | bool) -> None:
        adjust = self.adjust
        self.settings.smoothing = adjust.smoothing.value() / SMOOTHING_STEPS_PER_LEVEL
        self.settings.auto_smoothing = adjust.auto_smoothing.isChecked()
        self.settings.photo_colour = adjust.photo_colour.value() / 100
        self.settings.colour_noise = adjust.colour_noise.value() / 100
        self.settings.luminance_noise = adjust.luminance_noise.value() / 100
        self.session.set_filters(self.settings.filters)

    def _on_brush_toggled(self, on: bool) -> None:
        if on:
            self.adjust.show_overlay.setChecked(True)  # painting blind is guesswork
        self.apply_brush()

    def toggle_subtract(self) -> None:
        (self.adjust.add if self.adjust.subtract.isChecked() else self.adjust.subtract).setChecked(True)

    def scale_brush(self, factor: float) -> None:
        slider = self.adjust.brush_size
        size = slider.value()
        slider.setValue(max(size + 1, round(size * factor)) if factor > 1 else round(size * factor))

    def apply_brush(self) -> None:
        adjust, brush = self.adjust, self.session.brush
        self.settings.brush_size = adjust.brush_size.value()
        self.settings.brush_softness = adjust.softness.value() / 100
        if brush is not None:
            brush.radius = float(adjust.brush_size.value())
            brush.softness = adjust.softness.value() / 100
            brush.subtract = adjust.subtract.isChecked()
        on = adjust.brush.isChecked()
        self.compare.set_brush_radius(adjust.brush_size.value() * self.session.edit_scale() if on else None)
