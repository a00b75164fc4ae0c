"""Run a Uni-Sign model over a dataset split: batched generation, then the task's scores (`unisign.metrics`).

Used by `python evaluate.py --model ... --data ... --split ...`. Frame sampling is deterministic (evenly spaced
frames, most reliable hand frames) unless asked otherwise, so two runs give the same numbers.
"""

import json
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .metrics import compute_metrics
from .processing_unisign import UniSignDataCollator


def generate_texts(
    model, processor, dataset, batch_size: int = 8, progress: bool = True, **generate_kwargs
) -> list[str]:
    """Translate every clip of `dataset` (a `SignDataset`) in batches; `generate_kwargs` override model settings."""
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, collate_fn=UniSignDataCollator(processor))
    device = next(model.parameters()).device
    texts = []
    model.eval()
    for batch in tqdm(loader, desc="Generating", disable=not progress):
        inputs = {key: value.to(device) for key, value in batch.items() if key != "labels"}
        with torch.no_grad():
            texts += processor.batch_decode(model.generate(**inputs, **generate_kwargs))
    return texts


def write_sample_texts(path: Path, names: list[str], texts: list[str], field: str) -> None:
    """One line per sample in the reference's format: `sample: <name>, <field>: <text>`."""
    path.write_text("".join(f"sample: {name}, {field}: {text}\n" for name, text in zip(names, texts, strict=True)))


def evaluate_split(
    model, processor, dataset, output_dir: Path, split: str, batch_size: int = 8, **generate_kwargs
) -> dict:
    """Generate for a split, score it, write `<split>_predictions.txt`, `_references.txt` and `_scores.json`.

    Args:
        model: A `UniSignForConditionalGeneration` (or a PEFT model around one).
        processor: Its `UniSignProcessor`.
        dataset: A `SignDataset` in evaluation mode (its `task` and `language` decide targets and scores).
        output_dir: Where the three files go.
        split: Name used in the file names.
        batch_size: Clips per generation batch.
        generate_kwargs: Generation settings overriding the model's (`num_beams`, `max_new_tokens`, ...).

    Returns:
        `dict[str, float]`: the task's scores (see `unisign.metrics.compute_metrics`).
    """
    predictions = generate_texts(model, processor, dataset, batch_size, **generate_kwargs)
    references = [dataset.target(index) for index in range(len(dataset))]
    names = [dataset.sample(index).id for index in range(len(dataset))]
    scores = compute_metrics(dataset.task.lower(), predictions, references, lang=dataset.language)
    output_dir.mkdir(parents=True, exist_ok=True)
    write_sample_texts(output_dir / f"{split}_predictions.txt", names, predictions, "prediction")
    write_sample_texts(output_dir / f"{split}_references.txt", names, references, "ground-truth")
    (output_dir / f"{split}_scores.json").write_text(json.dumps(scores, indent=2))
    return scores


__all__ = ["evaluate_split", "generate_texts", "write_sample_texts"]
