"""Tests of unisign.evaluation.metrics (published scores, hand-worked WER and ISLR examples, edge cases, the evaluate
module)
and of the prediction/reference file reader of unisign.evaluation.cli."""

import importlib
import math
import sys
import types
from pathlib import Path

import pytest

from unisign.evaluation.cli import read_prediction_and_reference_files, read_sample_texts
from unisign.evaluation.metrics import (
    compute_metrics,
    islr_accuracy,
    score_translation,
    word_error_rate,
)


REPO_ROOT = Path(__file__).resolve().parents[1]
EVALUATE_MODULE_DIR = REPO_ROOT / "spaces" / "unisign_metric"  # the `evaluate` metric Space

# The table of ../shared/data/README.md: the authors' released pose-only outputs scored with the published recipe.
OFFICIAL_SCORES = {
    ("eval_csl_daily_pose_only", "dev", "zh"): (53.30, 40.56, 31.65, 25.27, 54.30),
    ("eval_csl_daily_pose_only", "test", "zh"): (53.87, 40.99, 32.09, 25.70, 55.00),
    ("eval_how2sign_pose_only", "test", "en"): (39.38, 26.44, 19.22, 14.50, 34.51),
}


def official_pairs(data_dir, folder, split):
    directory = data_dir / "official-predictions" / folder
    return read_prediction_and_reference_files(
        directory / f"{split}_tmp_pres.txt", directory / f"{split}_tmp_refs.txt"
    )


# --- translation -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("folder", "split", "lang"), list(OFFICIAL_SCORES))
def test_official_predictions_reproduce_published_table(data_dir, folder, split, lang):
    paired = official_pairs(data_dir, folder, split)
    assert len(paired.predictions) == {"dev": 1077, "test": 1176 if lang == "zh" else 2349}[split]
    scores = score_translation(paired.predictions, paired.references, lang=lang)
    computed = tuple(round(scores[key], 2) for key in ("bleu1", "bleu2", "bleu3", "bleu4", "rouge_l"))
    assert computed == OFFICIAL_SCORES[(folder, split, lang)]


def test_cumulative_bleu_matches_sacrebleu_at_each_order(data_dir):
    from sacrebleu.metrics import BLEU

    paired = official_pairs(data_dir, "eval_how2sign_pose_only", "test")
    predictions, references = paired.predictions[:300], paired.references[:300]
    scores = score_translation(predictions, references, lang="en")
    for order in range(1, 5):
        expected = BLEU(tokenize="13a", max_ngram_order=order).corpus_score(predictions, [references]).score
        assert math.isclose(scores[f"bleu{order}"], expected, rel_tol=1e-12), order


def test_bleu_is_case_sensitive_and_uses_13a_tokenizer():
    # 13a splits "mat." into "mat" and ".", so the hypothesis without the full stop has 5 of 6 reference unigrams and
    # all of its 5 unigrams match: precision 100, brevity penalty exp(1 - 6/5).
    scores = score_translation(["the cat sat on mat"], ["the cat sat on mat."])
    assert scores["bleu1"] == pytest.approx(100 * math.exp(1 - 6 / 5))
    # Case counts: "The" does not match "the" (4 of 5 unigrams match).
    assert score_translation(["The cat sat on mat"], ["the cat sat on mat"])["bleu1"] == pytest.approx(80.0)


def test_chinese_is_scored_per_character_with_reference_normalisation():
    # Characters, not words: "今天好" vs "今 天 好" match exactly once whitespace is removed and characters joined.
    assert score_translation(["今天好"], ["今 天 好"], lang="zh")["bleu1"] == pytest.approx(100.0)
    # Word mode sees one word "今天好" against three words: no unigram matches.
    assert score_translation(["今天好"], ["今 天 好"], lang="en")["bleu1"] == 0.0
    # Full-width punctuation is mapped in the references only, as the reference does: "好，" vs "好，" becomes
    # "好 ，" vs "好 ,", one of two characters matches.
    assert score_translation(["好，"], ["好，"], lang="zh")["bleu1"] == pytest.approx(50.0)
    assert score_translation(["好,"], ["好，"], lang="zh")["bleu1"] == pytest.approx(100.0)
    assert score_translation(["好?"], ["好？"], lang="zh")["bleu1"] == pytest.approx(100.0)


