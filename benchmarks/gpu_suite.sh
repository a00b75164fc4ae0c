#!/usr/bin/env bash
# Issue 8's GPU measurements in one go (about 8 minutes on an H100/H200): every shape of the issue's table, fast path
# and the reference-style oracle on the same card, one JSON line each, appended to ${OUT:-.}/gpu_suite.jsonl.
#
#     bash benchmarks/gpu_suite.sh                 # all runs
#     QUICK=1 bash benchmarks/gpu_suite.sh         # stage 1 16 x 256 and single-clip generation only
#
# The oracle is `--oracle --unfused-optimizer` (straightforward pose encoder, multi-tensor AdamW); the reference's
# own numbers (issue 8) came from its code on an H200 with torch 2.11.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-.}/gpu_suite.jsonl"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$out"
python -c "import torch, transformers; print({'torch': torch.__version__, 'transformers': transformers.__version__})" \
    | tee -a "$out"

run() {  # one benchmark, its JSON line kept even when another run fails
    timeout 120 python benchmarks/model_speed.py "$@" --steps 10 --warmup 3 2>>"${OUT:-.}/gpu_suite.stderr" \
        | tee -a "$out"
}

run train --batch-size 16 --frames 256 --dtype bf16
run train --batch-size 16 --frames 256 --dtype bf16 --oracle --unfused-optimizer
run generate --batch-size 1 --frames 256 --new-tokens 30 --dtype bf16
[ -n "${QUICK:-}" ] && exit 0
run train --batch-size 16 --frames 256 --dtype bf16 --compile
run train --batch-size 16 --frames 256 --dtype bf16-autocast
run train --batch-size 32 --frames 256 --dtype bf16
run train --batch-size 8 --frames 128 --dtype bf16
run train --batch-size 4 --frames 256 --rgb-crops 26 --dtype bf16-autocast
run train --batch-size 4 --frames 256 --rgb-crops 26 --dtype bf16-autocast --oracle --unfused-optimizer
run generate --batch-size 16 --frames 256 --new-tokens 30 --dtype bf16
run generate --batch-size 64 --frames 256 --new-tokens 30 --dtype bf16
run generate --batch-size 1 --frames 256 --new-tokens 30 --dtype bf16 --oracle
