"""Uni-Sign for Hugging Face transformers: `import unisign` registers the config, model and processor.

The package is one room per role: `models/unisign/` is the unit that travels with the weights as remote code
(config, model, feature extractor, video processor, processor, pipeline, keypoints, pose files, video I/O);
`data/`, `extraction/`, `training/`, `evaluation/` and `onnx/` follow the data path; `apps/` holds what a user runs
(command line, demo, streaming), `hub/` what is shared (push, model cards), `utils/` what every room uses.
"""

import sys

from transformers import (
    AutoConfig,
    AutoFeatureExtractor,
    AutoModel,
    AutoModelForSeq2SeqLM,
    AutoProcessor,
    AutoVideoProcessor,
)
from transformers.utils import is_torchvision_available

from .apps.streaming import StreamingTranslator
from .evaluation import metrics
from .hub.released import from_released
from .models.unisign.configuration_unisign import UniSignConfig
from .models.unisign.convert_unisign_original_checkpoint import convert_reference_checkpoint
from .models.unisign.feature_extraction_unisign import UniSignPoseFeatureExtractor
from .models.unisign.modeling_unisign import UniSignForConditionalGeneration, UniSignPreTrainedModel
from .models.unisign.pipeline_unisign import SignLanguageTranslationPipeline
from .models.unisign.pose_file import pose_to_sample, read_pose_file, sample_to_pose, write_pose_file
from .models.unisign.pose_sample import PoseSample
from .models.unisign.processing_unisign import UniSignDataCollator, UniSignProcessor
from .models.unisign.remote_code import add_remote_code
from .models.unisign.video_processing_unisign import UniSignVideoProcessor
from .utils.quiet_logs import name_deepspeed_accelerator


__version__ = "0.1.0"

# `unisign.metrics.score_translation` is a published name (the metrics moved into `unisign.evaluation`): the module
# is the same object under both names, so `import unisign.metrics` and `unisign.metrics` keep working.
sys.modules[f"{__name__}.metrics"] = metrics

# Before transformers or Accelerate import deepspeed (none of the imports above does): its import would otherwise say
# on standard output that it chose the CPU (`unisign.utils.quiet_logs.name_deepspeed_accelerator`).
name_deepspeed_accelerator()

AutoConfig.register("unisign", UniSignConfig)
AutoModel.register(UniSignConfig, UniSignForConditionalGeneration)
AutoModelForSeq2SeqLM.register(UniSignConfig, UniSignForConditionalGeneration)
AutoFeatureExtractor.register(UniSignConfig, UniSignPoseFeatureExtractor)
# transformers' `AutoVideoProcessor` refuses to work (even to register) without torchvision; the processor builds its
# video processor itself (`UniSignProcessor._get_arguments_from_pretrained`), so pose-only installs skip this.
if is_torchvision_available():
    AutoVideoProcessor.register(UniSignConfig, UniSignVideoProcessor)
AutoProcessor.register(UniSignConfig, UniSignProcessor)
# A saved config carries its code and `auto_map` (`AutoConfig`); the model's and the processor's `save_pretrained`
# add the rest (`unisign.models.unisign.remote_code.add_remote_code`), so saved folders load without this package
# (`trust_remote_code=True`), pipeline included.
UniSignConfig.register_for_auto_class()

__all__ = [
    "PoseSample",
    "SignLanguageTranslationPipeline",
    "StreamingTranslator",
    "UniSignConfig",
    "UniSignDataCollator",
    "UniSignForConditionalGeneration",
    "UniSignPoseFeatureExtractor",
    "UniSignPreTrainedModel",
    "UniSignProcessor",
    "UniSignVideoProcessor",
    "add_remote_code",
    "convert_reference_checkpoint",
    "from_released",
    "metrics",
    "pose_to_sample",
    "read_pose_file",
    "sample_to_pose",
    "write_pose_file",
]
