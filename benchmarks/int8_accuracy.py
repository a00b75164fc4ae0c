"""Does int8 keep a model's scores? float32 against its ONNX int8 export on fresh clips of the synthetic language.

    python benchmarks/int8_accuracy.py --model outputs/default_synthetic/best --workdir /tmp/int8-accuracy

The main job's test splits hold 120 sentences each: one changed translation moves BLEU-4 by about a point, so a
1-point bound cannot be decided on them (benchmarks/RESULTS.md). This draws a new split from the same generator
(`generate_dataset`'s `test2` with a seed of its own: new signers, new sentences, never used for training or for a
choice), exports the model to ONNX int8 (`export_onnx`), scores both with `evaluate.py`'s code, greedy with 40 new
tokens in batches of 50 as training evaluates, and prints JSON: each task's score in float32 and int8, how many
predictions changed, and a paired bootstrap 95% interval of the difference (the clips resampled together for both
models). Written by hand, the bootstrap is a few lines around corpus scores; it needs no statistics library
(scipy is not a dependency). BLEU-4 is resampled from sacrebleu's per-sentence n-gram statistics, summed as its
corpus BLEU sums them (checked against `compute_metrics` on the whole split); WER and ISLR accuracy are recomputed
with `compute_metrics` on each resample.
"""

import argparse
import json
from pathlib import Path

import numpy as np
from sacrebleu.metrics import BLEU
from tqdm.auto import tqdm

from unisign.evaluation.cli import build_parser, evaluate_model, read_prediction_and_reference_files
from unisign.evaluation.metrics import compute_metrics
from unisign.onnx import export_onnx
from unisign.synthetic.generator import generate_dataset


SCORES = {"islr": "top1_per_instance", "cslr": "wer", "slt": "bleu4"}


def scored_predictions(model: Path, data: Path, task: str, output_dir: Path) -> tuple[list[str], list[str]]:
    """Run `evaluate.py`'s model evaluation on the fresh split; `(predictions, references)` in reference order."""
    argv = ["--model", str(model), "--data", str(data), "--split", "test2", "--task", task, "--num-beams", "1"]
    argv += ["--max-new-tokens", "40", "--batch-size", "50", "--output-dir", str(output_dir)]
    evaluate_model(build_parser().parse_args(argv))
    predictions, references = output_dir / "test2_predictions.txt", output_dir / "test2_references.txt"
    paired = read_prediction_and_reference_files(predictions, references)
    return paired.predictions, paired.references


def bleu_statistics(predictions: list[str], references: list[str]) -> np.ndarray:
    """`(num_sentences, 10)`: n-gram matches and totals (n = 1..4), hypothesis and reference lengths per sentence."""
    bleu = BLEU(tokenize="13a", lowercase=False, effective_order=True)  # the order only changes sentence scores
    scores = (
        bleu.sentence_score(prediction, [reference])
        for prediction, reference in zip(predictions, references, strict=True)
    )
    return np.array([[*score.counts, *score.totals, score.sys_len, score.ref_len] for score in scores])


def corpus_bleu(statistics: np.ndarray) -> float:
    """sacrebleu's corpus BLEU-4 (exponential smoothing, as `compute_metrics`) from summed sentence statistics."""
    total = statistics.sum(axis=0)
    matches, totals, lengths = total[:4].tolist(), total[4:8].tolist(), total[8:].astype(int).tolist()
    return BLEU.compute_bleu(matches, totals, *lengths, smooth_method="exp").score


def resampled_scorers(task: str, float32: list[str], int8: list[str], references: list[str]):
    """One function per model: the task's score over the clips `rows` (an index array, with repeats)."""
    if task == "slt":
        statistics = [bleu_statistics(predictions, references) for predictions in (float32, int8)]
        for predictions, table in zip((float32, int8), statistics, strict=True):
            if not np.isclose(corpus_bleu(table), compute_metrics(task, predictions, references)["bleu4"]):
                raise RuntimeError("summed sentence statistics no longer give `compute_metrics`' BLEU-4")
        return [lambda rows, table=table: corpus_bleu(table[rows]) for table in statistics]
    return [
        lambda rows, predictions=predictions: compute_metrics(
            task, [predictions[row] for row in rows], [references[row] for row in rows]
        )[SCORES[task]]
        for predictions in (float32, int8)
    ]


def paired_bootstrap(task: str, float32: list[str], int8: list[str], references: list[str], rounds: int, seed: int):
    """95% percentile interval of `score(int8) - score(float32)` over `rounds` resamplings of the clips."""
    float32_score, int8_score = resampled_scorers(task, float32, int8, references)
    rng = np.random.default_rng(seed)
    differences = []
    for _ in tqdm(range(rounds), desc=f"bootstrap {task}", leave=False):
        rows = rng.integers(0, len(references), len(references))
        differences.append(int8_score(rows) - float32_score(rows))
    low, high = np.percentile(differences, [2.5, 97.5])
    return round(float(low), 2), round(float(high), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a pose-only model folder, e.g. outputs/default_synthetic/best")
    parser.add_argument("--workdir", required=True, help="a new folder: the fresh split, the export, predictions")
    parser.add_argument("--clips", type=int, default=3000, help="fresh clips, a third of them isolated signs")
    parser.add_argument("--seed", type=int, default=7, help="the fresh split's seed (the main job uses 0 and 1)")
    parser.add_argument("--bootstrap-rounds", type=int, default=1000)
    args = parser.parse_args()
    if not (Path(args.model) / "config.json").is_file():
        parser.error(f"--model {args.model} is not a model folder (no config.json).")
    workdir = Path(args.workdir)
    if workdir.exists() and any(workdir.iterdir()):
        parser.error(f"--workdir {workdir} exists and is not empty: choose a new folder.")
    try:  # first: an RGB-pose model is refused before any clip is drawn
        int8_model = export_onnx(args.model, workdir / "int8", quantize="int8")
    except (NotImplementedError, ValueError) as error:
        parser.error(str(error))
    data = workdir / "fresh-data"
    generate_dataset(
        data, num_train=0, num_validation=0, num_test=0, num_test2=args.clips, test2_seed=args.seed,
        num_test2_signers=8, isolated_fraction=1 / 3,
    )  # fmt: skip
    report = {"model": args.model, "clips": args.clips, "seed": args.seed, "tasks": {}}
    for task, score in SCORES.items():
        float32, references = scored_predictions(Path(args.model), data, task, workdir / "float32" / task)
        int8, _ = scored_predictions(int8_model, data, task, workdir / "int8-predictions" / task)
        report["tasks"][task] = {
            "samples": len(references),
            "score": score,
            "float32": round(compute_metrics(task, float32, references)[score], 2),
            "int8": round(compute_metrics(task, int8, references)[score], 2),
            "changed": sum(a != b for a, b in zip(float32, int8, strict=True)),
            "difference_95_interval": paired_bootstrap(task, float32, int8, references, args.bootstrap_rounds, 0),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
