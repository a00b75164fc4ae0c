"""Model cards from one template (`model_card_template.md`): any model folder, and the released checkpoints.

A card is a `huggingface_hub.ModelCard`: YAML metadata (`pipeline_tag`, `library_name`, licence, languages, base
model, datasets, tags and the scores as `model-index` evaluation results, which the Hub shows and
`huggingface_hub.metadata_load` reads back) followed by the text: what the model is, how to load and use it,
evaluation, intended use, training data, training procedure, limitations, licence and the Uni-Sign citation.

Cards name the model by its Hub id, never by a local path; without one, a placeholder (`your-username/<name>`) that
the card asks to replace. `write_card(folder, repo)` (`unisign card FOLDER --repo user/name`) writes the card of any
model folder: a `unisign convert` folder, a `train.py` export, a `Seq2SeqTrainer` folder or a PEFT adapter.

    from unisign.hub.model_card import write_reference_cards
    write_reference_cards("model_cards")   # (re)write the cards of the eight released checkpoints
"""

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..utils.checksums import write_text_atomic
from ..utils.errors import InvalidInputError, UsageError
from .eval_results import write_eval_results
from .released_checkpoints import (
    REFERENCE_CHECKPOINTS,
    REFERENCE_HUB_REPO,
    SIGN_LANGUAGES,
    ReferenceCheckpoint,
    released_checkpoint,
)


TEMPLATE_PATH = Path(__file__).with_name("model_card_template.md")
# What a folder's card is made from, written beside it by `unisign convert` and `train.py` (see `write_card`)
CARD_SOURCE_FILE = "card_source.json"
PAPER_URL = "https://arxiv.org/abs/2501.15187"
PAPER_SOURCE = "Uni-Sign paper (Li et al., ICLR 2025)"
REFERENCE_LICENSE = "cc-by-nc-4.0"
TAGS = ["sign-language", "uni-sign", "unisign", "pose", "keypoints", "mt5"]
LANGUAGE_NAMES = {"en": "English", "zh": "Chinese"}
# sign language (ISO 639-3) of the datasets of the reference layout (`data.format: reference`)
DATASET_SIGN_LANGUAGES = {
    "CSL_Daily": "csl",
    "CSL_News": "csl",
    "WLASL": "ase",
    "MSASL": "ase",
    "How2Sign": "ase",
    "OpenASL": "ase",
}


@dataclass(frozen=True)
class TaskMetric:
    """A score of a task as the card reports it: its key in `unisign.metrics` results and its `model-index` type."""

    key: str
    metric_type: str
    name: str


TASK_METRICS = {
    "ISLR": (
        TaskMetric("top1_per_instance", "accuracy", "Top-1 accuracy per instance (%)"),
        TaskMetric("top1_per_class", "accuracy", "Top-1 accuracy per class (%)"),
    ),
    "CSLR": (TaskMetric("wer", "wer", "Word error rate (%)"),),
    "SLT": (TaskMetric("bleu4", "bleu", "BLEU-4"), TaskMetric("rouge_l", "rouge", "ROUGE-L")),
}
# model-index task type and name; distinct types, because the Hub merges the results of equal (task, dataset) pairs
TASK_TYPES = {
    "ISLR": ("video-classification", "Isolated sign language recognition"),
    "CSLR": ("continuous-sign-language-recognition", "Continuous sign language recognition (glosses)"),
    "SLT": ("translation", "Sign language translation"),
}

# Hub pipeline tag per task: the model writes text for every task; an isolated sign is a class of the clip
PIPELINE_TAGS = {"ISLR": "video-classification", "CSLR": "translation", "SLT": "translation"}

DEFAULT_USAGE_NOTES = (
    "`generate` uses beam search with 4 beams and up to 100 new tokens unless told otherwise (`num_beams=1` for "
    "greedy decoding). RGB-pose models also need the clip's video (`videos=[path]`) for the hand crops."
)
GENERAL_LIMITATIONS = (
    "- Sign language models trained on one dataset transfer poorly to other signers, camera set-ups, sign "
    "languages and topics, and inherit the errors of the keypoint detector (missed or swapped hands, occlusions).\n"
    "- Recognition and translation errors can change meaning. Do not use the model where a mistake matters "
    "(medical, legal, emergency communication) and do not present it as a replacement for human interpreters; "
    "involve Deaf signers when evaluating or deploying it."
)


@dataclass
class CardContent:
    """What a card says; `render_card` puts it into the template.

    `repo` is the Hub id shown in the code; `None` shows `your-username/<placeholder_name>` and asks to replace it.
    `language` is the written language of the outputs (the processor's default prompt language), `None` when not
    recorded. `sign_language` is the ISO 639-3 code of the clips' sign language, only when the training data is real
    signing in it. `eval_results` go into the `model-index` metadata only with `index_results` (they need a known
    dataset). `adapter_base` marks a PEFT adapter card and names its base model.
    """

    model_name: str
    summary: str
    repo: str | None
    placeholder_name: str
    language: str | None
    tasks: tuple[str, ...]
    how_to_get: str
    intended_use: str
    training_data: str
    training_procedure: str
    limitations: str
    license_text: str
    eval_results: list[EvalResult] = field(default_factory=list)
    evaluation_notes: str = ""
    index_results: bool = True
    license: str | None = None
    base_model: str | None = None
    sign_language: str | None = None
    datasets: list[str] | None = None
    usage_notes: str = DEFAULT_USAGE_NOTES
    adapter_base: str | None = None
    processor_in_repo: bool = True


