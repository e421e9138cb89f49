"""Measurements behind ``enlighten-desktop bench``: speed, peak memory, tiled-versus-whole agreement.

Speed and memory are measured here, by a command, never asserted in tests. Peak RSS is the process's
high-water mark, so compare two settings (tiled against whole-image, arena on against off) in two runs
of the command, each a fresh process.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

from enlighten_desktop.engine.filters import NO_FILTERS, Filters
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.pipeline import auto_tile, enhance, run_to_end, tile_margin


@dataclass(frozen=True)
class BenchResult:
    """Timings of ``runs`` enhancements after one warm-up; memory in bytes (None where unknown)."""

    width: int
    height: int
    tile: int
    tiles: int
    runs: int
    median_ms: float
    provider: str
    fallback_reason: str | None
    rss_before: int | None
    peak_rss: int | None

    @property
    def ms_per_megapixel(self) -> float:
        return self.median_ms / (self.width * self.height / 1e6)


def synthetic_photo(width: int, height: int, *, seed: int = 0) -> np.ndarray:
    """A dark, textured H x W x 3 float32 image in [0, 0.4]: gradients plus noise, built row block by
    row block so that no full-size float64 temporary inflates the memory measurement."""
    rng = np.random.default_rng(seed)
    image = np.empty((height, width, 3), dtype=np.float32)
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)
    tint = np.array([1.0, 0.8, 0.6], dtype=np.float32)
    for top in range(0, height, 256):
        block = image[top:top + 256]
        y = np.linspace(top / height, min(top + 256, height) / height, block.shape[0], dtype=np.float32)
        block[:] = (0.05 + 0.3 * np.outer(y, x))[..., None] * tint
        block += rng.random(block.shape, dtype=np.float32) * np.float32(0.05)
    return image


def peak_rss_bytes() -> int | None:
    """The process's peak resident set size in bytes, or None where the platform does not say."""
    if sys.platform == "win32":
        return _windows_peak_working_set()
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS reports bytes, Linux KiB


def _windows_peak_working_set() -> int | None:
    if sys.platform != "win32":  # tells the type checker that ctypes.windll exists below
        return None
    import ctypes
    from ctypes import wintypes

    class Counters(ctypes.Structure):
        _fields_ = [("cb", wintypes.DWORD), ("PageFaultCount", wintypes.DWORD)] + [
            (name, ctypes.c_size_t)
            for name in ("PeakWorkingSetSize", "WorkingSetSize", "QuotaPeakPagedPoolUsage",
                         "QuotaPagedPoolUsage", "QuotaPeakNonPagedPoolUsage", "QuotaNonPagedPoolUsage",
                         "PagefileUsage", "PeakPagefileUsage")
        ]

    counters = Counters()
    counters.cb = ctypes.sizeof(Counters)
    process = ctypes.windll.kernel32.GetCurrentProcess()
    if not ctypes.windll.psapi.GetProcessMemoryInfo(process, ctypes.byref(counters), counters.cb):
        return None
    return int(counters.PeakWorkingSetSize)


def _settled(model: EnhancerModel, rgb: np.ndarray, tile: int | None,
             filters: Filters) -> tuple[int, Filters]:
    """The tile (None: the automatic one, as the engine picks it) and filters (automatic smoothing settled)
    the engine uses on ``rgb``."""
    filters = filters.for_photo(rgb)
    return (auto_tile(model, margin=tile_margin(model, filters)) if tile is None else tile), filters


def run_bench(
    model: EnhancerModel, rgb: np.ndarray, *, tile: int | None, runs: int, warmup: int = 1,
    filters: Filters = NO_FILTERS,
) -> BenchResult:
    """Enhance ``rgb`` (H x W x 3 float32 [0, 1]) ``warmup`` times, then ``runs`` times; median time.
    ``tile`` None: the engine's automatic tile (reported as the size it resolves to); ``filters``: what the
    runs use."""
    tile, filters = _settled(model, rgb, tile, filters)
    rss_before = peak_rss_bytes()
    steps = enhance(model, rgb, filters=filters, tile=tile)
    tiles = next(steps).total
    steps.close()
    for _ in range(warmup):
        run_to_end(enhance(model, rgb, filters=filters, tile=tile))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run_to_end(enhance(model, rgb, filters=filters, tile=tile))
        times.append((time.perf_counter() - start) * 1000.0)
    return BenchResult(
        width=rgb.shape[1], height=rgb.shape[0], tile=tile, tiles=tiles, runs=runs,
        median_ms=statistics.median(times), provider=model.provider.active,
        fallback_reason=model.provider.fallback_reason, rss_before=rss_before, peak_rss=peak_rss_bytes(),
    )


@dataclass(frozen=True)
class Agreement:
    """Tiled minus whole-image result, in 8-bit levels (1 level = 1/255)."""

    tile: int
    max_levels: float
    p999_levels: float
    max_levels_quantised: int


def compare_whole(model: EnhancerModel, rgb: np.ndarray, *, tile: int | None,
                  filters: Filters = NO_FILTERS) -> Agreement:
    """Enhance ``rgb`` tiled (None: the automatic tile) and in one piece, both with ``filters``, and measure
    how far apart the results are."""
    tile, filters = _settled(model, rgb, tile, filters)
    whole = run_to_end(enhance(model, rgb, filters=filters, tile=0)).enhanced
    tiled = run_to_end(enhance(model, rgb, filters=filters, tile=tile)).enhanced
    diff = np.abs(tiled - whole) * np.float32(255.0)
    quantised = np.abs(np.rint(tiled * 255.0).astype(np.int16) - np.rint(whole * 255.0).astype(np.int16))
    return Agreement(
        tile=tile, max_levels=float(diff.max()), p999_levels=float(np.percentile(diff, 99.9)),
        max_levels_quantised=int(quantised.max()),
    )
