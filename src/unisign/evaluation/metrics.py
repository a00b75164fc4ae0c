"""Scores for Uni-Sign outputs, computed exactly as the reference evaluation computes them.

Uni-Sign (Li et al., ICLR 2025, https://arxiv.org/abs/2501.15187) casts three tasks as text generation, and each has
its own scores (see `compute_metrics`):

- Sign language translation (`"slt"`, `score_translation`): cumulative BLEU-1..4 from sacrebleu's corpus BLEU (13a
  tokenizer, case-sensitive, sacrebleu's default exponential smoothing) and ROUGE-L, the F-score of the `rouge` 1.0.1
  package averaged over sentence pairs. With `lang="zh"` both are computed per character (see below).
- Continuous sign language recognition (`"cslr"`, `word_error_rate`): word error rate over the corpus.
- Isolated sign language recognition (`"islr"`, `islr_accuracy`): top-1 accuracy per instance and per class.

All scores are percentages (0-100) and deterministic: no sampling, no dependence on the order of the pairs beyond
floating-point summation order.

Chinese (`lang="zh"`), as the reference does it for CSL-Daily: every whitespace character is removed from predictions
and references, the full-width `，` and `？` become `,` and `?` *in the references only* (so a prediction keeping the
full-width form does not match; this asymmetry is the reference's and is kept so that scores stay comparable), and
the characters are joined with single spaces, so that BLEU's 13a tokenizer and ROUGE see one word per character.

Edge cases, for every task:

- `predictions` and `references` must be sequences (or other iterables) of strings of the same, non-zero length;
  anything else raises `ValueError`. A bare string is rejected rather than read as a sequence of characters.
- An empty (or whitespace-only) reference raises `ValueError` naming its position: there is nothing to score against,
  and it almost always means the references were read wrongly.
- An empty prediction is a valid (bad) output: it contributes no n-grams to BLEU, zero words to the WER alignment
  (every reference word is deleted), and never matches in ISLR. The `rouge` package raises on a hypothesis in which
  it finds no sentence (empty, or only full stops `.`); such a pair scores 0 ROUGE-L and still counts in the average,
  which is what the reference would report if it did not crash. The same holds for a reference made only of full
  stops.

Prediction and reference files are read by `unisign.evaluation.cli` (`read_prediction_and_reference_files`).

The same functions are wrapped as an `evaluate` metric module, the Space in `spaces/unisign_metric` of this
repository: `evaluate.load("spaces/unisign_metric")`.
"""

import importlib
import math
from collections.abc import Iterable, Sequence
from types import ModuleType

from ..utils.errors import InvalidInputError


TASKS = ("slt", "cslr", "islr")
LANGUAGES = ("en", "zh")
ISLR_NORMALIZATIONS = ("none", "lower")

# Alignment costs of the reference's CSLR word error rate: a substitution (4) is cheaper than a deletion plus an
# insertion (6), but two substitutions (8) are dearer than one deletion plus one insertion.
WER_DELETION_COST = 3
WER_INSERTION_COST = 3
WER_SUBSTITUTION_COST = 4

_MAX_NAMES_IN_ERRORS = 5
_FULL_WIDTH_TO_ASCII = str.maketrans({"，": ",", "？": "?"})


def _import_eval_dependency(module_name: str) -> ModuleType:
    """Import a module of the `eval` extra, or explain how to install it."""
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        raise ImportError(
            f"Translation scores need `{module_name}`, which is not installed. Install the evaluation extra: "
            "`pip install 'unisign[eval]'` (sacrebleu>=2.4, rouge==1.0.1)."
        ) from error


def _preview(items: Sequence[object]) -> str:
    """Format the first few items of a list for an error message."""
    shown = ", ".join(str(item) for item in items[:_MAX_NAMES_IN_ERRORS])
    return shown + (", ..." if len(items) > _MAX_NAMES_IN_ERRORS else "")


