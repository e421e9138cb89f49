"""The photo on screen: load it, preview it on a proxy, enhance it at full size, blend, edit attention.

A JPEG's proxy comes from a reduced-scale decode, and the photo is read at full resolution only once the
preview of that proxy is on screen: on a 24-MP photo the full read takes seconds, the reduced one a tenth of
one. Other formats are read whole first and reduced (they have no cheap reduced decode).

All heavy work runs in workers; this object lives on the GUI thread, receives their results by signals and
re-emits display-ready QImages. A generation number discards results of a photo or edit that was replaced
while its work was still running. Attention edits are kept per photo for the whole session, so going back
to a photo shows it as it was left, and exporting it uses its edit.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QPointF, QTimer, Signal, Slot
from PySide6.QtGui import QImage

from enlighten_desktop.engine.attention import (
    ExposureGate,
    apply_attention_edit,
    default_attention,
    exposure_gain,
    resize_plane,
)
from enlighten_desktop.engine.errors import EnlightenError
from enlighten_desktop.engine.filters import DEFAULT_FILTERS, Filters
from enlighten_desktop.engine.imageio import LoadedImage, read_reduced_jpeg
from enlighten_desktop.engine.item import (
    Developed,
    FileStamp,
    ItemResult,
    Writer,
    develop,
    process_item,
    read_photo,
)
from enlighten_desktop.engine.outputs import NewFiles, OutputOptions
from enlighten_desktop.engine.pipeline import CancelToken, EnhanceResult, Progress, apply_strength, enhance
from enlighten_desktop.engine.providers import ProviderReport
from enlighten_desktop.engine.smoothing import auto_levels
from enlighten_desktop.ui.brush import AttentionBrush
from enlighten_desktop.ui.imaging import display_pyramid, fit_size, resize_rgb, to_qimage
from enlighten_desktop.ui.models import EngineConfig, ModelCache
from enlighten_desktop.ui.photo_edits import PhotoEdits
from enlighten_desktop.ui.photo_stage import PhotoStage
from enlighten_desktop.ui.widgets.attention_overlay import heatmap_image
from enlighten_desktop.ui.workers import Delivery, GeneratorWorker, WorkerPool, WorkFactory, call_work

log = logging.getLogger(__name__)

OVERLAY_INTERVAL_MS = 40  # heat-map refresh while painting: smooth enough, cheap enough
RENDER_DELAY_MS = 150  # after a stroke, before re-running the preview


@dataclass(frozen=True)
class Original:
    """The photo read at full resolution."""

    image: LoadedImage
    stamp: FileStamp  # the version of the file that ``image`` was read from
    before: tuple[QImage, ...]  # the original, ready to draw: full size first, then halvings


@dataclass(frozen=True)
class LoadedPhoto:
    """A photo's preview proxy. proxy: h x w x 3 float32 [0, 1]; attention: h x w."""

    width: int  # the photo's upright size at full resolution
    height: int
    proxy: np.ndarray
    proxy_attention: np.ndarray  # the default attention of the proxy
    before: tuple[QImage, ...]  # the original as far as read: its pyramid, or the proxy until it is read
    overlay: QImage  # heat-map of the attention the first run uses (the kept edit applied)
    edit: np.ndarray | None  # the edit kept from an earlier visit, h x w float32 [-1, 1]
    auto_smoothing: float  # the level automatic shadow smoothing gives the photo (from the proxy's mean luma)


def _read_original(path: Path, preview_side: int) -> Original:
    image, stamp = read_photo(path)
    return Original(image=image, stamp=stamp, before=display_pyramid(image.rgb, smallest_side=preview_side))


def preview_gate(models: ModelCache, config: EngineConfig) -> ExposureGate | None:
    """The exposure gate of the model that previews with ``config`` (loading it, as the preview will); None
    when it declares none or cannot load (the photo is still shown; the preview reports the error)."""
    try:
        model = models.get(config.preview_model(), provider=config.provider, device=config.device)
    except EnlightenError:
        return None
    return model.contract.exposure_gate


