"""``enlighten-desktop selftest``: an installed (frozen) app proves it works, end to end.

It loads the model (checksum verified), enhances a bundled sample with the best provider and with the CPU,
compares the CPU result with a stored reference and the best provider's result with the CPU's, and reports
the provider that really ran. A missing hidden import, data file or provider library fails it loudly.

The reference (``resources/selftest/``) belongs to one model file: ``reference.json`` records the model's
SHA-256, the sample, the tolerances and the measurements they came from; ``reference.png`` holds the CPU
result reduced to BLOCK x BLOCK box means (16-bit PNG, a few kB). ``scripts/make_selftest_reference.py``
remakes both whenever the shipped model changes; a stale reference fails the selftest instead of being
compared silently.

The tolerances are measured on the model when the reference is made (scripts/make_selftest_reference.py,
whose docstring says how); the selftest only reads and applies them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from enlighten_desktop.engine.errors import ModelError
from enlighten_desktop.engine.imageio import read_image
from enlighten_desktop.engine.model import EnhancerModel, checked_sha256, default_model_path
from enlighten_desktop.engine.pipeline import enhance, run_to_end
from enlighten_desktop.engine.providers import CPU, ProviderReport
from enlighten_desktop.resources import resources_dir, samples_dir

log = logging.getLogger(__name__)

REFERENCE_FILE = "reference.json"
THUMBNAIL_FILE = "reference.png"
DEFAULT_SAMPLE = "cat_dusk.jpg"
BLOCK = 8  # px; box-mean reduction of the stored reference
REFERENCE_FORMAT = 1


@dataclass(frozen=True)
class Tolerances:
    """Largest differences a correct install may show, in 8-bit levels (0-255) of the clamped output."""

    reference_max: float  # CPU vs reference: max over BLOCK x BLOCK box means
    provider_p999: float  # best provider vs CPU: 99.9th percentile per pixel
    provider_mean: float  # best provider vs CPU: mean per pixel


def default_reference_dir() -> Path:
    """resources/selftest, frozen or not."""
    return resources_dir() / "selftest"


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class SelftestReport:
    """Everything the selftest found; ``passed`` only when every check holds."""

    model: Path
    sha256: str
    model_label: str
    sample: Path
    best: ProviderReport
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def lines(self) -> list[str]:
        """The report as text lines for the CLI."""
        lines = [
            f"Model: {self.model} ({self.model_label})",
            f"  SHA-256 {self.sha256}",
            f"Sample: {self.sample}",
            f"ONNX Runtime {ort.__version__}; providers available: "
            f"{', '.join(ort.get_available_providers())}",
            f"Provider that ran: {self.best.active} (requested {self.best.requested})",
        ]
        if self.best.fallback_reason:
            lines.append(f"  fell back: {self.best.fallback_reason}")
        lines += [f"[{'PASS' if c.passed else 'FAIL'}] {c.name}: {c.detail}" for c in self.checks]
        lines.append(f"Selftest {'passed' if self.passed else 'FAILED'}.")
        return lines


def box_means(rgb: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """H x W x 3 [0, 1] -> (H // block) x (W // block) x 3 float32 box means (edge remainder dropped)."""
    h, w = (rgb.shape[0] // block) * block, (rgb.shape[1] // block) * block
    boxes = rgb[:h, :w].reshape(h // block, block, w // block, block, 3)
    return boxes.mean(axis=(1, 3), dtype=np.float64).astype(np.float32)


def level_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| of two same-shaped arrays in [0, 1], as float64 in 8-bit levels (0-255)."""
    return np.abs(a.astype(np.float64) - b) * 255.0


def enhanced_whole(model: EnhancerModel, rgb: np.ndarray) -> np.ndarray:
    """``rgb`` enhanced in one window: H x W x 3 float32 [0, 1]."""
    return run_to_end(enhance(model, rgb, tile=0)).enhanced


def _read_reference(folder: Path) -> dict:
    path = folder / REFERENCE_FILE
    if not path.is_file():
        raise ModelError(
            f"The selftest reference {path} is missing; the installation is incomplete (developers: run "
            "scripts/make_selftest_reference.py after changing the model)."
        )
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("format") != REFERENCE_FORMAT or record.get("block") != BLOCK:
        raise ModelError(
            f"{path} was made by another version; remake it with scripts/make_selftest_reference.py."
        )
    return record


def compare_providers(best: np.ndarray, cpu: np.ndarray, *, name: str, tolerances: Tolerances) -> Check:
    """Check ``best`` (the provider ``name``'s result) against ``cpu``; both H x W x 3 float32 [0, 1]."""
    diff = level_difference(best, cpu)
    p999, mean = float(np.percentile(diff, 99.9)), float(diff.mean())
    return Check(
        f"{name} vs CPU",
        p999 <= tolerances.provider_p999 and mean <= tolerances.provider_mean,
        f"99.9th percentile {p999:.3f} levels (<= {tolerances.provider_p999}), mean {mean:.3f} "
        f"(<= {tolerances.provider_mean})",
    )


def compare_reference(cpu: np.ndarray, expected: np.ndarray, *, tolerance: float) -> Check:
    """Check the CPU result (H x W x 3 [0, 1]) against the stored box means (h x w x 3 [0, 1])."""
    actual = box_means(cpu)
    if expected.shape != actual.shape:
        return Check("CPU vs reference", False, f"size {actual.shape} != reference {expected.shape}")
    worst = float(level_difference(actual, expected).max())
    return Check(
        "CPU vs reference", worst <= tolerance,
        f"max {worst:.3f} levels over {BLOCK}x{BLOCK} box means (<= {tolerance})",
    )


def _variant_checks(model_path: Path) -> list[Check]:
    """The shipped int8 variant, when it is installed beside the fp32 model, must pass its checksum too."""
    variant = default_model_path("int8")
    if model_path != default_model_path("fp32") or not variant.is_file():
        return []
    try:
        return [Check("int8 model checksum", True, f"{variant.name} {checked_sha256(variant)[:16]}...")]
    except ModelError as exc:
        return [Check("int8 model checksum", False, str(exc))]


def run_selftest(
    *,
    model_path: Path | None = None,
    reference_dir: Path | None = None,
    provider: str = "auto",
    device: int = 0,
) -> SelftestReport:
    """Run the selftest with ``model_path`` (default: the shipped fp32 model) against the reference in
    ``reference_dir`` (default: resources/selftest). ModelError when the model or reference cannot be
    loaded at all; every other finding is a Check in the report."""
    model_path = model_path or default_model_path("fp32")
    best = EnhancerModel.load(model_path, provider=provider, device=device)
    folder = reference_dir or default_reference_dir()
    record = _read_reference(folder)
    tolerances = Tolerances(**record["tolerances"])
    sample = samples_dir() / record["sample"]
    rgb = read_image(sample).rgb
    checks = [Check("model checksum and contract", True, f"{best.path.name}: loaded, listed checksums match")]
    checks += _variant_checks(model_path)
    same_model = best.sha256 == record["model_sha256"]
    checks.append(Check(
        "reference matches the model", same_model,
        f"made for {record['model']} ({record['model_sha256'][:16]}...)"
        + ("" if same_model else "; this model differs: remake it with scripts/make_selftest_reference.py"),
    ))
    best_rgb = enhanced_whole(best, rgb)
    if best.provider.active == CPU:
        cpu_rgb = best_rgb
        checks.append(Check("best provider vs CPU", True, "the best provider here is the CPU itself"))
    else:
        cpu_rgb = enhanced_whole(EnhancerModel.load(model_path, provider="cpu"), rgb)
        checks.append(compare_providers(best_rgb, cpu_rgb, name=best.provider.active, tolerances=tolerances))
    expected = read_image(folder / record["thumbnail"]).rgb
    checks.append(compare_reference(cpu_rgb, expected, tolerance=tolerances.reference_max))
    c = best.contract
    return SelftestReport(
        model=best.path, sha256=best.sha256, model_label=f"{c.name} {c.version} {c.precision}",
        sample=sample, best=best.provider, checks=tuple(checks),
    )
