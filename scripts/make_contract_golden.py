"""Write the golden model of docs/MODEL_CONTRACT.md: a tiny ONNX file and the output it must give.

    .venv/bin/python scripts/make_contract_golden.py     # writes tests/golden/contract-golden.{onnx,npz}

The expected outputs are computed here by the contract's words alone, with numpy and ONNX Runtime (neither
the engine nor ``training`` is imported): pixels scaled to [-1, 1], attention 1 - Rec. 601 luma, both
reflect-padded on the bottom and right to the size multiple by ``numpy.pad(mode="reflect")`` (reflecting
back and forth where the pad is longer than the image), one run, crop, clamp to [-1, 1], back to [0, 1].
The app's tests (tests/engine/test_contract_golden.py) and the training tests
(tests/training/test_contract_golden.py) check their own implementations against these files. Re-run only
when the contract changes; the files are committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.model_factory import build_contract_model  # noqa: E402 - after the path is set

GOLDEN = REPO / "tests" / "golden"
# A photo smaller than the pad on both axes (5 x 7: pads of 11 and 9 rows/columns), where reflect has to
# turn back more than once, and one larger than its pads.
SIZES = {"small": (5, 7), "photo": (21, 37)}
LUMA_601 = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def golden_input(height: int, width: int, seed: int) -> np.ndarray:
    """H x W x 3 uint8: a dark gradient with noise, as a night photo's corner."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(10, 90, height * width, dtype=np.float32).reshape(height, width, 1)
    return np.clip(ramp + rng.normal(0, 12, (height, width, 3)), 0, 255).round().astype(np.uint8)


def expected_output(session: ort.InferenceSession, rgb8: np.ndarray, multiple: int) -> np.ndarray:
    """H x W x 3 float32 in [0, 1]: what the contract says a model run gives for ``rgb8``."""
    rgb = rgb8.astype(np.float32) / np.float32(255)
    attention = np.clip(1 - rgb @ LUMA_601, 0, 1)
    height, width = attention.shape
    pads = ((0, -height % multiple), (0, -width % multiple))
    image = np.pad(rgb * 2 - 1, (*pads, (0, 0)), mode="reflect").transpose(2, 0, 1)[None]
    attention = np.pad(attention, pads, mode="reflect")[None, None]
    (enhanced,) = session.run(["enhanced"], {"image": np.ascontiguousarray(image, np.float32),
                                             "attention": np.ascontiguousarray(attention, np.float32)})
    cropped = np.clip(enhanced[0, :, :height, :width], -1, 1).transpose(1, 2, 0)
    return ((cropped + 1) / 2).astype(np.float32)


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    model_path = GOLDEN / "contract-golden.onnx"
    onnx.save(build_contract_model(seed=15, metadata={"enlighten.model_name": "contract-golden"}), model_path)
    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    multiple = int(session.get_modelmeta().custom_metadata_map["enlighten.size_multiple"])
    arrays = {}
    for seed, (name, (height, width)) in enumerate(SIZES.items()):
        rgb8 = golden_input(height, width, seed)
        arrays[f"{name}_input"] = rgb8
        arrays[f"{name}_output"] = expected_output(session, rgb8, multiple)
    np.savez_compressed(GOLDEN / "contract-golden.npz", **arrays)


if __name__ == "__main__":
    main()
