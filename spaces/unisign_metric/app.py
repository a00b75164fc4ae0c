"""Gradio widget of the Hub Space that hosts this metric; `evaluate.load` does not use this file."""

from pathlib import Path

import evaluate


module = evaluate.load(str(Path(__file__).resolve().parent / "unisign_metric.py"))
evaluate.utils.launch_gradio_widget(module)