def test_rouge_l_averages_per_sentence_and_empty_prediction_scores_zero():
    # Pair 1 is identical (F = 1 up to the package's tiny smoothing terms); pair 2 has an empty prediction, on which
    # the rouge package raises: it scores 0 and still counts, so the mean is 50.
    scores = score_translation(["the cat sat", ""], ["the cat sat", "a dog ran"])
    assert scores["rouge_l"] == pytest.approx(50.0, abs=1e-6)
    # Only full stops is no sentence for the rouge package either.
    assert score_translation(["the cat sat", "..."], ["the cat sat", "a dog ran"])["rouge_l"] == pytest.approx(
        50.0, abs=1e-6
    )


def test_all_empty_predictions_score_zero():
    scores = score_translation(["", ""], ["a b c", "d e"])
    assert scores == {"bleu1": 0.0, "bleu2": 0.0, "bleu3": 0.0, "bleu4": 0.0, "rouge_l": 0.0}
    assert score_translation(["", ""], ["今天", "好"], lang="zh")["rouge_l"] == 0.0


def test_rouge_l_matches_the_rouge_package_average():
    from rouge import Rouge

    predictions = ["the cat sat on the mat", "a dog. it ran away", "hello there"]
    references = ["the cat is on the mat", "the dog ran. away it went", "hi"]
    expected = Rouge().get_scores(predictions, references, avg=True)["rouge-l"]["f"] * 100
    assert score_translation(predictions, references)["rouge_l"] == expected


@pytest.mark.parametrize(
    ("predictions", "references", "message"),
    [
        (["a"], ["a", "b"], "1 predictions for 2 references"),
        ([], [], "nothing to score"),
        (["a", "b"], ["a", "  "], "positions 1"),
        (["a"], [""], "are empty"),
        ("a b", "a b", "must be a list of strings"),
        (["a", None], ["a", "b"], "positions 1"),
    ],
)
def test_bad_inputs_raise_value_error(predictions, references, message):
    for task in ("slt", "cslr", "islr"):
        with pytest.raises(ValueError, match=message):
            compute_metrics(task, predictions, references)


def test_any_iterable_of_strings_is_accepted():
    assert compute_metrics("islr", ("a", "b"), iter(["a", "c"])) == {"top1_per_instance": 50.0, "top1_per_class": 50.0}


def test_unknown_options_raise_value_error():
    with pytest.raises(ValueError, match="Available tasks: slt, cslr, islr"):
        compute_metrics("asr", ["a"], ["a"])
    with pytest.raises(ValueError, match="Available languages: en, zh"):
        score_translation(["a"], ["a"], lang="de")
    with pytest.raises(ValueError, match="Available languages: en, zh"):
        compute_metrics("slt", ["a"], ["a"], lang="de")


def test_sign_words_and_glosses_in_any_language():
    """Only translation scores depend on the language: a German ISLR or CSLR dataset is scored as given."""
    assert compute_metrics("islr", ["Haus", "Baum"], ["Haus", "Auto"], lang="de") == {
        "top1_per_instance": 50.0,
        "top1_per_class": 50.0,
    }
    assert compute_metrics("cslr", ["HAUS BAUM"], ["HAUS AUTO"], lang="fr") == compute_metrics(
        "cslr", ["HAUS BAUM"], ["HAUS AUTO"]
    )
    with pytest.raises(ValueError, match="only applies to task 'islr'"):
        compute_metrics("slt", ["a"], ["a"], islr_normalize="lower")
    with pytest.raises(ValueError, match="only applies to task 'slt'"):
        compute_metrics("cslr", ["a"], ["a"], bleurt_checkpoint="BLEURT-20")
    with pytest.raises(ValueError, match="Available normalisations: none, lower"):
        islr_accuracy(["a"], ["a"], normalize="upper")


