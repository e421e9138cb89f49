"""Ways to enhance one 8-bit RGB image for evaluation: the exported ONNX model, a gamma-curve baseline, and
the tone-curve target a run fits its generator to.

Every enhancer maps an [H, W, 3] uint8 RGB image to an [H, W, 3] uint8 RGB image, so the evaluation treats the
model and its baselines alike. The ONNX model is run exactly as docs/MODEL_CONTRACT.md says the engine runs it
(training shares the file format with the app, never its code): image scaled to [-1, 1], attention
``1 - luma601`` as a separate input, reflect padding to the size multiple (the contract's rule, for small
images too), crop, clamp. tests/golden holds a model and the results this must give.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from training.config import LossConfig
from training.data import to_tensor
from training.losses import tone_target

Enhancer = Callable[[np.ndarray], np.ndarray]
"""[H, W, 3] uint8 RGB -> [H, W, 3] uint8 RGB."""

LUMA601 = np.array([0.299, 0.587, 0.114])
GAMMA_TARGET_MEAN = 0.4
"""Mean luminance (Y of BT.601 on [0, 1]) the gamma baseline aims at."""


def gamma_curve(rgb: np.ndarray, *, target_mean: float = GAMMA_TARGET_MEAN) -> np.ndarray:
    """The global gamma baseline: out = in ** g on every channel, g = log(target) / log(mean luminance).

    rgb: [H, W, 3] uint8. The closed form puts the mean luminance near ``target_mean`` (exactly for a flat
    image). Black images are returned unchanged (no exponent lifts zero).
    """
    image01 = rgb.astype(np.float64) / 255.0
    mean = float((image01 @ LUMA601).mean())
    if mean <= 0.0 or mean >= 1.0:
        return rgb.copy()
    exponent = np.log(target_mean) / np.log(mean)
    return to_uint8(image01**exponent)


class ToneTargetEnhancer:
    """The tone-curve target of a run's settings (``loss.tone_*``; :func:`training.losses.tone_target`)
    applied exactly to the whole image, with no network: what a supervised run on that target would reach
    if the generator fitted it perfectly, so a target can be scored before hours are spent training toward
    it. The target is computed on the whole image, where training computes it per crop (its noise estimate
    and local contrast see the crop)."""

    def __init__(self, loss: LossConfig) -> None:
        self.loss = loss

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """[H, W, 3] uint8 RGB -> the target, [H, W, 3] uint8 RGB."""
        with torch.no_grad():
            target = tone_target(to_tensor(rgb / 255.0)[None], self.loss)
        return to_uint8((target[0].permute(1, 2, 0).numpy() + 1.0) / 2.0)


def to_uint8(image01: np.ndarray) -> np.ndarray:
    """[..., 3] float in [0, 1] (values outside are clipped) -> uint8 with rounding."""
    return np.round(np.clip(image01, 0.0, 1.0) * 255.0).astype(np.uint8)


def exposure_gain(image01: np.ndarray, gate: tuple[float, float] | None) -> float:
    """The contract's exposure gate (``enlighten.exposure_gate`` = ``low,high``): 1 - smoothstep((m - low) /
    (high - low)) for the mean luma601 m of the whole image, so 1 up to ``low`` and 0 from ``high``; 1
    without a gate. image01: [H, W, 3] float RGB in [0, 1]."""
    if gate is None:
        return 1.0
    low, high = gate
    mean = float(np.tensordot(image01.reshape(-1, 3).sum(axis=0, dtype=np.float64), LUMA601, axes=1))
    t = min(1.0, max(0.0, (mean / (image01.shape[0] * image01.shape[1]) - low) / (high - low)))
    return 1.0 - t * t * (3.0 - 2.0 * t)


def parse_gate(text: str | None) -> tuple[float, float] | None:
    """``"0.25,0.45"`` -> (0.25, 0.45); None or "" (no gate) -> None; ValueError when malformed."""
    if not text:
        return None
    parts = [float(v) for v in text.replace(" ", "").split(",")]
    if len(parts) != 2 or not 0.0 <= parts[0] < parts[1] <= 1.0:
        raise ValueError(f"exposure gate '{text}' is not 'low,high' with 0 <= low < high <= 1")
    return parts[0], parts[1]


def contract_inputs(image01: np.ndarray, gate: tuple[float, float] | None = None) -> dict[str, np.ndarray]:
    """[H, W, 3] float RGB in [0, 1] -> the contract's inputs by name: ``image`` [1, 3, H, W] float32 in
    [-1, 1] and ``attention`` [1, 1, H, W] float32 = (1 - luma601) times the exposure ``gate``'s gain
    (unpadded)."""
    chw = np.ascontiguousarray(image01.transpose(2, 0, 1), dtype=np.float32)[None]
    attention = 1.0 - np.tensordot(LUMA601.astype(np.float32), chw[0], axes=1)[None, None]
    gain = exposure_gain(image01, gate)
    if gain != 1.0:
        attention *= np.float32(gain)
    return {"image": chw * 2.0 - 1.0, "attention": attention}


class OnnxEnhancer:
    """An exported generator run with ONNX Runtime on the CPU, one whole image at a time.

    Whole-image inference needs about 1.7 GB per megapixel at the paper's width, which suits evaluation sets
    (well under a megapixel each); the app tiles instead.

    Args:
        path: ONNX file following docs/MODEL_CONTRACT.md.
        threads: intra-op threads (None: ONNX Runtime's default, one per core).
    """

    def __init__(self, *, path: Path, threads: int | None = None) -> None:
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        if self.metadata.get("enlighten.contract") != "1":
            raise ValueError(
                f"{path} is not an enlighten contract-1 model (enlighten.contract = "
                f"{self.metadata.get('enlighten.contract')!r})"
            )
        self.size_multiple = int(self.metadata["enlighten.size_multiple"])
        self.gate = parse_gate(self.metadata.get("enlighten.exposure_gate"))

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """[H, W, 3] uint8 RGB -> enhanced [H, W, 3] uint8 RGB."""
        return to_uint8(self.enhance01(rgb.astype(np.float32) / 255.0))

    def enhance01(self, image01: np.ndarray) -> np.ndarray:
        """[H, W, 3] float RGB in [0, 1] -> enhanced [H, W, 3] float32 in [0, 1] (clamped, unrounded)."""
        h, w = image01.shape[:2]
        feeds = {name: self._pad(x) for name, x in contract_inputs(image01, self.gate).items()}
        (enhanced,) = self.session.run(["enhanced"], feeds)
        out = (np.clip(enhanced[0, :, :h, :w], -1.0, 1.0) + 1.0) / 2.0
        return out.transpose(1, 2, 0)

    def _pad(self, x: np.ndarray) -> np.ndarray:
        """Pad bottom and right of [1, C, H, W] to the size multiple by the contract's one rule: reflect
        without repeating the edge, turning back again where the pad is longer than the image (what
        ``np.pad(mode="reflect")`` does for any pad; a 1-pixel axis repeats its pixel)."""
        h, w = x.shape[-2:]
        pad_h, pad_w = (-h) % self.size_multiple, (-w) % self.size_multiple
        return np.pad(x, ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), mode="reflect")
