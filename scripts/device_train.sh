#!/usr/bin/env bash
# One EnlightenGAN training run on the device tool's GPU machine, inside one call (at most 10 minutes).
#
#   OUT=... bash scripts/device_train.sh [--tiny] [NAME [TRAIN OPTIONS...]]
#
# Run from the repository root with .device_pack carried (scripts/pack_for_device.py writes it here). NAME
# (default "paper") names the run and its returned files; TRAIN OPTIONS are added after the paper's
# configuration and override it (argparse keeps the last value), e.g. `noharm --w-no-harm 1`.
# The paper's configuration is every default of `python -m training train` (width 32, BatchNorm, 320 crops,
# vary, VGG-16 relu5_1 at stride 8, flips, 400 px images) with batch 32 and 3,600 steps: 200 epochs of
# max(578, 542) / 32 = 18 steps, lr constant for the first half and decaying linearly to 0 in the second.
#
# The machine is given back after the call and a checkpoint with optimizer states is too large to return,
# so a run cannot be resumed in a later call: training is stopped after TRAIN_SECONDS (default 540) and the
# last checkpoint (every 200 steps) is what comes back; meta.json's "step" says where it stopped.
# Into $OUT (at most 8 files of 16 MiB come back): NAME.raw.{0,1}.pt and NAME.ema.{0,1}.pt (the generator's
# raw and moving-average weights in fp16), NAME.meta.json, NAME.log and NAME.sample.png (the last sample
# sheet). Here, scripts/device_unpack.py turns them into a checkpoint that export and evaluate read.
#
# --tiny: the same chain in about a minute on a CPU (width 8, 64 px crops, batch 2, 4 steps), to test it.
# Environment: PYTHON (default python3), PACK (default .device_pack), TRAIN_SECONDS, WORKERS (default 12 of
# the machine's 16 cores).
set -euo pipefail
: "${OUT:?set OUT to the folder whose files come back}"
PYTHON=${PYTHON:-python3}
PACK=${PACK:-.device_pack}
TRAIN_SECONDS=${TRAIN_SECONDS:-540}
WORKERS=${WORKERS:-12}
export PYTHONPATH=. PYTHONUNBUFFERED=1

tiny=0
if [[ ${1:-} == --tiny ]]; then
    tiny=1
    shift
fi
name=${1:-paper}
shift || true
if [[ ! $name =~ ^[A-Za-z0-9_-]+$ ]]; then
    echo "NAME must be letters, digits, '_' and '-' (the device tool returns only such file names)" >&2
    exit 2
fi

say() { echo "[device_train $(date +%T)] $*"; }
started=$SECONDS
run=/tmp/device_runs/$name
vgg=/tmp/vgg16_conv5_1_fp32.pth
mkdir -p "$OUT"
rm -rf "$run"

if [[ $tiny == 1 ]]; then
    # A CPU stand-in: the paper's layers (BatchNorm, VGG-16 at stride 8, vary, EMA) at toy sizes.
    options=(--width 8 --crop 64 --batch-size 2 --workers 0 --threads 2 --max-steps 4
        --checkpoint-every 2 --sample-every 2 --log-every 1)
else
    # Fail in seconds, not after the time limit, when the GPU is not usable: on a CPU this would crawl.
    "$PYTHON" -c 'import torch; assert torch.cuda.is_available(), "CUDA is not available"
print("torch", torch.__version__, torch.cuda.get_device_name(0))'
    options=(--batch-size 32 --workers "$WORKERS" --max-steps 3600 --checkpoint-every 200
        --sample-every 200 --log-every 20)
fi

say "VGG-16 fp16 -> fp32 ($vgg)"
"$PYTHON" scripts/device_weights.py vgg-fp32 "$PACK/vgg16_conv5_1_fp16.pt" "$vgg"

say "training $name for at most ${TRAIN_SECONDS}s: ${options[*]} $*"
status=0
# SIGTERM, not SIGINT: a shell without job control starts background commands with SIGINT ignored, and
# checkpoints are written atomically, so killing the trainer between two of them loses nothing written.
timeout --kill-after=10 "$TRAIN_SECONDS" \
    "$PYTHON" -m training train --out "$run" --low "$PACK/train_low" --normal "$PACK/train_normal" \
    --vgg16-weights "$vgg" "${options[@]}" "$@" 2>&1 | tee "$OUT/$name.log" || status=$?
case $status in
    0) say "training finished" ;;
    124 | 137) say "time limit reached: returning the last checkpoint" ;;
    *) say "training failed (exit $status)"; exit "$status" ;;
esac
if [[ ! -f $run/checkpoints/last.pt ]]; then
    say "no checkpoint was written before the time limit"
    exit 1
fi

say "weights to fp16 parts in $OUT"
"$PYTHON" scripts/device_weights.py split "$run/checkpoints/last.pt" "$OUT" "$name"
step=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["step"])' "$OUT/$name.meta.json")
# The sheet of the returned step (a kill can fall between a step's sample sheet and its checkpoint).
sample=$run/samples/$(printf 'step_%06d.png' "$step")
if [[ -f $sample ]]; then
    cp "$sample" "$OUT/$name.sample.png"
fi
say "returned step $step (the log's progress lines give the planned total)"
ls -l "$OUT"
say "done in $((SECONDS - started))s"
