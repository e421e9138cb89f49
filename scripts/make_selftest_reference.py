"""Remake the selftest reference (resources/selftest/) for the shipped model. Rerun it whenever
resources/models/enlightengan.onnx (or its int8 variant) changes, and commit both files it writes:

    .venv/bin/python scripts/make_selftest_reference.py [--model F] [--int8 F] [--out DIR] [--sample NAME]

It enhances the sample on the CPU with the model (checksum verified, as the app does), stores the result
reduced to 8x8 box means with the model's SHA-256, and measures the tolerances: how far +-1 level of input
noise moves the result, and how far the int8 model is from the fp32 one (enlighten_desktop/selftest.py).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from enlighten_desktop.engine.model import default_model_path  # noqa: E402
from enlighten_desktop.selftest import DEFAULT_SAMPLE, default_reference_dir, make_reference  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path("fp32"),
                        help="default: the shipped model")
    parser.add_argument("--int8", type=Path, default=default_model_path("int8"),
                        help="int8 model that sets the provider tolerances (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=default_reference_dir(),
                        help="default: resources/selftest")
    parser.add_argument("--sample", default=DEFAULT_SAMPLE, help="a file in resources/samples")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    make_reference(model_path=args.model, out_dir=args.out, sample=args.sample, int8_path=args.int8)
    return 0


if __name__ == "__main__":
    sys.exit(main())
