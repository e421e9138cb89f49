"""enhance(): full-resolution, tiled inference as a generator that reports progress and can be cancelled.

``enhance_in_place`` is the one tiling loop: it overwrites the caller's image with its (blended) enhancement,
holding back each row of tiles until no later window reads those rows, so that a photo costs one image-sized
float32 buffer plus about a row of tiles; the default attention is computed per window. ``enhance`` runs it
on a copy to keep the original beside the result (the app's before/after view). No full-size float64
temporaries and no padded copy of the image are made. The image is never downscaled.

The tile size, unless the caller fixes one, comes from a memory budget (``auto_tile``), the same rule for the
app, the CLI and the frozen build.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from itertools import groupby
from typing import TypeVar

import numpy as np

from enlighten_desktop.engine.attention import default_attention, exposure_gain
from enlighten_desktop.engine.colour import keep_photo_colour
from enlighten_desktop.engine.errors import CancelledError
from enlighten_desktop.engine.filters import NO_FILTERS, Filters
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.noise import (
    COLOUR_REACH,
    aligned_start,
    reduce_colour_noise,
    reduce_luminance_noise,
)
from enlighten_desktop.engine.providers import ProviderReport
from enlighten_desktop.engine.smoothing import REACH as SMOOTHING_REACH
from enlighten_desktop.engine.smoothing import smooth_shadows
from enlighten_desktop.engine.textenum import TextEnum
from enlighten_desktop.engine.tiling import Tile, plan_tiles, read_window, reflect_indices, window_side_for

# What one model run (one window) may use beside the image buffers. With ONNX Runtime's arena off (fp32,
# SessionSettings), the shipped width-16 generator needs about 450 bytes per window pixel at 1 MP windows and
# 400 at 2.4 MP (scripts/window_memory.py), so 1 GiB gives 1536 px windows: a 24 MP photo then fits in
# 1.5 GiB in all, and the recomputed margin costs about 1.1x at a 64 px margin. Larger windows save little:
# time per pixel grows with the window (cache), 930 ms/MP at 2048 px against 810 at 1536 px. int8 models
# (about 200 B/px with their arena) take the same tiles.
MODEL_MEMORY_BUDGET = 1 << 30
_BYTES_PER_PIXEL_PER_WIDTH = 28  # measured: 450 B/px for width 16; activations scale with the width
_STRENGTH_ROWS = 256  # rows blended per step in apply_strength: bounds its temporaries
Step = TypeVar("Step")
Wrapped = TypeVar("Wrapped")
Result = TypeVar("Result")


def auto_tile(model: EnhancerModel, *, margin: int | None = None, budget: int = MODEL_MEMORY_BUDGET) -> int:
    """The core size in px for ``model`` whose windows (core + ``margin`` on each side, default the model's
    tile margin; see ``tile_margin``) keep one run within ``budget`` bytes."""
    contract = model.contract
    margin = contract.tile_margin if margin is None else margin
    bytes_per_pixel = _BYTES_PER_PIXEL_PER_WIDTH * max(contract.width, 1)
    side = window_side_for(budget // bytes_per_pixel, contract.size_multiple)
    return max(side - 2 * margin, contract.size_multiple)


def tile_margin(model: EnhancerModel, filters: Filters) -> int:
    """The context a tile needs per side: the model's tile margin, plus shadow smoothing's reach when it is on
    (it reads ``smoothing.REACH`` px around each pixel the model reads). Noise reduction reads
    ``noise.COLOUR_REACH`` px of the model's output around the core, inside the margin (at least that
    wide): its box means keep the model's own tile error there from growing (docs/ENGINE_API.md)."""
    margin = model.contract.tile_margin + (SMOOTHING_REACH if filters.may_smooth else 0)
    return max(margin, COLOUR_REACH) if filters.cleans_noise else margin


