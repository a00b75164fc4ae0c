"""Model and processor of a run, for each stage of the recipe, and the checks that must pass before any compute."""

import os
from contextlib import contextmanager
from pathlib import Path

import accelerate
import torch
from accelerate.utils import DistributedType, InitProcessGroupKwargs
from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoTokenizer
from transformers.utils import logging

from ..data.dataset import SignDataset, load_split
from ..models.unisign.configuration_unisign import PROCESSOR_SETTINGS, UniSignConfig
from ..models.unisign.modeling_unisign import UniSignForConditionalGeneration
from ..models.unisign.processing_unisign import DEFAULT_PROMPTS, UniSignProcessor
from ..utils.errors import InvalidInputError, MissingInputError
from .arguments import TrainConfig
from .data import check_data_paths
from .tokenizer import train_sentencepiece_tokenizer


logger = logging.get_logger(__name__)


def _is_local_or_hub(reference: str) -> bool:
    """A folder that exists, or something shaped like a Hub id (`user/name`) that `from_pretrained` may fetch."""
    path = Path(reference)
    return path.exists() or (reference.count("/") == 1 and not reference.startswith((".", "/")) and not path.suffix)


def check_run(config: TrainConfig) -> None:
    """Fail fast, with a message naming the setting, on a run that cannot work."""
    model = config.model
    if config.stage == "stage2" and not model.init_from:
        raise InvalidInputError("Stage 2 starts from a stage-1 model: set `model.init_from` to its exported folder.")
    if config.stage == "stage1" and model.init_from:
        raise InvalidInputError(
            "Stage 1 starts from mT5 (`model.language_model`), not from a Uni-Sign `model.init_from`."
        )
    if not model.init_from and not model.language_model and model.text_config is None:
        raise InvalidInputError(
            "Say where the model starts: `model.init_from` (a Uni-Sign folder), `model.language_model` (mT5 weights) "
            "or `model.text_config` (a randomly initialised language model)."
        )
    for name in ("init_from", "language_model", "tokenizer"):
        reference = getattr(model, name)
        if reference and not _is_local_or_hub(reference):
            raise MissingInputError(f"`model.{name}` points to {reference}, which does not exist.")
    if model.text_config is not None and not (model.tokenizer or model.init_from or model.new_tokenizer_vocab_size):
        raise InvalidInputError(
            "A randomly initialised language model needs `model.tokenizer` (a folder with its vocabulary) or "
            "`model.new_tokenizer_vocab_size` (train one on the run's texts)."
        )
    if model.new_tokenizer_vocab_size is not None:
        if model.text_config is None:
            raise InvalidInputError(
                "`model.new_tokenizer_vocab_size` only applies to a randomly initialised language model "
                "(`model.text_config`): pretrained weights come with their own vocabulary."
            )
        if model.tokenizer:
            raise InvalidInputError("Set either `model.tokenizer` or `model.new_tokenizer_vocab_size`, not both.")
    use_rgb = config.stage == "stage2" or bool(model.config.get("use_rgb"))
    saved = Path(model.init_from or "", "config.json")
    if model.init_from and not use_rgb and saved.is_file():
        use_rgb = bool(AutoConfig.from_pretrained(model.init_from).use_rgb)
    check_data_paths(config.data, needs_video=use_rgb)
    if config.lora.enabled:
        check_lora_targets(config, saved)


def check_lora_targets(config: TrainConfig, saved_config: Path) -> None:
    """Every LoRA target must name modules of the language model (checked on an empty model, before any compute)."""
    model = config.model
    if model.text_config is not None:
        text_config = AutoConfig.for_model("mt5", **model.text_config)
    elif model.language_model:
        text_config = AutoConfig.from_pretrained(model.language_model)
    elif saved_config.is_file():
        text_config = AutoConfig.from_pretrained(model.init_from).text_config
    else:
        return  # a Hub model: PEFT checks the targets when it wraps the model
    with torch.device("meta"):
        names = {name.rsplit(".", 1)[-1] for name, _ in AutoModelForSeq2SeqLM.from_config(text_config).named_modules()}
    unmatched = [target for target in config.lora.target_modules if target not in names]
    if unmatched:
        candidates = sorted(name for name in names if name and not name.isdigit())
        raise InvalidInputError(
            f"LoRA target(s) {unmatched} match no module of the language model. Module names: {candidates}."
        )


