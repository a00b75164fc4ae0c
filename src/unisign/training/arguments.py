"""Training settings: one dataclass per section, read from a YAML or JSON file plus `section.key=value` overrides.

A run's file looks like (see `configs/` for every stage of the recipe)::

    stage: stage1
    model: {language_model: google/mt5-base}
    data: {format: reference, dataset: CSL_News, train_labels: ..., pose_dir: ...}
    training: {output_dir: outputs/stage1, num_epochs: 20, batch_size: 16, gradient_accumulation_steps: 8}

and a multi-task run on the built-in synthetic data (`configs/default_synthetic.yaml`, the main job)::

    model: {text_config: {d_model: 128, ...}, new_tokenizer_vocab_size: 256, prompts: {en/ISLR: ..., en/SLT: ...}}
    data: {format: synthetic, path: outputs/synthetic-data, synthetic: {num_train: 6000}, task: [ISLR, CSLR, SLT]}
"""

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ..data.augmentation import PoseAugmentation
from ..utils.errors import InvalidInputError, MissingInputError, UsageError, input_errors
from .setting_checks import check_section, setting_error


STAGES = ("stage1", "stage2", "finetune")
TASKS = ("SLT", "CSLR", "ISLR")


@dataclass
class ModelArguments:
    """Where the model starts and how it is shaped."""

    init_from: str | None = field(
        default=None, metadata={"help": "Uni-Sign folder or Hub id to start from (stage 2: a stage-1 export)."}
    )
    language_model: str | None = field(
        default=None, metadata={"help": "mT5 folder or Hub id whose weights a new model starts from (stage 1)."}
    )
    tokenizer: str | None = field(
        default=None, metadata={"help": "Tokenizer folder or Hub id; defaults to `init_from` or `language_model`."}
    )
    config: dict = field(
        default_factory=dict,
        metadata={"help": "`UniSignConfig` fields, e.g. {use_rgb: true, mask_padded_frames: true}."},
    )
    processor: dict = field(
        default_factory=dict,
        metadata={
            "help": "Settings of the processor's feature extractor or video processor, e.g. {max_frames: 64, "
            "hand_sampling: random}."
        },
    )
    text_config: dict | None = field(
        default=None, metadata={"help": "mT5 config of a randomly initialised language model (no `language_model`)."}
    )
    prompts: dict | None = field(default=None, metadata={"help": "Prompt text per language (or language/task)."})
    new_tokenizer_vocab_size: int | None = field(
        default=None,
        metadata={
            "help": "Train a new SentencePiece (unigram) tokenizer of at most this many pieces on the training "
            "split's targets (every task) and the prompts, saved in `<output_dir>/tokenizer`, instead of loading "
            "`tokenizer`. The language model's `vocab_size` defaults to its size."
        },
    )
    rgb_backbone_weights: str | None = field(
        default="imagenet", metadata={"help": "Stage 2: `imagenet` (torchvision's weights, downloaded) or null."}
    )

    def __post_init__(self):
        check_section(self, "model")


