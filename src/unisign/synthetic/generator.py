"""Synthetic clips and datasets: `generate_clip` for one clip, `generate_dataset` for Parquet splits with a card.

A clip is fully determined by its signer and its clip seed: the same arguments give identical arrays. Datasets
give the validation and test splits their own signers, never seen in training, and are cached: calling
`generate_dataset` again with the same parameters loads the files already written. An optional second test split,
`test2`, is drawn from another seed (other signers, sentences and clips), so that a model tuned, even unknowingly,
to the first test set shows it.
"""

import concurrent.futures
import dataclasses
import json
import multiprocessing
import os
import shutil
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm
from transformers.utils import logging

from ..data.sample import PoseSample, samples_to_dataset
from ..utils.errors import InvalidInputError
from .body import mirror_wholebody, wholebody_points
from .detection import detect
from .grammar import TEMPLATES, Utterance, isolated_utterance, sample_utterance
from .lexicon import VOCABULARY, Sign, lookup
from .motion import perform
from .signer import Camera, Signer, sample_signer


logger = logging.get_logger(__name__)

# Bump whenever the same parameters would produce different data, so that cached datasets are regenerated.
GENERATOR_VERSION = 1
TASKS = ("islr", "cslr", "slt")
SPLITS = ("train", "validation", "test", "test2")
CLIP_STREAM, PLAN_STREAM = 2, 3
TIMING_STREAM, SWAY_STREAM, NOISE_STREAM, CAMERA_STREAM = range(4)
SHARD_SIZE = 500  # clips per Parquet file (bounds the memory used while writing)
LICENSE = "apache-2.0"


def _stream(clip_seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([clip_seed, stream]))


def signer_to_dict(signer: Signer) -> dict:
    """A JSON-ready description of a signer (stored with each clip so that it can be regenerated)."""
    return dataclasses.asdict(signer)


def signer_from_dict(values: dict) -> Signer:
    """Inverse of `signer_to_dict`."""
    values = dict(values)
    values["camera"] = Camera(**values["camera"])
    for colour in ("skin", "hair", "clothing", "background"):
        values[colour] = tuple(values[colour])
    return Signer(**values)


def generate_clip(
    glosses: str | Sign | list[str | Sign] | tuple[str | Sign, ...],
    signer: Signer | None = None,
    seed: int = 0,
    *,
    text: str | None = None,
    question: bool = False,
    noise: bool = True,
    clip_id: str | None = None,
    extra: dict | None = None,
) -> PoseSample:
    """Generate one clip of a signer signing `glosses`, as a detector would report it.

    Args:
        glosses (`str` or `list[str]`): one gloss (an isolated sign) or a gloss sequence from `VOCABULARY`; a
            `Sign` (or a list of them) signs signs outside it, such as the few-shot split's (`few_shot`).
        signer (`Signer`, *optional*): who signs; defaults to `sample_signer(0)`.
        seed (`int`, *optional*, defaults to 0): the clip seed (timing, sway, camera placement and detector noise).
        text (`str`, *optional*): target text to store; defaults to the sign's word for a single gloss.
        question (`bool`, *optional*, defaults to `False`): sign with the yes/no-question non-manual marker.
        noise (`bool`, *optional*, defaults to `True`): simulate detector noise (jitter, confidence noise, missed
            detections, brief occlusions); `False` gives the exact projection of the skeleton with deterministic
            confidences (occlusion and out-of-frame still lower them).
        clip_id (`str`, *optional*): the sample id; defaults to a name built from the glosses, signer and seed.
        extra (`dict`, *optional*): more JSON-ready fields for `PoseSample.extra`.

    Returns:
        `PoseSample` with `keypoints` `(num_frames, 133, 2)` in `(x / width, y / height)` units and `scores`
        `(num_frames, 133)`; `extra` holds the signer id, handedness, the frames of each sign (`sign_spans`) and,
        under `"synthetic"`, what is needed to regenerate the clip.
    """
    glosses = (glosses,) if isinstance(glosses, str | Sign) else tuple(glosses)
    signs = [gloss if isinstance(gloss, Sign) else lookup(gloss) for gloss in glosses]
    glosses = tuple(sign.gloss for sign in signs)
    if signer is None:
        signer = sample_signer(0)
    if text is None and len(glosses) == 1:
        text = signs[0].word
    camera = signer.camera.jittered(_stream(seed, CAMERA_STREAM))
    performance = perform(signs, signer, _stream(seed, TIMING_STREAM), _stream(seed, SWAY_STREAM), question)
    points = wholebody_points(signer, performance.dominant, performance.other, performance.non_manual)
    if signer.left_handed:
        points = mirror_wholebody(points)
    detection = detect(points, signer, camera, _stream(seed, NOISE_STREAM) if noise else None)
    return PoseSample(
        id=clip_id or f"{'-'.join(glosses).lower()}-{signer.signer_id}-{seed}",
        keypoints=detection.keypoints,
        scores=detection.scores,
        width=camera.width,
        height=camera.height,
        fps=signer.fps,
        text=text,
        gloss=list(glosses),
        extra={
            "signer_id": signer.signer_id,
            "left_handed": signer.left_handed,
            "question": question,
            "sign_spans": [list(span) for span in performance.sign_spans],
            **(extra or {}),
            "synthetic": {"version": GENERATOR_VERSION, "seed": seed, "signer": signer_to_dict(signer)},
        },
    )