def _new_model(config: TrainConfig, vocab_size: int) -> UniSignForConditionalGeneration:
    """A new Uni-Sign model: fresh pose encoder, mT5 weights from `language_model` (or a random small LM).

    A random language model's `vocab_size` defaults to `vocab_size`, the tokenizer's.
    """
    settings = dict(config.model.config)
    if config.model.language_model:
        language_model = AutoModelForSeq2SeqLM.from_pretrained(config.model.language_model)
        model = UniSignForConditionalGeneration(UniSignConfig(text_config=language_model.config.to_dict(), **settings))
        # strict: every mT5 weight must land; the encoder/decoder embeddings are `shared` itself
        model.language_model.load_state_dict(language_model.state_dict(), strict=True)
        return model
    text_config = {"vocab_size": vocab_size, **config.model.text_config}
    return UniSignForConditionalGeneration(UniSignConfig(text_config=text_config, **settings))


def load_imagenet_backbone(model: UniSignForConditionalGeneration) -> None:
    """Start the RGB backbone from torchvision's ImageNet-1k EfficientNet-B0 weights (downloads them once)."""
    import torchvision

    weights = torchvision.models.EfficientNet_B0_Weights.IMAGENET1K_V1
    features = torchvision.models.efficientnet_b0(weights=weights).features
    model.hand_image_encoder.backbone.load_state_dict(features.state_dict())


def new_tokenizer_texts(config: TrainConfig) -> list[str]:
    """What a new tokenizer learns from: every training target of the run's tasks, and every prompt."""
    data = config.data
    targets = SignDataset(load_split(data, data.train_split), None, data.tasks, data.language, train=False).targets()
    prompts = config.model.prompts or DEFAULT_PROMPTS
    return targets + list(prompts.values())


def load_tokenizer(config: TrainConfig, output_dir: Path, reuse: bool = False):
    """The run's tokenizer: trained anew on its texts (`model.new_tokenizer_vocab_size`), or loaded.

    With `reuse`, a tokenizer this run trained before (in `<output_dir>/tokenizer`) is loaded rather than trained.
    """
    model_args = config.model
    if model_args.new_tokenizer_vocab_size is not None:
        folder = output_dir / "tokenizer"
        if reuse and (folder / "tokenizer_config.json").is_file():
            return AutoTokenizer.from_pretrained(folder)
        tokenizer = train_sentencepiece_tokenizer(
            new_tokenizer_texts(config), folder, model_args.new_tokenizer_vocab_size
        )
        logger.info(f"Trained a tokenizer of {len(tokenizer)} pieces on the training texts; saved in {folder}.")
        return tokenizer
    return AutoTokenizer.from_pretrained(model_args.tokenizer or model_args.init_from or model_args.language_model)