@dataclass
class DataArguments:
    """Which clips to train and evaluate on, and what the targets are."""

    format: str = field(
        default="parquet",
        metadata={
            "help": "`parquet` (a pose dataset folder or Hub id), `reference`, or `synthetic` (the built-in "
            "synthetic sign language, generated into `path` on first use and reused afterwards)."
        },
    )
    path: str | None = field(
        default=None, metadata={"help": "Pose dataset folder or Hub id (`parquet`); where to generate (`synthetic`)."}
    )
    synthetic: dict = field(
        default_factory=dict,
        metadata={"help": "Format `synthetic`: arguments of `unisign.synthetic.generate_dataset`, e.g. num_train."},
    )
    dataset: str | None = field(
        default=None, metadata={"help": "Reference layout name, e.g. CSL_Daily (format `reference`)."}
    )
    train_labels: str | None = field(default=None, metadata={"help": "Reference label file of the training split."})
    eval_labels: str | None = field(default=None, metadata={"help": "Reference label file of the evaluation split."})
    pose_dir: str | None = field(default=None, metadata={"help": "Folder of the reference pose pickles."})
    video_dir: str | None = field(default=None, metadata={"help": "Folder of the videos (RGB-pose models)."})
    train_split: str = "train"
    eval_split: str | None = field(default="dev", metadata={"help": "Split scored during training (model selection)."})
    test_split: str | None = field(
        default=None,
        metadata={"help": "Split scored once after training, on the best export, with `unisign.evaluation.cli`."},
    )
    extra_test_splits: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Further splits scored once after training like `test_split`, e.g. the synthetic data's `test2` "
            "(another seed, other signers); results in `<output_dir>/test/<split>/`."
        },
    )
    task: Any = field(  # str | list[str], which OmegaConf cannot check (no unions of containers)
        default="SLT",
        metadata={
            "help": "SLT (text), CSLR (glosses) or ISLR (the word); or a list of them for one multi-task model: "
            "each clip is then trained once per listed task it carries in `extra['tasks']` (every listed task when "
            "it names none), with the prompt of `<language>/<task>`."
        },
    )
    language: str = field(default="zh", metadata={"help": "Prompt language: `zh` for CSL datasets, `en` otherwise."})
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    num_workers: int = 0
    in_memory: bool = field(
        default=False,
        metadata={
            "help": "Decode the clips of a Parquet (or synthetic) split into memory once, in batches, before "
            "training: reading a clip then costs no decoding (about 1.4 ms a clip otherwise, a third of a CPU "
            "step's data preparation). Needs the split's keypoints in RAM (~12 bytes per keypoint and frame)."
        },
    )
    augmentation: PoseAugmentation = field(
        default_factory=PoseAugmentation,
        metadata={
            "help": "Random changes of the training clips (pose-only models): `mirror` (probability of the mirror "
            "image, the other handedness), `rotation` (degrees), `stretch` (aspect), `speed` (relative); all 0 by "
            "default, as in the reference. See `unisign.data.augmentation.PoseAugmentation`."
        },
    )
    group_by_length: bool = field(
        default=False,
        metadata={
            "help": "Batch clips of similar length together (in a random order of batches), so that few padded "
            "frames are computed. Off by default: the reference draws batches uniformly at random."
        },
    )

    def __post_init__(self):
        check_section(self, "data")
        tasks = self.task  # `Any` to OmegaConf (a name or a list of names): checked here, before `tasks` reads it
        if not isinstance(tasks, str | list | tuple) or not tasks or not all(isinstance(t, str) for t in tasks):
            raise UsageError(f"`data.task` must be a task name or a non-empty list of them, got {tasks!r}.")
        tasks = [tasks.upper()] if isinstance(tasks, str) else [task.upper() for task in tasks]
        unknown = [task for task in tasks if task not in TASKS]
        if unknown:
            raise UsageError(f"Unknown `data.task` {unknown}. Available tasks: {TASKS}.")
        if len(set(tasks)) != len(tasks):
            raise UsageError(f"`data.task` lists a task twice: {tasks}.")
        self.task = tasks[0] if len(tasks) == 1 else tasks
        reserved = {self.test_split, *(task.lower() for task in self.tasks)}
        clashing = [split for split in self.extra_test_splits if split in reserved]
        if clashing or len(set(self.extra_test_splits)) < len(self.extra_test_splits):
            raise UsageError(
                f"`data.extra_test_splits` must name distinct splits other than `test_split` and the task names "
                f"(their results share <output_dir>/test/), got {list(self.extra_test_splits)}."
            )

    @property
    def tasks(self) -> tuple[str, ...]:
        """The task(s) of the run, in order (one for a single-task run)."""
        return (self.task,) if isinstance(self.task, str) else tuple(self.task)

    @property
    def is_multitask(self) -> bool:
        """Whether the run trains one model on several tasks."""
        return len(self.tasks) > 1


@dataclass
class OptimizationArguments:
    """The reference recipe by default: AdamW 3e-4, cosine to 0, no warm-up, clipping 1.0, bf16 on GPUs."""

    output_dir: str = "outputs/run"
    num_epochs: int = 20
    max_steps: int | None = field(default=None, metadata={"help": "Stop after this many optimizer steps."})
    batch_size: int = 8
    eval_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    learning_rate: float = 3e-4
    weight_decay: float = 1e-4
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_epsilon: float = 1e-9
    warmup_steps: int = 0
    max_grad_norm: float = 1.0
    mixed_precision: str = field(
        default="auto",
        metadata={"help": "`auto` (bf16 autocast on GPUs and on CPUs with bf16 instructions), `no` or `bf16`."},
    )
    seed: int = 42
    eval_every: int | None = field(default=None, metadata={"help": "Evaluate every N steps (default: each epoch)."})
    save_every: int | None = field(default=None, metadata={"help": "Save the training state every N steps."})
    keep_checkpoints: int = 2
    eval_num_beams: int = 4
    eval_max_new_tokens: int = 100
    log_with: str | None = field(default="tensorboard", metadata={"help": "Accelerate tracker, or null."})
    log_every: int = 10
    num_threads: int | None = field(
        default=None, metadata={"help": "CPU threads of torch (`torch.set_num_threads`); torch's default if null."}
    )
    export_merged: bool = field(default=False, metadata={"help": "LoRA runs: also export the merged model."})
    debug_kill_at_step: int | None = field(
        default=None, metadata={"help": "Testing only: SIGKILL the process right after this step (crash recovery)."}
    )

    def __post_init__(self):
        if self.mixed_precision in (False, "False"):  # YAML reads a bare `no` as false (OmegaConf: "False")
            self.mixed_precision = "no"
        if self.mixed_precision not in ("auto", "no", "bf16"):
            raise InvalidInputError(
                "`training.mixed_precision` must be auto, no or bf16 (mT5 diverges in fp16), "
                f"got {self.mixed_precision!r}."
            )
        check_section(self, "training")