def regenerate_clean(sample: PoseSample) -> PoseSample:
    """The noise-free version of a generated clip: same signer, timing and camera, no detector noise.

    Raises:
        ValueError: if `sample` was not made by this generator (version) or its stored recipe is incomplete.
    """
    recipe = sample.extra.get("synthetic")
    if not recipe or recipe.get("version") != GENERATOR_VERSION:
        raise InvalidInputError(
            f"Sample {sample.id!r} carries no recipe of generator version {GENERATOR_VERSION} in "
            f"`extra['synthetic']` (got {recipe and recipe.get('version')}); it cannot be regenerated."
        )
    return generate_clip(
        sample.gloss,
        signer_from_dict(recipe["signer"]),
        recipe["seed"],
        text=sample.text,
        question=bool(sample.extra.get("question", False)),
        noise=False,
        clip_id=sample.id,
    )


# ---------------------------------------------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------------------------------------------
def _split_signers(seeds: dict[str, int], counts: dict[str, int]) -> dict[str, list[Signer]]:
    """Disjoint signer pools: train takes the first indices, then validation, test and test2.

    Each split draws from its own population seed: `test2`'s are other people, and its indices keep the ids apart.
    """
    pools, start = {}, 0
    for split in SPLITS:
        count = counts.get(split, 0)
        pools[split] = [sample_signer(index, seeds[split]) for index in range(start, start + count)]
        start += count
    return pools


def _plan_split(
    split: str, num_clips: int, seed: int, tasks: tuple[str, ...], isolated_fraction: float, templates
) -> list[Utterance]:
    """The utterances of a split: isolated signs cycle through the vocabulary evenly, sentences from the grammar."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, PLAN_STREAM, SPLITS.index(split)]))
    sentences = "cslr" in tasks or "slt" in tasks
    if "islr" not in tasks:
        num_isolated = 0
    elif not sentences:
        num_isolated = num_clips
    else:
        num_isolated = int(round(num_clips * isolated_fraction))
    glosses = sorted(VOCABULARY)
    isolated = [glosses[i] for _ in range(-(-num_isolated // len(glosses))) for i in rng.permutation(len(glosses))]
    plan = [isolated_utterance(gloss) for gloss in isolated[:num_isolated]]
    plan += [sample_utterance(rng, templates) for _ in range(num_clips - num_isolated)]
    return [plan[i] for i in rng.permutation(len(plan))]


def _clip_signers(split: str, num_clips: int, signers: list[Signer], seed: int) -> list[Signer]:
    """The signer of every clip of a split."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, PLAN_STREAM, SPLITS.index(split), 1]))
    return [signers[choice] for choice in rng.integers(len(signers), size=num_clips)]


