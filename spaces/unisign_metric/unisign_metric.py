"""Uni-Sign scores as a Hugging Face `evaluate` metric module.

The module holds no scoring logic of its own: it imports `unisign.evaluation.metrics.compute_metrics`, so
`evaluate.load` of this
folder and a direct call to `unisign.evaluation.metrics` give the same numbers. The `unisign` package (with its `eval`
extra,
which brings sacrebleu and rouge) must therefore be installed wherever the module is loaded; `evaluate` checks the
imports below and names any missing package.

Keep one `import` statement per line: evaluate's dependency scanner reads them line by line and misreads
`import a, b`.
"""

import datasets
import evaluate

from unisign.evaluation.metrics import compute_metrics


_CITATION = """\
@inproceedings{li2025unisign,
  title = {Uni-Sign: Toward Unified Sign Language Understanding at Scale},
  author = {Li, Zecheng and others},
  booktitle = {International Conference on Learning Representations (ICLR)},
  year = {2025},
  eprint = {2501.15187},
  archivePrefix = {arXiv}
}
"""

_DESCRIPTION = """\
Scores of the Uni-Sign reference evaluation for the three sign language tasks, computed exactly as the reference
code computes them. Translation ("slt"): cumulative BLEU-1..4 from sacrebleu's corpus BLEU (13a tokenizer,
case-sensitive) and ROUGE-L, the F-score of the `rouge` 1.0.1 package averaged over sentence pairs; Chinese
(lang="zh") is scored per character. Continuous recognition ("cslr"): corpus word error rate from an alignment with
costs deletion 3, insertion 3, substitution 4, with deletion/insertion/substitution rates, plus the plain unit-cost
word error rate. Isolated recognition ("islr"): top-1 accuracy per instance and per class on exact string match.
All values are percentages.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list[str]`): the model outputs, one string per sample.
    references (`list[str]`): one non-empty reference string per prediction.
    task (`str`, defaults to "slt"): "slt", "cslr" or "islr".
    lang (`str`, defaults to "en"): "zh" scores translations per character; "en" scores words (any language written
        with spaces). Only translation scores depend on it.
    islr_normalize (`str`, defaults to "none"): "lower" lower-cases and collapses whitespace before ISLR matching.
    bleurt_checkpoint (`str`, optional): path of a BLEURT checkpoint; adds "bleurt" to translation scores (needs the
        optional `bleurt` package).

Returns:
    "slt": bleu1, bleu2, bleu3, bleu4, rouge_l (and bleurt when asked for);
    "cslr": wer (reference alignment costs 3/3/4; the paper's WER), del_rate, ins_rate, sub_rate, wer_unit_cost;
    "islr": top1_per_instance, top1_per_class.

Examples:
    >>> metric = evaluate.load("path/to/unisign_metric")
    >>> metric.compute(predictions=["a b c"], references=["a b d"], task="cslr")["wer"]
    33.33333333333333
"""


class UnisignMetric(evaluate.Metric):
    """`evaluate` wrapper around `unisign.metrics.compute_metrics`: lists of strings in, the task's scores out."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
            reference_urls=["https://arxiv.org/abs/2501.15187", "https://github.com/ZechengLi19/Uni-Sign"],
        )

    def _compute(
        self,
        predictions: list[str],
        references: list[str],
        task: str = "slt",
        lang: str = "en",
        islr_normalize: str = "none",
        bleurt_checkpoint: str | None = None,
    ) -> dict[str, float]:
        return compute_metrics(
            task,
            predictions,
            references,
            lang=lang,
            islr_normalize=islr_normalize,
            bleurt_checkpoint=bleurt_checkpoint,
        )
