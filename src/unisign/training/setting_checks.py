"""Types and ranges of the training settings, checked when each section is built (before any work starts).

Types are OmegaConf's alone: `load_config` merges a file and its overrides into the structured `TrainConfig`, and a
section built in Python code goes through `OmegaConf.structured` in its `__post_init__`. Ranges are values, checked
here with `unisign.utils.validation.check_range`. Every error is one line that names the setting.
"""

import dataclasses

from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from ..utils.errors import UsageError
from ..utils.validation import check_range, check_ranges


AT_LEAST_ONE = {"minimum": 1}
OPTIONAL_AT_LEAST_ONE = AT_LEAST_ONE  # None (unset) always passes `check_range`
NON_NEGATIVE = {"minimum": 0}
POSITIVE = {"minimum": 0, "above_minimum": True}
# section -> setting -> bounds (keyword arguments of `unisign.utils.validation.check_range`)
RANGES = {
    "model": {"new_tokenizer_vocab_size": AT_LEAST_ONE},
    "data": {"max_train_samples": AT_LEAST_ONE, "max_eval_samples": AT_LEAST_ONE, "num_workers": NON_NEGATIVE},
    "training": {
        "num_epochs": AT_LEAST_ONE,
        "max_steps": OPTIONAL_AT_LEAST_ONE,
        "batch_size": AT_LEAST_ONE,
        "eval_batch_size": AT_LEAST_ONE,
        "gradient_accumulation_steps": AT_LEAST_ONE,
        "learning_rate": POSITIVE,
        "weight_decay": NON_NEGATIVE,
        "adam_epsilon": POSITIVE,
        "warmup_steps": NON_NEGATIVE,
        "max_grad_norm": NON_NEGATIVE,
        "eval_every": OPTIONAL_AT_LEAST_ONE,
        "save_every": OPTIONAL_AT_LEAST_ONE,
        "keep_checkpoints": AT_LEAST_ONE,
        "eval_num_beams": AT_LEAST_ONE,
        "eval_max_new_tokens": AT_LEAST_ONE,
        "log_every": AT_LEAST_ONE,
        "num_threads": OPTIONAL_AT_LEAST_ONE,
        "debug_kill_at_step": OPTIONAL_AT_LEAST_ONE,
    },
    "lora": {"r": AT_LEAST_ONE, "alpha": POSITIVE, "dropout": {"minimum": 0, "maximum": 1, "below_maximum": True}},
}


def setting_error(error: OmegaConfBaseException, section: str = "") -> UsageError:
    """OmegaConf's error as one line that names the setting (its own message spans several lines)."""
    message = str(error).splitlines()[0].rstrip(".")
    if isinstance(error, ConfigKeyError) and dataclasses.is_dataclass(error.object_type):
        message += f". Valid settings: {sorted(field.name for field in dataclasses.fields(error.object_type))}"
    key = ".".join(part for part in (section, error.full_key) if part)
    return UsageError(f"`{key}`: {message}." if key else f"{message}.")


def check_section(arguments, section: str) -> None:
    """Raise `UsageError` for the first setting of `arguments` (a `*Arguments` dataclass) of a wrong type or range."""
    try:  # a section from `load_config` was checked by the merge already; one built in Python code is checked here
        OmegaConf.structured(arguments)
    except OmegaConfBaseException as error:
        raise setting_error(error, section) from None
    check_ranges(arguments, section, RANGES.get(section, {}))
    if section == "training":
        for beta in arguments.adam_betas:
            check_range(f"{section}.adam_betas", beta, minimum=0, maximum=1, below_maximum=True)