def build_model_and_processor(
    config: TrainConfig, reuse_tokenizer: bool = False
) -> tuple[UniSignForConditionalGeneration, UniSignProcessor]:
    """The model and processor a run starts from (see `configs/` for each stage).

    Args:
        config: The run's settings.
        reuse_tokenizer: Load the tokenizer the run trained before instead of training it again (resumed runs,
            processes other than the main one).
    """
    model_args = config.model
    moved = sorted(set(model_args.config) & set(PROCESSOR_SETTINGS))
    if moved:
        raise InvalidInputError(
            f"`model.config` has processor settings {moved}: set them under `model.processor` instead."
        )
    output_dir = Path(config.training.output_dir)
    if (
        model_args.init_from
        and not model_args.tokenizer
        and Path(model_args.init_from, "processor_config.json").is_file()
    ):
        processor = UniSignProcessor.from_pretrained(model_args.init_from)
        # the run's prompts replace the saved ones (checked like any processor's); either way the export's default
        # language is the one the model is trained on, not its starting folder's (e.g. an English run from zh)
        processor = UniSignProcessor(
            processor.feature_extractor,
            processor.tokenizer,
            processor.video_processor,
            prompts=model_args.prompts or processor.prompts,
            language=config.data.language,
            max_target_length=processor.max_target_length,
        )
        tokenizer = processor.tokenizer
    else:
        processor, tokenizer = None, load_tokenizer(config, output_dir, reuse_tokenizer)
    if model_args.init_from:
        overrides = dict(model_args.config)
        if config.stage == "stage2":
            overrides["use_rgb"] = True  # new RGB branch: zero gate, so the model starts equal to its stage-1 self
        model = UniSignForConditionalGeneration.from_pretrained(model_args.init_from, **overrides)
        if config.stage == "stage2" and model_args.rgb_backbone_weights == "imagenet":
            load_imagenet_backbone(model)
    else:
        model = _new_model(config, len(tokenizer))
    if processor is None:
        processor = UniSignProcessor.from_model_config(
            model.config, tokenizer, prompts=model_args.prompts, language=config.data.language
        )
    apply_processor_settings(processor, model_args.processor)  # e.g. max_frames 64 for isolated signs
    if model.config.text_config.vocab_size < len(processor.tokenizer):
        raise InvalidInputError(
            f"The tokenizer has {len(processor.tokenizer)} tokens but the language model only "
            f"{model.config.text_config.vocab_size}."
        )
    language = config.data.language
    missing = [task for task in config.data.tasks if f"{language}/{task}" not in processor.prompts]
    if config.data.is_multitask and missing:
        logger.warning(
            f"Multi-task run without a `{language}/<task>` prompt for {missing}: those tasks share the language's "
            "prompt, so the model cannot tell them apart. Set `model.prompts`."
        )
    return model, processor


def apply_processor_settings(processor: UniSignProcessor, settings: dict) -> None:
    """Set each of `settings` on the processor component that has it (feature extractor or video processor)."""
    for name, value in settings.items():
        owner = next(
            (part for part in (processor.feature_extractor, processor.video_processor) if name in part.to_dict()), None
        )
        if owner is None or name.endswith("_type"):
            raise InvalidInputError(
                f"`model.processor.{name}` is not a setting of the feature extractor or the video processor."
            )
        setattr(owner, name, value)


def apply_lora(model: UniSignForConditionalGeneration, config: TrainConfig):
    """Wrap the model with LoRA adapters (PEFT); the pose encoder and RGB branch are trained in full."""
    from peft import LoraConfig, get_peft_model

    lora = config.lora
    modules_to_save = [name for name in lora.modules_to_save if getattr(model, name, None) is not None]
    peft_config = LoraConfig(
        task_type="SEQ_2_SEQ_LM",
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        modules_to_save=modules_to_save,
    )
    return get_peft_model(model, peft_config)


def use_sync_batch_norm(num_processes: int, device: torch.device) -> bool:
    """The reference synchronises batch norm across GPUs; on CPU (gloo) each process keeps its own statistics."""
    return num_processes > 1 and device.type == "cuda"


# what launchers export: torchrun and `accelerate launch` (WORLD_SIZE), MPI and Intel MPI (the others)
WORLD_SIZE_VARIABLES = ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
# `accelerate launch` exports these for a config's `distributed_type: FSDP` / `DEEPSPEED`
REQUESTED_SHARDING = {
    "ACCELERATE_USE_FSDP": DistributedType.FSDP,
    "ACCELERATE_USE_DEEPSPEED": DistributedType.DEEPSPEED,
}


def _flag(environment, name: str) -> bool:
    return environment.get(name, "false").lower() in ("1", "true", "yes")


