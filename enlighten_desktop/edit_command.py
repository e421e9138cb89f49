"""``enlighten-desktop edit FILE``: the contract of a photo editor's "Edit In" / "Edit With" hand-off.

``edit FILE --apply [--strength S]`` enhances FILE without a window and saves it over itself (format, bit
depth, compression, ICC, EXIF and XMP kept; atomic), for scripted hosts. ``edit FILE`` without ``--apply``
opens the review window (``enlighten_desktop.ui.review_app``; ``__main__`` routes it there, as this module
stays Qt-free).

Exit status, which host scripts rely on: 0 saved, 1 failed (the file is untouched), 2 wrong command line,
3 closed without saving (the file is untouched), 130 interrupted.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from enlighten_desktop import arguments
from enlighten_desktop.engine.pipeline import Progress, run_to_end

# How an edit ended (also the words of the single-instance protocol), and the exit status each one gives.
SAVED, NOT_SAVED, FAILED = "saved", "not saved", "failed"
EXIT_STATUS = {SAVED: 0, FAILED: 1, NOT_SAVED: 3}


def add_edit_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``edit`` on the CLI's sub-parsers."""
    edit = sub.add_parser(
        "edit", help="edit one photo in place (for Lightroom, Capture One, darktable, GIMP)",
        description="Enhance FILE and save it over itself, keeping format, bit depth and metadata. "
        "Without --apply a review window opens with Save and Cancel. Exit status: 0 saved, "
        "1 failed, 3 closed without saving; the file is untouched unless saved.",
    )
    edit.add_argument("file", type=Path, metavar="FILE")
    edit.add_argument("--apply", action="store_true", help="no window: enhance and save at once")
    edit.add_argument("--strength", type=arguments.strength, default=1.0,
                      help="0 = original, 1 = full effect")
    arguments.add_filter_args(edit)
    arguments.add_tile_arg(edit)
    arguments.add_model_args(edit)


def run_edit(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``edit --apply``: enhance and save in place; progress on ``err``, the saved path on ``out``."""
    from enlighten_desktop.engine.inplace import InPlace, edit_path
    from enlighten_desktop.engine.item import process_item

    if not args.apply:
        print("Error: the review window opens through `enlighten-desktop edit FILE`; add --apply to edit "
              "without a window.", file=err)
        return 2
    model = arguments.load_model(args)
    if model.provider.fallback_reason:
        print(f"Notice: {model.provider.fallback_reason}", file=err)

    def show(step: Progress) -> None:
        if step.done:
            print(f"{args.file.name}: tile {step.done}/{step.total}", file=err, flush=True)

    steps = process_item(model, edit_path(args.file), InPlace(), strength=args.strength,
                         filters=arguments.filters(args), tile=args.tile)
    saved = run_to_end(steps, show).output
    print(f"Saved {saved} (on {model.provider.active})", file=out)
    return EXIT_STATUS[SAVED]