def _validate_pairs(predictions: Sequence[str], references: Sequence[str]) -> tuple[list[str], list[str]]:
    """Check that predictions and references are equally long, non-empty sequences of strings with no blank reference.

    Any iterable of strings (a list, a tuple, a `datasets` column, a NumPy array of strings) is accepted; a bare string
    is not, as it would be read as a sequence of characters.

    Returns:
        `tuple[list[str], list[str]]`: the predictions and references as lists.

    Raises:
        ValueError: on any other input.
    """
    as_lists = {}
    for argument_name, texts in (("predictions", predictions), ("references", references)):
        if isinstance(texts, str | bytes) or not isinstance(texts, Iterable):
            raise InvalidInputError(f"`{argument_name}` must be a list of strings, but got {type(texts).__name__}.")
        items = list(texts)
        not_strings = [index for index, item in enumerate(items) if not isinstance(item, str)]
        if not_strings:
            raise InvalidInputError(
                f"`{argument_name}` must be a list of strings, but the items at positions {_preview(not_strings)} "
                f"are not (the first is a {type(items[not_strings[0]]).__name__})."
            )
        as_lists[argument_name] = items
    predictions, references = as_lists["predictions"], as_lists["references"]
    if len(predictions) != len(references):
        raise InvalidInputError(
            f"Got {len(predictions)} predictions for {len(references)} references: every prediction needs exactly "
            "one reference."
        )
    if not references:
        raise InvalidInputError("Got no predictions and no references: there is nothing to score.")
    _reject_blank_references(references)
    return predictions, references


def _reject_blank_references(references: Sequence[str]) -> None:
    """Raise `ValueError` if any reference is empty or whitespace-only."""
    blank = [index for index, reference in enumerate(references) if not reference.strip()]
    if blank:
        raise InvalidInputError(
            f"{len(blank)} of {len(references)} references are empty (positions {_preview(blank)}): every prediction "
            "needs a non-empty reference to be scored against. Check how the references were read."
        )


def _space_join_characters(text: str) -> str:
    """Remove all whitespace from `text` and join its characters with single spaces: `"你 好吗"` -> `"你 好 吗"`."""
    return " ".join("".join(text.split()))


def _cumulative_bleu(predictions: list[str], references: list[str], lang: str) -> dict[str, float]:
    """Cumulative BLEU-1..4 from one sacrebleu corpus BLEU (13a tokenizer, case-sensitive, exponential smoothing).

    BLEU-n is the brevity penalty times the geometric mean of the first n (smoothed) n-gram precisions, the same
    expression sacrebleu uses for its own BLEU-4 `score`. The precisions of orders 1..n do not depend on the higher
    orders, so this equals sacrebleu's score with `max_ngram_order=n`.
    """
    bleu_module = _import_eval_dependency("sacrebleu.metrics")
    # Character-joined Chinese looks pre-tokenised on purpose: `force` silences sacrebleu's warning about it.
    bleu = bleu_module.BLEU(tokenize="13a", lowercase=False, force=lang == "zh")
    corpus_score = bleu.corpus_score(predictions, [references])
    scores = {}
    for order in range(1, 5):
        precisions = corpus_score.precisions[:order]
        if min(precisions) == 0.0:
            scores[f"bleu{order}"] = 0.0
        else:
            scores[f"bleu{order}"] = corpus_score.bp * math.exp(sum(math.log(p) for p in precisions) / order)
    return scores


def _has_rouge_sentence(text: str) -> bool:
    """Whether the `rouge` package finds at least one sentence in `text` (it splits sentences on full stops)."""
    return any(text.split("."))


def _mean_rouge_l(predictions: list[str], references: list[str]) -> float:
    """Mean over pairs of the `rouge` 1.0.1 package's ROUGE-L F-score, in percent.

    Pairs in which the package finds no sentence on either side (it would raise) score 0 and still count.
    """
    rouge_module = _import_eval_dependency("rouge")
    rouge = rouge_module.Rouge(metrics=["rouge-l"], stats=["f"])
    scorable = [
        index
        for index, (prediction, reference) in enumerate(zip(predictions, references, strict=True))
        if _has_rouge_sentence(prediction) and _has_rouge_sentence(reference)
    ]
    f_scores = [0.0] * len(predictions)
    if scorable:
        pair_scores = rouge.get_scores([predictions[i] for i in scorable], [references[i] for i in scorable])
        for index, pair_score in zip(scorable, pair_scores, strict=True):
            f_scores[index] = pair_score["rouge-l"]["f"]
    # Summed in pair order from 0, as `Rouge.get_scores(avg=True)` does, so the mean is bit-identical to it.
    return sum(f_scores) / len(f_scores) * 100


