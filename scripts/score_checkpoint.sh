#!/bin/sh
# Score one training checkpoint the way docs/TRAINING.md's tables do:
#   sh scripts/score_checkpoint.sh CHECKPOINT OUT_DIR [ema|raw] [dev_real]
# exports it (moving average by default, `raw` for G's own weights) without the exposure gate, so the no-harm
# report shows what the network itself does to well-exposed photos; then scores dev_eval (NIQE, PSNR, SSIM,
# luma, contact sheet), the no-harm report on dev_eval/ref and, with `dev_real`, NIQE on the real phone photos.
# Run from the repository root with the project's Python on PATH (or PYTHON=.venv/bin/python).
set -eu
if [ $# -lt 2 ]; then
    echo "usage: sh scripts/score_checkpoint.sh CHECKPOINT OUT_DIR [ema|raw] [dev_real]" >&2
    exit 2
fi
CHECKPOINT=$1
OUT=$2
WEIGHTS=${3:-ema}
DATA=${DATA:-../shared/data}
PYTHON=${PYTHON:-python}
case $WEIGHTS in
    ema) WEIGHTS_FLAG=--ema ;;
    raw) WEIGHTS_FLAG=--no-ema ;;
    *) echo "weights must be ema or raw, not '$WEIGHTS'" >&2; exit 2 ;;
esac
mkdir -p "$OUT"
"$PYTHON" -m training export "$CHECKPOINT" -o "$OUT/model.onnx" "$WEIGHTS_FLAG" --exposure-gate none \
    > "$OUT/export.log" 2>&1
"$PYTHON" -m training evaluate --model "$OUT/model.onnx" --ref "$DATA/dev_eval/ref" "$DATA/dev_eval/low" \
    --out "$OUT/dev_eval" > "$OUT/dev_eval.log" 2>&1
"$PYTHON" -m training evaluate --model "$OUT/model.onnx" --no-harm "$DATA/dev_eval/ref" --out "$OUT/no_harm" \
    > "$OUT/no_harm.log" 2>&1
grep -E '^\| (set|low) ' "$OUT/dev_eval/summary.md"
grep -E '^model:' "$OUT/no_harm.log"
if [ "${4:-}" = dev_real ]; then
    "$PYTHON" -m training evaluate --model "$OUT/model.onnx" "$DATA/dev_real" --out "$OUT/dev_real" \
        > "$OUT/dev_real.log" 2>&1
    grep -E '^\| (set|dev_real) ' "$OUT/dev_real/summary.md"
fi
