"""Uni-Sign for Hugging Face transformers."""

__version__ = "0.1.0"

from transformers import AutoConfig, AutoModel, AutoModelForSeq2SeqLM

from .configuration_unisign import UniSignConfig
from .convert_unisign_original_checkpoint import convert_reference_checkpoint
from .modeling_unisign import UniSignForConditionalGeneration, UniSignPreTrainedModel


AutoConfig.register("unisign", UniSignConfig)
AutoModel.register(UniSignConfig, UniSignForConditionalGeneration)
AutoModelForSeq2SeqLM.register(UniSignConfig, UniSignForConditionalGeneration)
# `save_pretrained` also writes the modelling code and `auto_map`, so folders load without this package
# (`trust_remote_code=True`).
UniSignConfig.register_for_auto_class()
UniSignForConditionalGeneration.register_for_auto_class("AutoModelForSeq2SeqLM")

# processor registration goes here
