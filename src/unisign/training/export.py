"""Exports of a run: `save_pretrained` folders (full model, or LoRA adapter plus optional merged model) and a card.

Every folder is written next to its final place and renamed into it, so a crash mid-write never leaves a broken
export where a good one was.
"""

import json
import math
import os
import shutil
from pathlib import Path

from ..hub.eval_results import write_eval_results
from ..hub.model_card import card_adapter_base, export_card, portable_run_settings, write_card_source
from ..utils.checksums import write_checksums
from .run_folder import written_whole


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
    """Write `folder/README.md`, the export's model card (`unisign.hub.model_card.export_card`), and
    `card_source.json`.

    The scores come from the folder's `eval_results.json` (evaluation split) and `test_results.json` (test split,
    per task) when they exist. `card_source.json` keeps the run's settings (local paths reduced to their names) and
    the synthetic data's description, so that `unisign card FOLDER --repo user/name` rewrites the same card later.

    Args:
        folder: The export.
        settings: The run's settings (`config_to_dict(config)`).
        repo: The Hub id shown in the card's loading example; a placeholder when `None` (never a local path).
    """
    validation_file, test_file = folder / "eval_results.json", folder / "test_results.json"
    validation = json.loads(validation_file.read_text()) if validation_file.is_file() else {}
    test = json.loads(test_file.read_text()) if test_file.is_file() else None
    generation_file = Path(settings["data"].get("path") or "", "generation.json")
    generation = (
        json.loads(generation_file.read_text())
        if settings["data"]["format"] == "synthetic" and (generation_file.is_file())
        else None
    )
    adapter_base = card_adapter_base(folder)
    num_parameters = count_saved_parameters(folder)
    source = {
        "kind": "train.py",
        "settings": portable_run_settings(settings),
        "generation": generation,
        "num_parameters": num_parameters,
    }
    write_card_source(folder, source)
    card = export_card(settings, validation, test, repo, num_parameters, generation, adapter_base)
    card.save(folder / "README.md")
    write_eval_results(folder, card)


EMBEDDED_BASE = "."  # `base_model_name_or_path` of an adapter that carries its base: the adapter folder itself


def embed_adapter_base(tmp: Path) -> None:
    """Put an adapter's local base model into `tmp` (the adapter's folder, being written), beside the adapter.

    PEFT records the base's `name_or_path`, for a run's own `base_model/` folder an absolute path that exists only on
    the machine that trained it, and which transformers and PEFT would resolve against the current directory once
    made relative. With the base's `config.json` and weights beside `adapter_config.json`, transformers'
    `from_pretrained(folder)` loads the base from the folder itself and puts the adapter on it, wherever the folder
    is copied (`maybe_load_adapters`: a folder with a `config.json` is "a model with an embedded adapter"). The
    record becomes `"."` (the base is the adapter folder). A base given by Hub id stays as it is.
    """
    path = tmp / "adapter_config.json"
    adapter_config = json.loads(path.read_text())
    base = adapter_config["base_model_name_or_path"]
    if not Path(base).is_dir():  # a Hub id
        return
    for file in sorted(Path(base).iterdir()):  # `save_pretrained`'s files: config, weights, generation config, code
        if file.is_file() and not (tmp / file.name).exists():
            shutil.copyfile(file, tmp / file.name)
    adapter_config["base_model_name_or_path"] = EMBEDDED_BASE
    path.write_text(json.dumps(adapter_config, indent=2, sort_keys=True) + "\n")


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
        with written_whole(tmp, f"the export {final}"):
            to_save.save_pretrained(tmp, state_dict=weights)
            if (tmp / "adapter_config.json").is_file():
                embed_adapter_base(tmp)
            processor.save_pretrained(tmp)
            (tmp / "eval_results.json").write_text(json.dumps(metrics, indent=2))
            write_model_card(tmp, settings)
            write_checksums(tmp, "*.safetensors")  # loaders verify the weights (the card changes)
        replace_folder(tmp, final)
