"""``python -m training evaluate``: NIQE per set (input, baselines, model side by side), PSNR/SSIM where
reference frames exist, a table printed and written as CSV and Markdown, and a contact sheet per set.
With ``--no-harm DIR``, also the no-harm report on well-exposed photos (training.no_harm): each output against
its own input, with issue 13's PASS/FAIL bars.

Reference pairing follows shared/data/dev_eval: ``sNNN.jpg`` in the reference folder is the well-exposed frame
of every ``sNNN_*.jpg`` in a low-light folder (a file with the same stem pairs too).
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from training import no_harm
from training.config import load_config
from training.contact_sheet import contact_sheet, evenly_spaced
from training.enhancers import Enhancer, OnnxEnhancer, ToneTargetEnhancer, gamma_curve
from training.metrics import clipped_percent, colour_change, mean_luma, psnr, ssim
from training.niqe import niqe

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
BASELINES: dict[str, Enhancer] = {"gamma": gamma_curve}
INPUT, MODEL, REFERENCE = "input", "model", "reference"
# Score field -> (column title, decimals).
_COLUMNS = {"niqe": ("NIQE", 3), "psnr": ("PSNR", 2), "ssim": ("SSIM", 3), "luma": ("luma", 3),
            "clipped": ("clip%", 2), "hue_turn": ("hue turn", 1), "colour_kept": ("colour kept", 2)}


@dataclass(frozen=True)
class Score:
    """One image of one set under one method. PSNR (dB) / SSIM are None without a reference frame; luma is the
    mean BT.601 luminance in [0, 1]; clipped the percent of pixels with any channel >= 250; hue turn (degrees)
    and colour kept (ratio) say how a method changed the input's colours (training.metrics.colour_change):
    None for the input and the reference, and for photos without colour."""

    set_name: str
    file: str
    method: str
    niqe: float
    psnr: float | None
    ssim: float | None
    luma: float
    clipped: float
    hue_turn: float | None = None
    colour_kept: float | None = None


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder: {folder}")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def images_to_show(folder: Path, sheet_rows: int) -> tuple[list[Path], set[int]]:
    """The images of ``folder`` (FileNotFoundError when there are none) and the indices of those shown on a
    contact sheet of ``sheet_rows`` rows."""
    files = list_images(folder)
    if not files:
        raise FileNotFoundError(f"no images in {folder}")
    return files, set(evenly_spaced(len(files), sheet_rows))


def find_reference(image: Path, references: dict[str, Path]) -> Path | None:
    """The reference of ``sNNN_*.jpg`` (or ``sNNN.jpg``) among ``references`` (stem -> path), if any."""
    return references.get(image.stem) or references.get(image.stem.split("_", 1)[0])


def load_rgb(path: Path) -> np.ndarray:
    """[H, W, 3] uint8 RGB, upright (EXIF orientation applied)."""
    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def score(
    set_name: str,
    file: str,
    method: str,
    rgb: np.ndarray,
    reference: np.ndarray | None,
    source: np.ndarray | None = None,
) -> Score:
    """All metrics of one [H, W, 3] uint8 image; PSNR/SSIM against ``reference`` when there is one, the colour
    change against ``source`` (the image ``rgb`` was enhanced from) when there is one."""
    change = None if source is None else colour_change(rgb, source)
    return Score(
        set_name=set_name,
        file=file,
        method=method,
        niqe=niqe(rgb),
        psnr=None if reference is None else psnr(rgb, reference),
        ssim=None if reference is None else ssim(rgb, reference),
        luma=mean_luma(rgb),
        clipped=clipped_percent(rgb),
        hue_turn=None if change is None else change.hue_turn,
        colour_kept=None if change is None else change.colour_kept,
    )


def evaluate_set(
    *,
    folder: Path,
    set_name: str,
    enhancers: dict[str, Enhancer],
    references: dict[str, Path],
    sheet_rows: int,
) -> tuple[list[Score], Image.Image]:
    """Score every image of ``folder`` as it is, through each enhancer, and each paired reference once.

    Returns the scores and the contact sheet (``sheet_rows`` images spread over the set).
    """
    files, shown = images_to_show(folder, sheet_rows)
    methods = [INPUT, *enhancers]
    scores: list[Score] = []
    scored_references: set[Path] = set()
    sheet: list[list[np.ndarray | None]] = []
    for index, path in enumerate(files):
        rgb = load_rgb(path)
        reference_path = find_reference(path, references)
        reference = None if reference_path is None else load_rgb(reference_path)
        if reference is not None and reference.shape != rgb.shape:
            raise ValueError(
                f"{path} {rgb.shape} and its reference {reference_path} {reference.shape} differ in size"
            )
        outputs = {INPUT: rgb, **{name: enhance(rgb) for name, enhance in enhancers.items()}}
        scores += [
            score(set_name, path.name, method, out, reference, None if method == INPUT else rgb)
            for method, out in outputs.items()
        ]
        if reference_path is not None and reference_path not in scored_references:
            scored_references.add(reference_path)
            scores.append(score(set_name, reference_path.name, REFERENCE, reference, None))
        if index in shown:
            sheet.append([outputs[m] for m in methods] + ([reference] if references else []))
        log.info("%s %d/%d %s", set_name, index + 1, len(files), path.name)
    columns = methods + ([REFERENCE] if references else [])
    return scores, contact_sheet(columns, sheet)


def evaluate_no_harm(
    *, folder: Path, enhancers: dict[str, Enhancer], sheet_rows: int
) -> tuple[list[no_harm.Harm], Image.Image]:
    """Put every well-exposed photo of ``folder`` through each enhancer and compare it with itself.

    Returns the measurements and a contact sheet (input | each enhancer) of ``sheet_rows`` photos.
    """
    files, shown = images_to_show(folder, sheet_rows)
    harms: list[no_harm.Harm] = []
    sheet: list[list[np.ndarray | None]] = []
    for index, path in enumerate(files):
        rgb = load_rgb(path)
        outputs = {name: enhance(rgb) for name, enhance in enhancers.items()}
        harms += [no_harm.measure(path.name, name, rgb, output) for name, output in outputs.items()]
        if index in shown:
            sheet.append([rgb, *outputs.values()])
        log.info("no-harm %d/%d %s", index + 1, len(files), path.name)
    return harms, contact_sheet([INPUT, *enhancers], sheet)


def write_no_harm(out: Path, harms: Sequence[no_harm.Harm], methods: Sequence[str], header: str) -> str:
    """Write no_harm.csv, no_harm.md and no_harm_per_image.csv into ``out``; return the table and verdicts."""
    rows = no_harm.summarise(harms, methods)
    report = markdown_table(rows) + "\n" + "\n".join(no_harm.verdict_lines(harms, methods)) + "\n"
    write_csv(out / "no_harm.csv", rows)
    per_image = [vars(h) | {"luma_change": h.luma_change, "clip_growth": h.clip_growth} for h in harms]
    write_csv(out / "no_harm_per_image.csv", per_image)
    (out / "no_harm.md").write_text(header + report)
    return report


def summarise(scores: Sequence[Score], methods: Sequence[str]) -> list[dict[str, str]]:
    """One row per set (and an ``all`` row over every image when there are several sets).

    Columns: set, images, then NIQE / PSNR / SSIM / luma / clip% / hue turn / colour kept for each method side
    by side (blank where the metric does not apply), then for each enhancer the percent of its outputs whose
    clipped-highlight area is larger than the input's ("clip grew"). Values are formatted strings, ready for
    CSV and Markdown.
    """
    sets = list(dict.fromkeys(s.set_name for s in scores))
    groups = [(name, [s for s in scores if s.set_name == name]) for name in sets]
    if len(sets) > 1:
        groups.append(("all", list(scores)))
    rows = []
    for name, group in groups:
        row = {"set": name, "images": str(sum(s.method == INPUT for s in group))}
        for metric, (title, digits) in _COLUMNS.items():
            for method in methods:
                values = [v for s in group if s.method == method and (v := getattr(s, metric)) is not None]
                row[f"{title} {method}"] = f"{np.mean(values):.{digits}f}" if values else ""
        clipped_input = {(s.set_name, s.file): s.clipped for s in group if s.method == INPUT}
        for method in methods:
            if method not in (INPUT, REFERENCE):
                grew = [s.clipped > clipped_input[s.set_name, s.file] for s in group if s.method == method]
                row[f"clip grew {method}"] = f"{100 * np.mean(grew):.1f}" if grew else ""
        rows.append(row)
    return rows


def markdown_table(rows: Sequence[dict[str, str]]) -> str:
    """A GitHub Markdown table of ``rows`` (columns of the first row), without empty columns."""
    columns = [c for c in rows[0] if any(r[c] for r in rows)]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(r[c] for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write_csv(path: Path, rows: Sequence[dict[str, object]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def set_names(folders: Sequence[Path]) -> list[str]:
    """Folder names as set names; the parent is prefixed where two sets would share a name."""
    names = [f.name for f in folders]
    return [f"{f.parent.name}/{f.name}" if names.count(f.name) > 1 else f.name for f in folders]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training evaluate",
        description="NIQE (MATLAB-faithful) per set for the input, baselines and an ONNX model; PSNR/SSIM "
        "against reference frames where given; a table (printed, CSV, Markdown) and contact sheets.",
    )
    add = parser.add_argument
    add("folders", nargs="*", type=Path, metavar="DIR", help="one folder per image set")
    add("--no-harm", type=Path, metavar="DIR", help="well-exposed photos: report how much each method "
        "changes them (luminance, PSNR against the input, clipped highlights) against issue 13's bars")
    add("--model", type=Path, help="ONNX model (docs/MODEL_CONTRACT.md); omit to score baselines only")
    add("--ref", type=Path, help="reference frames: sNNN.jpg pairs with sNNN_*.jpg in a set")
    add("--out", type=Path, default=Path("evaluation"), help="output folder (default: %(default)s)")
    add("--baseline", action="append", choices=sorted(BASELINES), default=[], help="also score a baseline")
    add("--tone-target", action="append", type=Path, default=[], metavar="CONFIG", help="also score the "
        "tone-curve target of a training config (a run folder, its config.json, or a JSON file with a 'loss' "
        "section), applied to each whole image with no network: the ceiling of a supervised run; repeatable")
    add("--sheet-rows", type=int, default=4, help="images per contact sheet (default: %(default)s)")
    add("--threads", type=int, help="ONNX Runtime threads (default: one per core)")
    return parser


def main(argv: list[str]) -> int:
    """Run the evaluation; writes summary.csv, summary.md, per_image.csv and <set>_contact.jpg into --out
    (and no_harm.csv, no_harm.md, no_harm_per_image.csv, no_harm_contact.jpg with --no-harm)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.folders and args.no_harm is None:
        parser.error("give at least one set folder or --no-harm DIR")
    if args.no_harm is not None and args.model is None and not args.baseline and not args.tone_target:
        parser.error("--no-harm needs --model, --baseline or --tone-target to put the photos through")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    enhancers: dict[str, Enhancer] = {name: BASELINES[name] for name in dict.fromkeys(args.baseline)}
    for config in args.tone_target:
        name, enhancer = _tone_target(config)
        if name in enhancers:
            parser.error(f"two --tone-target configs are both called '{name}': give them different names")
        enhancers[name] = enhancer
    if args.model is not None:
        enhancers[MODEL] = OnnxEnhancer(path=args.model, threads=args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    header = f"Model: `{args.model}`\n\n" if args.model else "No model: input and baselines only.\n\n"
    if args.folders:
        sys.stdout.write(_evaluate_sets(args, enhancers, header))
    if args.no_harm is not None:
        harms, sheet = evaluate_no_harm(folder=args.no_harm, enhancers=enhancers, sheet_rows=args.sheet_rows)
        sheet.save(args.out / "no_harm_contact.jpg", quality=90)
        title = f"No harm on `{args.no_harm}`. {header}"
        sys.stdout.write(write_no_harm(args.out, harms, list(enhancers), title))
    log.info("wrote %s", args.out)
    return 0


def _tone_target(path: Path) -> tuple[str, ToneTargetEnhancer]:
    """``--tone-target``'s method name (``target:`` and the run folder's name for a run folder or its
    config.json, the file's stem for any other JSON) and enhancer. A missing or malformed config is a
    SystemExit naming it."""
    file = path / "config.json" if path.is_dir() else path
    try:
        config = load_config(file)
    except (OSError, ValueError, TypeError) as error:
        raise SystemExit(f"--tone-target {path}: not a readable training config ({error})") from error
    label = file.parent.name if file.name == "config.json" else file.stem
    return f"target:{label}", ToneTargetEnhancer(config.loss)


def _evaluate_sets(args: argparse.Namespace, enhancers: dict[str, Enhancer], header: str) -> str:
    """The per-set evaluation of ``main``; writes its files and returns the table."""
    references = {} if args.ref is None else {p.stem: p for p in list_images(args.ref)}
    scores: list[Score] = []
    for folder, name in zip(args.folders, set_names(args.folders), strict=True):
        set_scores, sheet = evaluate_set(
            folder=folder,
            set_name=name,
            enhancers=enhancers,
            references=references,
            sheet_rows=args.sheet_rows,
        )
        scores += set_scores
        sheet.save(args.out / f"{name.replace('/', '_')}_contact.jpg", quality=90)
    methods = [INPUT, *enhancers] + ([REFERENCE] if references else [])
    rows = summarise(scores, methods)
    table = markdown_table(rows)
    write_csv(args.out / "summary.csv", rows)
    write_csv(args.out / "per_image.csv", [vars(s) for s in scores])
    (args.out / "summary.md").write_text(header + table)
    return table
