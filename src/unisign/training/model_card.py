"""Model cards from one template (`model_card_template.md`): every export of a run, and the released checkpoints.

A card is a `huggingface_hub.ModelCard`: YAML metadata (licence, languages, base model, tags and the scores as
`model-index` evaluation results, which the Hub shows and `huggingface_hub.metadata_load` reads back) followed by
the text: what the model is, how to load and use it, evaluation, intended use, training data, training procedure,
limitations, licence and the Uni-Sign citation.

    from unisign.training.model_card import write_reference_cards
    write_reference_cards("model_cards")   # (re)write the cards of the eight released checkpoints
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData


TEMPLATE_PATH = Path(__file__).with_name("model_card_template.md")
PAPER_URL = "https://arxiv.org/abs/2501.15187"
PAPER_SOURCE = "Uni-Sign paper (Li et al., ICLR 2025)"
REFERENCE_LICENSE = "cc-by-nc-4.0"
REFERENCE_HUB_REPO = "ZechengLi19/Uni-Sign"
TAGS = ["sign-language", "uni-sign", "unisign", "pose", "keypoints", "mt5"]
# sign language (ISO 639-3) of the clips and written language of the text, per prompt language
LANGUAGES = {"en": ["en", "ase"], "zh": ["zh", "csl"]}


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
    """What a card says; `render_card` puts it into the template."""

    model_name: str
    summary: str
    repo: str
    language: str
    tasks: tuple[str, ...]
    how_to_get: str
    intended_use: str
    training_data: str
    training_procedure: str
    limitations: str
    license_text: str
    eval_results: list[EvalResult] = field(default_factory=list)
    evaluation_notes: str = ""
    license: str | None = None
    base_model: str | None = None
    usage_notes: str = DEFAULT_USAGE_NOTES


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
        scores: Scores as `unisign.metrics.compute_metrics` returns them (percentages).
        dataset_type: Short dataset id, e.g. `csl-daily`.
        dataset_name: Dataset name shown on the Hub.
        split: The split the scores are on.
        source: `(name, url)` of where the numbers were published, if not measured here.
    """
    if task not in TASK_METRICS:
        raise ValueError(f"Unknown task {task!r}. Available tasks: {list(TASK_METRICS)}.")
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


def render_card(content: CardContent) -> ModelCard:
    """Fill the template with `content`; the `model-index` metadata needs at least one result and a name."""
    card_data = ModelCardData(
        model_name=content.model_name,
        eval_results=content.eval_results or None,
        language=LANGUAGES.get(content.language, [content.language]),
        license=content.license,
        base_model=content.base_model,
        library_name="transformers",
        tags=TAGS + [task.lower() for task in content.tasks],
    )
    evaluation = evaluation_table(content.eval_results)
    if content.evaluation_notes:
        evaluation += "\n\n" + content.evaluation_notes
    return ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATE_PATH),
        model_name=content.model_name,
        summary=content.summary,
        repo=content.repo,
        language=content.language,
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


def _synthetic_description(data: dict) -> str:
    """What the synthetic training data was, from the dataset folder's `generation.json` when it is there."""
    text = (
        "The `unisign` synthetic sign language (`unisign.synthetic`): procedurally generated COCO-WholeBody-133 "
        "keypoint clips, with confidences, of a small made-up sign language (signs built from handshape, "
        "location, movement and orientation, including minimal pairs; sentences from a small grammar with English "
        "translations whose word order differs from the glosses; varied signers and simulated detector noise). "
        "Validation and test signers never appear in training."
    )
    marker = Path(data.get("path") or "", "generation.json")
    if marker.is_file():
        generation = json.loads(marker.read_text())
        rows = [
            f"| {split} | {stats['clips']} | {stats['isolated']} | {stats['clips'] - stats['isolated']} | "
            f"{len(stats['signers'])} |"
            for split, stats in generation["statistics"].items()
        ]
        header = "| split | clips | isolated signs | sentences | signers |\n|---|---:|---:|---:|---:|\n"
        table = header + "\n".join(rows)
        parameters = json.dumps(generation["parameters"])
        text += f"\n\n{table}\n\nGeneration parameters: `{parameters}`."
    else:
        text += f"\n\nGeneration settings: `{json.dumps(data.get('synthetic') or {})}`."
    return text


def _training_procedure(settings: dict, num_parameters: int | None) -> str:
    model, data, training = settings["model"], settings["data"], settings["training"]
    if model.get("init_from"):
        start = f"from the Uni-Sign model `{model['init_from']}`"
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


