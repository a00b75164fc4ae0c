"""Train Uni-Sign: the built-in main job, pre-training stages 1 and 2, and fine-tuning (full or LoRA).

    python train.py                                                  # the main job (configs/default_synthetic.yaml)
    python train.py --config configs/finetune_slt_csl_daily.yaml training.batch_size=4 training.num_epochs=1
    python train.py --config configs/finetune_slt_csl_daily.yaml --resume    # continue exactly where it stopped
    python train.py --push-to-hub user/uni-sign-synthetic --dry-run          # train, then list what would be uploaded
    accelerate launch --config_file configs/accelerate/ddp.yaml train.py --config configs/stage1_csl_news.yaml

Without `--config`, the main job runs: it generates the synthetic sign-language dataset (cached in
outputs/synthetic-data), trains a SentencePiece tokenizer and one multi-task model (ISLR, CSLR, SLT) on CPU, scores
it on unseen signers, exports it with its model card, prints test translations next to their references and draws
the learning curves. Settings: a YAML/JSON file plus `section.key=value` overrides (`unisign/training/arguments.py`).
The same command line is `unisign train ...` (the code is `unisign.training.cli`).
"""

import os


# Before torch loads (OpenMP reads it then): a short spin of waiting threads, unless a wait policy is chosen
# (`unisign.training.cli.OPENMP_ENVIRONMENT` says why; a test checks that both say the same).
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "1000")

from unisign.training.cli import main  # noqa: E402


if __name__ == "__main__":
    main(prog="train.py", description=__doc__)
