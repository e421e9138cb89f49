"""The command line's shared options: argparse types, where a value out of range is a usage error (exit status
2) that says what is allowed, not a value clamped, a crash later, or a file written outside the output
folder; and the model options of every sub-command that runs the model, with the model they load."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from enlighten_desktop.engine.errors import ModelError
from enlighten_desktop.engine.filters import DEFAULT_FILTERS, Filters
from enlighten_desktop.engine.model import EnhancerModel, default_model_path
from enlighten_desktop.engine.noise import LUMINANCE_MAX_LEVELS, check_amount
from enlighten_desktop.engine.providers import PROVIDER_ALIASES, SessionSettings
from enlighten_desktop.engine.smoothing import AUTO_LEVELS, AUTO_RAMP, MAX_LEVELS, check_levels


def strength(text: str) -> float:
    """0 = the original, 1 = the full effect; nan and infinities are refused."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {text!r}")
    return value


def smoothing(text: str) -> float | None:
    """Shadow smoothing: ``auto`` (None: chosen per photo by its darkness) or 8-bit levels, from 0 (off) to
    ``smoothing.MAX_LEVELS``."""
    if text.strip().lower() == "auto":
        return None
    try:
        return check_levels(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be 'auto' or a number of levels from 0 to {MAX_LEVELS:g}, not {text!r}") from None


def _percent_amount(text: str, what: str) -> float:
    try:
        return check_amount(float(text) / 100.0, what)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a percentage from 0 to 100, not {text!r}") from None


def noise_amount(text: str) -> float:
    """Noise reduction in percent, 0 (off) to 100, as the engine's amount (0 to 1)."""
    return _percent_amount(text, "noise reduction")


def photo_colour_amount(text: str) -> float:
    """Photo colour in percent, 0 (the model's colour) to 100, as the engine's amount (0 to 1)."""
    return _percent_amount(text, "photo colour")


def add_filter_args(parser: argparse.ArgumentParser) -> None:
    """``--smooth-shadows LEVELS``, ``--photo-colour PERCENT`` (or ``--photo-color``), ``--colour-noise
    PERCENT`` (or ``--color-noise``) and ``--luminance-noise PERCENT``, for every sub-command that enhances;
    ``filters(args)`` reads them."""
    default_smoothing = None if DEFAULT_FILTERS.auto_smoothing else DEFAULT_FILTERS.smoothing
    parser.add_argument(
        "--smooth-shadows", type=smoothing, metavar="auto|LEVELS", dest="smoothing",
        default=default_smoothing,
        help="before the lift, smooth the 8-bit steps and compression blocks of the shadows: each pixel "
        f"moves by at most LEVELS of 255 (0 = off; up to {MAX_LEVELS:g}; 1 to 2 for blocky phone photos), or "
        f"'auto': {AUTO_LEVELS:g} for the darkest photos, none from mean luma {AUTO_RAMP.high:g} (default: "
        f"{'auto' if default_smoothing is None else default_smoothing})")
    parser.add_argument(
        "--photo-colour", "--photo-color", type=photo_colour_amount, default=DEFAULT_FILTERS.photo_colour,
        metavar="PERCENT", dest="photo_colour",
        help="after the lift, give the lifted pixels the photo's own hues on the model's brightness and "
        "detail (the model alone turns some saturated colours: red to orange, teal to sky blue; 0 = the "
        f"model's colour, 100 = the photo's; default {DEFAULT_FILTERS.photo_colour * 100:g})")
    parser.add_argument(
        "--colour-noise", "--color-noise", type=noise_amount, default=DEFAULT_FILTERS.colour_noise,
        metavar="PERCENT", dest="colour_noise",
        help="after the lift, take the coloured blotches out of the lifted shadows and keep their luma grain "
        f"(0 = off, 100 = full; default {DEFAULT_FILTERS.colour_noise * 100:g})")
    parser.add_argument(
        "--luminance-noise", type=noise_amount, default=DEFAULT_FILTERS.luminance_noise, metavar="PERCENT",
        help="after the lift, smooth the luma grain of the lifted shadows below a threshold of PERCENT of "
        f"{LUMINANCE_MAX_LEVELS:g} levels, edges kept (0 = off, the default; costs fine texture)")


def filters(args: argparse.Namespace) -> Filters:
    """The filters ``add_filter_args``' options chose."""
    return Filters.chosen(smoothing=args.smoothing, photo_colour=args.photo_colour,
                          colour_noise=args.colour_noise, luminance_noise=args.luminance_noise)


def int_range(low: int, high: int | None = None) -> Callable[[str], int]:
    """A type for whole numbers from ``low`` to ``high`` (None: no upper bound)."""
    allowed = f"from {low} to {high}" if high is not None else f"of {low} or more"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number {allowed}, not {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be a whole number {allowed}, not {text!r}")
        return value

    parse.__name__ = "whole number"  # what argparse calls the type in its own messages
    return parse


def tile_size(text: str) -> int | None:
    """"auto" (None: the largest tile whose model run fits the memory budget), 0 (the whole image in one
    run) or a tile's core size in px."""
    if text.strip().lower() == "auto":
        return None
    try:
        return int_range(0)(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be auto, 0 (the whole image) or a size in px, not {text!r}") from None


def add_tile_arg(parser: argparse.ArgumentParser) -> None:
    """--tile of every sub-command that enhances at full size (enhance, edit, bench)."""
    parser.add_argument("--tile", type=tile_size, default=None,
                        help="tile size in px; 0: the whole image in one run; default auto: the largest "
                             "whose model run fits in 1 GiB")


def template(text: str) -> str:
    from enlighten_desktop.engine.outputs import check_template  # the engine is imported when it is needed

    try:
        return check_template(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def state_path(text: str) -> Path:
    """A new file or an earlier batch state; never a folder or a photo (which the batch would delete)."""
    from enlighten_desktop.engine.batch_state import BatchState
    from enlighten_desktop.engine.errors import BatchStateError

    path = Path(text)
    try:
        BatchState.check_path(path)
    except BatchStateError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return path


def add_model_args(parser: argparse.ArgumentParser) -> None:
    """The options that choose the model and where it runs (enhance, info, bench, edit)."""
    parser.add_argument("--model", type=Path, help="an .onnx model file (default: the bundled model)")
    parser.add_argument("--precision", choices=("fp32", "int8"), default="fp32",
                        help="which bundled model to use (ignored with --model)")
    parser.add_argument("--provider", choices=sorted(PROVIDER_ALIASES), default="auto",
                        help="execution device; a missing one falls back to the CPU with a notice")
    parser.add_argument("--device", type=int_range(0), default=0, help="GPU index for cuda and dml")
    parser.add_argument("--threads", type=int_range(0), default=0,
                        help="CPU threads (0: one per core)")


def load_model(args: argparse.Namespace, *, memory_arena: bool | None = None) -> EnhancerModel:
    """The model ``add_model_args``' options name, loaded; ModelError when it cannot be."""
    path = args.model or default_model_path(args.precision)
    if args.model is None and not path.is_file():
        raise ModelError(
            f"The bundled model is not installed ({path} is missing). Pass a model file with --model FILE, "
            "or install a release that includes the model."
        )
    settings = SessionSettings(intra_op_threads=args.threads, memory_arena=memory_arena)
    return EnhancerModel.load(path, provider=args.provider, device=args.device, settings=settings)