def export_card(
    settings: dict,
    validation: dict[str, float],
    test: dict[str, dict[str, float]] | None = None,
    repo: str = "path/to/this/folder",
    num_parameters: int | None = None,
) -> ModelCard:
    """The card of a run's export.

    Args:
        settings: The run's settings (`config_to_dict(config)`).
        validation: The export's metrics on the evaluation split (`<task>/<metric>` for multi-task runs).
        test: Scores per task on the test split, when the run was tested.
        repo: The folder or Hub id shown in the loading example.
        num_parameters: The model's size.
    """
    data = settings["data"]
    tasks = tuple(data["task"]) if isinstance(data["task"], list) else (data["task"],)
    synthetic = data["format"] == "synthetic"
    from_scratch = not settings["model"].get("init_from") and not settings["model"].get("language_model")
    if synthetic:
        dataset_type, dataset_name = "unisign-synthetic", "UniSign synthetic sign language"
    else:
        dataset_type = str(data.get("dataset") or data.get("path") or "unknown")
        dataset_name = dataset_type
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
        training_data = _synthetic_description(data)
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
        source = settings["model"].get("init_from") or settings["model"].get("language_model")
        license_id = None
        license_text = (
            f"This model derives from `{source}` and is under its licence and that of the training data (the "
            "released Uni-Sign weights are CC BY-NC 4.0, non-commercial; google/mt5-base is Apache-2.0)."
        )
    return render_card(
        CardContent(
            model_name=f"Uni-Sign ({', '.join(tasks)}) on {dataset_name}",
            summary=(
                f"A Uni-Sign model for {', '.join(TASK_TYPES[task][1].lower() for task in tasks)}, trained with "
                f"`train.py` of the `unisign` package on {dataset_name}."
            ),
            repo=repo,
            language=data["language"],
            tasks=tasks,
            how_to_get="Load the folder (or its Hub copy) with one call each:",
            intended_use=intended_use,
            training_data=training_data,
            training_procedure=_training_procedure(settings, num_parameters),
            limitations=limitations,
            license_text=license_text,
            eval_results=eval_results,
            evaluation_notes=" ".join(notes),
            license=license_id,
            base_model=None if from_scratch else settings["model"].get("language_model"),
        )
    )


# -- the released reference checkpoints ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceCheckpoint:
    """A released checkpoint of the authors (`ZechengLi19/Uni-Sign`) and what is published about it."""

    name: str
    title: str
    description: str
    language: str
    tasks: tuple[str, ...]
    use_rgb: bool
    training_data: str
    # (task, dataset_type, dataset_name, split, scores) published for this very checkpoint's setting
    published: tuple[tuple[str, str, str, str, dict], ...] = ()
    no_score_reason: str = ""
    max_frames: int | None = None


