#!/usr/bin/env bash
# The GPU measurements in one go: issue 8's speed table (about 8 minutes on an H100/H200: every shape, fast path and
# the reference-style oracle on the same card) and issue 16's distributed smoke runs (about 4 minutes: DDP, FSDP 2 and
# DeepSpeed ZeRO 2/3 through the shipped Accelerate configs on the one GPU). One JSON line per run, appended to
# ${OUT:-.}/gpu_suite.jsonl; logs beside it.
#
#     bash benchmarks/gpu_suite.sh                      # all runs (~12 minutes)
#     QUICK=1 bash benchmarks/gpu_suite.sh              # stage 1 16 x 256 and single-clip generation only
#     SUITE=speed bash benchmarks/gpu_suite.sh          # the speed table only
#     SUITE=distributed bash benchmarks/gpu_suite.sh    # the distributed smoke runs only
#
# The oracle is `--oracle --unfused-optimizer` (the reference's pose encoder from tests/reference_unisign.py,
# multi-tensor AdamW); the reference's own numbers (issue 8) came from its code on an H200 with torch 2.11.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}"  # this checkout's unisign, and tests/ for its helpers
out="${OUT:-.}/gpu_suite.jsonl"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$out"
python - <<'PY' | tee -a "$out"
from importlib import metadata

versions = {}
for name in ("torch", "transformers", "accelerate", "deepspeed"):
    try:
        versions[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        versions[name] = None
print(versions)
PY

run() {  # one benchmark, its JSON line kept even when another run fails
    timeout 120 python benchmarks/model_speed.py "$@" --steps 10 --warmup 3 2>>"${OUT:-.}/gpu_suite.stderr" \
        | tee -a "$out"
}

speed() {
    run train --batch-size 16 --frames 256 --dtype bf16
    run train --batch-size 16 --frames 256 --dtype bf16 --oracle --unfused-optimizer
    run generate --batch-size 1 --frames 256 --new-tokens 30 --dtype bf16
    [ -n "${QUICK:-}" ] && return
    run train --batch-size 16 --frames 256 --dtype bf16 --compile
    run train --batch-size 16 --frames 256 --dtype bf16-autocast
    run train --batch-size 32 --frames 256 --dtype bf16
    run train --batch-size 8 --frames 128 --dtype bf16
    run train --batch-size 4 --frames 256 --rgb-crops 26 --dtype bf16-autocast
    run train --batch-size 4 --frames 256 --rgb-crops 26 --dtype bf16-autocast --oracle --unfused-optimizer
    run generate --batch-size 16 --frames 256 --new-tokens 30 --dtype bf16
    run generate --batch-size 64 --frames 256 --new-tokens 30 --dtype bf16
    run generate --batch-size 1 --frames 256 --new-tokens 30 --dtype bf16 --oracle
}

# Each shipped config trains the tests' tiny model (tests/training_helpers.py) for 2 steps in bf16 on one GPU, with a
# checkpoint and an evaluation (generation) after each step, then resumes from the checkpoint to step 4. One line per
# config: {"distributed": config, "rc": first run's exit status, "resume_rc": ..., "seconds": ...} (0 = it ran); the
# log is ${OUT}/distributed_<config>.log.
distributed() {
    local assets="${OUT:-.}/distributed_assets"
    python - "$assets" <<'PY'
import sys
from pathlib import Path

from tests.training_helpers import TINY_POSE, make_run_assets, write_run_config

root = Path(sys.argv[1])
assets = make_run_assets(root)
write_run_config(
    root / "run.yaml",
    model={"language_model": str(assets.language_model), "tokenizer": str(assets.tokenizer), "config": TINY_POSE},
    data={"path": str(assets.data)},
    training={"batch_size": 2, "eval_batch_size": 2, "eval_every": 1, "save_every": 1, "mixed_precision": "bf16"},
)
PY
    local config output log started rc resume_rc
    for config in ddp fsdp deepspeed_zero2 deepspeed_zero3; do
        output="$assets/out_$config"
        log="${OUT:-.}/distributed_$config.log"
        started=$(date +%s)
        HF_HUB_OFFLINE=1 timeout 300 accelerate launch --config_file "configs/accelerate/$config.yaml" \
            --num_processes 1 train.py --config "$assets/run.yaml" "training.output_dir=$output" \
            training.max_steps=2 >"$log" 2>&1
        rc=$?
        HF_HUB_OFFLINE=1 timeout 300 accelerate launch --config_file "configs/accelerate/$config.yaml" \
            --num_processes 1 train.py --config "$assets/run.yaml" "training.output_dir=$output" \
            training.max_steps=4 --resume >>"$log" 2>&1
        resume_rc=$?
        echo "{\"distributed\": \"$config\", \"rc\": $rc, \"resume_rc\": $resume_rc, \"seconds\": $(($(date +%s) - started))}" \
            | tee -a "$out"
    done
}

suite="${SUITE:-all}"
[ "$suite" = distributed ] || speed
[ "$suite" = speed ] || [ -n "${QUICK:-}" ] || distributed
