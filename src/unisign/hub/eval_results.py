"""A card's scores as `.eval_results/*.yaml`, the Hub's benchmark-results format, beside its `model-index`.

The Hub shows these files on the model page and adds the scores to the leaderboard of their benchmark dataset
(https://huggingface.co/docs/hub/eval-results). `huggingface_hub` ships the format as code, not as a schema:
`EvalResultEntry` (its fields), `eval_result_entries_to_yaml` (what a file holds: a list of
`{dataset: {id, task_id}, value, source?: {url, name?}, notes?}`) and `parse_eval_result_entries` (how it is read
back). One file per dataset, named after it; one entry per score, whose `task_id` is the split and metric. The numbers
are those of the card's `model-index`, with the same source, so the two never disagree.

`dataset.id` is the Hub dataset the card names (`datasets` in its metadata, e.g. a Parquet dataset a run trained on),
else the `model-index` dataset type (`how2sign`, `csl-daily`, `wlasl-2000`): the Hub attaches the scores to a
leaderboard once a benchmark dataset of that id exists. Results on an unrecorded dataset are not written (as in
`model-index`).
"""

import re
from pathlib import Path

import yaml
from huggingface_hub import EvalResult, EvalResultEntry, ModelCard, constants, eval_result_entries_to_yaml

from ..utils.checksums import write_text_atomic


EVAL_RESULTS_FOLDER = constants.EVAL_RESULTS_FOLDER  # ".eval_results"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def card_eval_entries(card: ModelCard) -> dict[str, list[EvalResultEntry]]:
    """The `.eval_results` entries of a card's `model-index` results, by file name (`<dataset>.yaml`).

    Args:
        card: A card whose metadata may hold `model-index` results (`card.data.eval_results`).

    Returns:
        `dict[str, list[EvalResultEntry]]`: empty when the card has no indexed results.
    """
    results: list[EvalResult] = card.data.eval_results or []
    datasets = card.data.datasets or []
    hub_dataset = datasets[0] if len(datasets) == 1 and "/" in datasets[0] else None
    files: dict[str, list[EvalResultEntry]] = {}
    for result in results:
        dataset_id = hub_dataset or result.dataset_type
        entry = EvalResultEntry(
            dataset_id=dataset_id,
            task_id=_slug(f"{result.dataset_split} {result.metric_name or result.metric_type}"),
            value=result.metric_value,
            source_url=result.source_url,
            source_name=result.source_name if result.source_url else None,
            notes=f"{result.task_name}: {result.metric_name} on {result.dataset_name} ({result.dataset_split})",
        )
        files.setdefault(f"{_slug(dataset_id)}.yaml", []).append(entry)
    return files


def write_eval_results(folder: str | Path, card: ModelCard) -> list[Path]:
    """Write `folder/.eval_results/<dataset>.yaml` for a card's indexed scores (nothing when it has none).

    Returns:
        `list[Path]`: the files written.
    """
    paths = []
    for name, entries in card_eval_entries(card).items():
        path = Path(folder) / EVAL_RESULTS_FOLDER / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(
            path, yaml.safe_dump(eval_result_entries_to_yaml(entries), sort_keys=False, allow_unicode=True)
        )
        paths.append(path)
    return paths


__all__ = ["EVAL_RESULTS_FOLDER", "card_eval_entries", "write_eval_results"]
