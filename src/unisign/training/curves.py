"""Learning curves of a run, drawn with matplotlib from `logs/train_log.jsonl`.

Two panels: the training loss (and the evaluation loss) against the optimizer step, and the evaluation scores (all
percentages: top-1, WER, BLEU-4, ...) against the step.

    from unisign.training.curves import plot_learning_curves
    plot_learning_curves("outputs/default_synthetic/logs/train_log.jsonl", "docs/learning_curves.png")
"""

import json
import math
from pathlib import Path

# the Figure class, not pyplot: no global figure state and no display backend (training runs headless)
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter

from ..utils.errors import InvalidInputError


# 1280 x 420 pixels: two 640 x 420 panels side by side
FIGURE_INCHES, DPI = (12.8, 4.2), 100
# evaluation scores drawn in the right panel; the first found name of each group is shown
SCORE_NAMES = ("top1_per_instance", "wer", "bleu4", "score")


def read_curves(log_path: str | Path) -> dict[str, list[tuple[int, float]]]:
    """`{name: [(step, value), ...]}` for every number logged in a `train_log.jsonl` file."""
    curves: dict[str, list[tuple[int, float]]] = {}
    for line in Path(log_path).read_text().splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        step = record.pop("step")
        for name, value in record.items():
            if isinstance(value, int | float) and math.isfinite(value):
                curves.setdefault(name, []).append((step, float(value)))
    if not curves:
        raise InvalidInputError(f"`{log_path}` holds no logged values.")
    return curves


def _draw_panel(axes, title: str, series: dict[str, list[tuple[int, float]]], y_label: str, log_y: bool) -> None:
    """One line per series (with dots when short), labelled with its last value; the legend where it hides least."""
    axes.set_title(title)
    axes.set_xlabel("optimizer step")
    axes.set_ylabel(y_label)
    axes.grid(color="#e6e6e6")
    if not series:
        axes.text(0.5, 0.5, "nothing logged", color="gray", ha="center", va="center", transform=axes.transAxes)
        return
    for name, values in series.items():
        steps, numbers = zip(*values, strict=True)
        marker = "o" if len(values) <= 30 else None
        axes.plot(steps, numbers, marker=marker, markersize=4, linewidth=2, label=f"{name} ({numbers[-1]:.3g})")
    if log_y:
        axes.set_yscale("log")
        for set_formatter in (axes.yaxis.set_major_formatter, axes.yaxis.set_minor_formatter):
            set_formatter(FormatStrFormatter("%.3g"))  # 0.9, 2, 6 rather than 9x10^-1, 2x10^0, 6x10^0
    axes.set_xlim(left=0)
    axes.legend(loc="best", fontsize="small")


def draw_learning_curves(curves: dict[str, list[tuple[int, float]]]) -> Figure:
    """The two panels (losses, evaluation scores) of `read_curves`' output, 1280 x 420 pixels."""
    losses = {name: values for name, values in curves.items() if name in ("train/loss", "eval/loss")}
    scores = {
        name.removeprefix("eval/"): values
        for name, values in curves.items()
        if name.startswith("eval/") and name.rsplit("/", 1)[-1] in SCORE_NAMES
    }
    figure = Figure(figsize=FIGURE_INCHES, dpi=DPI, layout="constrained")
    loss_axes, score_axes = figure.subplots(1, 2)
    _draw_panel(loss_axes, "Loss (label-smoothed cross-entropy)", losses, "loss (log scale)", log_y=True)
    _draw_panel(score_axes, "Scores on the evaluation split (%)", scores, "%", log_y=False)
    return figure


def plot_learning_curves(log_path: str | Path, png_path: str | Path) -> Path:
    """Draw the training loss and evaluation curves of `log_path` into a PNG; returns its path."""
    figure = draw_learning_curves(read_curves(log_path))
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(png_path, dpi=DPI)
    return png_path
