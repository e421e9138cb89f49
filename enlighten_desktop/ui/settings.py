"""Typed access to the app's remembered settings (a thin wrapper over QSettings).

Every value has a type and a default here, so the rest of the UI never sees QSettings' untyped variants.
Tests pass a QSettings backed by an INI file in a temporary folder, so they never touch the user's settings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from enlighten_desktop import APP_NAME
from enlighten_desktop.engine.formats import Format
from enlighten_desktop.engine.outputs import OutputOptions

ORGANISATION = "Enlighten"


def _as_bool(value: object) -> bool:
    # INI-backed QSettings returns "true"/"false" strings; native back-ends return bools.
    return value in (True, "true", "1", 1)


def _format_or_none(name: str) -> Format | None:
    """The stored output format; "" (as the source) or a name this version does not know: None."""
    try:
        return Format.parse(name) if name else None
    except ValueError:
        return None


class AppSettings:
    """Remembered preferences; every property reads and writes the store immediately."""

    def __init__(self, *, store: QSettings | None = None) -> None:
        self._store = store if store is not None else QSettings(ORGANISATION, APP_NAME)

    @property
    def store(self) -> QSettings:
        return self._store

    def _get(self, key: str, default: object, kind: type) -> object:
        value = self._store.value(key, default)
        if value is None or value == "":
            return default
        if kind is bool:
            return _as_bool(value)
        try:
            return kind(value)
        except (TypeError, ValueError):
            return default

    def _set(self, key: str, value: object) -> None:
        self._store.setValue(key, value)

    # -- model and device --------------------------------------------------------------------------
    @property
    def model_path(self) -> Path | None:
        """The fp32 model chosen in Preferences; None means the shipped default."""
        value = str(self._get("model/path", "", str))
        return Path(value) if value else None

    @model_path.setter
    def model_path(self, path: Path | None) -> None:
        self._set("model/path", str(path) if path else "")

    @property
    def provider(self) -> str:
        """Requested execution provider alias: auto, cpu, cuda, dml or coreml."""
        return str(self._get("model/provider", "auto", str))

    @provider.setter
    def provider(self, alias: str) -> None:
        self._set("model/provider", alias)

    @property
    def device(self) -> int:
        return int(self._get("model/device", 0, int))

    @device.setter
    def device(self, index: int) -> None:
        self._set("model/device", int(index))

    @property
    def export_int8(self) -> bool:
        """Export with the int8 variant of the model (faster, slightly less exact); fp32 by default."""
        return bool(self._get("model/export_int8", False, bool))

    @export_int8.setter
    def export_int8(self, value: bool) -> None:
        self._set("model/export_int8", bool(value))

    @property
    def tile(self) -> int:
        """Tile side in pixels for full-resolution runs (smaller tiles use less GPU memory)."""
        return int(self._get("model/tile", 1024, int))

    @tile.setter
    def tile(self, side: int) -> None:
        self._set("model/tile", int(side))

    @property
    def preview_side(self) -> int:
        """Longest side of the quick-preview proxy, in pixels."""
        return int(self._get("view/preview_side", 1280, int))

    @preview_side.setter
    def preview_side(self, side: int) -> None:
        self._set("view/preview_side", int(side))

    # -- adjustments and view ------------------------------------------------------------------------
    @property
    def strength(self) -> float:
        """Blend between original (0) and fully enhanced (1)."""
        return min(1.0, max(0.0, float(self._get("adjust/strength", 1.0, float))))

    @strength.setter
    def strength(self, value: float) -> None:
        self._set("adjust/strength", float(value))

    @property
    def overlay_opacity(self) -> float:
        return min(1.0, max(0.0, float(self._get("view/overlay_opacity", 0.5, float))))

    @overlay_opacity.setter
    def overlay_opacity(self, value: float) -> None:
        self._set("view/overlay_opacity", float(value))

    @property
    def brush_size(self) -> int:
        """Brush radius in image pixels of the working (proxy) resolution."""
        return int(self._get("brush/size", 40, int))

    @brush_size.setter
    def brush_size(self, radius: int) -> None:
        self._set("brush/size", int(radius))

    @property
    def brush_softness(self) -> float:
        return min(1.0, max(0.0, float(self._get("brush/softness", 0.5, float))))

    @brush_softness.setter
    def brush_softness(self, value: float) -> None:
        self._set("brush/softness", float(value))

    @property
    def recursive(self) -> bool:
        """Whether dropped or opened folders are searched in their sub-folders too."""
        return bool(self._get("input/recursive", True, bool))

    @recursive.setter
    def recursive(self, value: bool) -> None:
        self._set("input/recursive", bool(value))

    @property
    def last_folder(self) -> str:
        return str(self._get("input/last_folder", "", str))

    @last_folder.setter
    def last_folder(self, folder: str) -> None:
        self._set("input/last_folder", folder)

    # -- export ---------------------------------------------------------------------------------------
    def output_options(self) -> OutputOptions:
        """The export options of the batch; None for folder/format/bits means "as the source"."""
        folder = str(self._get("export/folder", "", str))
        fmt = str(self._get("export/format", "", str))
        bits = int(self._get("export/bits", 0, int))
        return OutputOptions(
            folder=Path(folder) if folder else None,
            format=_format_or_none(fmt),
            bits=bits or None,
            quality=int(self._get("export/quality", 95, int)),
            template=str(self._get("export/template", "{stem}_enlightened", str)),
        )

    def set_output_options(self, options: OutputOptions) -> None:
        self._set("export/folder", str(options.folder) if options.folder else "")
        self._set("export/format", options.format.value if options.format else "")
        self._set("export/bits", options.bits or 0)
        self._set("export/quality", int(options.quality))
        self._set("export/template", options.template)

    # -- files ----------------------------------------------------------------------------------------
    @property
    def queue_state_path(self) -> Path:
        """Where the batch queue is persisted so that it survives a crash or quit."""
        value = str(self._get("queue/state_path", "", str))
        if value:
            return Path(value)
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        return Path(base) / "queue.json"

    @queue_state_path.setter
    def queue_state_path(self, path: Path) -> None:
        self._set("queue/state_path", str(path))

    @property
    def window_geometry(self) -> QByteArray:
        value = self._store.value("window/geometry")
        return value if isinstance(value, QByteArray) else QByteArray()

    @window_geometry.setter
    def window_geometry(self, data: QByteArray) -> None:
        self._set("window/geometry", data)

    @property
    def window_state(self) -> QByteArray:
        value = self._store.value("window/state")
        return value if isinstance(value, QByteArray) else QByteArray()

    @window_state.setter
    def window_state(self, data: QByteArray) -> None:
        self._set("window/state", data)
