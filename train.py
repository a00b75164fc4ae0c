"""Train Uni-Sign: pre-training stages 1 and 2, and fine-tuning (full or LoRA) for SLT, CSLR and ISLR.

    python train.py --config configs/finetune_slt.yaml training.batch_size=4 training.num_epochs=1
    python train.py --config configs/finetune_slt.yaml --resume              # continue exactly where it stopped
    accelerate launch --config_file configs/accelerate/ddp.yaml train.py --config configs/stage1.yaml

Settings are a YAML/JSON file plus `section.key=value` overrides (see `unisign/training/arguments.py`).
"""

import argparse
import sys

from unisign.training import load_config, train


def main() -> None:
    """Parse the command line and run the training."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="YAML or JSON file of the run's settings")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint of the run")
    parser.add_argument("overrides", nargs="*", help="settings as section.key=value, e.g. training.seed=1")
    args = parser.parse_args()
    try:
        config = load_config(args.config, args.overrides)
        export = train(config, resume=args.resume)
    except (ValueError, FileNotFoundError) as error:
        sys.exit(f"train.py: error: {error}")
    print(f"Exported the model to {export}")


if __name__ == "__main__":
    main()