def _mean_bleurt(predictions: list[str], references: list[str], checkpoint: str) -> float:
    """Mean BLEURT score over pairs, times 100, with the `bleurt` package (google-research/bleurt)."""
    try:
        bleurt_score = importlib.import_module("bleurt.score")
    except ImportError as error:
        raise ImportError(
            "`bleurt_checkpoint` was given, but the `bleurt` package is not installed. BLEURT is optional and not a "
            "dependency of unisign: install it with `pip install git+https://github.com/google-research/bleurt.git` "
            "and download a checkpoint such as BLEURT-20, or leave `bleurt_checkpoint` unset."
        ) from error
    scorer = bleurt_score.BleurtScorer(checkpoint)
    pair_scores = scorer.score(references=references, candidates=predictions)
    return sum(pair_scores) / len(pair_scores) * 100


def score_translation(
    predictions: Sequence[str],
    references: Sequence[str],
    lang: str = "en",
    bleurt_checkpoint: str | None = None,
) -> dict[str, float]:
    """Score sign language translations as the reference does: cumulative BLEU-1..4 and ROUGE-L.

    Args:
        predictions (`Sequence[str]` of length `num_samples`):
            The generated sentences.
        references (`Sequence[str]` of length `num_samples`):
            One reference sentence per prediction, none of them empty.
        lang (`str`, *optional*, defaults to `"en"`):
            `"zh"` scores per character with the reference's normalisation (see the module docstring); `"en"` scores
            words as they are, and suits any language written with spaces between words.
        bleurt_checkpoint (`str`, *optional*):
            Path of a BLEURT checkpoint (e.g. BLEURT-20). When given, adds `bleurt`, the mean BLEURT score times 100,
            computed on the texts as given (before the Chinese normalisation). Needs the optional `bleurt` package.

    Returns:
        `dict[str, float]`: `bleu1`, `bleu2`, `bleu3`, `bleu4` (cumulative corpus BLEU) and `rouge_l` (mean ROUGE-L
        F-score), all in percent, plus `bleurt` when `bleurt_checkpoint` is given.

    Raises:
        ValueError: if the inputs are not two equally long, non-empty lists of strings, a reference is empty, or
            `lang` is unknown.
        ImportError: if sacrebleu or rouge is missing, or `bleurt_checkpoint` is given without the `bleurt` package.

    Example:
        >>> from unisign.evaluation.metrics import score_translation
        >>> scores = score_translation(["the cat sat on the mat"], ["the cat sat on the mat"])
        >>> round(scores["bleu4"], 2), round(scores["rouge_l"], 2)
        (100.0, 100.0)
    """
    if lang not in LANGUAGES:
        raise InvalidInputError(f"Unknown `lang` {lang!r}. Available languages: {', '.join(LANGUAGES)}.")
    predictions, references = _validate_pairs(predictions, references)
    scored_predictions, scored_references = predictions, references
    if lang == "zh":
        scored_predictions = [_space_join_characters(prediction) for prediction in predictions]
        scored_references = [
            _space_join_characters(reference.translate(_FULL_WIDTH_TO_ASCII)) for reference in references
        ]
    scores = _cumulative_bleu(scored_predictions, scored_references, lang)
    scores["rouge_l"] = _mean_rouge_l(scored_predictions, scored_references)
    if bleurt_checkpoint is not None:
        scores["bleurt"] = _mean_bleurt(predictions, references, bleurt_checkpoint)
    return scores


