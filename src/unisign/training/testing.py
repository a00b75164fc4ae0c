"""After training: the best export scored on the held-out test split, one task at a time, with
`unisign.evaluation.cli`.

The export is loaded as a user would load it (`AutoModelForSeq2SeqLM` / `AutoProcessor.from_pretrained`), so the
scores are those of the saved files. For each task, `<output_dir>/test/<task>/` receives the predictions, the
references and the scores (`evaluation.evaluate_split`); `<output_dir>/test/scores.json` gathers the scores, which
also go into the export's `test_results.json` and model card. Each of `data.extra_test_splits` is scored the same
way into `<output_dir>/test/<split>/` (its `scores.json` included).
"""

import json
from pathlib import Path

import torch
from transformers import AutoModelForSeq2SeqLM, AutoProcessor

from ..data.dataset import SignDataset, load_split
from ..evaluation.cli import evaluate_split, read_prediction_and_reference_files
from .arguments import TrainConfig, config_to_dict
from .export import write_model_card


def evaluate_export_on_test_split(config: TrainConfig, export_dir: Path) -> dict[str, dict[str, float]]:
    """Score `export_dir` on `data.test_split` and each extra test split, task by task; update its card.

    Returns `{task: scores}` of `data.test_split`.
    """
    data, training = config.data, config.training
    output_dir = Path(training.output_dir) / "test"
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = AutoModelForSeq2SeqLM.from_pretrained(export_dir).to(device).eval()
    processor = AutoProcessor.from_pretrained(export_dir)
    video_dir = data.video_dir if model.config.use_rgb else None
    results = {}
    for split, split_dir in [(data.test_split, output_dir)] + [(s, output_dir / s) for s in data.extra_test_splits]:
        dataset = SignDataset(
            load_split(data, split), processor, data.tasks, data.language, train=False, video_dir=video_dir
        )
        results[split] = {
            task: evaluate_split(
                model,
                processor,
                dataset.for_task(task),
                split_dir / task.lower(),
                split,
                training.eval_batch_size,
                num_beams=training.eval_num_beams,
                max_new_tokens=training.eval_max_new_tokens,
            )
            for task in data.tasks
        }
        split_dir.mkdir(parents=True, exist_ok=True)
        (split_dir / "scores.json").write_text(json.dumps(results[split], indent=2))
    (export_dir / "test_results.json").write_text(json.dumps(results[data.test_split], indent=2))
    write_model_card(export_dir, config_to_dict(config))
    return results[data.test_split]


def examples_from_test_split(
    output_dir: str | Path, split: str, tasks: tuple[str, ...], per_task: int = 3
) -> dict[str, list[tuple[str, str, str]]]:
    """The first `per_task` test clips of each task as `(name, prediction, reference)`, read from the files written."""
    examples = {}
    for task in tasks:
        task_dir = Path(output_dir, "test", task.lower())
        paired = read_prediction_and_reference_files(
            task_dir / f"{split}_predictions.txt", task_dir / f"{split}_references.txt"
        )
        names = paired.names or [str(index) for index in range(len(paired.predictions))]
        examples[task] = list(zip(names, paired.predictions, paired.references, strict=True))[:per_task]
    return examples
