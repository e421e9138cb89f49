"""Where the photo on screen stands, and what the status line says about it (both windows)."""

from __future__ import annotations

from enlighten_desktop.engine.textenum import TextEnum


class PhotoStage(TextEnum):
    """Where the photo on screen stands; a preview-sized photo is enhanced in one run ("enhancing")."""

    LOADING = "loading"
    PREVIEW = "preview"
    ENHANCING = "enhancing"
    FULL = "full"
    READY = "ready"
    FAILED = "failed"

    @property
    def running(self) -> bool:
        """Whether the model is running (progress is reported)."""
        return self in (PhotoStage.PREVIEW, PhotoStage.ENHANCING, PhotoStage.FULL)

    @property
    def label(self) -> str:
        """What the status line says."""
        return _STAGE_LABELS[self]


_STAGE_LABELS = {
    PhotoStage.LOADING: "Opening…", PhotoStage.PREVIEW: "Quick preview…", PhotoStage.ENHANCING: "Enhancing…",
    PhotoStage.FULL: "Full resolution…", PhotoStage.READY: "Ready.",
    PhotoStage.FAILED: "Could not enhance this photo.",
}