def test_bleurt_hook_reports_mean_score_times_100(monkeypatch):
    calls = {}

    class FakeScorer:
        def __init__(self, checkpoint):
            calls["checkpoint"] = checkpoint

        def score(self, references, candidates):
            calls["pairs"] = list(zip(candidates, references, strict=True))
            return [0.5, 0.25]

    fake_score_module = types.ModuleType("bleurt.score")
    fake_score_module.BleurtScorer = FakeScorer
    fake_package = types.ModuleType("bleurt")
    fake_package.score = fake_score_module
    monkeypatch.setitem(sys.modules, "bleurt", fake_package)
    monkeypatch.setitem(sys.modules, "bleurt.score", fake_score_module)
    scores = score_translation(["今天", "b"], ["今 天", "c"], lang="zh", bleurt_checkpoint="ckpt/BLEURT-20")
    assert scores["bleurt"] == pytest.approx(37.5)
    # BLEURT sees the texts as given, before the Chinese character splitting.
    assert calls == {"checkpoint": "ckpt/BLEURT-20", "pairs": [("今天", "今 天"), ("b", "c")]}


def test_bleurt_missing_package_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "bleurt", None)  # makes `import bleurt` raise ImportError
    monkeypatch.delitem(sys.modules, "bleurt.score", raising=False)
    with pytest.raises(ImportError, match="`bleurt` package is not installed"):
        score_translation(["a"], ["a"], bleurt_checkpoint="BLEURT-20")
    assert "bleurt" not in score_translation(["a"], ["a"])


# --- continuous recognition: WER -------------------------------------------------------------------------------------


def test_wer_weighted_alignment_has_more_errors_than_unit_cost():
    # ref "a a b b b", hyp "c c c a a" (5 words each; the only shared words are the two a's).
    # Unit costs: five substitutions cost 5, the fewest edits possible -> wer_unit_cost = 5 / 5 = 100 %.
    # Reference costs (del 3, ins 3, sub 4):
    #   five substitutions                                  5 * 4 = 20
    #   insert c c c, match a a, delete b b b                6 * 3 = 18   <- cheapest
    #   matching only one a costs at least 20 (e.g. a(2)~a(4): sub + 2 ins before, sub + 2 del after = 10 + 10).
    # Cost table (rows: reference prefix "", a, a, b, b, b; columns: hypothesis prefix "", c, c, c, a, a):
    #    0  3  6  9 12 15
    #    3  4  7 10  9 12
    #    6  7  8 11 10  9
    #    9 10 11 12 13 12
    #   12 13 14 15 16 15
    #   15 16 17 18 19 18
    # Backtrace from 18: b/a mismatch, 16+4 != 18, 19+3 != 18 -> delete; 15 -> delete; 12 -> delete; then a=a twice
    # (9 -> 9 -> 9) and three insertions along the top row. 3 deletions + 3 insertions = 6 errors for 5 reference
    # words: wer = 120 %.
    scores = word_error_rate(["c c c a a"], ["a a b b b"])
    assert scores["wer"] == pytest.approx(120.0)
    assert scores["del_rate"] == pytest.approx(60.0)
    assert scores["ins_rate"] == pytest.approx(60.0)
    assert scores["sub_rate"] == 0.0
    assert scores["wer_unit_cost"] == pytest.approx(100.0)


