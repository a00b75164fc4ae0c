"""Training Uni-Sign with Accelerate: every stage of the recipe, full or LoRA, one CPU to many machines.

Single- or multi-task runs (one prompt per task), the built-in synthetic benchmark (`configs/default_synthetic.yaml`,
the main job), exports with model cards, and scores on a held-out test split.
"""

from .arguments import TrainConfig, load_config
from .loop import train