def _split_clips(
    split: str, plan: list[Utterance], signers: list[Signer], seed: int, tasks: tuple[str, ...], start: int = 0
):
    """Yield the `PoseSample`s of a split's clips `start, start + 1, ...`, whose utterances and signers are given."""
    for index, (utterance, signer) in enumerate(zip(plan, signers, strict=True), start=start):
        clip_seed = int(np.random.SeedSequence([seed, CLIP_STREAM, SPLITS.index(split), index]).generate_state(1)[0])
        clip_tasks = ["islr"] if utterance.template == "isolated" else [t for t in tasks if t != "islr"]
        yield generate_clip(
            utterance.glosses,
            signer,
            clip_seed,
            text=utterance.text,
            question=utterance.question,
            clip_id=f"{split}-{index:06d}",
            extra={"split": split, "tasks": clip_tasks, "template": utterance.template},
        )


def _split_statistics(samples: list[PoseSample]) -> dict:
    frames = [sample.num_frames for sample in samples]
    return {
        "clips": len(samples),
        "isolated": sum(sample.extra["template"] == "isolated" for sample in samples),
        "signers": sorted({sample.extra["signer_id"] for sample in samples}),
        "left_handed_signers": sorted({s.extra["signer_id"] for s in samples if s.extra["left_handed"]}),
        "frames_min": min(frames, default=0),
        "frames_mean": float(np.mean(frames)) if frames else 0.0,
        "frames_max": max(frames, default=0),
    }


def _merge_statistics(parts: list[dict]) -> dict:
    clips = sum(part["clips"] for part in parts)
    return {
        "clips": clips,
        "isolated": sum(part["isolated"] for part in parts),
        "signers": sorted({s for part in parts for s in part["signers"]}),
        "left_handed_signers": sorted({s for part in parts for s in part["left_handed_signers"]}),
        "frames_min": min((part["frames_min"] for part in parts if part["clips"]), default=0),
        "frames_mean": sum(part["frames_mean"] * part["clips"] for part in parts) / max(clips, 1),
        "frames_max": max((part["frames_max"] for part in parts), default=0),
    }


@dataclasses.dataclass(frozen=True)
class _Shard:
    """One Parquet file of a split: clips `start` to `start + len(plan)`, their utterances and their signers."""

    folder: Path
    split: str
    index: int
    num_shards: int
    start: int
    plan: list[Utterance]
    signers: list[Signer]
    seed: int
    tasks: tuple[str, ...]


def _write_shard(shard: _Shard) -> dict:
    """Generate and write one shard; return its statistics (run in a worker process for large datasets)."""
    samples = list(_split_clips(shard.split, shard.plan, shard.signers, shard.seed, shard.tasks, shard.start))
    path = shard.folder / "data" / f"{shard.split}-{shard.index:05d}-of-{shard.num_shards:05d}.parquet"
    samples_to_dataset(samples).to_parquet(str(path))
    return _split_statistics(samples)


