"""The app's remembered settings, declared in one table (as vorta's ``store/settings.py`` does).

Each ``Setting`` names its key in the store, its type and its default; the engine's own defaults (name
template, JPEG quality; the automatic tile unless one is set) are read from the engine rather than
repeated, and ``AppSettings.engine_config`` builds what the engine is asked for in one place. The rest of
the UI never sees QSettings' untyped variants.
Tests pass a QSettings backed by an INI file in a temporary folder, so they never touch the user's settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from enlighten_desktop import APP_NAME
from enlighten_desktop.engine.filters import DEFAULT_FILTERS, Filters
from enlighten_desktop.engine.formats import Format
from enlighten_desktop.engine.outputs import OutputOptions
from enlighten_desktop.engine.smoothing import MAX_LEVELS
from enlighten_desktop.ui.models import DEFAULT_PREVIEW_SIDE, EngineConfig

ORGANISATION = "Enlighten"
_DEFAULT_OUTPUT = OutputOptions()
Value = TypeVar("Value")


def _as_bool(value: object) -> bool:
    # INI-backed QSettings returns "true"/"false" strings; native back-ends return bools.
    return value in (True, "true", "1", 1)


def _unit(value: object) -> float:
    """A fraction in [0, 1] (a blend, an opacity); out-of-range values are clamped."""
    return min(1.0, max(0.0, float(value)))  # type: ignore[arg-type]


def _smoothing(value: object) -> float:
    """Shadow smoothing in levels; out-of-range values are clamped to what the engine accepts."""
    return min(MAX_LEVELS, max(0.0, float(value)))  # type: ignore[arg-type]


def _optional_path(value: object) -> Path | None:
    return Path(str(value)) if value else None


def _optional_bits(value: object) -> int | None:
    """8 or 16; 0 (as the source): None."""
    return int(value) or None  # type: ignore[call-overload]


def _optional_tile(value: object) -> int | None:
    """A tile side in px; 0 (automatic): None."""
    return int(value) or None  # type: ignore[call-overload]


def _optional_format(value: object) -> Format | None:
    """"" (as the source) or a name this version does not know: None."""
    try:
        return Format.parse(str(value)) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Setting(Generic[Value]):
    """One remembered value: ``key`` in the store, ``default``, ``read`` turning a stored variant into the
    value (a ValueError or TypeError there gives the default), ``write`` the value into what is stored."""

    key: str
    default: Value
    read: Callable[[Any], Value]
    write: Callable[[Value], object] = lambda value: value
    doc: str = ""

    @overload
    def __get__(self, settings: None, owner: type) -> Setting[Value]: ...
    @overload
    def __get__(self, settings: AppSettings, owner: type) -> Value: ...

    def __get__(self, settings: AppSettings | None, owner: type) -> Setting[Value] | Value:
        if settings is None:
            return self
        stored = settings.store.value(self.key, None)
        if stored is None or stored == "":
            return self.default
        try:
            return self.read(stored)
        except (TypeError, ValueError):
            return self.default

    def __set__(self, settings: AppSettings, value: Value) -> None:
        settings.store.setValue(self.key, self.write(value))


class AppSettings:
    """Remembered preferences; every attribute reads and writes the store immediately."""

    # -- model and device --------------------------------------------------------------------------
    model_path = Setting[Path | None]("model/path", None, _optional_path, lambda p: str(p) if p else "",
                                      doc="The fp32 model chosen in Preferences; None: the shipped model.")
    provider = Setting("model/provider", "auto", str, doc="Execution provider: auto, cpu, cuda, dml, coreml.")
    device = Setting("model/device", 0, int)
    export_int8 = Setting("model/export_int8", False, _as_bool,
                          doc="Export with the int8 variant (faster, slightly less exact); fp32 by default.")
    tile = Setting[int | None]("model/tile", None, _optional_tile, lambda tile: tile or 0,
                               doc="Tile side in px of full-resolution runs; None: the engine's automatic "
                                   "tile, the largest whose model run fits its memory budget.")
    preview_side = Setting("view/preview_side", DEFAULT_PREVIEW_SIDE, int,
                           doc="Longest side of the quick-preview proxy, in px.")
    # -- adjustments and view ------------------------------------------------------------------------
    strength = Setting("adjust/strength", 1.0, _unit, doc="Blend of original (0) and fully enhanced (1).")
    smoothing = Setting("adjust/smoothing", DEFAULT_FILTERS.smoothing, _smoothing,
                        doc="Shadow smoothing in 8-bit levels before the lift (0 = off), when not automatic.")
    auto_smoothing = Setting("adjust/auto_smoothing", DEFAULT_FILTERS.auto_smoothing, _as_bool,
                             doc="Shadow smoothing chosen per photo by its darkness instead of the levels.")
    photo_colour = Setting("adjust/photo_colour", DEFAULT_FILTERS.photo_colour, _unit,
                           doc="The photo's own colour on the lifted pixels, 0 (the model's) to 1 (full).")
    colour_noise = Setting("adjust/colour_noise", DEFAULT_FILTERS.colour_noise, _unit,
                           doc="Colour noise reduction after the lift, 0 (off) to 1 (full).")
    luminance_noise = Setting("adjust/luminance_noise", DEFAULT_FILTERS.luminance_noise, _unit,
                              doc="Luminance noise reduction after the lift, 0 (off) to 1 (strongest).")
    overlay_opacity = Setting("view/overlay_opacity", 0.5, _unit)
    brush_size = Setting("brush/size", 40, int, doc="Brush radius in px of the working (proxy) resolution.")
    brush_softness = Setting("brush/softness", 0.5, _unit)
    recursive = Setting("input/recursive", True, _as_bool,
                        doc="Whether opened folders are searched in their sub-folders too.")
    last_folder = Setting("input/last_folder", "", str)
    # -- export (None for folder/format/bits means "as the source") ----------------------------------
    export_folder = Setting[Path | None]("export/folder", None, _optional_path, lambda p: str(p) if p else "")
    export_format = Setting[Format | None]("export/format", None, _optional_format,
                                           lambda fmt: fmt.value if fmt else "")
    export_bits = Setting[int | None]("export/bits", None, _optional_bits, lambda bits: bits or 0)
    export_quality = Setting("export/quality", _DEFAULT_OUTPUT.quality, int)
    export_template = Setting("export/template", _DEFAULT_OUTPUT.template, str)

    def __init__(self, *, store: QSettings | None = None) -> None:
        self._store = store if store is not None else QSettings(ORGANISATION, APP_NAME)

    @property
    def store(self) -> QSettings:
        return self._store

    def engine_config(self, *, model_path: Path | None = None) -> EngineConfig:
        """What the engine is asked for, from these settings; ``model_path`` (e.g. from the command line)
        overrides the chosen model."""
        return EngineConfig(model_path=model_path or self.model_path, provider=self.provider,
                            device=self.device, tile=self.tile, preview_side=self.preview_side,
                            export_int8=self.export_int8)

    @property
    def filters(self) -> Filters:
        """The shadow smoothing, photo colour and noise reduction chosen (each stored on its own, clamped to
        its range)."""
        return Filters.chosen(smoothing=None if self.auto_smoothing else self.smoothing,
                              photo_colour=self.photo_colour, colour_noise=self.colour_noise,
                              luminance_noise=self.luminance_noise)

    def output_options(self) -> OutputOptions:
        """The export options of the batch and of "export current"."""
        return OutputOptions(folder=self.export_folder, format=self.export_format, bits=self.export_bits,
                             quality=self.export_quality, template=self.export_template)

    def set_output_options(self, options: OutputOptions) -> None:
        self.export_folder, self.export_format = options.folder, options.format
        self.export_bits = options.bits
        self.export_quality = options.quality
        self.export_template = options.template

    # -- files ----------------------------------------------------------------------------------------
    @property
    def queue_state_path(self) -> Path:
        """Where the batch queue is persisted so that it survives a crash or quit."""
        value = str(self._store.value("queue/state_path", "") or "")
        if value:
            return Path(value)
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        return Path(base) / "queue.json"

    @queue_state_path.setter
    def queue_state_path(self, path: Path) -> None:
        self._store.setValue("queue/state_path", str(path))

    @property
    def window_geometry(self) -> QByteArray:
        value = self._store.value("window/geometry")
        return value if isinstance(value, QByteArray) else QByteArray()

    @window_geometry.setter
    def window_geometry(self, data: QByteArray) -> None:
        self._store.setValue("window/geometry", data)

    @property
    def window_state(self) -> QByteArray:
        value = self._store.value("window/state")
        return value if isinstance(value, QByteArray) else QByteArray()

    @window_state.setter
    def window_state(self, data: QByteArray) -> None:
        self._store.setValue("window/state", data)
