"""Uni-Sign for Hugging Face transformers: `import unisign` registers the config, model and processor."""

from transformers import (
    AutoConfig,
    AutoFeatureExtractor,
    AutoModel,
    AutoModelForSeq2SeqLM,
    AutoProcessor,
    AutoVideoProcessor,
)

from .configuration_unisign import UniSignConfig
from .convert_unisign_original_checkpoint import convert_reference_checkpoint
from .feature_extraction_unisign import UniSignPoseFeatureExtractor
from .modeling_unisign import UniSignForConditionalGeneration, UniSignPreTrainedModel
from .pipeline import SignLanguageTranslationPipeline
from .processing_unisign import UniSignDataCollator, UniSignProcessor
from .quiet_logs import name_deepspeed_accelerator
from .remote_code import add_remote_code
from .streaming import StreamingTranslator
from .video_processing_unisign import UniSignVideoProcessor


__version__ = "0.1.0"

# Before transformers or Accelerate import deepspeed (none of the imports above does): its import would otherwise say
# on standard output that it chose the CPU (`unisign.quiet_logs.name_deepspeed_accelerator`).
name_deepspeed_accelerator()

AutoConfig.register("unisign", UniSignConfig)
AutoModel.register(UniSignConfig, UniSignForConditionalGeneration)
AutoModelForSeq2SeqLM.register(UniSignConfig, UniSignForConditionalGeneration)
AutoFeatureExtractor.register(UniSignConfig, UniSignPoseFeatureExtractor)
AutoVideoProcessor.register(UniSignConfig, UniSignVideoProcessor)
AutoProcessor.register(UniSignConfig, UniSignProcessor)
# A saved config carries its code and `auto_map` (`AutoConfig`); the model's and the processor's `save_pretrained`
# add the rest (`unisign.remote_code.add_remote_code`), so saved folders load without this package
# (`trust_remote_code=True`), pipeline included.
UniSignConfig.register_for_auto_class()
