#!/usr/bin/env bash
# Issue 16's CUDA check on a GPU machine lent by the device tool; scripts/pack_cuda_kit.py packs what it needs
# and prints the calls. Run from the repository root.
#
#   bash scripts/device_cuda_check.sh receive .device_cuda/part_NN   # one call per carried part
#   OUT=... bash scripts/device_cuda_check.sh run                     # the last call: install, check, report
#
# run: checks the parts against kit.sha256, installs onnxruntime-gpu and the image libraries beside the
# machine's own Python (PYTHONPATH, nothing system-wide), points the loader at the CUDA 13 / cuDNN 9 libraries
# of the image's PyTorch, then writes $OUT/cuda_report.txt: `info` and `selftest` on CUDA, the samples on CUDA
# against the CPU (largest difference in 8-bit levels), MP/s at 24 MP for fp32, int8 and an fp16 conversion
# with a GPU-sized tile (the whole photo) and the automatic one, and the fallback notice without the CUDA
# libraries and without a visible GPU.
set -euo pipefail
KIT=/tmp/enlighten_cuda_kit
PYTHON=${PYTHON:-python3}
BENCH_SIZE=${BENCH_SIZE:-6000x4000}  # smaller to test the chain on a CPU

case ${1:-} in
receive)
    part=${2:?name the carried part}
    mkdir -p "$KIT"
    # A retried call must not append its part twice.
    if [[ ! -e $KIT/$(basename "$part").done ]]; then
        cat "$part" >>"$KIT/kit.tar"
        touch "$KIT/$(basename "$part").done"
    fi
    echo "received: $(ls "$KIT" | grep -c '\.done$') part(s), $(stat -c %s "$KIT/kit.tar") bytes"
    ;;
run)
    : "${OUT:?set OUT to the folder whose files come back}"
    kit_dir=${KIT_SUMS:-.device_cuda}
    echo "$(cut -d' ' -f1 "$kit_dir/kit.sha256")  $KIT/kit.tar" | sha256sum -c - >/dev/null
    rm -rf "$KIT/wheels" "$KIT/site" && mkdir -p "$KIT/wheels"
    tar -xf "$KIT/kit.tar" -C "$KIT/wheels"
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --target "$KIT/site" "$KIT"/wheels/*.whl
    export PYTHONPATH=$KIT/site:. PYTHONUNBUFFERED=1 QT_QPA_PLATFORM=offscreen
    cuda_libs=$("$PYTHON" - <<'EOF'
import importlib.util, os
spec = importlib.util.find_spec("nvidia")
roots = list(spec.submodule_search_locations) if spec else []
print(":".join(sorted(os.path.join(r, d, "lib") for r in roots for d in os.listdir(r)
                      if os.path.isdir(os.path.join(r, d, "lib")))))
EOF
)
    app() { "$PYTHON" -m enlighten_desktop "$@" 2>&1 | grep -v '^\s*$' || true; }
    {
        echo "== GPU"; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
        export LD_LIBRARY_PATH=$cuda_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
        echo "== info --provider cuda"; app info --provider cuda
        echo "== selftest --provider cuda"; app selftest --provider cuda
        echo "== samples, CUDA against the CPU"
        "$PYTHON" - <<'EOF'
import numpy as np
from enlighten_desktop.engine.imageio import read_image
from enlighten_desktop.engine.model import EnhancerModel, default_model_path
from enlighten_desktop.engine.pipeline import enhance, run_to_end
from enlighten_desktop.resources import samples_dir
for precision in ("fp32", "int8"):
    models = {p: EnhancerModel.load(default_model_path(precision), provider=p) for p in ("cuda", "cpu")}
    print(precision, "runs on", models["cuda"].provider.active)
    for sample in sorted(samples_dir().glob("*.jpg")):
        rgb = read_image(sample).rgb
        out = {p: np.rint(run_to_end(enhance(m, rgb)).enhanced * 255) for p, m in models.items()}
        print(f"  {sample.name}: max |cuda - cpu| {np.abs(out['cuda'] - out['cpu']).max():.0f} levels")
EOF
        "$PYTHON" - <<'EOF'
from onnxruntime.transformers.float16 import convert_float_to_float16
import onnx
from enlighten_desktop.engine.model import default_model_path
model = convert_float_to_float16(onnx.load(str(default_model_path("fp32"))), keep_io_types=True)
onnx.save(model, "/tmp/enlighten_cuda_kit/enlightengan-fp16.onnx")
EOF
        for tile in 0 auto; do
            echo "== bench $BENCH_SIZE, tile $tile: fp32, int8, fp16"
            app bench --size "$BENCH_SIZE" --provider cuda --tile "$tile" --runs 3
            app bench --size "$BENCH_SIZE" --provider cuda --tile "$tile" --runs 3 --precision int8
            app bench --size "$BENCH_SIZE" --provider cuda --tile "$tile" --runs 3 --model "$KIT/enlightengan-fp16.onnx"
        done
        echo "== without the CUDA libraries"; LD_LIBRARY_PATH= app info --provider cuda
        echo "== without a visible GPU"; CUDA_VISIBLE_DEVICES= app selftest --provider cuda
    } 2>&1 | tee "$OUT/cuda_report.txt"
    ;;
*)
    echo "usage: $0 receive PART | run" >&2
    exit 2
    ;;
esac
