"""``python -m training evaluate``: NIQE per set (input, baselines, model side by side), PSNR/SSIM where
reference frames exist, a table printed and written as CSV and Markdown, and a contact sheet per set.

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

from training.contact_sheet import contact_sheet, evenly_spaced
from training.enhancers import LUMA601, Enhancer, OnnxEnhancer, gamma_curve
from training.metrics import psnr, ssim
from training.niqe import niqe

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
BASELINES: dict[str, Enhancer] = {"gamma": gamma_curve}
INPUT, MODEL, REFERENCE = "input", "model", "reference"
# Score field -> (column title, decimals).
_COLUMNS = {"niqe": ("NIQE", 3), "psnr": ("PSNR", 2), "ssim": ("SSIM", 3), "luma": ("luma", 3)}


@dataclass(frozen=True)
class Score:
    """One image of one set under one method. PSNR (dB) / SSIM are None without a reference frame."""

    set_name: str
    file: str
    method: str
    niqe: float
    psnr: float | None
    ssim: float | None
    luma: float


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder: {folder}")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def find_reference(image: Path, references: dict[str, Path]) -> Path | None:
    """The reference of ``sNNN_*.jpg`` (or ``sNNN.jpg``) among ``references`` (stem -> path), if any."""
    return references.get(image.stem) or references.get(image.stem.split("_", 1)[0])


def load_rgb(path: Path) -> np.ndarray:
    """[H, W, 3] uint8 RGB, upright (EXIF orientation applied)."""
    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def mean_luma(rgb: np.ndarray) -> float:
    """Mean BT.601 luminance of [H, W, 3] uint8 RGB, in [0, 1]."""
    return float((rgb.astype(np.float64) / 255.0 @ LUMA601).mean())


def score(set_name: str, file: str, method: str, rgb: np.ndarray, reference: np.ndarray | None) -> Score:
    """All metrics of one [H, W, 3] uint8 image; PSNR/SSIM against ``reference`` when there is one."""
    return Score(
        set_name=set_name,
        file=file,
        method=method,
        niqe=niqe(rgb),
        psnr=None if reference is None else psnr(rgb, reference),
        ssim=None if reference is None else ssim(rgb, reference),
        luma=mean_luma(rgb),
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
    files = list_images(folder)
    if not files:
        raise FileNotFoundError(f"no images in {folder}")
    methods = [INPUT, *enhancers]
    shown = set(evenly_spaced(len(files), sheet_rows))
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
        scores += [score(set_name, path.name, m, out, reference) for m, out in outputs.items()]
        if reference_path is not None and reference_path not in scored_references:
            scored_references.add(reference_path)
            scores.append(score(set_name, reference_path.name, REFERENCE, reference, None))
        if index in shown:
            sheet.append([outputs[m] for m in methods] + ([reference] if references else []))
        log.info("%s %d/%d %s", set_name, index + 1, len(files), path.name)
    columns = methods + ([REFERENCE] if references else [])
    return scores, contact_sheet(columns, sheet)


def summarise(scores: Sequence[Score], methods: Sequence[str]) -> list[dict[str, str]]:
    """One row per set (and an ``all`` row over every image when there are several sets).

    Columns: set, images, then NIQE / PSNR / SSIM / luma for each method side by side (blank where the
    metric does not apply). Values are formatted strings, ready for CSV and Markdown.
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
    add("folders", nargs="+", type=Path, metavar="DIR", help="one folder per image set")
    add("--model", type=Path, help="ONNX model (docs/MODEL_CONTRACT.md); omit to score baselines only")
    add("--ref", type=Path, help="reference frames: sNNN.jpg pairs with sNNN_*.jpg in a set")
    add("--out", type=Path, default=Path("evaluation"), help="output folder (default: %(default)s)")
    add("--baseline", action="append", choices=sorted(BASELINES), default=[], help="also score a baseline")
    add("--sheet-rows", type=int, default=4, help="images per contact sheet (default: %(default)s)")
    add("--threads", type=int, help="ONNX Runtime threads (default: one per core)")
    return parser


def main(argv: list[str]) -> int:
    """Run the evaluation; writes summary.csv, summary.md, per_image.csv and <set>_contact.jpg into --out."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    enhancers: dict[str, Enhancer] = {name: BASELINES[name] for name in dict.fromkeys(args.baseline)}
    if args.model is not None:
        enhancers[MODEL] = OnnxEnhancer(path=args.model, threads=args.threads)
    references = {} if args.ref is None else {p.stem: p for p in list_images(args.ref)}
    args.out.mkdir(parents=True, exist_ok=True)
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
    header = f"Model: `{args.model}`\n\n" if args.model else "No model: input and baselines only.\n\n"
    (args.out / "summary.md").write_text(header + table)
    sys.stdout.write(table)
    log.info("wrote %s", args.out)
    return 0
