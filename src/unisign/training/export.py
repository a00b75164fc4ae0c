"""Exports of a run: `save_pretrained` folders (full model, or LoRA adapter plus optional merged model) and a card.

Every folder is written next to its final place and renamed into it, so a crash mid-write never leaves a broken
export where a good one was.
"""

import json
import math
import os
import shutil
from pathlib import Path

from .model_card import export_card


def replace_folder(tmp: Path, final: Path) -> None:
    """Move a finished folder into place: the old one is removed only once the new one is complete."""
    old = final.with_name(final.name + ".old")
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def count_saved_parameters(folder: Path) -> int | None:
    """Parameters in a folder's `model.safetensors` (read from its header), or `None` without that file."""
    from safetensors import safe_open

    path = folder / "model.safetensors"
    if not path.is_file():
        return None
    with safe_open(str(path), framework="pt") as weights:
        return sum(math.prod(weights.get_slice(name).get_shape()) for name in weights.keys())  # noqa: SIM118


def write_model_card(folder: Path, settings: dict, repo: str | None = None) -> None:
    """Write `folder/README.md`, the export's model card (`model_card.export_card`).

    The scores come from the folder's `eval_results.json` (evaluation split) and `test_results.json` (test split,
    per task) when they exist.

    Args:
        folder: The export.
        settings: The run's settings (`config_to_dict(config)`).
        repo: The folder or Hub id shown in the card's loading example; defaults to `folder`.
    """
    validation_file, test_file = folder / "eval_results.json", folder / "test_results.json"
    validation = json.loads(validation_file.read_text()) if validation_file.is_file() else {}
    test = json.loads(test_file.read_text()) if test_file.is_file() else None
    card = export_card(
        settings, validation, test, repo=repo or str(folder), num_parameters=count_saved_parameters(folder)
    )
    card.save(folder / "README.md")


def export_model(accelerator, model, processor, folder: Path, metrics: dict, settings: dict, merged: bool):
    """Write `folder` (and `<folder>-merged` for LoRA runs when asked) from the main process.

    Each folder holds the model, the processor, `eval_results.json` (`metrics`, on the evaluation split) and the
    model card.
    """
    unwrapped = accelerator.unwrap_model(model)
    state_dict = accelerator.get_state_dict(model)  # gathers sharded (FSDP/DeepSpeed) weights; every process calls it
    # one name per tied parameter: DeepSpeed gathers a separate copy under each of mT5's three embedding names, and
    # `save_pretrained` keeps copies that do not share memory
    first_names = {}
    for name, parameter in unwrapped.named_parameters(remove_duplicate=False):
        if first_names.setdefault(id(parameter), name) != name and state_dict is not None:
            state_dict.pop(name, None)
    if not accelerator.is_main_process:
        return
    is_lora = hasattr(unwrapped, "peft_config")
    outputs = [(folder, unwrapped, state_dict)]
    if is_lora and merged:
        import copy

        merged_model = copy.deepcopy(unwrapped).merge_and_unload()
        outputs.append((folder.with_name(folder.name + "-merged"), merged_model, None))
    for final, to_save, weights in outputs:
        tmp = final.with_name(final.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        to_save.save_pretrained(tmp, state_dict=weights)
        processor.save_pretrained(tmp)
        (tmp / "eval_results.json").write_text(json.dumps(metrics, indent=2))
        write_model_card(tmp, settings, repo=str(final))
        replace_folder(tmp, final)
