"""Exports of a run: `save_pretrained` folders (full model, or LoRA adapter plus optional merged model) and a card.

Every folder is written next to its final place and renamed into it, so a crash mid-write never leaves a broken
export where a good one was.
"""

import json
import os
import shutil
from pathlib import Path

from huggingface_hub import ModelCard, ModelCardData


CARD_TEMPLATE = """---
{{ card_data }}
---

# {{ title }}

A [Uni-Sign](https://arxiv.org/abs/2501.15187) model ({{ description }}), trained with the `unisign` package.

## Use

```python
import unisign  # registers the Uni-Sign classes
from transformers import AutoModelForSeq2SeqLM, AutoProcessor

model = AutoModelForSeq2SeqLM.from_pretrained("{{ repo }}")
processor = AutoProcessor.from_pretrained("{{ repo }}")
```

## Evaluation

{{ results }}

## Training

{{ training }}
"""


def replace_folder(tmp: Path, final: Path) -> None:
    """Move a finished folder into place: the old one is removed only once the new one is complete."""
    old = final.with_name(final.name + ".old")
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def write_model_card(folder: Path, task: str, metrics: dict, training: dict) -> None:
    """A short model card: what the model is, how to load it, its scores and how it was trained."""
    card_data = ModelCardData(library_name="transformers", tags=["sign-language", "unisign", task.lower()])
    results = "\n".join(f"- {name}: {value:.4g}" for name, value in sorted(metrics.items())) or "Not evaluated."
    card = ModelCard.from_template(
        card_data,
        template_str=CARD_TEMPLATE,
        title=f"Uni-Sign ({task})",
        description=f"task {task}",
        repo=folder.name,
        results=results,
        training=f"```json\n{json.dumps(training, indent=2, default=str)}\n```",
    )
    card.save(folder / "README.md")


def export_model(accelerator, model, processor, folder: Path, task: str, metrics: dict, training: dict, merged: bool):
    """Write `folder` (and `<folder>-merged` for LoRA runs when asked) from the main process."""
    unwrapped = accelerator.unwrap_model(model)
    state_dict = accelerator.get_state_dict(model)  # gathers sharded (FSDP/DeepSpeed) weights; every process calls it
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
        write_model_card(tmp, task, metrics, training)
        (tmp / "eval_results.json").write_text(json.dumps(metrics, indent=2))
        replace_folder(tmp, final)
