"""Training Uni-Sign with Accelerate: every stage of the recipe, full or LoRA, one CPU to many machines."""

from .arguments import TrainConfig, load_config
from .loop import train
