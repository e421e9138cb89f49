"""Finishing touches on exported ONNX files: the contract metadata and the ``.sha256`` file beside each."""

from __future__ import annotations

import hashlib
from pathlib import Path

import onnx


def set_metadata(path: Path, metadata: dict[str, str], *, remove: tuple[str, ...] = ()) -> None:
    """Add or replace the model metadata ``metadata`` in the ONNX file at ``path``, and drop the keys
    ``remove``; validate the file."""
    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key not in metadata and p.key not in remove]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in metadata.items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def write_sha256(path: Path) -> Path:
    """Write ``<path>.sha256`` in ``sha256sum`` format (``<hex>  <file name>``) and return its path."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    checksum = path.with_name(path.name + ".sha256")
    checksum.write_text(f"{digest}  {path.name}\n")
    return checksum


def update_checksums(path: Path) -> None:
    """After ``path`` changed: rewrite its ``.sha256`` and its line in the ``SHA256SUMS`` beside it, where
    they exist (the engine refuses a model whose listed checksum disagrees)."""
    if path.with_name(path.name + ".sha256").is_file():
        write_sha256(path)
    listing = path.parent / "SHA256SUMS"
    if not listing.is_file():
        return
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    lines = [f"{digest}  {path.name}" if line.split()[-1:] == [path.name] else line
             for line in listing.read_text(encoding="utf-8").splitlines()]
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
