"""Which files in a folder this program wrote, so that overwriting can replace those and nothing else.

A name cannot tell an earlier result from a photo (``--template '{stem}'`` names results like their sources),
so each folder that receives results keeps a small hidden record, ``.enlighten-outputs.json``: the name, size
and modification time of every result written there. A file counts as an earlier result only while it still
has the size and time recorded: a copied-in photo of the same name, or a result edited since, is an original.
Losing the record (deleted, disk full) only makes overwriting refuse; it never lets an original be replaced.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from .errors import EnlightenError
from .safewrite import write_file

log = logging.getLogger(__name__)

LEDGER_NAME = ".enlighten-outputs.json"
_KIND = "enlighten-desktop outputs"
# Read-modify-write of a record: the app writes from more than one worker thread.
_lock = threading.Lock()


def _stamp(path: Path) -> list[int]:
    info = path.stat()
    return [info.st_size, info.st_mtime_ns]


def _recorded(folder: Path) -> dict[str, list[int]]:
    try:
        saved = json.loads((folder / LEDGER_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        log.warning("Ignoring the unreadable record of results in %s: %s", folder, err)
        return {}
    outputs = saved.get("outputs") if isinstance(saved, dict) and saved.get("kind") == _KIND else None
    return outputs if isinstance(outputs, dict) else {}


def _unchanged(folder: Path) -> dict[str, list[int]]:
    """The recorded results of ``folder`` that still have the size and time they were written with."""
    kept = {}
    for name, stamp in _recorded(folder).items():
        try:
            if _stamp(folder / name) == stamp:
                kept[name] = stamp
        except OSError:
            continue  # deleted or moved since: not a result here any more
    return kept


def earlier_outputs(folder: Path) -> set[str]:
    """Names of the files in ``folder`` that are this program's results, unchanged since written."""
    return set(_unchanged(folder))


def is_earlier_output(path: Path) -> bool:
    return path.name in earlier_outputs(path.parent)


def record_output(path: Path) -> None:
    """Note ``path`` (just written) as a result. A failure is logged, not raised: the result is saved, and
    an unrecorded result is merely one that overwriting will not replace."""
    folder = path.parent
    with _lock:
        # Entries of files since deleted are dropped; the others are not re-checked here (a changed file no
        # longer matches its entry anyway), which keeps a save in a folder of thousands of results cheap.
        try:
            present = {entry.name for entry in os.scandir(folder)}
            outputs = {name: stamp for name, stamp in _recorded(folder).items() if name in present}
            outputs[path.name] = _stamp(path)
            data = json.dumps({"kind": _KIND, "outputs": outputs}, indent=0).encode()
            write_file(folder / LEDGER_NAME, data, overwrite=True)
        except (OSError, EnlightenError) as err:
            log.warning(
                "%s was saved but could not be recorded as a result (%s); overwriting will leave it alone",
                path,
                err,
            )
