"""``python -m training gate``: set (or remove) the exposure gate of exported models without re-exporting.

The gate is metadata only (``enlighten.exposure_gate``, docs/MODEL_CONTRACT.md): the graph and its weights
stay as they are, the checksum files beside each model (``.sha256``, ``SHA256SUMS``) are rewritten.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training.export import add_gate_argument
from training.onnx_files import set_metadata, update_checksums

KEY = "enlighten.exposure_gate"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training gate",
        description="Set (or remove) the exposure gate of exported models without re-exporting them "
        "(docs/MODEL_CONTRACT.md); the checksum files beside each model are rewritten.")
    parser.add_argument("models", nargs="+", type=Path, metavar="MODEL", help="exported .onnx files")
    add_gate_argument(parser)
    args = parser.parse_args(argv)
    for path in args.models:
        if not path.is_file():
            parser.error(f"no such model file: {path}")
    for path in args.models:
        if args.exposure_gate is None:
            set_metadata(path, {}, remove=(KEY,))
        else:
            set_metadata(path, {KEY: args.exposure_gate})
        update_checksums(path)
        sys.stdout.write(f"{path}: exposure gate {args.exposure_gate or 'none'}\n")
    return 0