def _load(path: Path, preview_side: int, kept_edit: np.ndarray | None,
          gate: ExposureGate | None) -> tuple[LoadedPhoto, Original | None]:
    """The proxy, and the original when it had to be read whole to make the proxy (not a JPEG). The proxy's
    attention has ``gate``'s gain, from the proxy's mean luma (the full-size run takes it from the photo)."""
    reduced = read_reduced_jpeg(path, min_side=preview_side)
    original = _read_original(path, preview_side) if reduced is None else None
    if original is not None:
        rgb = original.image.rgb
        height, width = rgb.shape[:2]
    else:
        assert reduced is not None
        rgb, width, height = reduced.rgb, reduced.width, reduced.height
    proxy = resize_rgb(rgb, *fit_size(width, height, preview_side))
    attention = default_attention(proxy, exposure_gain(gate, proxy))
    edit = None
    if kept_edit is not None:
        # Resized only when the preview size was changed in the preferences since the edit was painted.
        edit = resize_plane(kept_edit, proxy.shape[1], proxy.shape[0]).copy()
    shown = attention if edit is None else apply_attention_edit(attention, edit)
    before = (to_qimage(proxy),) if original is None else original.before
    photo = LoadedPhoto(width=width, height=height, proxy=proxy, proxy_attention=attention, before=before,
                        overlay=heatmap_image(shown), edit=edit, auto_smoothing=auto_levels(proxy))
    return photo, original


