"""``enlighten-desktop selftest``: an installed (frozen) app proves it works, end to end.

It loads the model (checksum verified), enhances a bundled sample with the best provider and with the CPU,
compares the CPU result with a stored reference and the best provider's result with the CPU's, and reports
the provider that really ran. A missing hidden import, data file or provider library fails it loudly.

The reference (``resources/selftest/``) belongs to one model file: ``reference.json`` records the model's
SHA-256, the sample, the tolerances and the measurements they came from; ``reference.png`` holds the CPU
result reduced to BLOCK x BLOCK box means (16-bit PNG, a few kB). ``scripts/make_selftest_reference.py``
remakes both whenever the shipped model changes; a stale reference fails the selftest instead of being
compared silently.

The tolerances (8-bit levels, 0-255, of the clamped output) are measured on the model when the reference is
made, because how much a model amplifies small differences depends on the model:
- CPU vs reference, max over box means: NOISE_MARGIN times the largest box-mean shift that +-1 level of
  random noise on the input causes. fp32 CPU kernels differ between machines by float rounding only (about
  1e-4 levels); +-1 level is what two JPEG decoders can differ by. A wrong model, colour order, attention
  map or padding moves the box means far more.
- best provider vs CPU, per pixel (99.9th percentile and mean): the deviation of the int8 model from the
  fp32 model. GPU providers may compute in reduced precision (TF32 on CUDA, float16 on CoreML's GPU and
  Neural Engine), which is a finer approximation than int8, so this admits them but not a broken kernel.
Each tolerance has a floor (MIN_TOLERANCES) for models that barely change the image.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from enlighten_desktop.engine.errors import ModelError
from enlighten_desktop.engine.formats import Format
from enlighten_desktop.engine.imageio import ImageMetadata, read_image, write_image
from enlighten_desktop.engine.model import EnhancerModel, checked_sha256, default_model_path
from enlighten_desktop.engine.pipeline import enhance, run_to_end
from enlighten_desktop.engine.providers import CPU, ProviderReport
from enlighten_desktop.resources import resources_dir, samples_dir

log = logging.getLogger(__name__)

REFERENCE_FILE = "reference.json"
THUMBNAIL_FILE = "reference.png"
DEFAULT_SAMPLE = "cat_dusk.jpg"
BLOCK = 8  # px; box-mean reduction of the stored reference
NOISE_MARGIN = 3.0
_REFERENCE_FORMAT = 1


@dataclass(frozen=True)
class Tolerances:
    """Largest differences a correct install may show, in 8-bit levels (see the module docstring)."""

    reference_max: float  # CPU vs reference: max over BLOCK x BLOCK box means
    provider_p999: float  # best provider vs CPU: 99.9th percentile per pixel
    provider_mean: float  # best provider vs CPU: mean per pixel


MIN_TOLERANCES = Tolerances(reference_max=0.5, provider_p999=2.0, provider_mean=0.5)
# Provider tolerances when no int8 model is at hand to measure them.
UNMEASURED_PROVIDER = Tolerances(reference_max=0.0, provider_p999=4.0, provider_mean=1.0)


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


def _enhanced(model: EnhancerModel, rgb: np.ndarray) -> np.ndarray:
    """``rgb`` enhanced in one window: H x W x 3 float32 [0, 1]."""
    return run_to_end(enhance(model, rgb, tile=0)).enhanced


def _round_up(value: float) -> float:
    return math.ceil(value * 100) / 100


def measure_tolerances(
    model: EnhancerModel, rgb: np.ndarray, base: np.ndarray, *, int8_path: Path | None
) -> tuple[Tolerances, dict]:
    """Tolerances for ``model`` (on the CPU) from ``rgb`` and its result ``base`` (H x W x 3 [0, 1]), with
    the int8 model ``int8_path`` for the provider ones; returns them and the measurements behind them."""
    noise = np.random.default_rng(0).integers(-1, 2, rgb.shape).astype(np.float32) / 255
    noisy = _enhanced(model, np.clip(rgb + noise, 0.0, 1.0))
    measured = {"noise_box_max": float(level_difference(box_means(noisy), box_means(base)).max())}
    provider = UNMEASURED_PROVIDER
    if int8_path is not None and int8_path.is_file():
        diff = level_difference(_enhanced(EnhancerModel.load(int8_path, provider="cpu"), rgb), base)
        measured.update(int8_p999=float(np.percentile(diff, 99.9)), int8_mean=float(diff.mean()))
        provider = Tolerances(0.0, measured["int8_p999"], measured["int8_mean"])
    tolerances = Tolerances(
        reference_max=_round_up(max(MIN_TOLERANCES.reference_max, NOISE_MARGIN * measured["noise_box_max"])),
        provider_p999=_round_up(max(MIN_TOLERANCES.provider_p999, provider.provider_p999)),
        provider_mean=_round_up(max(MIN_TOLERANCES.provider_mean, provider.provider_mean)),
    )
    return tolerances, measured


def make_reference(
    *, model_path: Path, out_dir: Path, sample: str = DEFAULT_SAMPLE, int8_path: Path | None = None
) -> Path:
    """Enhance ``sample`` (a file in resources/samples) with ``model_path`` on the CPU, measure the
    tolerances (with ``int8_path`` for the provider ones) and store the reference in ``out_dir``.
    Returns the path of reference.json."""
    model = EnhancerModel.load(model_path, provider="cpu")
    rgb = read_image(samples_dir() / sample).rgb
    base = _enhanced(model, rgb)
    tolerances, measured = measure_tolerances(model, rgb, base, int8_path=int8_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    metadata = ImageMetadata(format=Format.PNG, bits=16, icc_profile=None, exif=None, xmp=None,
                             compression=None)
    write_image(out_dir / THUMBNAIL_FILE, box_means(base), metadata=metadata, bits=16, overwrite=True)
    c = model.contract
    record = {
        "format": _REFERENCE_FORMAT,
        "sample": sample,
        "model_file": model_path.name,
        "model_sha256": model.sha256,
        "model": f"{c.name} {c.version} {c.precision}",
        "block": BLOCK,
        "tile": 0,
        "thumbnail": THUMBNAIL_FILE,
        "tolerances": asdict(tolerances),
        "measured": {key: round(value, 4) for key, value in measured.items()},
        "int8_model": int8_path.name if "int8_p999" in measured and int8_path else None,
        "made_with": f"onnxruntime {ort.__version__} {CPU}",
    }
    target = out_dir / REFERENCE_FILE
    target.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    log.info("Wrote %s for %s: tolerances %s from %s", target, model_path.name, tolerances, measured)
    return target


def _read_reference(folder: Path) -> dict:
    path = folder / REFERENCE_FILE
    if not path.is_file():
        raise ModelError(
            f"The selftest reference {path} is missing; the installation is incomplete (developers: run "
            "scripts/make_selftest_reference.py after changing the model)."
        )
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("format") != _REFERENCE_FORMAT or record.get("block") != BLOCK:
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
    best_rgb = _enhanced(best, rgb)
    if best.provider.active == CPU:
        cpu_rgb = best_rgb
        checks.append(Check("best provider vs CPU", True, "the best provider here is the CPU itself"))
    else:
        cpu_rgb = _enhanced(EnhancerModel.load(model_path, provider="cpu"), rgb)
        checks.append(compare_providers(best_rgb, cpu_rgb, name=best.provider.active, tolerances=tolerances))
    expected = read_image(folder / record["thumbnail"]).rgb
    checks.append(compare_reference(cpu_rgb, expected, tolerance=tolerances.reference_max))
    c = best.contract
    return SelftestReport(
        model=best.path, sha256=best.sha256, model_label=f"{c.name} {c.version} {c.precision}",
        sample=sample, best=best.provider, checks=tuple(checks),
    )