@dataclass
class LoraArguments:
    """LoRA on the language model's attention and feed-forward projections; the pose encoder is fully trained."""

    enabled: bool = False
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: ["q", "k", "v", "o", "wi_0", "wi_1", "wo"])
    modules_to_save: list[str] = field(
        default_factory=lambda: ["pose_encoder", "pose_projection", "hand_image_encoder", "prior_guided_fusion"]
    )

    def __post_init__(self):
        check_section(self, "lora")


@dataclass
class TrainConfig:
    """A whole run: stage, model, data, optimisation and LoRA settings."""

    stage: str = "finetune"
    model: ModelArguments = field(default_factory=ModelArguments)
    data: DataArguments = field(default_factory=DataArguments)
    training: OptimizationArguments = field(default_factory=OptimizationArguments)
    lora: LoraArguments = field(default_factory=LoraArguments)

    def __post_init__(self):
        if self.stage not in STAGES:
            raise InvalidInputError(f"Unknown `stage` {self.stage!r}. Available stages: {STAGES}.")


def parse_override(override: str) -> tuple[list[str], object]:
    """`training.learning_rate=1e-4` -> (["training", "learning_rate"], 1e-4); values are read as YAML.

    A mapping needs braces (`model.config={use_rgb: true}`): without them the value is text, so that prompts such as
    `model.prompts.en=English: ` stay strings (YAML would read `English: ` as a mapping). Kept rather than OmegaConf's
    dotlist, which reads such values as mappings and cannot set a key of a `null` mapping.
    """
    if "=" not in override:
        raise UsageError(f"Overrides look like `section.key=value`, got {override!r}.")
    key, raw = override.split("=", 1)
    value = yaml.safe_load(raw)
    if isinstance(value, dict) and not raw.lstrip().startswith("{"):
        value = raw
    return key.strip().split("."), value


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> TrainConfig:
    """Read a run's settings from a YAML/JSON file (or the defaults) and apply `section.key=value` overrides."""
    values: dict = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise MissingInputError(f"No config file at {path}.")
        with input_errors(path, "a config file"):  # not UTF-8, or not JSON
            text = path.read_text(encoding="utf-8")
            values = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text) or {}
        if not isinstance(values, dict):
            raise UsageError(
                f"{path} is not a mapping of settings (it holds a {type(values).__name__}): give `stage` and the "
                "sections `model`, `data`, `training`, `lora` (see configs/)."
            )
    for override in overrides:
        keys, value = parse_override(override)
        target = values
        for depth, key in enumerate(keys[:-1]):
            target = target.setdefault(key, {})
            if not isinstance(target, dict):  # e.g. `training.seed=1` after a `training: null` or `training=5`
                raise UsageError(
                    f"Override {override!r}: `{'.'.join(keys[: depth + 1])}` is {target!r}, not a section of settings."
                )
        target[keys[-1]] = value
    schema = OmegaConf.structured(TrainConfig)
    try:  # OmegaConf checks names and types against the dataclasses (and reads `2e-3` in a float field as a number)
        return OmegaConf.to_object(OmegaConf.merge(schema, values))
    except (OmegaConfBaseException, TypeError) as error:  # TypeError: a list where a mapping belongs
        if isinstance(error, OmegaConfBaseException) and error.full_key:
            raise setting_error(error) from None
        key, value = _setting_of_wrong_type(schema, values)
        message = str(error).splitlines()[0].rstrip(".").replace("Value '$VALUE' of type '$VALUE_TYPE'", "an item")
        raise UsageError(f"`{key}` has a wrong type ({value!r}): {message}.") from None


def _setting_of_wrong_type(schema, values: dict) -> tuple[str, object]:
    """The first `section.key` (and its value) that OmegaConf rejects alone: some of its errors (a list for a
    mapping, an item of a tuple) do not name the setting."""
    for section, settings in values.items():
        for key, value in settings.items() if isinstance(settings, dict) else [(None, settings)]:
            try:
                OmegaConf.merge(schema, {section: value if key is None else {key: value}})
            except (OmegaConfBaseException, TypeError):
                return (section if key is None else f"{section}.{key}"), value
    return "settings", values


def config_to_dict(config: TrainConfig) -> dict:
    """Plain-data view of a run's settings (saved next to its outputs)."""
    return dataclasses.asdict(config)