def _split_shards(
    folder: Path, split: str, plan: list[Utterance], signers: list[Signer], seed: int, tasks: tuple[str, ...]
) -> list[_Shard]:
    """A split's Parquet files to write, `SHARD_SIZE` clips each, with their clips' utterances and signers."""
    num_shards = max(1, -(-len(plan) // SHARD_SIZE))
    clip_signers = _clip_signers(split, len(plan), signers, seed)
    return [
        _Shard(
            folder,
            split,
            index,
            num_shards,
            start,
            plan[start : start + SHARD_SIZE],
            clip_signers[start : start + SHARD_SIZE],
            seed,
            tasks,
        )
        for index, start in enumerate(range(0, len(plan), SHARD_SIZE))
    ]


def _write_shards(shards: list[_Shard], processes: int) -> list[dict]:
    """Write the shards, in up to `processes` worker processes; their statistics in the shards' order.

    Every clip is determined by its split, index, utterance and signer alone, so the files are the same for any
    number of processes. Workers are spawned, not forked (the parent may hold torch's OpenMP threads), and starting
    one costs ~2 s of imports, against a few seconds a shard: datasets under two shards' worth of clips, such as the
    tests', are generated in this process.
    """
    num_clips = sum(len(shard.plan) for shard in shards)
    processes = min(processes, len(shards)) if num_clips >= 2 * SHARD_SIZE else 1
    with tqdm(total=num_clips, desc="generating clips", unit="clip") as progress:
        if processes <= 1:
            statistics = []
            for shard in shards:
                statistics.append(_write_shard(shard))
                progress.update(len(shard.plan))
            return statistics
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(processes, mp_context=context) as pool:
            futures = [pool.submit(_write_shard, shard) for shard in shards]
            for future in concurrent.futures.as_completed(futures):
                progress.update(len(shards[futures.index(future)].plan))
            return [future.result() for future in futures]


def available_cores() -> int:
    """The cores this process may run on (its affinity where the OS tells it)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def _data_files(folder: Path) -> dict[str, list[str]]:
    return {
        split: sorted(str(path) for path in (folder / "data").glob(f"{split}-*.parquet"))
        for split in SPLITS
        if any((folder / "data").glob(f"{split}-*.parquet"))
    }


def load_generated_dataset(output_dir: str | Path, cache_dir: str | None = None):
    """Load a folder written by `generate_dataset` as a `datasets.DatasetDict` (rows convert with `sample_from_row`).

    Args:
        output_dir (`str` or `Path`): the dataset folder.
        cache_dir (`str`, *optional*): where `datasets` keeps its Arrow cache (its default cache otherwise).
    """
    import datasets

    data_files = _data_files(Path(output_dir))
    if not data_files:
        raise InvalidInputError(
            f"No Parquet splits found under {Path(output_dir) / 'data'}; run `generate_dataset` first."
        )
    return datasets.load_dataset("parquet", data_files=data_files, cache_dir=cache_dir)


def generate_dataset(
    output_dir: str | Path,
    num_train: int = 2000,
    num_validation: int = 200,
    num_test: int = 200,
    seed: int = 0,
    tasks: tuple[str, ...] = TASKS,
    num_train_signers: int = 24,
    num_validation_signers: int = 4,
    num_test_signers: int = 4,
    num_test2: int = 0,
    num_test2_signers: int = 4,
    test2_seed: int | None = None,
    isolated_fraction: float = 0.5,
    templates: tuple[str, ...] | None = None,
    overwrite: bool = False,
    cache_dir: str | None = None,
    processes: int = 1,
):
    """Generate (or load from cache) a synthetic sign-language dataset as Parquet splits with a dataset card.

    Writes `output_dir/data/{split}-XXXXX-of-XXXXX.parquet` (rows in the `unisign.data.dataset_features()` schema),
    `output_dir/README.md` (the dataset card) and `output_dir/generation.json` (the parameters, written last: its
    presence with equal parameters means the folder is complete and is reused).

    Args:
        output_dir (`str` or `Path`): the dataset folder.
        num_train, num_validation, num_test (`int`): clips per split.
        seed (`int`, *optional*, defaults to 0): the dataset seed (signers, sentences and every clip).
        tasks (`tuple[str]`, *optional*, defaults to `("islr", "cslr", "slt")`): `"islr"` adds isolated-sign clips
            (target: the word); `"cslr"` or `"slt"` adds sentence clips (targets: the glosses and the English text).
        num_train_signers, num_validation_signers, num_test_signers (`int`): signers per split; the pools are
            disjoint, so validation and test signers are never seen in training.
        num_test2, num_test2_signers (`int`, *optional*, default to 0 and 4): clips and signers of a second test
            split, `test2`, generated from `test2_seed` (signers, sentences and clips of another draw).
        test2_seed (`int`, *optional*): the seed of `test2`; defaults to `seed + 1`.
        isolated_fraction (`float`, *optional*, defaults to 0.5): share of isolated-sign clips when sentences are
            also requested.
        templates (`tuple[str]`, *optional*): restrict sentences to these grammar templates.
        overwrite (`bool`, *optional*, defaults to `False`): regenerate even if the folder holds this dataset.
        cache_dir (`str`, *optional*): the `datasets` cache used when loading.
        processes (`int`, *optional*, defaults to 1): worker processes that generate the clips; the files are the
            same for any number. Above 1 they are spawned, so a script that calls this must guard its entry point
            (`if __name__ == "__main__":`), as `train.py` does.

    Returns:
        `datasets.DatasetDict` with the splits that have clips.
    """
    tasks = tuple(tasks)
    unknown = [task for task in tasks if task not in TASKS]
    if unknown or not tasks:
        raise InvalidInputError(f"`tasks` must be a non-empty subset of {TASKS}, got {tasks}.")
    counts = {"train": num_train, "validation": num_validation, "test": num_test}
    signer_counts = {"train": num_train_signers, "validation": num_validation_signers, "test": num_test_signers}
    seeds = dict.fromkeys(SPLITS, seed)
    if num_test2:  # only then in the parameters, so that datasets cached without it are reused
        counts["test2"], signer_counts["test2"] = num_test2, num_test2_signers
        seeds["test2"] = seed + 1 if test2_seed is None else test2_seed
    for split in counts:
        if counts[split] < 0:
            raise InvalidInputError(f"`num_{split}` must be non-negative, got {counts[split]}.")
        if counts[split] and signer_counts[split] < 1:
            raise InvalidInputError(f"Split {split!r} has {counts[split]} clips but `num_{split}_signers` is 0.")
    if sum(counts.values()) == 0:
        raise InvalidInputError("All splits are empty: set `num_train`, `num_validation` or `num_test`.")
    if not 0.0 <= isolated_fraction <= 1.0:
        raise InvalidInputError(f"`isolated_fraction` must be in [0, 1], got {isolated_fraction}.")
    if templates is not None:
        unknown_templates = [name for name in templates if name not in TEMPLATES]
        if unknown_templates or not templates:
            raise InvalidInputError(f"Unknown or no `templates` {templates}; available: {list(TEMPLATES)}.")

    folder = Path(output_dir)
    parameters = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "splits": counts,
        "signers": signer_counts,
        "tasks": list(tasks),
        "isolated_fraction": isolated_fraction,
        "templates": None if templates is None else list(templates),
    }
    if num_test2:
        parameters["test2_seed"] = seeds["test2"]
    marker = folder / "generation.json"
    if not overwrite and marker.exists():
        previous = json.loads(marker.read_text())
        if previous.get("parameters") == parameters:
            logger.info(f"Reusing the synthetic dataset in {folder} (same parameters).")
            return load_generated_dataset(folder, cache_dir)
        logger.warning(f"{folder} holds a synthetic dataset with other parameters; regenerating it.")

    marker.unlink(missing_ok=True)
    shutil.rmtree(folder / "data", ignore_errors=True)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    pools = _split_signers(seeds, signer_counts)
    shards = []
    for split, count in counts.items():
        if count:
            plan = _plan_split(split, count, seeds[split], tasks, isolated_fraction, templates)
            shards += _split_shards(folder, split, plan, pools[split], seeds[split], tasks)
    parts = _write_shards(shards, processes)
    statistics = {
        split: _merge_statistics([part for shard, part in zip(shards, parts, strict=True) if shard.split == split])
        for split in dict.fromkeys(shard.split for shard in shards)
    }
    (folder / "README.md").write_text(dataset_card(parameters, statistics))
    marker.write_text(json.dumps({"parameters": parameters, "statistics": statistics}, indent=2))
    return load_generated_dataset(folder, cache_dir)


TEST2_NOTE = (
    " `test2` is a second test set drawn from another seed: other signers, other sentences, other clips; a model"
    " scored on both shows whether its settings were tuned, even unknowingly, to one test set."
)


def dataset_card(parameters: dict, statistics: dict) -> str:
    """The README.md of a generated dataset: what it is, features, splits, how it was generated, licence."""
    split_rows = "\n".join(
        f"| {split} | {stats['clips']} | {stats['isolated']} | {stats['clips'] - stats['isolated']} | "
        f"{len(stats['signers'])} ({len(stats['left_handed_signers'])} left-handed) | "
        f"{stats['frames_min']} / {stats['frames_mean']:.1f} / {stats['frames_max']} |"
        for split, stats in statistics.items()
    )
    config_files = "\n".join(
        f"  - split: {split}\n    path: data/{split}-*.parquet" for split in statistics if statistics[split]["clips"]
    )
    total = sum(stats["clips"] for stats in statistics.values())
    size_category = "n<1K" if total < 1000 else "1K<n<10K" if total < 10000 else "10K<n<100K"
    call = ", ".join(
        [f"num_{split}={count}" for split, count in parameters["splits"].items()]
        + [f"seed={parameters['seed']}", f"tasks={tuple(parameters['tasks'])}"]
        + [f"num_{split}_signers={count}" for split, count in parameters["signers"].items()]
        + [f"isolated_fraction={parameters['isolated_fraction']}", f"templates={parameters['templates']}"]
        + ([f"test2_seed={parameters['test2_seed']}"] if "test2_seed" in parameters else [])
    )
    return f"""---
license: {LICENSE}
pretty_name: UniSign synthetic sign language
task_categories:
- translation
- video-classification
tags:
- sign-language
- pose
- keypoints
- coco-wholebody
- synthetic
size_categories:
- {size_category}
configs:
- config_name: default
  data_files:
{config_files}
---

# UniSign synthetic sign language

Procedurally generated sign-language clips as **COCO-WholeBody-133 keypoints with confidences**, in the format a
real whole-body detector (RTMPose/RTMW) produces. It ships with the `unisign` package so that a Uni-Sign model can
be trained and evaluated end to end without downloading data. It is a **made-up sign language** (glosses borrow
English words, a few forms echo ASL, but it is not ASL or any natural sign language): use it to test pipelines
and models, not to learn about real signing.

## Content

- {len(VOCABULARY)} signs built from phonological parameters: handshape (finger joint angles through hand forward
  kinematics), location (forehead, eyes, nose, mouth, chin, cheek, chest, stomach, neutral space, the other hand),
  movement (hold, straight, arc, circle, repeated, shake, finger wiggle), palm orientation, and one- or
  two-handed arrangement (symmetric, alternating, or dominant hand acting on a base hand). Groups of signs differ
  in one parameter only (e.g. `ONE`..`FIVE` differ only in handshape, so their arm keypoints are identical).
- Sentences from {len(TEMPLATES)} templates ({", ".join(TEMPLATES)}): topic-first gloss order, time signs first,
  `NOT` and wh-signs last; yes/no questions are marked only by raised brows and a forward head tilt. Hands move
  directly from sign to sign (co-articulation) and start and end each clip at rest.
- Signers vary in body proportions, position and scale in the frame, frame size, frame rate (20-30 fps), signing
  tempo and handedness; the detector simulation adds jitter, motion blur, missed hand detections (confidence
  near 0, coordinates zero or meaningless), occlusions, and off-frame legs (seated, upper-body framing).

## Splits

Validation and test signers are never seen in training.{TEST2_NOTE if "test2" in statistics else ""}

| split | clips | isolated signs | sentences | signers | frames min / mean / max |
|---|---|---|---|---|---|
{split_rows}

## Features

| column | type | meaning |
|---|---|---|
| `id` | string | clip name, `<split>-<index>` |
| `keypoints` | float32 `(frames, 133, 2)` | `(x / width, y / height)` of the 133 COCO-WholeBody points |
| `scores` | float32 `(frames, 133)` | detector confidences in [0, 1] |
| `width`, `height` | int32 | frame size in pixels |
| `fps` | float32 | frame rate |
| `text` | string | target text: the word (isolated sign) or the English sentence (SLT) |
| `gloss` | list of string | the glosses (CSLR target: space-joined) |
| `video_path` | string | null: there is no video (frames can be rendered on demand) |
| `extra` | string (JSON) | per-clip details, below |

`extra` holds `signer_id`, `left_handed`, `split`, `tasks` (`["islr"]` for isolated signs, the sentence tasks
otherwise), `template`, `question` (the yes/no-question marker), `sign_spans` (first and past-the-end frame of each
sign) and `synthetic` (generator version, clip seed and signer: enough to regenerate the clip).

Targets: ISLR = `text` of isolated clips; CSLR = `" ".join(gloss)`; SLT = `text` of sentence clips.

## Usage

```python
from unisign.data import sample_from_row
from unisign.synthetic import load_generated_dataset, render_sample

dataset = load_generated_dataset("path/to/this/folder")
sample = sample_from_row(dataset["train"].with_format("numpy")[0])
frames = render_sample(sample)  # (frames, height, width, 3) uint8, a drawing of the signer
```

## Generation

Generated by `unisign.synthetic.generate_dataset({call})`, generator version
{parameters["generator_version"]}. Every clip is determined by the dataset seed: the same call reproduces the same
arrays.

## Licence

{LICENSE}, the licence of the `unisign` package that generates it.
"""


__all__ = [
    "GENERATOR_VERSION",
    "dataset_card",
    "generate_clip",
    "generate_dataset",
    "load_generated_dataset",
    "regenerate_clean",
    "signer_from_dict",
    "signer_to_dict",
]