class PhotoSession(QObject):
    """State and work for the current photo; the main window only connects signals to widgets."""

    photo_loaded = Signal(object, int, int)  # the original (QImages, maybe a proxy), full width, height
    original_ready = Signal(object)  # the original read at full resolution (QImages, full size first)
    result_ready = Signal(object)  # the blended result as QImages (proxy or full size, then halvings)
    overlay_ready = Signal(object)  # the heat-map of the attention the next run will use
    stage_changed = Signal(str)  # a PhotoStage
    progress = Signal(int, int)
    provider_changed = Signal(object)  # ProviderReport of the model that ran
    failed = Signal(str)
    exported = Signal(object)  # Path written

    def __init__(self, *, config: EngineConfig, models: ModelCache, edits: PhotoEdits | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.models = models
        self.edits = edits if edits is not None else PhotoEdits()
        self.path: Path | None = None
        self.photo: LoadedPhoto | None = None
        self.original: Original | None = None
        self.brush: AttentionBrush | None = None
        self.result: EnhanceResult | None = None
        self.result_is_full = False
        self.strength = 1.0
        self.filters = DEFAULT_FILTERS  # part of the model run, unlike the strength
        self._generation = 0
        self._work = WorkerPool(threads=1, parent=self)
        self._display = WorkerPool(threads=1, parent=self)
        self._current: GeneratorWorker | None = None
        # The full-resolution read, apart from ``_current``: a new preview (brush stroke) does not restart it.
        self._reader = WorkerPool(threads=1, parent=self)
        self._reading: GeneratorWorker | None = None
        self._full_wanted = False  # the latest render waits for the original to run at full resolution
        self._display_busy = False
        self._display_again = False
        self._displayed_result: EnhanceResult | None = None
        # The attention edit of the latest run (proxy size), which the full-size result and exports use.
        self.edit_in_use = np.zeros((0, 0), dtype=np.float32)
        self.filters_in_use = DEFAULT_FILTERS
        self.displayed_strength: float | None = None
        self._overlay_timer = QTimer(self, singleShot=True, interval=OVERLAY_INTERVAL_MS)
        self._overlay_timer.timeout.connect(self.refresh_overlay)
        self._render_timer = QTimer(self, singleShot=True, interval=RENDER_DELAY_MS)
        self._render_timer.timeout.connect(self.render)

    # -- opening -------------------------------------------------------------------------------------
    def open(self, path: Path) -> None:
        self._generation += 1
        self._cancel_current()
        if self._reading is not None:
            self._reading.cancel()
            self._reading = None
        path = Path(path)
        self.path, self.photo, self.original, self.brush, self.result = path, None, None, None, None
        self._full_wanted = False
        self.edits.keep_developed(None)  # the photo left is no longer on screen: its result is not kept
        self.stage_changed.emit(PhotoStage.LOADING)
        kept, config, models = self.edits.edit(path), self.config, self.models
        self._start(call_work(lambda: _load(path, config.preview_side, kept, preview_gate(models, config))),
                    self._on_loaded)

    def _keep_edit(self) -> None:
        """Put the brush's edit where the queue sees it (after a stroke, an undo, a reset)."""
        if self.path is not None and self.brush is not None:
            self.edits.keep_edit(self.path, self.brush.edit if self.brush.has_edits else None)

    def set_config(self, config: EngineConfig) -> None:
        """New model, device or tile size: re-run the current photo with it (opened again for another
        preview model: its exposure gate may give the proxy's attention another gain)."""
        reopen = self.path is not None and config.preview_model() != self.config.preview_model()
        self.config = config
        if reopen and self.path is not None:
            self.open(self.path)
        elif self.photo is not None:
            self.render()

    @Slot(object)
    def _on_loaded(self, loaded: tuple[LoadedPhoto, Original | None]) -> None:
        photo, self.original = loaded
        self.photo = photo
        height, width = photo.proxy.shape[:2]
        self.brush = AttentionBrush(height=height, width=width)
        if photo.edit is not None:
            self.brush.edit = photo.edit
        self.photo_loaded.emit(photo.before, photo.width, photo.height)
        self.overlay_ready.emit(photo.overlay)
        self.render()

    def _read_original(self) -> None:
        """Start the full-resolution read of the photo on screen, unless it is read or being read."""
        photo, path = self.photo, self.path
        if photo is None or path is None or self.original is not None or self._reading is not None:
            return
        side = self.config.preview_side
        worker = GeneratorWorker(factory=call_work(lambda: _read_original(path, side)))
        # Checked by identity: a result for a photo since replaced (even by the same file) is dropped.
        Delivery(worker, self, wanted=lambda: self.photo is photo, on_success=self._on_original,
                 on_failure=self._on_failed)
        worker.signals.done.connect(self._on_reading_done)
        self._reading = worker
        self._reader.start(worker)

    @Slot(object)
    def _on_original(self, original: Original) -> None:
        self.original = original
        self.original_ready.emit(original.before)
        if self._full_wanted:
            self._run_full()

    @Slot(object)
    def _on_reading_done(self, worker: GeneratorWorker) -> None:
        if worker is self._reading:
            self._reading = None

    # -- enhancement ---------------------------------------------------------------------------------
    def render(self) -> None:
        """Preview on the proxy now; the full-size result follows (skipped when the proxy is full size)."""
        if self.photo is None or self.brush is None:
            return
        notice = self.config.missing_model_notice()
        if notice:
            self.failed.emit(notice)
            self._read_original()  # no preview to wait for: the original can still be looked at
            return
        self._generation += 1
        self._cancel_current()
        self._full_wanted = False
        photo, edit, config, filters = self.photo, self.brush.edit.copy(), self.config, self.filters
        self.edit_in_use = edit  # the full-size run that follows uses this same edit and these filters
        self.filters_in_use = filters
        if self._preview_is_final():
            self.stage_changed.emit(PhotoStage.ENHANCING)
            self._run_full()
            return

        def preview(token: CancelToken) -> Generator[Progress, None, EnhanceResult]:
            model = self.models.get(config.preview_model(), provider=config.provider, device=config.device)
            attention = apply_attention_edit(photo.proxy_attention, edit)
            return (yield from enhance(model, photo.proxy, attention=attention, filters=filters,
                                       tile=config.tile, cancel=token))

        self.stage_changed.emit(PhotoStage.PREVIEW)
        self._start(preview, self._on_preview)

    def _preview_is_final(self) -> bool:
        """A photo no bigger than the proxy, previewed with the model it exports with, needs only one run."""
        photo, config = self.photo, self.config
        return photo is not None and photo.proxy.shape[:2] == (photo.height, photo.width) and (
            config.preview_model() == config.export_model())

    @Slot(object)
    def _on_preview(self, result: EnhanceResult) -> None:
        self._show(result, full=False)
        if self.photo is not None and self.brush is not None:
            self.stage_changed.emit(PhotoStage.FULL)
            self._run_full()

    def _run_full(self) -> None:
        """The full-size run: the engine's own ``develop``, with the export's model and tile, so the result
        on screen is the very one the exports write (they reuse it). Without the original yet, it runs
        once the original is read: after the preview is on screen (``_on_display``), or at once when
        nothing is on screen yet (a photo whose preview is final)."""
        original, edit, filters = self.original, self.edit_in_use, self.filters_in_use
        config = self.config
        if original is None:
            self._full_wanted = True
            if self.result is None:
                self._read_original()
            return
        self._full_wanted = False

        def full(token: CancelToken) -> Generator[Progress, None, Developed]:
            model = self.models.get(config.export_model(), provider=config.provider, device=config.device)
            return (yield from develop(model, original.image, original.stamp, attention_edit=edit,
                                       filters=filters, tile=config.tile, cancel=token))

        self._start(full, self._on_full)

    @Slot(object)
    def _on_full(self, developed: Developed) -> None:
        self.edits.keep_developed(developed)
        self._show(developed.result, full=True)
        self.stage_changed.emit(PhotoStage.READY)

    def _show(self, result: EnhanceResult, *, full: bool) -> None:
        self.result, self.result_is_full = result, full
        self.provider_changed.emit(result.provider)
        self.render_display()

    def set_filters(self, filters: Filters) -> None:
        """New filters (shadow smoothing, noise reduction): the model runs again, after a pause (a slider
        being dragged)."""
        self.filters = filters
        if self.photo is not None:
            self._render_timer.start()

    # -- strength (no model run: a blend of the kept original and result) ------------------------------
    def set_strength(self, strength: float) -> None:
        self.strength = strength
        self.render_display()

    def render_display(self) -> None:
        if self.result is None:
            return
        if self._display_busy:
            self._display_again = True  # coalesce: only the latest strength is drawn
            return
        self._display_busy = True
        result, strength = self.result, self.strength
        worker = GeneratorWorker(factory=call_work(
            lambda: (display_pyramid(apply_strength(result.original, result.enhanced, strength),
                                     smallest_side=self.config.preview_side), result, strength)))
        worker.on_success(self._on_display)
        worker.on_failure(self._on_failed)
        worker.signals.done.connect(self._on_display_done)
        self._display.start(worker)

    @Slot(object)
    def _on_display(self, shown: tuple[tuple[QImage, ...], EnhanceResult, float]) -> None:
        image, self._displayed_result, self.displayed_strength = shown
        self.result_ready.emit(image)
        if self._displayed_result is self.result:  # not a late one of the photo before
            self._read_original()

    @property
    def display_current(self) -> bool:
        """True once the view shows the latest result at the latest strength."""
        return self._displayed_result is self.result and self.displayed_strength == self.strength

    @Slot(object)
    def _on_display_done(self, _worker: object) -> None:
        self._display_busy = False
        if self._display_again:
            self._display_again = False
            self.render_display()

    # -- attention brush -----------------------------------------------------------------------------
    def _to_edit(self, point: QPointF) -> tuple[float, float]:
        assert self.photo is not None and self.brush is not None
        edit_h, edit_w = self.brush.shape
        return point.x() * edit_w / self.photo.width, point.y() * edit_h / self.photo.height

    def edit_scale(self) -> float:
        """Full-photo pixels per edit-map pixel (to draw the brush at its true size)."""
        if self.photo is None or self.brush is None:
            return 1.0
        return self.photo.width / self.brush.shape[1]

    def begin_stroke(self, point: QPointF) -> None:
        if self.brush is not None:
            self._render_timer.stop()
            self.brush.begin(*self._to_edit(point))
            self._overlay_timer.start()

    def continue_stroke(self, point: QPointF) -> None:
        if self.brush is not None:
            self.brush.move(*self._to_edit(point))
            if not self._overlay_timer.isActive():
                self._overlay_timer.start()

    def end_stroke(self) -> None:
        if self.brush is not None:
            self.brush.end()
            self._keep_edit()
            self.refresh_overlay()
            self._render_timer.start()

    def undo_edit(self) -> None:
        if self.brush is not None and self.brush.undo():
            self._keep_edit()
            self.refresh_overlay()
            self.render()

    def reset_edit(self) -> None:
        if self.brush is not None and self.brush.has_edits:
            self.brush.reset()
            self._keep_edit()
            self.refresh_overlay()
            self.render()

    def current_attention(self) -> np.ndarray | None:
        """The proxy-size attention map the next run will use (H x W float32 [0, 1])."""
        if self.photo is None or self.brush is None:
            return None
        return apply_attention_edit(self.photo.proxy_attention, self.brush.edit)

    @Slot()
    def refresh_overlay(self) -> None:
        attention = self.current_attention()
        if attention is not None:
            self.overlay_ready.emit(heatmap_image(attention))

    # -- export of the photo on screen (with its brush edits and strength) -----------------------------
    @property
    def developed(self) -> Developed | None:
        """The full-size result of the photo on screen, once computed (kept in ``edits`` for the queue)."""
        return None if self.path is None else self.edits.developed(self.path)

    def write_work(self, writer: Writer) -> WorkFactory[ItemResult] | None:
        """Work that writes the photo on screen with ``writer`` as the queue would (``process_item``),
        reusing the full-size result on screen at the current strength; None until that result is ready."""
        developed, source = self.developed, self.path
        if developed is None or not self.result_is_full or source is None:
            return None
        config, strength = self.config, self.strength
        edit, filters = self.edit_in_use, self.filters_in_use

        def write(token: CancelToken) -> Generator[Progress, None, ItemResult]:
            model = self.models.get(config.export_model(), provider=config.provider, device=config.device)
            return (yield from process_item(model, source, writer, strength=strength, filters=filters,
                                            tile=config.tile, attention_edit=edit, cancel=token,
                                            reuse=developed))

        return write

    def export(self, options: OutputOptions) -> None:
        """"Export current photo": new files named by ``options`` (no original replaced, attention map
        when asked), from the result on screen."""
        work = self.write_work(NewFiles(options))
        if work is None:
            self.failed.emit("The full-size result is not ready yet; export again when it is.")
            return
        self._display.run(work, on_success=self._on_exported, on_failure=self._on_failed)

    @Slot(object)
    def _on_exported(self, result: ItemResult) -> None:
        self.exported.emit(result.output)

    # -- plumbing ------------------------------------------------------------------------------------
    def _start(self, factory, on_success) -> None:
        generation = self._generation
        worker = GeneratorWorker(factory=factory)
        Delivery(worker, self, wanted=lambda: generation == self._generation, on_success=on_success,
                 on_failure=self._on_failed, on_progress=self.progress.emit)
        worker.signals.done.connect(self._on_work_done)
        self._current = worker
        self._work.start(worker)

    @Slot(object)
    def _on_work_done(self, worker: GeneratorWorker) -> None:
        if worker is self._current:
            self._current = None

    @property
    def idle(self) -> bool:
        """No load, preview or full run pending or running, and the view shows the latest result."""
        return self._current is None and self._reading is None and not self._render_timer.isActive() and (
            self.result is None or self.display_current)

    def _cancel_current(self) -> None:
        if self._current is not None:
            self._current.cancel()
            self._current = None

    @Slot(object)
    def _on_failed(self, error: Exception) -> None:
        self.failed.emit(str(error) or type(error).__name__)
        self.stage_changed.emit(PhotoStage.FAILED)

    def shutdown(self) -> None:
        self._cancel_current()
        self._work.cancel_all()
        self._reader.cancel_all()
        self._work.wait()
        self._reader.wait()
        self._display.wait()

    def active_provider(self) -> ProviderReport | None:
        return None if self.result is None else self.result.provider