def is_hub_id(name: str | None) -> bool:
    """Whether `name` reads as a Hub repository id (`user/name` or a canonical `name`) rather than a local path."""
    if not name or os.path.isabs(name) or name.startswith((".", "~")) or Path(name).exists():
        return False
    return re.fullmatch(r"[\w.-]+(/[\w.-]+)?", name) is not None


def portable_name(value: str) -> str:
    """A Hub id as it is; a local path as `./<its last component>` (cards never show a machine's paths)."""
    return value if is_hub_id(value) else f"./{Path(value).name}"


def portable_settings(value):
    """`value` (nested dicts/lists of settings) with every absolute path replaced by `./<its last component>`."""
    if isinstance(value, dict):
        return {key: portable_settings(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [portable_settings(item) for item in value]
    if isinstance(value, str) and os.path.isabs(value):
        return f"./{Path(value).name}"
    return value


# settings that name a folder or a Hub id: decided where the run is (the path exists there), kept in the card
RUN_PATH_SETTINGS = (("model", "init_from"), ("model", "language_model"), ("model", "tokenizer"), ("data", "path"))


def portable_run_settings(settings: dict) -> dict:
    """A run's settings as a card shows them: Hub ids kept, local paths reduced to `./<name>` (see `portable_name`)."""
    settings = json.loads(json.dumps(settings, default=str))
    for section, key in RUN_PATH_SETTINGS:
        if settings.get(section, {}).get(key):
            settings[section][key] = portable_name(settings[section][key])
    return portable_settings(settings)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "uni-sign"


def render_card(content: CardContent) -> ModelCard:
    """Fill the template with `content`; the `model-index` metadata needs at least one result and a name."""
    card_data = ModelCardData(
        model_name=content.model_name,
        eval_results=(content.eval_results if content.index_results else None) or None,
        language=[code for code in (content.language, content.sign_language) if code] or None,
        license=content.license,
        base_model=content.base_model,
        datasets=content.datasets or None,
        library_name="peft" if content.adapter_base else "transformers",
        # a multi-task model writes text for each task: one tag for all (its pipeline is translation)
        pipeline_tag=PIPELINE_TAGS[content.tasks[0]] if len(content.tasks) == 1 else "translation",
        # the sign language's ISO 639-3 code as a tag too: the Hub's language filter lists only some of them
        tags=TAGS
        + [task.lower() for task in content.tasks]
        + ([content.sign_language] if content.sign_language else []),
    )
    evaluation = evaluation_table(content.eval_results)
    if content.evaluation_notes:
        evaluation += "\n\n" + content.evaluation_notes
    repo = content.repo or f"your-username/{_slug(content.placeholder_name)}"
    return ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATE_PATH),
        model_name=content.model_name,
        summary=content.summary,
        repo=repo,
        placeholder_repo=content.repo is None,
        adapter=content.adapter_base is not None,
        base_model_reference=f"`{content.adapter_base}`",
        processor_repo=repo if content.processor_in_repo or not content.adapter_base else content.adapter_base,
        language=content.language,
        language_name=LANGUAGE_NAMES.get(content.language, content.language),
        task=content.tasks[-1],
        task_comment=f"  # or task={' / '.join(content.tasks[:-1])}" if len(content.tasks) > 1 else "",
        how_to_get=content.how_to_get,
        usage_notes=content.usage_notes,
        evaluation=evaluation,
        intended_use=content.intended_use,
        training_data=content.training_data,
        training_procedure=content.training_procedure,
        limitations=content.limitations,
        license_text=content.license_text,
    )


def task_eval_results(
    task: str,
    scores: dict[str, float],
    dataset_type: str,
    dataset_name: str,
    split: str,
    source: tuple[str, str] | None = None,
) -> list[EvalResult]:
    """The `model-index` results of one task's scores (those of `TASK_METRICS` that `scores` has).

    Args:
        task: `ISLR`, `CSLR` or `SLT`.
        scores: Scores as `unisign.evaluation.metrics.compute_metrics` returns them (percentages).
        dataset_type: Short dataset id, e.g. `csl-daily`.
        dataset_name: Dataset name shown on the Hub.
        split: The split the scores are on.
        source: `(name, url)` of where the numbers were published, if not measured here.
    """
    if task not in TASK_METRICS:
        raise InvalidInputError(f"Unknown task {task!r}. Available tasks: {list(TASK_METRICS)}.")
    task_type, task_name = TASK_TYPES[task]
    source_name, source_url = source or (None, None)
    return [
        EvalResult(
            task_type=task_type,
            task_name=task_name,
            dataset_type=dataset_type,
            dataset_name=dataset_name,
            dataset_split=split,
            metric_type=metric.metric_type,
            metric_name=metric.name,
            metric_value=round(float(scores[metric.key]), 2),
            source_name=source_name,
            source_url=source_url,
        )
        for metric in TASK_METRICS[task]
        if metric.key in scores
    ]


# ours: huggingface_hub writes `EvalResult`s into the YAML `model-index` only, it has no Markdown table of them
def evaluation_table(eval_results: list[EvalResult]) -> str:
    """A Markdown table of the results (the same numbers as the `model-index` metadata)."""
    if not eval_results:
        return "No scores."
    rows = [
        f"| {result.task_name} | {result.dataset_name} | {result.dataset_split} | {result.metric_name} | "
        f"{result.metric_value:.2f} | {result.source_name or 'measured'} |"
        for result in eval_results
    ]
    header = "| task | dataset | split | metric | value | source |\n|---|---|---|---|---:|---|"
    return "\n".join([header, *rows])