CSL_NEWS = (
    "CSL-News (Chinese Sign Language news broadcasts with Chinese subtitles; the reference trains on the first 99% "
    "of its label list and uses the last 1% as dev)."
)
REFERENCE_CHECKPOINTS = (
    ReferenceCheckpoint(
        name="csl_stage1_weight",
        title="Uni-Sign stage 1 (pose-only pre-training on CSL-News)",
        description="the stage-1 pre-trained model: mT5-base and a new pose encoder trained on CSL-News to "
        "translate into Chinese, pose keypoints only. It is the starting point of the pose-only fine-tunings and "
        "of stage 2",
        language="zh",
        tasks=("SLT",),
        use_rgb=False,
        training_data=CSL_NEWS,
        no_score_reason="The paper publishes no score for the pre-trained model itself, only for the models "
        "fine-tuned from it.",
    ),
    ReferenceCheckpoint(
        name="csl_stage2_weight",
        title="Uni-Sign stage 2 (RGB-pose pre-training on CSL-News)",
        description="the stage-2 pre-trained model: stage 1 plus the RGB hand branch (EfficientNet-B0 crops fused "
        "by prior-guided fusion), trained on CSL-News. It is the starting point of the RGB-pose fine-tunings",
        language="zh",
        tasks=("SLT",),
        use_rgb=True,
        training_data=CSL_NEWS,
        no_score_reason="The paper publishes no score for the pre-trained model itself, only for the models "
        "fine-tuned from it.",
    ),
    ReferenceCheckpoint(
        name="csl_daily_pose_only_slt",
        title="Uni-Sign CSL-Daily translation (pose only)",
        description="fine-tuned from stage 1 for Chinese Sign Language translation on CSL-Daily, pose keypoints only",
        language="zh",
        tasks=("SLT",),
        use_rgb=False,
        training_data="CSL-Daily (daily-life Chinese Sign Language sentences with Chinese translations), after "
        "stage-1 pre-training on CSL-News.",
        published=(("SLT", "csl-daily", "CSL-Daily", "test", {"bleu4": 25.61, "rouge_l": 54.92}),),
    ),
    ReferenceCheckpoint(
        name="csl_daily_rgb_pose_slt",
        title="Uni-Sign CSL-Daily translation (RGB + pose)",
        description="fine-tuned from stage 2 for Chinese Sign Language translation on CSL-Daily, from pose keypoints "
        "and RGB hand crops",
        language="zh",
        tasks=("SLT",),
        use_rgb=True,
        training_data="CSL-Daily (daily-life Chinese Sign Language sentences with Chinese translations), after "
        "stage-1 and stage-2 pre-training on CSL-News.",
        published=(("SLT", "csl-daily", "CSL-Daily", "test", {"bleu4": 26.36, "rouge_l": 56.51}),),
    ),
    ReferenceCheckpoint(
        name="wlasl_pose_only_islr",
        title="Uni-Sign WLASL isolated sign recognition (pose only)",
        description="fine-tuned for American Sign Language isolated sign recognition on WLASL (the target is the "
        "sign's English word), pose keypoints only, 64 frames per clip",
        language="en",
        tasks=("ISLR",),
        use_rgb=False,
        training_data="WLASL (isolated American Sign Language signs; WLASL-2000 has 14,289 / 3,916 / 2,878 "
        "train / dev / test clips), after stage-1 pre-training on CSL-News.",
        no_score_reason="The published ISLR results this package quotes (WLASL-2000: 63.52 / 61.32 top-1 per "
        "instance / per class; WLASL-100: 92.25) are those of the RGB-pose model; no pose-only ISLR score is quoted, "
        "so this checkpoint has no published number here.",
        max_frames=64,
    ),
    ReferenceCheckpoint(
        name="wlasl_rgb_pose_islr",
        title="Uni-Sign WLASL isolated sign recognition (RGB + pose)",
        description="fine-tuned for American Sign Language isolated sign recognition on WLASL (the target is the "
        "sign's English word), from pose keypoints and RGB hand crops, 64 frames per clip",
        language="en",
        tasks=("ISLR",),
        use_rgb=True,
        training_data="WLASL (isolated American Sign Language signs; WLASL-2000 has 14,289 / 3,916 / 2,878 "
        "train / dev / test clips), after stage-1 and stage-2 pre-training on CSL-News.",
        published=(
            ("ISLR", "wlasl-2000", "WLASL-2000", "test", {"top1_per_instance": 63.52, "top1_per_class": 61.32}),
        ),
        no_score_reason="The paper also reports 92.25 top-1 per instance on WLASL-100; the released file is not "
        "documented as the WLASL-100 model, so that number is not listed as this checkpoint's.",
        max_frames=64,
    ),
    ReferenceCheckpoint(
        name="how2sign_pose_only_slt",
        title="Uni-Sign How2Sign translation (pose only)",
        description="fine-tuned for American Sign Language to English translation on How2Sign (instructional "
        "videos), pose keypoints only",
        language="en",
        tasks=("SLT",),
        use_rgb=False,
        training_data="How2Sign (31,086 training and 2,349 test sentences of instructional American Sign Language "
        "with English translations, no dev split), after stage-1 pre-training on CSL-News.",
        published=(("SLT", "how2sign", "How2Sign", "test", {"bleu4": 14.5, "rouge_l": 34.3}),),
    ),
    ReferenceCheckpoint(
        name="openasl_pose_only_slt",
        title="Uni-Sign OpenASL translation (pose only)",
        description="fine-tuned for American Sign Language to English translation on OpenASL (news and vlogs), "
        "pose keypoints only",
        language="en",
        tasks=("SLT",),
        use_rgb=False,
        training_data="OpenASL (American Sign Language news and vlog clips with English translations; 967 dev and "
        "976 test clips), after stage-1 pre-training on CSL-News.",
        no_score_reason="The published results this package quotes (CSL-Daily, How2Sign, WLASL, MSASL) include no "
        "OpenASL score, although the paper evaluates on OpenASL; none is listed here, check the paper before quoting "
        "one.",
    ),
)


def reference_card(checkpoint: ReferenceCheckpoint) -> ModelCard:
    """The card of a converted reference checkpoint, with its published scores (none invented)."""
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
        f"--out {folder}{frames}\n```\n\nthen load it:"
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
            repo=folder,
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
        )
    )


def write_reference_cards(folder: str | Path) -> list[Path]:
    """Write `<folder>/<checkpoint name>/README.md` for every released checkpoint; returns the paths."""
    paths = []
    for checkpoint in REFERENCE_CHECKPOINTS:
        path = Path(folder) / checkpoint.name / "README.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        reference_card(checkpoint).save(path)
        paths.append(path)
    return paths