def _count_edits(
    reference_words: Sequence[str],
    hypothesis_words: Sequence[str],
    deletion_cost: int,
    insertion_cost: int,
    substitution_cost: int,
) -> tuple[int, int, int]:
    """Count the deletions, insertions and substitutions of a minimum-cost alignment of two word sequences.

    Among equally cheap alignments the one is taken that the reference's backtrace finds: walking back from the end,
    a match is preferred, then a substitution, then an insertion, then a deletion. The choice matters for the
    deletion/insertion/substitution split (and, with unequal costs, for the error count).

    Returns:
        `tuple[int, int, int]`: the numbers of deletions, insertions and substitutions.
    """
    num_ref, num_hyp = len(reference_words), len(hypothesis_words)
    # cost[i][j]: cheapest alignment of the first i reference words with the first j hypothesis words.
    cost = [[0] * (num_hyp + 1) for _ in range(num_ref + 1)]  # (num_ref + 1, num_hyp + 1)
    for i in range(1, num_ref + 1):
        cost[i][0] = i * deletion_cost
    for j in range(1, num_hyp + 1):
        cost[0][j] = j * insertion_cost
    for i in range(1, num_ref + 1):
        for j in range(1, num_hyp + 1):
            if reference_words[i - 1] == hypothesis_words[j - 1]:
                cost[i][j] = cost[i - 1][j - 1]
            else:
                cost[i][j] = min(
                    cost[i - 1][j - 1] + substitution_cost,
                    cost[i][j - 1] + insertion_cost,
                    cost[i - 1][j] + deletion_cost,
                )
    deletions = insertions = substitutions = 0
    i, j = num_ref, num_hyp
    while i > 0 or j > 0:
        if i > 0 and j > 0 and reference_words[i - 1] == hypothesis_words[j - 1] and cost[i][j] == cost[i - 1][j - 1]:
            i, j = i - 1, j - 1
        elif i > 0 and j > 0 and cost[i][j] == cost[i - 1][j - 1] + substitution_cost:
            substitutions += 1
            i, j = i - 1, j - 1
        elif j > 0 and cost[i][j] == cost[i][j - 1] + insertion_cost:
            insertions += 1
            j -= 1
        else:
            deletions += 1
            i -= 1
    return deletions, insertions, substitutions