def accelerator_placement(environment=os.environ) -> dict:
    """The `Accelerator` arguments that place a run on this machine's devices.

    Accelerate starts a process group only for devices it knows (CUDA, XPU, NPU...) or when told `cpu=True`; its
    torchrun launcher (`accelerate launch` with a DDP, FSDP or DeepSpeed config) never passes `ACCELERATE_USE_CPU` on.
    Without a GPU, each process would then run alone as rank 0 of 1. So a machine without an accelerator asks for the
    CPU (gloo DDP) -- except under DeepSpeed, which `cpu=True` switches off: there the gloo process group is named
    instead, and DeepSpeed's own CPU accelerator runs ZeRO over it.
    """
    if torch.accelerator.is_available():
        return {}
    if not _flag(environment, "ACCELERATE_USE_DEEPSPEED"):
        return {"cpu": True}
    return {"kwargs_handlers": [InitProcessGroupKwargs(backend="gloo")]}


def check_launch(accelerator, environment=os.environ) -> None:
    """Refuse a run that Accelerate did not set up as it was launched (one line says why and what to do).

    Two cases: the launcher started several processes but Accelerate sees one (each would train alone and all write
    the same files), and a launch that asked for FSDP or DeepSpeed where Accelerate set up something else (Accelerate
    applies FSDP only on GPUs and other accelerators, never on CPU: it would silently run plain DDP there).
    """
    launched = max(int(environment.get(name) or 1) for name in WORLD_SIZE_VARIABLES)
    if launched > 1 and accelerator.num_processes == 1:
        raise InvalidInputError(
            f"The launcher started {launched} processes but Accelerate set this one up alone (rank 0 of 1 on "
            f"{accelerator.device}), so each would train its own model and overwrite the others' files: Accelerate "
            "distributes only over GPUs and the devices it knows, or the CPU when told; see docs/distributed.md."
        )
    for variable, requested in REQUESTED_SHARDING.items():
        if _flag(environment, variable) and accelerator.distributed_type != requested:
            raise InvalidInputError(
                f"The launch asked for {requested.value} but Accelerate {accelerate.__version__} set up "
                f"{accelerator.distributed_type.value} on {accelerator.device}: it shards with FSDP only on GPUs "
                "(not on CPU); on CPU use configs/accelerate/ddp_cpu.yaml or a DeepSpeed config "
                "(docs/distributed.md)."
            )


def shards_parameters(accelerator) -> bool:
    """Whether each process holds only part of the parameters (FSDP, DeepSpeed ZeRO-3).

    Each forward then gathers the parameters from every process, so all must run the same number of forwards: in
    `generate`, a process whose sequences are finished keeps stepping until all are (`synced_gpus`).
    """
    if accelerator.num_processes == 1:
        return False
    if accelerator.distributed_type == DistributedType.FSDP:
        return True
    deepspeed = accelerator.distributed_type == DistributedType.DEEPSPEED
    return deepspeed and accelerator.state.deepspeed_plugin.zero_stage == 3


def fsdp_wrapping_units(model: torch.nn.Module, names: list[str] | None) -> list[str]:
    """The module classes FSDP shards one by one: those of `names` (default `_no_split_modules`) the model has, sorted.

    Accelerate refuses a class the model lacks, and a pose-only model has no `UniSignHandImageEncoder`.
    """
    present = {type(module).__name__ for module in model.modules()}
    return sorted(name for name in names or model._no_split_modules if name in present)


@contextmanager
def whole_model_construction(accelerator):
    """Build the model whole on each process, also under DeepSpeed ZeRO-3 (`prepare` partitions it afterwards).

    Under ZeRO-3, Accelerate registers its DeepSpeed config with transformers, and every `from_pretrained` then
    partitions each weight as it is created (`deepspeed.zero.Init`, whatever `zero3_init_flag` says). That is a
    collective: inside `main_process_first` the main process would wait for the others forever, and a partitioned mT5
    has nothing to copy into a new Uni-Sign model.
    """
    if accelerator.distributed_type != DistributedType.DEEPSPEED:
        yield
        return
    from transformers.integrations.deepspeed import unset_hf_deepspeed_config

    unset_hf_deepspeed_config()
    try:
        yield
    finally:
        accelerator.state.deepspeed_plugin.set_deepspeed_weakref()