def test_wer_prefers_deletion_plus_insertion_over_two_substitutions():
    # ref "a b", hyp "b c": two substitutions cost 8; delete a, match b, insert c costs 6. Both have 2 errors, so the
    # WERs agree (100 %), but the weighted alignment reports a deletion and an insertion, no substitution.
    scores = word_error_rate(["b c"], ["a b"])
    assert scores == pytest.approx(
        {"wer": 100.0, "del_rate": 50.0, "ins_rate": 50.0, "sub_rate": 0.0, "wer_unit_cost": 100.0}
    )


def test_wer_breaks_ties_like_the_reference_backtrace():
    # ref "a a b", hyp "b c d": three substitutions (3 * 4 = 12) and "delete a a, match b, insert c d" (4 * 3 = 12)
    # cost the same. Cost table (rows "", a, a, b; columns "", b, c, d):
    #    0  3  6  9
    #    3  4  7 10
    #    6  7  8 11
    #    9  6  9 12
    # The reference walks back preferring match, then substitution, then insertion, then deletion:
    # 12 = 8 + 4 (sub), 8 = 4 + 4 (sub), 4 = 0 + 4 (sub): 3 substitutions, 3 errors (not 4) for 3 words.
    scores = word_error_rate(["b c d"], ["a a b"])
    assert scores == pytest.approx(
        {"wer": 100.0, "del_rate": 0.0, "ins_rate": 0.0, "sub_rate": 100.0, "wer_unit_cost": 100.0}
    )


def test_wer_is_pooled_over_the_corpus():
    # 0 errors in 4 words, then 1 deletion in 1 word: 1 / 5 = 20 %, not the mean of 0 % and 100 %.
    # An empty prediction is valid: every reference word is deleted.
    scores = word_error_rate(["a b c d", ""], ["a b c d", "e"])
    assert scores == pytest.approx(
        {"wer": 20.0, "del_rate": 20.0, "ins_rate": 0.0, "sub_rate": 0.0, "wer_unit_cost": 20.0}
    )
    assert compute_metrics("cslr", ["a b c d", ""], ["a b c d", "e"], lang="zh") == scores


# --- isolated recognition --------------------------------------------------------------------------------------------


def test_islr_per_instance_and_per_class_on_unbalanced_classes():
    # "book" x4 (all right), "drink" x1 (wrong), "go" x1 (right):
    # per instance 5 / 6 = 83.33 %; per class (4/4 + 0/1 + 1/1) / 3 = 66.67 %.
    references = ["book", "book", "book", "book", "drink", "go"]
    predictions = ["book", "book", "book", "book", "eat", "go"]
    scores = islr_accuracy(predictions, references)
    assert scores["top1_per_instance"] == pytest.approx(500 / 6)
    assert scores["top1_per_class"] == pytest.approx(200 / 3)
    assert compute_metrics("islr", predictions, references) == scores


def test_islr_exact_match_by_default_and_lower_normalisation():
    # Exact: only "go" matches; per class: book 0/2, go 1/1 -> 33.33 %.
    predictions, references = ["Book", "book ", "go"], ["book", "book", "go"]
    exact = islr_accuracy(predictions, references)
    assert exact["top1_per_instance"] == pytest.approx(100 / 3)
    assert exact["top1_per_class"] == pytest.approx(50.0)
    lowered = compute_metrics("islr", predictions, references, islr_normalize="lower")
    assert lowered == {"top1_per_instance": 100.0, "top1_per_class": 100.0}


# --- files -----------------------------------------------------------------------------------------------------------


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_read_plain_and_named_files(tmp_path):
    plain = read_sample_texts(write(tmp_path / "plain.txt", "a b\n\nc\n"))
    assert (plain.texts, plain.names, plain.field) == (["a b", "", "c"], None, None)
    named = read_sample_texts(
        write(
            tmp_path / "named.txt",
            "sample: x_1, prediction: a, b: c\r\nsample: y, prediction: \nsample: z, prediction:",
        )
    )
    assert named.texts == ["a, b: c", "", ""]
    assert named.names == ["x_1", "y", "z"]
    assert named.field == "prediction"