# -- exports of a run ---------------------------------------------------------------------------------------------


def scores_by_task(metrics: dict[str, float], tasks: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Split evaluation metrics by task: a multi-task run's are named `<task>/<metric>`, a single task's plainly."""
    if len(tasks) == 1:
        return {tasks[0]: dict(metrics)} if metrics else {}
    found = {}
    for task in tasks:
        prefix = f"{task.lower()}/"
        task_scores = {name[len(prefix) :]: value for name, value in metrics.items() if name.startswith(prefix)}
        if task_scores:
            found[task] = task_scores
    return found


def _synthetic_description(data: dict, generation: dict | None) -> str:
    """What the synthetic training data was, from the dataset's `generation.json` (`generation`) when known."""
    text = (
        "The `unisign` synthetic sign language (`unisign.synthetic`): procedurally generated COCO-WholeBody-133 "
        "keypoint clips, with confidences, of a small made-up sign language (signs built from handshape, "
        "location, movement and orientation, including minimal pairs; sentences from a small grammar with English "
        "translations whose word order differs from the glosses; varied signers and simulated detector noise). "
        "Validation and test signers never appear in training."
    )
    if generation:
        rows = [
            f"| {split} | {stats['clips']} | {stats['isolated']} | {stats['clips'] - stats['isolated']} | "
            f"{len(stats['signers'])} |"
            for split, stats in generation["statistics"].items()
        ]
        header = "| split | clips | isolated signs | sentences | signers |\n|---|---:|---:|---:|---:|\n"
        table = header + "\n".join(rows)
        parameters = json.dumps(portable_settings(generation["parameters"]))
        text += f"\n\n{table}\n\nGeneration parameters: `{parameters}`."
    else:
        text += f"\n\nGeneration settings: `{json.dumps(portable_settings(data.get('synthetic') or {}))}`."
    return text


def inherited_license(parent: str | None) -> str | None:
    """The licence of the model a run started from (`model.init_from`): its card's, or the released weights'.

    Args:
        parent: A model folder (read where the run is) or Hub id; `None` for a run that starts from no Uni-Sign model.

    Returns:
        The Hub licence id, or `None` when nothing records it.
    """
    if not parent:
        return None
    folder = Path(parent)
    if (folder / "README.md").is_file():
        try:
            license_id = ModelCard.load(folder / "README.md").data.license
        except Exception:  # a card without readable metadata records no licence
            license_id = None
        if license_id:
            return license_id
    converted = folder.is_dir() and _read_json_quietly(folder / CARD_SOURCE_FILE).get("kind") == "converted"
    if converted or released_checkpoint(parent) is not None or parent.startswith(REFERENCE_HUB_REPO):
        return REFERENCE_LICENSE
    return None


def _read_json_quietly(path: Path) -> dict:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return content if isinstance(content, dict) else {}


def describe_parent(reference: str | None) -> str:
    """A parent model as a card names it: its Hub id, or for a local folder, that it is not shared."""
    if is_hub_id(reference):
        return f"`{reference}`"
    return "a Uni-Sign model folder of the trainer's machine (not on the Hub)"


def is_benchmark_data(data: dict) -> bool:
    """Whether a run's data is the benchmark its reference layout names (`data.dataset`, e.g. WLASL).

    A shipped config keeps `dataset: WLASL` when pointed at other data: the data is taken as the benchmark only in
    the reference format with the label files in a folder named for it, as the reference keeps them
    (`data/WLASL/labels-2000.dev`), or with no label files given.
    """
    if data.get("format") != "reference" or not data.get("dataset"):
        return False
    labels = [data.get(key) for key in ("train_labels", "eval_labels") if data.get(key)]
    return all(data["dataset"].lower() in (part.lower() for part in Path(label).parts[:-1]) for label in labels)


def _own_data_name(data: dict) -> str:
    """The name of data that is no known benchmark: its Hub id, its folder's name or its label files' folder's."""
    if data.get("path"):
        return data["path"] if is_hub_id(data["path"]) else Path(data["path"]).name
    labels = data.get("eval_labels") or data.get("train_labels")
    return Path(labels).parent.name or Path(labels).name if labels else "unknown"


def _training_procedure(settings: dict, num_parameters: int | None) -> str:
    model, data, training = settings["model"], settings["data"], settings["training"]
    if model.get("init_from"):
        start = f"from the Uni-Sign model {describe_parent(model['init_from'])}"
    elif model.get("language_model"):
        start = f"from the language model `{model['language_model']}` and a new pose encoder"
    else:
        start = "from scratch: a randomly initialised pose encoder and mT5-style language model"
    if model.get("new_tokenizer_vocab_size"):
        start += (
            f", with a SentencePiece vocabulary (at most {model['new_tokenizer_vocab_size']} pieces) trained on the "
            "training targets and prompts"
        )
    size = f" ({num_parameters:,} parameters)" if num_parameters else ""
    tasks = data["task"] if isinstance(data["task"], list) else [data["task"]]
    steps = f"{training['max_steps']} steps" if training.get("max_steps") else f"{training['num_epochs']} epochs"
    lines = [
        f"Stage `{settings['stage']}`, trained {start}{size}.",
        f"Tasks: {', '.join(tasks)}" + (" (one model, one prompt per task)." if len(tasks) > 1 else "."),
        f"AdamW, learning rate {training['learning_rate']} with cosine decay ({training['warmup_steps']} warm-up "
        f"steps), batch size {training['batch_size']} x {training['gradient_accumulation_steps']} accumulation, "
        f"{steps}, gradient clipping {training['max_grad_norm']}, seed {training['seed']}.",
        "",
        "<details><summary>All settings</summary>",
        "",
        "```json",
        json.dumps(settings, indent=2, default=str),
        "```",
        "",
        "</details>",
    ]
    return "\n".join(lines)


def _how_to_load(adapter_base: str | None) -> str:
    """The sentence before a card's loading example; for an adapter whose base is a local path, how to get it."""
    if adapter_base is None or is_hub_id(adapter_base):
        return "Load it with one call each:"
    return (
        f"The adapter names its base model by a local path, `{adapter_base}`, relative to the adapter folder: keep "
        "the two together, and `unisign.apps.inference.load_adapter_model(folder)` (or `unisign translate CLIP "
        "--model folder`) loads them from any directory. To share the adapter, share the base too and put its Hub id "
        "in `adapter_config.json` (`base_model_name_or_path`) so that others can load it. Then:"
    )


def export_card(
    settings: dict,
    validation: dict[str, float],
    test: dict[str, dict[str, float]] | None = None,
    repo: str | None = None,
    num_parameters: int | None = None,
    generation: dict | None = None,
    adapter_base: str | None = None,
) -> ModelCard:
    """The card of a run's export.

    Args:
        settings: The run's settings (`config_to_dict(config)`).
        validation: The export's metrics on the evaluation split (`<task>/<metric>` for multi-task runs).
        test: Scores per task on the test split, when the run was tested.
        repo: The Hub id shown in the loading example; a placeholder when `None`.
        num_parameters: The model's size.
        generation: The synthetic dataset's `generation.json`, for the table of its splits.
        adapter_base: For a LoRA adapter export: its base model as `adapter_config.json` names it.
    """
    parent_license = inherited_license(settings["model"].get("init_from"))  # before local paths are shortened
    benchmark = is_benchmark_data(settings["data"])
    settings = portable_run_settings(settings)
    data = settings["data"]
    tasks = tuple(data["task"]) if isinstance(data["task"], list) else (data["task"],)
    synthetic = data["format"] == "synthetic"
    from_scratch = not settings["model"].get("init_from") and not settings["model"].get("language_model")
    if synthetic:
        dataset_type, dataset_name = "unisign-synthetic", "UniSign synthetic sign language"
    else:
        dataset_name = str(data["dataset"] if benchmark else _own_data_name(data))
        dataset_type = _slug(dataset_name)
    base = settings["model"].get("init_from") or settings["model"].get("language_model")
    eval_results = []
    for task, scores in (test or {}).items():
        eval_results += task_eval_results(task, scores, dataset_type, dataset_name, data["test_split"])
    for task, scores in scores_by_task(validation, tasks).items():
        eval_results += task_eval_results(task, scores, dataset_type, dataset_name, data["eval_split"])
    training = settings["training"]
    beams = training["eval_num_beams"]
    notes = [
        f"Scores from {'greedy decoding' if beams == 1 else f'beam search ({beams} beams)'}, at most "
        f"{training['eval_max_new_tokens']} new tokens."
    ]
    if synthetic and test:
        notes.append(
            f"The `{data['test_split']}` split is signed by signers never seen in training (nor in validation)."
        )
    if len(tasks) > 1:
        notes.append(
            "Each task is scored on the clips of its split that carry it: isolated signs for ISLR, sentences for CSLR "
            "and SLT. The best checkpoint was chosen on the validation split by the mean of ISLR top-1, "
            "100 - CSLR WER and SLT BLEU-4."
        )
    if synthetic:
        training_data = _synthetic_description(data, generation)
        intended_use = (
            "Testing and demonstrating the `unisign` pipeline end to end (data, training, evaluation, export, Hub), "
            "and research on methods with a controlled, fully known sign language. It is **not** a model of any real "
            "sign language."
        )
        limitations = (
            "- Trained only on a made-up synthetic sign language of a few dozen signs: it does not understand ASL, "
            "CSL or any natural sign language, and its scores on synthetic unseen signers say nothing about real "
            "signing.\n" + GENERAL_LIMITATIONS
        )
    else:
        training_data = f"`{dataset_name}`, split `{data['train_split']}` (format `{data['format']}`)."
        intended_use = (
            "Research on sign language recognition and translation for the sign language and domain of its training "
            "data."
        )
        limitations = GENERAL_LIMITATIONS
    if from_scratch:
        license_id = "apache-2.0"
        license_text = "Apache-2.0: trained from scratch by the `unisign` package (Apache-2.0)" + (
            " on its synthetic data (Apache-2.0)." if synthetic else "; the training data's licence also applies."
        )
    else:
        # a fine-tune inherits its parent's licence (the released Uni-Sign weights: CC BY-NC 4.0); `other` when the
        # parent's is not recorded
        license_id = parent_license or ("other" if settings["model"].get("init_from") else None)
        license_text = (
            f"This model derives from {describe_parent(base)} and is under its licence"
            f"{f' ({parent_license})' if parent_license else ''} and that of the training data (the released Uni-Sign "
            "weights are CC BY-NC 4.0, non-commercial; google/mt5-base is Apache-2.0)."
        )
    return render_card(
        CardContent(
            model_name=f"Uni-Sign ({', '.join(tasks)}) on {dataset_name}",
            summary=(
                f"A Uni-Sign model for {', '.join(TASK_TYPES[task][1].lower() for task in tasks)}, trained with "
                f"`train.py` of the `unisign` package on {dataset_name}."
            ),
            repo=repo,
            placeholder_name=f"uni-sign-{'-'.join(tasks)}-{dataset_name}",
            language=data["language"],
            tasks=tasks,
            how_to_get=_how_to_load(adapter_base),
            intended_use=intended_use,
            training_data=training_data,
            training_procedure=_training_procedure(settings, num_parameters),
            limitations=limitations,
            license_text=license_text,
            eval_results=eval_results,
            evaluation_notes=" ".join(notes),
            index_results=synthetic or benchmark or is_hub_id(data.get("path")),  # scores on a dataset others can find
            license=license_id,
            base_model=base if is_hub_id(base) else None,
            sign_language=DATASET_SIGN_LANGUAGES.get(data.get("dataset")) if benchmark else None,
            datasets=[data["path"]] if data["format"] == "parquet" and is_hub_id(data.get("path")) else None,
            adapter_base=adapter_base,
        )
    )


# -- the released reference checkpoints ---------------------------------------------------------------------------


def reference_card(checkpoint: ReferenceCheckpoint, repo: str | None = None) -> ModelCard:
    """The card of a converted reference checkpoint, with its published scores (none invented).

    Args:
        checkpoint: The released checkpoint.
        repo: The Hub id of the converted copy, shown in the loading example; a placeholder when `None`.
    """
    eval_results = []
    for task, dataset_type, dataset_name, split, scores in checkpoint.published:
        eval_results += task_eval_results(task, scores, dataset_type, dataset_name, split, (PAPER_SOURCE, PAPER_URL))
    folder = f"uni-sign-{checkpoint.name.replace('_', '-')}"
    frames = f" --max-frames {checkpoint.max_frames}" if checkpoint.max_frames else ""
    how_to_get = (
        f"The authors released `{checkpoint.name}.pth` in the Hub repository "
        f"[`{REFERENCE_HUB_REPO}`](https://huggingface.co/{REFERENCE_HUB_REPO}). Convert it once into a "
        "`save_pretrained` folder (the converter reads it with `torch.load(weights_only=True)`):\n\n"
        f"```bash\nunisign convert {checkpoint.name}.pth --text-config google/mt5-base --tokenizer google/mt5-base "
        f"--out {folder}{frames}\n```\n\n(the converter knows the released file names: the prompt language, "
        f"{LANGUAGE_NAMES[checkpoint.language]}, becomes the processor's default), then load it:"
    )
    notes = "Published numbers, quoted from the paper; they were not re-measured with this package."
    if not checkpoint.published:
        notes = ""
    notes = " ".join(part for part in (notes, checkpoint.no_score_reason) if part)
    modality = "pose keypoints and RGB hand crops" if checkpoint.use_rgb else "pose keypoints only"
    usage_notes = DEFAULT_USAGE_NOTES
    if checkpoint.max_frames:
        usage_notes += f" Clips are sub-sampled to {checkpoint.max_frames} frames, as in the reference's ISLR setting."
    return render_card(
        CardContent(
            model_name=checkpoint.title,
            summary=f"The authors' released Uni-Sign checkpoint `{checkpoint.name}`: {checkpoint.description}. "
            f"Input: {modality}; language model: mT5-base.",
            repo=repo,
            placeholder_name=folder,
            language=checkpoint.language,
            tasks=checkpoint.tasks,
            how_to_get=how_to_get,
            usage_notes=usage_notes,
            intended_use="Research on sign language recognition and translation, and fine-tuning for related "
            "sign-language tasks, under the non-commercial licence below.",
            training_data=checkpoint.training_data + " See the paper for the full recipe.",
            training_procedure="The authors' recipe (paper and reference code): AdamW, learning rate "
            "3e-4 with cosine decay, gradient clipping 1.0, label smoothing 0.2, bf16, on 4 GPUs. Stage 1 "
            "pre-trains on CSL-News from poses, stage 2 adds the RGB hand branch, stage 3 fine-tunes on the "
            "downstream dataset. The weights here are the authors', converted without change (the converter checks "
            "that duplicated tensors are equal before dropping them).",
            limitations=GENERAL_LIMITATIONS,
            license_text="CC BY-NC 4.0, the licence of the authors' released weights: attribution, no commercial "
            "use. The `unisign` code that loads them is Apache-2.0.",
            eval_results=eval_results,
            evaluation_notes=notes,
            license=REFERENCE_LICENSE,
            base_model="google/mt5-base",
            sign_language=SIGN_LANGUAGES[checkpoint.language],
        )
    )


def write_reference_cards(folder: str | Path) -> list[Path]:
    """Write `<folder>/<checkpoint name>/README.md` (and `.eval_results/`) for every released checkpoint; the paths."""
    paths = []
    for checkpoint in REFERENCE_CHECKPOINTS:
        path = Path(folder) / checkpoint.name / "README.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        card = reference_card(checkpoint)
        card.save(path)
        paths += [path, *write_eval_results(path.parent, card)]
    return paths


# -- any model folder ---------------------------------------------------------------------------------------------

# a score key of `unisign.evaluation.metrics` -> the task it belongs to, to tell the task of a folder's recorded scores
METRIC_TASKS = {metric.key: task for task, metrics in TASK_METRICS.items() for metric in metrics}
UNRECORDED_LICENCE = (
    "Not recorded in the folder. A Uni-Sign model is under the licence of what it was trained from and on: the "
    "released Uni-Sign weights are CC BY-NC 4.0 (non-commercial), google/mt5-base is Apache-2.0; the training data's "
    "licence also applies."
)


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def recorded_scores(folder: Path) -> dict[str, dict[str, float]]:
    """The scores a `Trainer` (or `train.py`) left in a folder, by split: `{"evaluation": {...}, "test": {...}}`.

    `eval_results.json` / `test_results.json` / `all_results.json` keys may carry the Trainer's `eval_` / `test_`
    prefix; only the scores of `TASK_METRICS` are kept.
    """
    found: dict[str, dict[str, float]] = {}
    for name in ("all_results.json", "eval_results.json", "test_results.json"):
        for key, value in _read_json(folder / name).items():
            split = "test" if key.startswith("test_") or name == "test_results.json" else "evaluation"
            metric = key.removeprefix("eval_").removeprefix("test_").rpartition("/")[2]
            if metric in METRIC_TASKS and isinstance(value, int | float):
                found.setdefault(split, {})[metric] = float(value)
    return found


def _trained_folder_card(folder: Path, repo: str | None, adapter_base: str | None, source: dict) -> ModelCard:
    """The card of a folder that records no run settings: a `Seq2SeqTrainer` folder, a plain adapter, a conversion."""
    language = _read_json(folder / "processor_config.json").get("language") or source.get("language")
    converted_from = source.get("checkpoint")
    scores = recorded_scores(folder)
    tasks = tuple(dict.fromkeys(METRIC_TASKS[key] for split in scores.values() for key in split)) or ("SLT",)
    eval_results = []
    for split, split_scores in scores.items():
        for task in tasks:
            eval_results += task_eval_results(task, split_scores, "not-recorded", "not recorded", split)
    state = _read_json(folder / "trainer_state.json")
    if converted_from:
        made = f"converted with `unisign convert` from the reference checkpoint `{converted_from}`"
    elif adapter_base:
        made = "a LoRA adapter (PEFT) of a Uni-Sign model"
    elif state or (folder / "training_args.bin").is_file():
        made = "trained with `transformers`' `Seq2SeqTrainer` on the Uni-Sign model of the `unisign` package"
    else:
        made = "a Uni-Sign model saved with `save_pretrained`"
    procedure = "Not recorded in the folder."
    if state.get("global_step"):
        procedure = f"`Trainer` state: {state['global_step']} steps, {state.get('epoch', 0):g} epochs."
    how_to_get = _how_to_load(adapter_base)
    notes = ""
    if eval_results:
        notes = "Scores as recorded in the folder's results files; the folder does not say which dataset they are on."
    return render_card(
        CardContent(
            model_name=f"Uni-Sign ({folder.name})",
            summary=f"A Uni-Sign sign language model: {made}.",
            repo=repo,
            placeholder_name=f"uni-sign-{folder.name}",
            language=language,
            tasks=tasks,
            how_to_get=how_to_get,
            intended_use="Research on sign language recognition and translation for the sign language and domain "
            "of its training data.",
            training_data="Not recorded in the folder: describe the training data (and its sign language) here "
            "before sharing.",
            training_procedure=procedure,
            limitations=GENERAL_LIMITATIONS,
            license_text=UNRECORDED_LICENCE,
            eval_results=eval_results,
            evaluation_notes=notes,
            index_results=False,
            base_model=adapter_base if is_hub_id(adapter_base) else None,
            adapter_base=adapter_base,
            processor_in_repo=(folder / "processor_config.json").is_file(),
        )
    )


TRIMMED_TAG = "trimmed-vocabulary"
TRIMMED_NOTE = (
    "**Trimmed vocabulary**: this model keeps {kept:,} tokens of its tokenizer's vocabulary, those of its training "
    "texts, prompts and special tokens (`kept_token_ids` in `config.json` and `processor_config.json`; made with "
    "`unisign trim-vocab` or `unisign export-onnx --trim-vocab`). Its processor maps token ids to and from the "
    "tokenizer's, so it writes the untrimmed model's translation wherever that uses kept tokens only; it cannot "
    "write any other token, and reads a prompt or label token it dropped as `<unk>`."
)


def trimmed_card(card: ModelCard, num_kept: int) -> ModelCard:
    """`card` marked as that of a trimmed model: the `trimmed-vocabulary` tag and `TRIMMED_NOTE` under its title."""
    card.data.tags = [*(card.data.tags or []), *([] if TRIMMED_TAG in (card.data.tags or []) else [TRIMMED_TAG])]
    if "**Trimmed vocabulary**" not in card.text:
        note = TRIMMED_NOTE.format(kept=num_kept)
        heading, _, rest = card.text.lstrip("\n").partition("\n")
        card.text = f"{heading}\n\n{note}\n{rest}" if heading.startswith("# ") else f"{note}\n\n{card.text}"
    return card


def write_trimmed_card(folder: str | Path, source_card: str | Path) -> Path:
    """Write the card of a trimmed copy `folder`, and return its path.

    The card is the untrimmed folder's (`source_card`; else the one `folder_card` makes), marked (`trimmed_card`).
    """
    folder, source_card = Path(folder), Path(source_card)
    card = ModelCard.load(source_card) if source_card.is_file() else folder_card(folder)
    kept = _read_json(folder / "config.json")["kept_token_ids"]
    path = folder / "README.md"
    trimmed_card(card, len(kept)).save(path)
    return path


def card_adapter_base(folder: Path) -> str | None:
    """The base model a folder's card names for its adapter; `None` for a model folder, which loads on its own.

    A LoRA export that carries its base (`config.json` and weights beside `adapter_config.json`, as `train.py` writes
    it) is a model folder for its card: transformers' `from_pretrained(folder)` loads the base and the adapter.
    """
    adapter_config = _read_json(folder / "adapter_config.json")
    if not adapter_config or (folder / "config.json").is_file():
        return None
    base = adapter_config.get("base_model_name_or_path")
    return portable_name(base) if isinstance(base, str) and os.path.isabs(base) else base


def folder_card(folder: str | Path, repo: str | None = None) -> ModelCard:
    """The card of a model folder, marked when its vocabulary is trimmed (`trimmed_card`); see `_folder_card`."""
    card = _folder_card(Path(folder), repo)
    kept = _read_json(Path(folder) / "config.json").get("kept_token_ids")
    return card if kept is None else trimmed_card(card, len(kept))


def _folder_card(folder: Path, repo: str | None = None) -> ModelCard:
    """The card of a model folder: from `unisign convert`, `train.py`, `Seq2SeqTrainer`, or a PEFT adapter.

    What the folder records decides the card: `card_source.json` (written by `unisign convert` and `train.py`: the
    released checkpoint, or the run's settings), `adapter_config.json` (a PEFT adapter and its base),
    `processor_config.json` (the prompt language) and the results files of a `Trainer`.

    Args:
        folder: The model folder.
        repo: The Hub id the folder is (or will be) shared as, shown in the card's code; a placeholder when `None`.

    Raises:
        ValueError: if the folder holds no model (`config.json` or `adapter_config.json`).
    """
    folder = Path(folder)
    if not (folder / "adapter_config.json").is_file() and not (folder / "config.json").is_file():
        raise InvalidInputError(f"`{folder}` holds no model: no `config.json` or `adapter_config.json`.")
    adapter_base = card_adapter_base(folder)
    source = _read_json(folder / CARD_SOURCE_FILE)
    if source.get("kind") == "train.py":
        test = _read_json(folder / "test_results.json") or None
        return export_card(
            source["settings"],
            _read_json(folder / "eval_results.json"),
            test,
            repo=repo,
            num_parameters=source.get("num_parameters"),
            generation=source.get("generation"),
            adapter_base=adapter_base,
        )
    if source.get("kind") == "converted":
        released = next((c for c in REFERENCE_CHECKPOINTS if c.name == source["checkpoint"]), None)
        if released is not None and source.get("language", released.language) == released.language:
            return reference_card(released, repo)
    return _trained_folder_card(folder, repo, adapter_base, source)


def write_card(folder: str | Path, repo: str | None = None) -> Path:
    """Write `folder/README.md` (see `folder_card`) and its scores as `.eval_results/*.yaml`; returns the card."""
    path = Path(folder) / "README.md"
    card = folder_card(folder, repo)
    card.save(path)
    write_eval_results(folder, card)
    return path


def check_repo_id(repo_id: str, option: str = "`--repo`") -> None:
    """Raise `UsageError` for a repository id the Hub would refuse (`huggingface_hub.utils.validate_repo_id`)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if not isinstance(repo_id, str) or repo_id.count("/") != 1:
        raise UsageError(f"{option} must look like `user/name`, got {repo_id!r}.")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise UsageError(f"{option} {repo_id!r} is not a valid Hub id: {str(error).splitlines()[0]}") from None


def make_shareable(folder: str | Path, repo: str | None = None, code_repo: str | None = None) -> list[str]:
    """Write what a model folder needs on the Hub: its card (`folder_card`) and the remote-code files.

    The folder is checked first (`check_model_folder`: weights complete and finite, tokenizer consistent).

    Args:
        folder: A model folder (converted, `train.py`, `Seq2SeqTrainer` or PEFT adapter).
        repo: The Hub id it is shared as (`user/name`); the card shows a placeholder when `None`.
        code_repo: A Hub repository holding the modelling code that the folder's `auto_map` points to instead of
            copies of it (`add_remote_code`).

    Returns:
        `list[str]`: The files written, `README.md` first.
    """
    from ..models.unisign.remote_code import add_remote_code

    card, is_model = _checked_card(folder, repo, code_repo)  # built before any write: a refused folder stays as is
    write_text_atomic(Path(folder) / "README.md", str(card))  # whole or not at all: a full disk leaves the old card
    write_eval_results(folder, card)
    return ["README.md", *(add_remote_code(folder, code_repo) if is_model else [])]


def _checked_card(folder: str | Path, repo: str | None, code_repo: str | None = None) -> tuple[ModelCard, bool]:
    """`make_shareable`'s checks, and the card it writes; whether the folder gets the modelling code too."""
    from ..utils.validation import check_model_folder

    for name, option in ((repo, "The Hub id"), (code_repo, "`--code-repo`")):
        if name is not None:
            check_repo_id(name, option)
    # a damaged folder (model or adapter) gets its one-line error before any write; every byte: it is to be shared
    check_model_folder(folder, verify=True)
    if (Path(folder) / "onnx_config.json").is_file():  # an ONNX export runs without the modelling code
        from ..onnx.checks import check_onnx_folder

        check_onnx_folder(folder)
        check_writable_folder(folder, is_model=False)
        return onnx_export_card(folder, repo), False
    is_model = (Path(folder) / "config.json").is_file()  # else a PEFT adapter: its code travels with its base
    check_writable_folder(folder, is_model)
    return folder_card(folder, repo), is_model


ONNX_NOTE = (
    "**This repository is the ONNX Runtime export** (`unisign export-onnx`: an encoder graph and a decoder step) of "
    "the model described below. It runs on the CPU without PyTorch modelling code: `unisign translate CLIP --model "
    "{repo}`, or `unisign.onnx.UniSignOnnxModel.from_pretrained(folder)` with the folder's `UniSignProcessor`."
)


def onnx_export_card(folder: str | Path, repo: str | None = None) -> ModelCard:
    """The card of an ONNX export: the card of the model it was exported from, marked as its ONNX Runtime export.

    `export_onnx` copies the source folder's card: its licence, base model, languages, tags and scores stay; the
    placeholder Hub id becomes `repo`, and the `onnx` tag and a note on how to run it are added.
    """
    folder = Path(folder)
    path = folder / "README.md"
    card = ModelCard.load(path) if path.is_file() else folder_card(folder, repo)
    if repo is not None:
        card.text = re.sub(r" ?Replace `your-username/[^`]*` with the Hub id of your copy[^.]*\)\.", "", card.text)
        card.text = re.sub(r"your-username/[\w.-]+", repo, card.text)
    card.data.tags = [*(card.data.tags or []), *([] if "onnx" in (card.data.tags or []) else ["onnx"])]
    if "ONNX Runtime export" not in card.text:
        note = ONNX_NOTE.format(repo=repo or "FOLDER")
        heading, _, rest = card.text.lstrip("\n").partition("\n")
        card.text = f"{heading}\n\n{note}\n{rest}" if heading.startswith("# ") else f"{note}\n\n{card.text}"
    return card


def shareable_files(folder: str | Path, repo: str | None = None) -> dict[str, int]:
    """What `make_shareable` would write, with the sizes: `{name: bytes}`; checks as it does, and writes nothing."""
    from ..models.unisign.remote_code import SHIPPED_MODULES, UNIT_FOLDER

    card, is_model = _checked_card(folder, repo)
    files = {"README.md": len(str(card).encode("utf-8"))}
    if is_model:
        files |= {name: (UNIT_FOLDER / name).stat().st_size for name in SHIPPED_MODULES}
    return files


def check_writable_folder(folder: str | Path, is_model: bool = True) -> None:
    """Refuse, before anything is written, a folder `make_shareable` cannot complete or would write outside of.

    Raises:
        InvalidInputError: a file it writes is a symbolic link (the write would land outside the folder), or the
            config it extends is not a Uni-Sign one or not a JSON object.
    """
    from ..models.unisign.remote_code import SHIPPED_MODULES
    from ..utils.validation import read_json_object

    folder = Path(folder)
    targets = ["README.md", *((*SHIPPED_MODULES, "config.json", "processor_config.json") if is_model else ())]
    links = [name for name in targets if (folder / name).is_symlink()]
    if links:
        raise InvalidInputError(
            f"`{folder}` holds symbolic links where the card and the remote code are written ({', '.join(links)}): "
            "writing would change the files they point to. Replace them with copies first."
        )
    if not is_model:
        return
    for name in ("config.json", "processor_config.json"):
        if not (folder / name).is_file():
            continue
        content = read_json_object(folder / name)
        if name == "config.json" and content.get("model_type") != "unisign":
            raise InvalidInputError(
                f"`{folder}` holds a {content.get('model_type')!r} model, not a Uni-Sign one: it gets no Uni-Sign "
                "card or code."
            )


# what marks a card as still to be written: ours without a Hub id, or the templates PEFT and the Trainer save
PLACEHOLDER_MARKS = ("your-username/", "[More Information Needed]", "More information needed")


def needs_card(folder: str | Path) -> bool:
    """Whether a folder lacks a real card: none, or one still showing a placeholder (ours, PEFT's, the Trainer's)."""
    card = Path(folder) / "README.md"
    return not card.is_file() or any(mark in card.read_text() for mark in PLACEHOLDER_MARKS)


def write_card_source(folder: str | Path, source: dict) -> None:
    """Record in `folder/card_source.json` what the folder's card is made from (no local paths)."""
    write_text_atomic(Path(folder) / CARD_SOURCE_FILE, json.dumps(portable_settings(source), indent=2, default=str))


__all__ = [
    "CARD_SOURCE_FILE",
    "CardContent",
    "check_repo_id",
    "card_adapter_base",
    "export_card",
    "folder_card",
    "onnx_export_card",
    "needs_card",
    "make_shareable",
    "recorded_scores",
    "reference_card",
    "render_card",
    "shareable_files",
    "scores_by_task",
    "task_eval_results",
    "trimmed_card",
    "write_card",
    "write_card_source",
    "write_reference_cards",
    "write_trimmed_card",
]
