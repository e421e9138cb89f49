"""Which model files the app uses, and the loaded models, shared by every worker thread.

Loading builds an ONNX Runtime session (slow, and memory-hungry on a GPU), so each (file, provider,
device) is loaded once and reused; ONNX Runtime sessions may run from several threads at once.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from enlighten_desktop.engine.model import EnhancerModel, default_model_path
from enlighten_desktop.engine.providers import SessionSettings

# The quick preview's longest side: big enough to judge a photo on a laptop screen, small enough for ~1 s.
DEFAULT_PREVIEW_SIDE = 1280
# ONNX Runtime would take every core; one is left to the GUI thread so the window never stutters.
UI_SESSION = SessionSettings(intra_op_threads=max(1, (os.cpu_count() or 2) - 1))


def int8_path(full: Path) -> Path:
    """Where the int8 variant of fp32 model ``full`` lives: ``<stem>-int8.onnx`` beside it (for the shipped
    model, resources/models/enlightengan-int8.onnx), whether or not it exists."""
    return full.with_name(f"{full.stem}-int8{full.suffix}")


def int8_variant(full: Path) -> Path | None:
    """The int8 variant of fp32 model ``full`` when that file exists, else None."""
    int8 = int8_path(full)
    return int8 if int8.is_file() else None


def resolve_model(model_path: Path | None) -> Path:
    """The fp32 model file the app uses: ``model_path``, or the shipped model when it is None."""
    return model_path if model_path is not None else default_model_path("fp32")


@dataclass(frozen=True)
class EngineConfig:
    """What the UI asks of the engine. ``model_path`` None means the shipped fp32 model; ``export_int8``
    exports (and runs the viewer's full-resolution pass) with its int8 variant when there is one."""

    model_path: Path | None = None
    provider: str = "auto"
    device: int = 0
    tile: int | None = None  # None: the engine's automatic tile
    preview_side: int = DEFAULT_PREVIEW_SIDE
    export_int8: bool = False

    def full_model(self) -> Path:
        return resolve_model(self.model_path)

    def preview_model(self) -> Path:
        """The int8 variant of the fp32 file when present, else the fp32 file."""
        full = self.full_model()
        return int8_variant(full) or full

    def export_model(self) -> Path:
        """The model whose output is exported and shown at full resolution: the int8 variant when
        ``export_int8`` and it exists, else the fp32 file (the default: int8 is faster, fp32 more exact)."""
        return self.preview_model() if self.export_int8 else self.full_model()

    def missing_model_notice(self) -> str | None:
        """A sentence for the banner when the model file is absent, else None."""
        full = self.full_model()
        if full.is_file():
            return None
        return (
            f"No enhancement model found at {full}. You can still open and queue photos; to enhance them, "
            "install the model there or choose a model file in Preferences (Ctrl+,)."
        )


class ModelCache:
    """Loaded models keyed by (file, provider, device); ``get`` may be called from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[tuple[str, str, int], EnhancerModel] = {}

    def get(self, path: Path, *, provider: str, device: int) -> EnhancerModel:
        """The loaded model; raises the engine's ModelError / ProviderError when it cannot load."""
        key = (str(Path(path).resolve()), provider, device)
        with self._lock:
            model = self._models.get(key)
            if model is None:
                model = EnhancerModel.load(path, provider=provider, device=device, settings=UI_SESSION)
                self._models[key] = model
            return model

    def loaded(self) -> list[EnhancerModel]:
        with self._lock:
            return list(self._models.values())

    def clear(self) -> None:
        """Forget every model (after the user picks another file or device)."""
        with self._lock:
            self._models.clear()