def word_error_rate(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Corpus word error rate of continuous sign recognition, as the reference computes it, and the plain one.

    Words are whitespace-separated tokens. Each pair is aligned with the reference's costs (deletion 3, insertion 3,
    substitution 4); the errors of that alignment (every deletion, insertion and substitution counts 1), summed over
    the corpus and divided by the total number of reference words, give `wer`. Because the alignment minimises the
    weighted cost, not the number of errors, `wer` can exceed the textbook (unit-cost, Levenshtein) word error rate,
    reported separately as `wer_unit_cost`; `wer` is the number comparable with the Uni-Sign paper.

    Args:
        predictions (`Sequence[str]` of length `num_samples`):
            The recognised gloss sequences, glosses separated by spaces.
        references (`Sequence[str]` of length `num_samples`):
            One non-empty reference gloss sequence per prediction.

    Returns:
        `dict[str, float]`, all in percent of the reference words:
        - `wer`: errors of the weighted (3/3/4) alignment, the reference's and the paper's WER;
        - `del_rate`, `ins_rate`, `sub_rate`: its deletions, insertions and substitutions (they sum to `wer`);
        - `wer_unit_cost`: the plain word error rate, from the minimum number of edits (all costs 1).

    Raises:
        ValueError: if the inputs are not two equally long, non-empty lists of strings or a reference is empty.
    """
    predictions, references = _validate_pairs(predictions, references)
    total_reference_words = total_deletions = total_insertions = total_substitutions = total_unit_cost_errors = 0
    for prediction, reference in zip(predictions, references, strict=True):
        reference_words, hypothesis_words = reference.split(), prediction.split()
        deletions, insertions, substitutions = _count_edits(
            reference_words, hypothesis_words, WER_DELETION_COST, WER_INSERTION_COST, WER_SUBSTITUTION_COST
        )
        total_deletions += deletions
        total_insertions += insertions
        total_substitutions += substitutions
        total_unit_cost_errors += sum(_count_edits(reference_words, hypothesis_words, 1, 1, 1))
        total_reference_words += len(reference_words)
    weighted_errors = total_deletions + total_insertions + total_substitutions
    return {
        "wer": weighted_errors / total_reference_words * 100,
        "del_rate": total_deletions / total_reference_words * 100,
        "ins_rate": total_insertions / total_reference_words * 100,
        "sub_rate": total_substitutions / total_reference_words * 100,
        "wer_unit_cost": total_unit_cost_errors / total_reference_words * 100,
    }


def _normalize_sign_label(text: str, normalize: str) -> str:
    """Apply an ISLR normalisation: `"none"` keeps the text, `"lower"` lower-cases it and collapses whitespace."""
    if normalize == "lower":
        return " ".join(text.lower().split())
    return text


def islr_accuracy(predictions: Sequence[str], references: Sequence[str], normalize: str = "none") -> dict[str, float]:
    """Top-1 accuracy of isolated sign recognition on exact string match, per instance and per class.

    Args:
        predictions (`Sequence[str]` of length `num_samples`):
            The predicted words.
        references (`Sequence[str]` of length `num_samples`):
            The true words; each distinct reference string is a class.
        normalize (`str`, *optional*, defaults to `"none"`):
            `"none"` compares the strings exactly, as the reference does. `"lower"` lower-cases both sides and
            collapses runs of whitespace (leading and trailing included) before comparing and before grouping
            classes, so `"Book "` matches `"book"`; scores are then not comparable with the paper's.

    Returns:
        `dict[str, float]`, in percent:
        - `top1_per_instance`: correct predictions over all samples;
        - `top1_per_class`: the mean over classes of each class's accuracy, so rare classes weigh as much as frequent
          ones.

    Raises:
        ValueError: if the inputs are not two equally long, non-empty lists of strings, a reference is empty, or
            `normalize` is unknown.
    """
    if normalize not in ISLR_NORMALIZATIONS:
        raise InvalidInputError(
            f"Unknown ISLR `normalize` {normalize!r}. Available normalisations: {', '.join(ISLR_NORMALIZATIONS)}."
        )
    predictions, references = _validate_pairs(predictions, references)
    samples_per_class: dict[str, int] = {}
    correct_per_class: dict[str, int] = {}
    for prediction, reference in zip(predictions, references, strict=True):
        label = _normalize_sign_label(reference, normalize)
        is_correct = _normalize_sign_label(prediction, normalize) == label
        samples_per_class[label] = samples_per_class.get(label, 0) + 1
        correct_per_class[label] = correct_per_class.get(label, 0) + int(is_correct)
    class_accuracies = [correct_per_class[label] / samples_per_class[label] for label in samples_per_class]
    return {
        "top1_per_instance": sum(correct_per_class.values()) / len(references) * 100,
        "top1_per_class": sum(class_accuracies) / len(class_accuracies) * 100,
    }


def compute_metrics(
    task: str,
    predictions: Sequence[str],
    references: Sequence[str],
    lang: str = "en",
    islr_normalize: str = "none",
    bleurt_checkpoint: str | None = None,
) -> dict[str, float]:
    """Compute the scores the reference reports for `task`.

    Args:
        task (`str`):
            `"slt"` (translation: `score_translation`), `"cslr"` (continuous recognition: `word_error_rate`) or
            `"islr"` (isolated recognition: `islr_accuracy`).
        predictions (`Sequence[str]` of length `num_samples`):
            The model outputs.
        references (`Sequence[str]` of length `num_samples`):
            One non-empty reference per prediction.
        lang (`str`, *optional*, defaults to `"en"`):
            `"zh"` or `"en"`; only translation scores depend on it (glosses and sign words are compared as given, in
            any language).
        islr_normalize (`str`, *optional*, defaults to `"none"`):
            The `normalize` option of `islr_accuracy`; only for `task="islr"`.
        bleurt_checkpoint (`str`, *optional*):
            Adds BLEURT to translation scores (see `score_translation`); only for `task="slt"`.

    Returns:
        `dict[str, float]`: the scores of the task's function, in percent.

    Raises:
        ValueError: on an unknown task or language, an option that does not apply to the task, or bad inputs.
    """
    if task not in TASKS:
        raise InvalidInputError(f"Unknown `task` {task!r}. Available tasks: {', '.join(TASKS)}.")
    if task == "slt" and lang not in LANGUAGES:
        raise InvalidInputError(f"Unknown `lang` {lang!r}. Available languages: {', '.join(LANGUAGES)}.")
    if islr_normalize != "none" and task != "islr":
        raise InvalidInputError(
            f"`islr_normalize={islr_normalize!r}` only applies to task 'islr', but got task {task!r}."
        )
    if bleurt_checkpoint is not None and task != "slt":
        raise InvalidInputError(f"`bleurt_checkpoint` only applies to task 'slt', but got task {task!r}.")
    if task == "slt":
        return score_translation(predictions, references, lang=lang, bleurt_checkpoint=bleurt_checkpoint)
    if task == "cslr":
        return word_error_rate(predictions, references)
    return islr_accuracy(predictions, references, normalize=islr_normalize)


__all__ = [
    "ISLR_NORMALIZATIONS",
    "LANGUAGES",
    "TASKS",
    "WER_DELETION_COST",
    "WER_INSERTION_COST",
    "WER_SUBSTITUTION_COST",
    "compute_metrics",
    "islr_accuracy",
    "score_translation",
    "word_error_rate",
]
