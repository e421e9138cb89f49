"""The state of a batch in a JSON file, so that an interrupted batch resumes where it stopped.

The file is written through ``safewrite`` after every item. Its path is checked before it is used: a folder,
a photo, or any file that is not a batch state is refused, since the file is rewritten during the batch and
deleted at its end.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from pathlib import Path
from typing import Any

from enlighten_desktop.engine.errors import BatchStateError, EnlightenError
from enlighten_desktop.engine.formats import SUPPORTED_SUFFIXES
from enlighten_desktop.engine.item import ItemResult, Status
from enlighten_desktop.engine.safewrite import write_file

log = logging.getLogger(__name__)


class BatchState:
    """Status of every item of a batch, kept in a JSON file rewritten atomically after each item.

    ``settings`` identify the batch (model, strength, options): a state file made with other settings is
    ignored, so changing a setting redoes the work. Only "done" items are not redone on resume.
    """

    def __init__(
        self, *, path: Path, settings: dict[str, object], items: dict[str, dict[str, Any]] | None = None
    ) -> None:
        self.path = path
        self.settings = settings
        self.items = items or {}

    @staticmethod
    def check_path(path: Path, *, inputs: Collection[Path] = ()) -> dict[str, Any] | None:
        """The state saved at ``path``, None when there is none yet. Raises BatchStateError when ``path`` is a
        folder, is named like a photo, is one of ``inputs`` (resolved), or exists and is not a batch state:
        it would be overwritten and, once the batch is done, deleted (``--state photos/*.jpg`` puts the
        first photo there)."""
        if path.is_dir():
            raise BatchStateError(f"the batch state {path} is a folder; name a file in it instead")
        if path.suffix.lower() in SUPPORTED_SUFFIXES or path.resolve() in inputs:
            raise BatchStateError(
                f"the batch state {path} is named like a photo, so it was left alone; name a .json file"
            )
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BatchStateError(f"the batch state {path} cannot be read: {exc.strerror or exc}") from exc
        saved = _parse_state(data)
        if saved is None:
            raise BatchStateError(
                f"{path} is not a batch state file, so it was left alone; name a new file or the state file "
                "of an earlier run"
            )
        return saved

    @classmethod
    def open(cls, path: Path, *, settings: dict[str, object], inputs: Collection[Path] = ()) -> BatchState:
        """The state at ``path`` if it belongs to a batch with these settings, else a fresh one; raises what
        ``check_path`` raises."""
        saved = cls.check_path(path, inputs=inputs)
        if saved is None:
            return cls(path=path, settings=settings)
        if saved["settings"] != settings:
            log.info("Batch state %s belongs to other settings; starting afresh", path)
            return cls(path=path, settings=settings)
        return cls(path=path, settings=settings, items=saved["items"])

    def is_done(self, source: Path) -> bool:
        return self.items.get(str(source.resolve()), {}).get("status") == Status.DONE

    def record(self, result: ItemResult) -> None:
        self.items[str(result.source.resolve())] = {
            "status": result.status.value,
            "output": None if result.output is None else str(result.output),
            "message": result.message,
        }
        self.save()

    def save(self) -> None:
        """Write the state (``safewrite``); BatchStateError says why it could not be."""
        data = json.dumps({"settings": self.settings, "items": self.items}, indent=1).encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_file(self.path, data, overwrite=True, verify=_check_state_file)
        except (OSError, EnlightenError) as exc:
            raise BatchStateError(f"The batch state could not be saved: {exc}") from exc

    def discard(self) -> None:
        """Delete the state file (a finished batch: a later run is a new batch, not a resume)."""
        self.path.unlink(missing_ok=True)


def _parse_state(data: bytes) -> dict[str, Any] | None:
    """The saved state (a dict with "settings" and "items"), or None when ``data`` is not one."""
    try:
        saved = json.loads(data)
    except ValueError:
        return None
    if not isinstance(saved, dict) or not isinstance(saved.get("items"), dict) or "settings" not in saved:
        return None
    return saved


def _check_state_file(path: Path) -> None:
    if _parse_state(path.read_bytes()) is None:
        raise ValueError("the batch state read back is not valid")