class Stage(TextEnum):
    """What a Progress counts: tiles of one photo, or one call (decode, blend, write) in a worker."""

    TILES = "tiles"
    CALL = "call"


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` steps finished; ``stage`` says what is counted."""

    done: int
    total: int
    stage: Stage


class CancelToken:
    """Set from any thread; the engine checks it between tiles and items."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass(frozen=True)
class EnhanceResult:
    """original, enhanced: H x W x 3 float32 [0, 1]; attention: H x W float32 [0, 1], the map used."""

    original: np.ndarray
    enhanced: np.ndarray
    attention: np.ndarray
    provider: ProviderReport


def _check_image(rgb: np.ndarray) -> None:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.float32:
        raise ValueError(f"rgb must be H x W x 3 float32, got {rgb.shape} {rgb.dtype}")


def _check_attention(rgb: np.ndarray, attention: np.ndarray | None) -> np.ndarray | None:
    if attention is None:
        return None
    if attention.shape != rgb.shape[:2]:
        raise ValueError(f"attention shape {attention.shape} does not match image {rgb.shape[:2]}")
    return attention.astype(np.float32, copy=False)


def _run_tile(
    model: EnhancerModel, rgb: np.ndarray, attention: np.ndarray | float, tile: Tile, strength: np.float32,
    out: np.ndarray, *, filters: Filters,
) -> None:
    """Enhance one tile of ``rgb`` (still the original around the tile) and write its core, blended with the
    original by ``strength`` (apply_strength's arithmetic), into ``out`` (core-sized H x W x 3 float32).
    ``attention``: the photo's map, or the photo's exposure gain for the default map of the window.
    ``filters.smoothing`` > 0: the model sees the window with its shadows smoothed by that many levels
    (``smoothing`` module); the blend is still with the original. ``filters.photo_colour``,
    ``filters.colour_noise``, ``filters.luminance_noise`` > 0: the model's output takes that much of the
    colour of the photo as the model saw it (``colour`` module), then gets that much colour, then luminance
    noise reduction (``noise`` module), worked out on the core plus the filters' reach."""
    window = read_window(rgb, tile.window)
    if isinstance(attention, float):
        att = default_attention(window, attention)[None, None]
    else:
        att = np.ascontiguousarray(read_window(attention, tile.window))[None, None]
    seen = smooth_shadows(window, att[0, 0], filters.smoothing) if filters.smoothing else window
    image = np.empty((1, 3, *window.shape[:2]), dtype=np.float32)
    np.multiply(seen.transpose(2, 0, 1), 2.0, out=image[0])
    image -= 1.0
    rows, cols = tile.core_in_window
    result = model.run(image, att)[0]
    if filters.cleans_output:
        reach = _within_reach(tile, rgb.shape[:2])
        cleaned = _to_unit(result[:, reach[0], reach[1]])
        weight = att[0, 0][reach]
        if filters.photo_colour:
            cleaned = keep_photo_colour(cleaned, seen[reach], weight * np.float32(filters.photo_colour))
        if filters.colour_noise:
            cleaned = reduce_colour_noise(cleaned, weight * np.float32(filters.colour_noise))
        if filters.luminance_noise:
            cleaned = reduce_luminance_noise(cleaned, weight, filters.luminance_noise)
        out[...] = cleaned[rows.start - reach[0].start : rows.stop - reach[0].start,
                           cols.start - reach[1].start : cols.stop - reach[1].start]
    else:
        _to_unit(result[:, rows, cols], out=out)
    if strength != 1:
        share = out * strength
        np.multiply(window[rows, cols], np.float32(1.0 - strength), out=out)
        out += share


def _to_unit(result: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The model's output (3 x H x W in [-1, 1]) as H x W x 3 float32 in [0, 1], clipped (into ``out``)."""
    unit: np.ndarray = np.add(result.transpose(1, 2, 0), 1.0, out=out)
    unit *= 0.5
    return np.clip(unit, 0.0, 1.0, out=unit)


def _within_reach(tile: Tile, shape: tuple[int, ...]) -> tuple[slice, slice]:
    """The window rows and columns that noise reduction reads for ``tile``'s core: the core plus
    ``noise.COLOUR_REACH`` px (wider than the luminance filter reads), starting on the photo's block grid and
    cut at the photo's edges (the part of the window that reflects the photo beyond its edge is not read, as
    the whole photo has none)."""
    spans = []
    for window, core, length in zip(tile.window, tile.core, shape, strict=True):
        start = aligned_start(core.start - COLOUR_REACH)
        stop = min(core.stop + COLOUR_REACH, length)
        # A margin narrower than the reach (the models' tile margins are wider) cuts it at the window.
        spans.append(slice(max(start - window.start, 0), min(stop, window.stop) - window.start))
    return spans[0], spans[1]


Held = list[tuple[int, np.ndarray]]  # (first image row, results) of tile rows not yet written back


def _first_row_read(tiles: list[Tile], height: int) -> int:
    """The topmost image row any of ``tiles``' windows reads (reflection at the bottom edge included)."""
    return min(int(reflect_indices(each.window[0], height).min()) for each in tiles)


def enhance_in_place(
    model: EnhancerModel,
    rgb: np.ndarray,
    *,
    attention: np.ndarray | None = None,
    strength: float = 1.0,
    filters: Filters = NO_FILTERS,
    tile: int | None = None,
    margin: int | None = None,
    cancel: CancelToken | None = None,
) -> Generator[Progress, None, ProviderReport]:
    """Replace ``rgb`` (H x W x 3 float32 [0, 1]) by ``(1 - s) * rgb + s * enhanced`` at full resolution,
    s = ``strength`` clipped to [0, 1]; returns (StopIteration.value) the provider that ran.

    ``attention`` (H x W float32 [0, 1]) replaces the default map, e.g. after a user edit. ``filters``: shadow
    smoothing (per window; an automatic level is settled from the whole photo first), colour and luminance
    noise reduction (per tile); none by default.
    ``tile`` is the core size in px (0 = whole image in one run; None = ``auto_tile``, for windows of the
    budget's size); ``margin`` the context per side, default ``tile_margin``. Yields Progress(done, total,
    "tiles") before the first tile and after each one; raises CancelledError between tiles once ``cancel`` is
    set, leaving ``rgb`` partly enhanced.
    A row of tiles is written back once no later window reads its rows: every window sees original pixels.
    """
    _check_image(rgb)
    attention = _check_attention(rgb, attention)
    contract = model.contract
    height, width = rgb.shape[:2]
    filters = filters.for_photo(rgb)  # before any tile is written back
    if margin is None:
        margin = tile_margin(model, filters)
    core = auto_tile(model, margin=margin) if tile is None else tile
    tiles = plan_tiles(height, width, tile=core, margin=margin, multiple=contract.size_multiple)
    tile_rows = [list(row) for _, row in groupby(tiles, key=lambda each: each.core[0].start)]
    first_read = [_first_row_read(row, height) for row in tile_rows[1:]] + [height]
    s = np.float32(np.clip(strength, 0.0, 1.0))
    # The default map's exposure gain comes from the whole photo, before any tile is written back.
    per_tile = exposure_gain(model.contract.exposure_gate, rgb) if attention is None else attention
    held: Held = []
    done = 0
    yield Progress(0, len(tiles), Stage.TILES)
    for row, needed_from in zip(tile_rows, first_read, strict=True):
        core_rows = row[0].core[0]
        strip = np.empty((core_rows.stop - core_rows.start, width, 3), dtype=np.float32)
        for each in row:
            if cancel is not None and cancel.cancelled:
                raise CancelledError("Enhancement cancelled.")
            _run_tile(model, rgb, per_tile, each, s, strip[:, each.core[1]], filters=filters)
            done += 1
            yield Progress(done, len(tiles), Stage.TILES)
        held.append((core_rows.start, strip))
        held = _write_back(rgb, held, below=needed_from)
    return model.provider


def _write_back(rgb: np.ndarray, held: Held, *, below: int) -> Held:
    """Copy the held rows above row ``below`` into ``rgb``; returns what is still held (copied small, so the
    written strips are freed)."""
    still = []
    for top, strip in held:
        ready = max(0, min(below - top, len(strip)))
        rgb[top:top + ready] = strip[:ready]
        if ready < len(strip):
            still.append((top + ready, strip[ready:].copy()))
    return still


def enhance(
    model: EnhancerModel,
    rgb: np.ndarray,
    *,
    attention: np.ndarray | None = None,
    filters: Filters = NO_FILTERS,
    tile: int | None = None,
    margin: int | None = None,
    cancel: CancelToken | None = None,
) -> Generator[Progress, None, EnhanceResult]:
    """``enhance_in_place`` on a copy of ``rgb``, which is kept: the result holds the original, the enhanced
    image and the attention map used (the default one, full size, when ``attention`` is None)."""
    _check_image(rgb)
    attention = _check_attention(rgb, attention)
    if attention is None:
        attention = default_attention(rgb, exposure_gain(model.contract.exposure_gate, rgb))
    out = rgb.copy()
    provider = yield from enhance_in_place(model, out, attention=attention, filters=filters, tile=tile,
                                           margin=margin, cancel=cancel)
    return EnhanceResult(original=rgb, enhanced=out, attention=attention, provider=provider)


def run_to_end(steps: Generator[Step, None, Result], on_step: Callable[[Step], None] | None = None) -> Result:
    """Drive engine work (enhance(), process_item(), run_batch()...) to its end and return its result, passing
    each step to ``on_step`` when given: ``relay`` with nothing to yield to."""
    relayed = relay(steps, on_step if on_step is not None else _discard)
    try:
        while True:
            next(relayed)
    except StopIteration as stop:
        result: Result = stop.value
        return result


def _discard(step: object) -> None:
    """What run_to_end does with a step nobody asked for."""


def relay(
    steps: Generator[Step, None, Result], wrap: Callable[[Step], Wrapped]
) -> Generator[Wrapped, None, Result]:
    """``steps``, each step passed through ``wrap`` (a tile's Progress into a batch's); the same result. The
    one loop that takes a generator's steps and its return value."""
    while True:
        try:
            step = next(steps)
        except StopIteration as stop:
            result: Result = stop.value
            return result
        yield wrap(step)


def apply_strength(
    original: np.ndarray, enhanced: np.ndarray, strength: float, *, out: np.ndarray | None = None
) -> np.ndarray:
    """``(1 - s) * original + s * enhanced`` for s = ``strength`` clipped to [0, 1]; no model run.

    original, enhanced: H x W x 3 float32 [0, 1]. s = 0 gives ``original`` and s = 1 ``enhanced`` exactly.
    Works in row blocks so no image-sized temporary is made; ``out`` may be given to reuse a buffer,
    including ``original`` or ``enhanced`` themselves.
    """
    if original.shape != enhanced.shape:
        raise ValueError(f"shapes differ: {original.shape} vs {enhanced.shape}")
    s = float(np.clip(strength, 0.0, 1.0))
    out = np.empty_like(enhanced) if out is None else out
    for top in range(0, original.shape[0], _STRENGTH_ROWS):
        rows = slice(top, top + _STRENGTH_ROWS)
        # The enhanced share is taken first, so ``out`` may be ``original`` or ``enhanced`` itself.
        share = enhanced[rows] * np.float32(s)
        block = np.multiply(original[rows], np.float32(1.0 - s), out=out[rows])
        block += share
    return out
