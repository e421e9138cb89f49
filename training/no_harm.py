"""No-harm report: a well-exposed photo put through a model should come back almost as it went in.

An enhancer that lifts every photo by the same curve scores well on dark sets and still ruins the photos a
user drops in by mistake or in a mixed batch. Each well-exposed photo is compared with ITSELF (there is no
other reference), under issue 13's bars:

- mean luminance change (BT.601 luma on [0, 1], output minus input, mean over images) at most +0.05;
- PSNR of the output against its input at least 20 dB (the bar is on the mean over images; the worst is
  shown);
- clipped-highlight growth (percent of pixels with any channel >= 250, output minus input, in percentage
  points) at most 1 point for the median image (the largest growth is shown).

The I/O (reading a folder, writing files) stays in training.evaluate; this module only measures and judges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from training.metrics import clipped_percent, mean_luma, psnr

PSNR_CAP_DB = 100.0
"""An unchanged image has infinite PSNR; capping it keeps one such image from making the mean infinite (8-bit
images that differ at all score below about 110 dB at a megapixel, so 100 dB still reads as "unchanged")."""


@dataclass(frozen=True)
class Harm:
    """One photo under one method. Luma in [0, 1]; PSNR in dB (capped); clipped shares in percent."""

    file: str
    method: str
    luma_in: float
    luma_out: float
    psnr: float
    clipped_in: float
    clipped_out: float

    @property
    def luma_change(self) -> float:
        return self.luma_out - self.luma_in

    @property
    def clip_growth(self) -> float:
        """Clipped-highlight growth in percentage points (negative: the method un-clipped some)."""
        return self.clipped_out - self.clipped_in


def measure(file: str, method: str, original: np.ndarray, output: np.ndarray) -> Harm:
    """Compare ``output`` of a method with its own ``original``, both [H, W, 3] uint8 of the same size."""
    return Harm(
        file=file,
        method=method,
        luma_in=mean_luma(original),
        luma_out=mean_luma(output),
        psnr=min(psnr(output, original), PSNR_CAP_DB),
        clipped_in=clipped_percent(original),
        clipped_out=clipped_percent(output),
    )


def statistics(harms: Sequence[Harm]) -> dict[str, float]:
    """The report's numbers over the images of one method (at least one image)."""
    if not harms:
        raise ValueError("no images to summarise")
    growth = [h.clip_growth for h in harms]
    return {
        "images": len(harms),
        "luma in": float(np.mean([h.luma_in for h in harms])),
        "luma out": float(np.mean([h.luma_out for h in harms])),
        "luma change": float(np.mean([h.luma_change for h in harms])),
        "PSNR mean": float(np.mean([h.psnr for h in harms])),
        "PSNR worst": min(h.psnr for h in harms),
        "clip growth median": float(np.median(growth)),
        "clip growth max": max(growth),
        "clip grew": sum(g > 0 for g in growth),
    }


def signed(value: float, digits: int = 3) -> str:
    """``+0.285`` / ``-0.073``; values that round to zero read ``+0.000`` (identical images can differ by
    1e-17 in mean luminance when one is a transposed view: numpy sums them in another order)."""
    return f"{round(value, digits) + 0.0:+.{digits}f}"


@dataclass(frozen=True)
class Bar:
    """A pass/fail bar on one statistic: ``statistic <= limit`` (at_most) or ``>= limit``."""

    statistic: str
    limit: float
    at_most: bool
    unit: str = ""
    signed: bool = False

    def passes(self, value: float) -> bool:
        return value <= self.limit if self.at_most else value >= self.limit

    def describe(self, value: float) -> str:
        """E.g. ``luma change +0.285 (bar <= +0.050): FAIL``."""
        shown = signed if self.signed else "{:.3f}".format
        relation = "<=" if self.at_most else ">="
        verdict = "PASS" if self.passes(value) else "FAIL"
        bar = f"{relation} {shown(self.limit)}{self.unit}"
        return f"{self.statistic} {shown(value)}{self.unit} (bar {bar}): {verdict}"


BARS = (
    Bar("luma change", 0.05, at_most=True, signed=True),
    Bar("PSNR mean", 20.0, at_most=False, unit=" dB"),
    Bar("clip growth median", 1.0, at_most=True, unit=" pt"),
)


def summarise(harms: Sequence[Harm], methods: Sequence[str]) -> list[dict[str, str]]:
    """One row per method: the statistics as formatted strings, then PASS/FAIL per bar and overall."""
    rows = []
    for method in methods:
        stats = statistics([h for h in harms if h.method == method])
        row = {"method": method, "images": str(stats["images"])}
        row |= {"luma in": f"{stats['luma in']:.3f}", "luma out": f"{stats['luma out']:.3f}",
                "luma change": signed(stats["luma change"])}
        row |= {key: f"{stats[key]:.2f}" for key in ("PSNR mean", "PSNR worst", "clip growth median",
                                                      "clip growth max")}
        row["clip grew"] = f"{stats['clip grew']}/{stats['images']}"
        verdicts = {f"bar {bar.statistic}": "PASS" if bar.passes(stats[bar.statistic]) else "FAIL"
                    for bar in BARS}
        row |= verdicts
        row["no harm"] = "PASS" if all(v == "PASS" for v in verdicts.values()) else "FAIL"
        rows.append(row)
    return rows


def verdict_lines(harms: Sequence[Harm], methods: Sequence[str]) -> list[str]:
    """One line per method and bar, e.g. ``model: PSNR mean 9.912 dB (bar >= 20.000 dB): FAIL``."""
    lines = []
    for method in methods:
        stats = statistics([h for h in harms if h.method == method])
        lines += [f"{method}: {bar.describe(stats[bar.statistic])}" for bar in BARS]
    return lines
