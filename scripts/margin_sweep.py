"""How far tiled inference strays from whole-image inference as the tile margin shrinks, and what it saves.

    .venv/bin/python scripts/margin_sweep.py /work/shared/data/dev_real [--margins 16 32 48 64 96 128]
        [--tile 768] [--min-megapixels 2] [--model FILE]

The model's contract margin (128 px) covers its whole receptive field, so tiles then equal the whole image; a
pixel's dependence on far context decays, so a smaller margin may stay within a level while recomputing less.
For one frame per scene at the scene's largest size (at least --min-megapixels; a scene is the file name up to
the first ``_``, as in shared/data/dev_real), read by the app's reader, each margin is run through the app's
engine (enhance with --tile) and compared with the whole image (tile 0): largest and 99.9th-percentile
difference in 8-bit levels (on the float results, and the largest after rounding to 8 bits, as a saved file
has it), and the time of all frames tiled against whole. Prints one markdown row per margin and the smallest
margin whose rounded results stay within 1 level of the whole image on every frame.

``--stamp FILE ...`` writes that margin into each model file as ``enlighten.tile_margin``
(docs/MODEL_CONTRACT.md), the margin the engine's tiles then get, and updates the checksums listed beside it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from enlighten_desktop.engine.imageio import read_image  # noqa: E402 - after the path is set
from enlighten_desktop.engine.model import EnhancerModel, default_model_path  # noqa: E402
from enlighten_desktop.engine.pipeline import enhance, run_to_end  # noqa: E402
from scripts.scale_agreement import large_frames, scene_of  # noqa: E402
from training.enhancers import to_uint8  # noqa: E402
from training.onnx_files import set_metadata, update_checksums  # noqa: E402

BAR_LEVELS = 1


def one_per_scene(frames: list[Path]) -> list[Path]:
    """The first frame (by name) of each scene."""
    chosen: dict[str, Path] = {}
    for path in sorted(frames):
        chosen.setdefault(scene_of(path), path)
    return list(chosen.values())


def timed(model: EnhancerModel, rgb: np.ndarray, *, tile: int, margin: int = 0) -> tuple[np.ndarray, float]:
    """The enhanced float result and the seconds it took."""
    start = time.perf_counter()
    result = run_to_end(enhance(model, rgb, tile=tile, margin=margin)).enhanced
    return result, time.perf_counter() - start


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of photos (shared/data/dev_real)")
    parser.add_argument("--margins", type=int, nargs="+", default=[16, 32, 48, 64, 96, 128])
    parser.add_argument("--tile", type=int, default=768, help="core size of the tiles (px)")
    parser.add_argument("--min-megapixels", type=float, default=2.0, help="smallest frame taken")
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped fp32 model")
    parser.add_argument("--stamp", type=Path, nargs="+", default=[],
                        help="write the margin found into these model files (enlighten.tile_margin)")
    return parser.parse_args()


def main() -> int:
    args = parse()
    model = EnhancerModel.load(args.model or default_model_path("fp32"))
    frames = one_per_scene(large_frames(args.folder, args.min_megapixels))
    worst = {m: np.zeros(3) for m in args.margins}  # per margin: max float, max p99.9, max rounded (levels)
    seconds = dict.fromkeys(args.margins, 0.0)
    whole_seconds = 0.0
    for path in frames:
        rgb = read_image(path).rgb
        whole, spent = timed(model, rgb, tile=0)
        whole_seconds += spent
        whole8 = to_uint8(whole).astype(np.int16)
        for margin in args.margins:
            tiled, spent = timed(model, rgb, tile=args.tile, margin=margin)
            seconds[margin] += spent
            diff = np.abs(tiled - whole) * np.float32(255.0)
            rounded = np.abs(to_uint8(tiled).astype(np.int16) - whole8).max()
            worst[margin] = np.maximum(worst[margin], [diff.max(), np.percentile(diff, 99.9), rounded])
    sys.stdout.write(f"{len(frames)} frames ({', '.join(p.name for p in frames)}), tile {args.tile}, "
                     f"whole image {whole_seconds:.1f} s\n\n")
    sys.stdout.write("| margin | max (levels) | 99.9th pct | max, 8-bit | time vs whole |\n")
    sys.stdout.write("|---|---|---|---|---|\n")
    for margin in args.margins:
        top, p999, rounded = worst[margin]
        sys.stdout.write(f"| {margin} | {top:.2f} | {p999:.3f} | {rounded:.0f} | "
                         f"{seconds[margin] / whole_seconds:.2f}x |\n")
    passing = None  # the smallest margin from which on every larger one tried passes too
    for margin in sorted(args.margins, reverse=True):
        if worst[margin][2] > BAR_LEVELS:
            break
        passing = margin
    sys.stdout.write(f"\nsmallest margin within {BAR_LEVELS} level(s) of the whole image after rounding: "
                     f"{passing if passing is not None else 'none of those tried'}\n")
    if passing is None:
        return 1 if args.stamp else 0
    for model_file in args.stamp:
        set_metadata(model_file, {"enlighten.tile_margin": str(passing)})
        update_checksums(model_file)
        sys.stdout.write(f"{model_file}: enlighten.tile_margin = {passing}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
