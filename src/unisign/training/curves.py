"""Learning curves of a run, drawn with Pillow from `logs/train_log.jsonl` (no plotting library needed).

Two panels: the training loss (and the evaluation loss) against the optimizer step, and the evaluation scores (all
percentages: top-1, WER, BLEU-4, ...) against the step.

    from unisign.training.curves import plot_learning_curves
    plot_learning_curves("outputs/default_synthetic/logs/train_log.jsonl", "docs/learning_curves.png")
"""

import json
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont


PANEL_SIZE = (640, 420)
MARGIN = {"left": 64, "right": 16, "top": 36, "bottom": 48}
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
LEGEND_WIDTH = 210
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
        raise ValueError(f"`{log_path}` holds no logged values.")
    return curves


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    first = math.floor(low / step) * step
    return [first + i * step for i in range(int(math.ceil((high - first) / step)) + 1)]


def _draw_panel(title: str, series: dict[str, list[tuple[int, float]]], y_label: str, log_y: bool) -> Image.Image:
    """One plot: axes with ticks, one coloured line (with dots when short) per series, and a legend."""
    image = Image.new("RGB", PANEL_SIZE, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=13)
    left, top = MARGIN["left"], MARGIN["top"]
    right, bottom = PANEL_SIZE[0] - MARGIN["right"], PANEL_SIZE[1] - MARGIN["bottom"]
    draw.text(((left + right) / 2, 8), title, fill="black", font=font, anchor="mt")
    points = [point for values in series.values() for point in values]
    if not points:
        draw.text((left + 10, top + 10), "nothing logged", fill="gray", font=font)
        return image

    def transform(value: float) -> float:
        return math.log10(max(value, 1e-6)) if log_y else value

    steps = [step for step, _ in points]
    values = [transform(value) for _, value in points]
    x_range = (0, max(max(steps), 1))
    x_ticks = [tick for tick in _nice_ticks(*x_range) if tick <= x_range[1]]
    y_ticks = _nice_ticks(min(values), max(values))
    y_range = (y_ticks[0], y_ticks[-1])

    def x_pixel(step: float) -> float:
        return left + (step - x_range[0]) / (x_range[1] - x_range[0]) * (right - left)

    def y_pixel(transformed: float) -> float:
        return bottom - (transformed - y_range[0]) / (y_range[1] - y_range[0]) * (bottom - top)

    for tick in x_ticks:
        x = x_pixel(tick)
        draw.line([(x, top), (x, bottom)], fill="#e6e6e6")
        draw.text((x, bottom + 6), f"{tick:g}", fill="black", font=font, anchor="mt")
    for tick in y_ticks:
        y = y_pixel(tick)
        draw.line([(left, y), (right, y)], fill="#e6e6e6")
        label = f"{10**tick:.3g}" if log_y else f"{tick:g}"
        draw.text((left - 6, y), label, fill="black", font=font, anchor="rm")
    draw.rectangle([left, top, right, bottom], outline="black")
    draw.text(((left + right) / 2, PANEL_SIZE[1] - 8), "optimizer step", fill="black", font=font, anchor="ms")
    draw.text((6, top - 20), y_label, fill="black", font=font)
    lines = []
    for index, values in enumerate(series.values()):
        colour = COLOURS[index % len(COLOURS)]
        pixels = [(x_pixel(step), y_pixel(transform(value))) for step, value in values]
        lines.append(pixels)
        if len(pixels) > 1:
            draw.line(pixels, fill=colour, width=2)
        if len(pixels) <= 30:
            for x, y in pixels:
                draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
    legend_height = 18 * len(series) + 4
    legend_left, legend_top = _legend_corner(lines, legend_height, (left, top, right, bottom))
    draw.rectangle(
        [legend_left, legend_top, legend_left + LEGEND_WIDTH, legend_top + legend_height],
        fill="white",
        outline="#bbbbbb",
    )
    for index, (name, values) in enumerate(series.items()):
        legend_y = legend_top + 11 + 18 * index
        colour = COLOURS[index % len(COLOURS)]
        draw.line([(legend_left + 8, legend_y), (legend_left + 28, legend_y)], fill=colour, width=3)
        text = f"{name} ({values[-1][1]:.3g})"
        draw.text((legend_left + 34, legend_y), text, fill="black", font=font, anchor="lm")
    return image


def _legend_corner(lines: list[list[tuple[float, float]]], height: float, frame: tuple) -> tuple[float, float]:
    """The top-left pixel of the legend box (`LEGEND_WIDTH` x `height`): of six places along the left and right
    edges, the one that hides the fewest points of the curves (sampled along their segments); top right on ties."""
    left, top, right, bottom = frame
    samples = [
        (x0 + (x1 - x0) * t / 16, y0 + (y1 - y0) * t / 16)
        for pixels in lines
        for (x0, y0), (x1, y1) in zip(pixels, pixels[1:] + pixels[-1:], strict=True)
        for t in range(16)
    ]
    rows = (top + 6, (top + bottom - height) / 2, bottom - 6 - height)
    places = [(right - 6 - LEGEND_WIDTH, y) for y in rows] + [(left + 6, y) for y in rows]

    def hidden(place: tuple[float, float]) -> int:
        x, y = place
        return sum(x - 4 <= px <= x + LEGEND_WIDTH + 4 and y - 4 <= py <= y + height + 4 for px, py in samples)

    return min(places, key=hidden)


def plot_learning_curves(log_path: str | Path, png_path: str | Path) -> Path:
    """Draw the training loss and evaluation curves of `log_path` into a PNG; returns its path."""
    curves = read_curves(log_path)
    losses = {name: values for name, values in curves.items() if name in ("train/loss", "eval/loss")}
    scores = {
        name.removeprefix("eval/"): values
        for name, values in curves.items()
        if name.startswith("eval/") and name.rsplit("/", 1)[-1] in SCORE_NAMES
    }
    loss_panel = _draw_panel("Loss (label-smoothed cross-entropy)", losses, "loss (log scale)", log_y=True)
    score_panel = _draw_panel("Scores on the evaluation split (%)", scores, "%", log_y=False)
    image = Image.new("RGB", (PANEL_SIZE[0] * 2, PANEL_SIZE[1]), "white")
    image.paste(loss_panel, (0, 0))
    image.paste(score_panel, (PANEL_SIZE[0], 0))
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    image.save(png_path)
    return png_path
