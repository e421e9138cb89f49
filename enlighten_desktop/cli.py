"""The command line: ``enlighten-desktop enhance | info | bench``. No Qt here.

Progress goes to stderr (one updating line on a terminal, plain lines otherwise); results and summaries
go to stdout. Exit status: 0 when everything asked for was done or deliberately skipped, 1 when anything
failed (a file, the model), 2 for a wrong command line.
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
from collections import Counter
from collections.abc import Generator
from pathlib import Path
from typing import TextIO

from enlighten_desktop import __version__, arguments
from enlighten_desktop.edit_command import add_edit_parser, run_edit
from enlighten_desktop.engine.batch import BatchProgress
from enlighten_desktop.engine.errors import CancelledError, EnlightenError
from enlighten_desktop.engine.formats import WRITABLE_FORMATS, Format
from enlighten_desktop.engine.imageio import DEFAULT_QUALITY
from enlighten_desktop.engine.item import ItemResult, Status
from enlighten_desktop.engine.model import CONTRACT_VERSION, EnhancerModel
from enlighten_desktop.engine.outputs import DEFAULT_TEMPLATE
from enlighten_desktop.engine.pipeline import auto_tile, run_to_end
from enlighten_desktop.engine.providers import (
    PROVIDER_ALIASES,
    available_providers,
    providers_for,
    unavailable_notice,
)

# Sub-commands; __main__ opens the GUI for anything else (no arguments, or paths to open).
COMMANDS = ("enhance", "info", "bench", "edit", "selftest")
STATE_NAME = ".enlighten-batch.json"
# bench --arena: "auto" leaves the choice to SessionSettings.for_precision.
ARENA_CHOICES = {"auto": None, "on": True, "off": False}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="enlighten-desktop", description="Brighten low-light photos.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    enh = sub.add_parser("enhance", help="enhance photos and folders of photos")
    enh.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    enh.add_argument("-o", "--output", type=Path, help="output folder (default: beside each photo)")
    enh.add_argument("--recursive", action="store_true", help="include sub-folders (mirrored in -o)")
    enh.add_argument("--strength", type=arguments.strength, default=1.0, help="0 = original, 1 = full effect")
    arguments.add_filter_args(enh)
    arguments.add_tile_arg(enh)
    enh.add_argument("--format", choices=sorted(f.value.lower() for f in WRITABLE_FORMATS),
                     help="output format (default: the source's)")
    enh.add_argument("--bits", type=int, choices=(8, 16), help="output bit depth (default: the source's)")
    enh.add_argument("--quality", type=arguments.int_range(1, 100), default=DEFAULT_QUALITY,
                     help="JPEG/WebP quality 1-100")
    enh.add_argument("--template", type=arguments.template, default=DEFAULT_TEMPLATE,
                     help="output file name without suffix; must contain {stem} (the source's name)")
    enh.add_argument("--save-attention", action="store_true", help="also write the attention map (PNG)")
    enh.add_argument("--overwrite", action="store_true",
                     help="replace results of earlier runs (never an original or a file this program did not "
                     "write)")
    enh.add_argument("--state", type=arguments.state_path,
                     help=f"resumable batch state file (default: {STATE_NAME} in the -o folder; none "
                     "without -o)")
    arguments.add_model_args(enh)

    info = sub.add_parser("info", help="versions, model and devices")
    arguments.add_model_args(info)

    bench = sub.add_parser("bench", help="measure speed and memory")
    bench.add_argument("--size", default="1000x1000", help="synthetic image WxH (default 1000x1000)")
    bench.add_argument("--image", type=Path, help="benchmark a real photo instead")
    arguments.add_tile_arg(bench)
    arguments.add_filter_args(bench)
    bench.add_argument("--runs", type=arguments.int_range(1), default=3, help="timed runs (median reported)")
    bench.add_argument("--warmup", type=arguments.int_range(0), default=1, help="untimed runs first")
    bench.add_argument("--arena", choices=tuple(ARENA_CHOICES), default="auto",
                       help="ONNX Runtime's memory arena (auto: on for int8 models, off for fp32)")
    bench.add_argument("--compare-whole", action="store_true",
                       help="report the tiled-vs-whole-image difference in 8-bit levels instead")
    arguments.add_model_args(bench)
    add_edit_parser(sub)

    test = sub.add_parser("selftest", help="check this installation: model, bundled sample, providers")
    test.add_argument("--model", type=Path, help="an .onnx model file (default: the bundled model)")
    test.add_argument("--reference", type=Path, help="reference folder (default: the bundled one)")
    test.add_argument("--provider", choices=sorted(PROVIDER_ALIASES), default="auto",
                      help="provider compared with the CPU (default: the best one available)")
    test.add_argument("--device", type=arguments.int_range(0), default=0, help="GPU index for cuda and dml")
    return parser


def _notice_fallback(model: EnhancerModel, err: TextIO) -> None:
    if model.provider.fallback_reason:
        print(f"Notice: {model.provider.fallback_reason}", file=err)


def main(argv: list[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one sub-command; returns the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.ERROR, stream=err, format="%(levelname)s: %(message)s")
    try:
        if args.command == "enhance":
            return _enhance(args, out, err)
        if args.command == "edit":
            return run_edit(args, out, err)
        if args.command == "info":
            return _info(args, out)
        if args.command == "selftest":
            return _selftest(args, out)
        return _bench(args, out, err)
    except (CancelledError, KeyboardInterrupt):
        # An interrupted batch keeps its state file, so the same command resumes it.
        print("Cancelled.", file=err)
        return 130
    except EnlightenError as exc:
        print(f"Error: {exc}", file=err)
        return 1


def _follow(events: Generator[BatchProgress | ItemResult, None, list[ItemResult]], total: int,
            err: TextIO) -> list[ItemResult]:
    """Show run_batch's events on ``err`` and return its results. A terminal gets one line rewritten in
    place; a pipe or log file gets one plain line per finished item."""
    live = err.isatty()
    finished = 0

    def show(event: BatchProgress | ItemResult) -> None:
        nonlocal finished
        if isinstance(event, BatchProgress):
            if live:
                print(f"\r\033[K[{event.index + 1}/{total}] {event.source.name}: tile {event.tiles.done}/"
                      f"{event.tiles.total}", end="", file=err, flush=True)
            return
        finished += 1
        detail = event.message
        if event.status is Status.DONE and event.output:
            detail = f"-> {event.output}" + (f" ({event.message})" if event.message else "")
        prefix = "\r\033[K" if live else ""
        print(f"{prefix}[{finished}/{total}] {event.source}: {event.status} {detail}", file=err)

    return run_to_end(events, show)


def _enhance(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from enlighten_desktop.engine.batch import batch_settings, check_batch, collect_inputs, run_batch
    from enlighten_desktop.engine.batch_state import BatchState
    from enlighten_desktop.engine.outputs import OutputOptions
    from enlighten_desktop.engine.preflight import check_output_folders

    output_format = None if args.format is None else Format.parse(args.format)
    if args.bits == 16 and output_format is not None and not output_format.holds_16_bits:
        print(f"Error: {args.format} cannot hold 16 bits; use --format png or tiff.", file=err)
        return 2
    options = OutputOptions(
        folder=args.output, format=output_format, bits=args.bits, quality=args.quality,
        template=args.template, overwrite=args.overwrite, save_attention=args.save_attention,
    )
    items = collect_inputs(args.paths, recursive=args.recursive, options=options)
    if not items:
        print("Error: no supported photos found in the given paths.", file=err)
        return 1
    # Before the model loads or runs: a batch that cannot be saved, or a state file that must not be written,
    # fails now rather than after the last photo.
    state_file = args.state or (args.output / STATE_NAME if args.output else None)
    originals = {source.resolve() for source, _ in items}
    check_batch(items, options)
    if state_file is not None:
        BatchState.check_path(state_file, inputs=originals)
        check_output_folders({state_file.parent: 0})
    model = arguments.load_model(args)
    _notice_fallback(model, err)
    settings = batch_settings(model, options, strength=args.strength, tile=args.tile,
                              filters=arguments.filters(args))
    state = BatchState.open(state_file, settings=settings, inputs=originals) if state_file else None
    batch = run_batch(model, items, options, state=state, strength=args.strength,
                      filters=arguments.filters(args), tile=args.tile)
    results = _follow(batch, len(items), err)
    if state is not None:
        state.discard()  # finished: a later run is a new batch, not a resume
    counts = Counter(result.status for result in results)
    print(f"Summary: {counts[Status.DONE]} done, {counts[Status.SKIPPED]} skipped, {counts[Status.FAILED]} "
          f"failed (on {model.provider.active})", file=out)
    for result in results:
        if result.status is not Status.DONE:
            print(f"  {result.status}: {result.source}: {result.message}", file=out)
    return 1 if counts[Status.FAILED] else 0


def _selftest(args: argparse.Namespace, out: TextIO) -> int:
    from enlighten_desktop.selftest import run_selftest

    report = run_selftest(model_path=args.model, reference_dir=args.reference, provider=args.provider,
                          device=args.device)
    print("\n".join(report.lines()), file=out)
    return 0 if report.passed else 1


def _info(args: argparse.Namespace, out: TextIO) -> int:
    import numpy as np
    import onnxruntime as ort

    print(f"Enlighten Desktop {__version__}", file=out)
    print(f"Python {platform.python_version()} on {platform.platform()}", file=out)
    print(f"ONNX Runtime {ort.__version__}, NumPy {np.__version__}", file=out)
    print(f"Providers available: {', '.join(available_providers())}", file=out)
    plan = [p[0] if isinstance(p, tuple) else p for p in providers_for(args.provider, args.device)]
    print(f"Providers for '{args.provider}': {', '.join(plan)}", file=out)
    notice = unavailable_notice(args.provider)
    if notice:
        print(f"Notice: {notice}", file=out)
    try:
        model = arguments.load_model(args)
    except EnlightenError as exc:
        print(f"Model: not usable: {exc}", file=out)
        return 1
    c = model.contract
    print(f"Model: {model.path}", file=out)
    print(f"  {c.name} {c.version}, {c.precision}, contract {CONTRACT_VERSION}, "
          f"size multiple {c.size_multiple}, receptive margin {c.receptive_margin} px, "
          f"tile margin {c.tile_margin} px, auto tile {auto_tile(model)} px, "
          f"{c.params:,} parameters", file=out)
    gate = c.exposure_gate
    print("  exposure gate: none (every photo gets the full attention)" if gate is None else
          f"  exposure gate: full attention up to mean luma {gate.low:g}, none from {gate.high:g}", file=out)
    print(f"  SHA-256 {model.sha256}", file=out)
    print(f"Running on: {model.provider.active}", file=out)
    if model.provider.fallback_reason:
        print(f"  ({model.provider.fallback_reason})", file=out)
    return 0


def _bench(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from enlighten_desktop.bench import compare_whole, run_bench, synthetic_photo

    if args.image is not None:
        from enlighten_desktop.engine.imageio import read_image

        rgb = read_image(args.image).rgb
    else:
        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            print(f"Error: --size must look like 6000x4000, not '{args.size}'.", file=err)
            return 2
        rgb = synthetic_photo(width, height)
    model = arguments.load_model(args, memory_arena=ARENA_CHOICES[args.arena])
    _notice_fallback(model, err)
    described = arguments.filters(args).describe(rgb)
    size = f"{rgb.shape[1]}x{rgb.shape[0]}" + (f", {described}" if described else "")
    if args.compare_whole:
        agreement = compare_whole(model, rgb, tile=args.tile, filters=arguments.filters(args))
        print(f"{size} tile {agreement.tile} vs whole image on {model.provider.active}: max difference "
              f"{agreement.max_levels:.3f} levels (99.9th percentile {agreement.p999_levels:.3f}), "
              f"{agreement.max_levels_quantised} levels after rounding to 8 bits", file=out)
        return 0
    result = run_bench(model, rgb, tile=args.tile, runs=max(args.runs, 1), warmup=args.warmup,
                       filters=arguments.filters(args))
    arena = "on" if model.settings.memory_arena else "off"
    print(f"{size} ({result.tiles} tile(s) of {result.tile or 'whole image'}) on "
          f"{result.provider}, arena {arena}, threads {args.threads or 'auto'}: "
          f"median {result.median_ms:.0f} ms of {result.runs}, {result.ms_per_megapixel:.0f} ms/MP; "
          f"peak RSS {_mib(result.peak_rss)} (before inference {_mib(result.rss_before)})", file=out)
    return 0


def _mib(size: int | None) -> str:
    return "n/a" if size is None else f"{size / 2**20:.0f} MiB"
