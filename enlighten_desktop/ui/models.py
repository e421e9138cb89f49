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

# ONNX Runtime would take every core; one is left to the GUI thread so the window never stutters.
UI_SESSION = SessionSettings(intra_op_threads=max(1, (os.cpu_count() or 2) - 1))


@dataclass(frozen=True)
class EngineConfig:
    """What the UI asks of the engine. ``model_path`` None means the shipped fp32 model."""

    model_path: Path | None = None
    provider: str = "auto"
    device: int = 0
    tile: int = 512
    preview_side: int = 1280

    def full_model(self) -> Path:
        return self.model_path if self.model_path is not None else default_model_path("fp32")

    def preview_model(self) -> Path:
        """The int8 variant beside the fp32 file (``<stem>-int8.onnx``) when present, else the fp32 file.

        For the shipped model this is resources/models/enlightengan-int8.onnx.
        """
        full = self.full_model()
        int8 = full.with_name(f"{full.stem}-int8{full.suffix}")
        return int8 if int8.is_file() else full

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