def test_named_files_are_paired_by_name(tmp_path):
    predictions = write(tmp_path / "pres.txt", "sample: b, prediction: two\nsample: a, prediction: one\n")
    references = write(tmp_path / "refs.txt", "sample: a, ground-truth: uno\nsample: b, ground-truth: dos\n")
    paired = read_prediction_and_reference_files(predictions, references)
    assert paired.predictions == ["one", "two"]
    assert paired.references == ["uno", "dos"]
    assert paired.names == ["a", "b"]


def test_mismatched_sample_names_are_reported(tmp_path):
    predictions = write(tmp_path / "pres.txt", "sample: a, prediction: x\nsample: c, prediction: y\n")
    references = write(tmp_path / "refs.txt", "sample: a, ground-truth: x\nsample: b, ground-truth: y\n")
    with pytest.raises(
        ValueError, match=r"1 references have no prediction \(b\) and 1 predictions have no reference \(c\)"
    ):
        read_prediction_and_reference_files(predictions, references)
    duplicated = write(tmp_path / "dup.txt", "sample: a, prediction: x\nsample: a, prediction: y\n")
    with pytest.raises(ValueError, match=r"names 1 samples more than once \(a\)"):
        read_prediction_and_reference_files(duplicated, references)


def test_unnamed_files_pair_by_position_and_need_equal_counts(tmp_path):
    predictions = write(tmp_path / "pres.txt", "one\ntwo\n")
    references = write(tmp_path / "refs.txt", "sample: a, ground-truth: uno\nsample: b, ground-truth: dos\n")
    paired = read_prediction_and_reference_files(predictions, references)
    assert (paired.predictions, paired.names) == (["one", "two"], ["a", "b"])
    with pytest.raises(ValueError, match="has 1 lines but .* has 2"):
        read_prediction_and_reference_files(write(tmp_path / "short.txt", "one\n"), references)


def test_malformed_files_raise_value_error(tmp_path):
    with pytest.raises(ValueError, match=r"mixes .*\(lines 2 are"):
        read_sample_texts(write(tmp_path / "mixed.txt", "sample: a, prediction: x\nplain line\n"))
    with pytest.raises(ValueError, match="mixes `prediction` and `ground-truth`"):
        read_sample_texts(write(tmp_path / "fields.txt", "sample: a, prediction: x\nsample: b, ground-truth: y\n"))
    with pytest.raises(ValueError, match="is empty"):
        read_sample_texts(write(tmp_path / "empty.txt", ""))


# --- the evaluate module ---------------------------------------------------------------------------------------------


def test_evaluate_module_gives_the_same_numbers_offline(monkeypatch, tmp_path, data_dir):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    # `python -m pytest` run from the repository root puts it on sys.path, where evaluate.py would shadow the library.
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if Path(entry or ".").resolve() != REPO_ROOT])
    evaluate = importlib.import_module("evaluate")
    monkeypatch.setattr(evaluate.config, "HF_MODULES_CACHE", tmp_path / "modules")
    module = evaluate.load(str(EVALUATE_MODULE_DIR), keep_in_memory=True, cache_dir=str(tmp_path / "metrics"))

    paired = official_pairs(data_dir, "eval_csl_daily_pose_only", "dev")
    cases = [
        ({"task": "slt", "lang": "zh"}, paired.predictions, paired.references),
        ({"task": "slt"}, ["the cat sat", ""], ["the cat sat on the mat", "a dog"]),
        ({"task": "cslr"}, ["c c c a a", "b c"], ["a a b b b", "a b"]),
        ({"task": "islr", "islr_normalize": "lower"}, ["Book", "go", "eat"], ["book", "go", "drink"]),
    ]
    for options, predictions, references in cases:
        expected = compute_metrics(predictions=predictions, references=references, **options)
        assert module.compute(predictions=predictions, references=references, **options) == expected, options
