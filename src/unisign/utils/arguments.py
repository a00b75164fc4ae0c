"""Command-line argument types: argparse turns a raised `ArgumentTypeError` into `argument --x: ...` (exit 2)."""

import argparse
from collections.abc import Callable


def whole_number_at_least(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer of at least `minimum` (and at most `maximum`, when given)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number of at least {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {value}")
        return value

    return parse


positive_int = whole_number_at_least(1)
non_negative_int = whole_number_at_least(0)  # a count that may be none


def unit_interval(text: str) -> float:
    """An argparse type: a finite number in [0, 1] (a keypoint score threshold)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:  # also false for NaN
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text!r}")
    return value


def add_decoding_arguments(
    parser: argparse.ArgumentParser, max_beams: int, max_tokens: int, subject: str = ""
) -> None:
    """`--num-beams` and `--max-new-tokens`, unset by default so that the model's `generation_config.json` applies.

    Args:
        parser: The command's parser.
        max_beams, max_tokens: The largest values accepted (the model's `MAX_NUM_BEAMS`, `MAX_NEW_TOKENS`).
        subject: What the values set, before "beam width" in the help (e.g. `"the page's starting "`).
    """
    saved = "default: the model's generation_config.json"
    parser.add_argument(
        "--num-beams",
        type=whole_number_at_least(1, max_beams),
        help=f"{subject}beam width (1: greedy; {saved}, 4 for converted checkpoints)",
    )
    parser.add_argument(
        "--max-new-tokens",
        type=whole_number_at_least(1, max_tokens),
        help=f"{subject}longest translation in tokens ({saved}, 100 for converted checkpoints)",
    )


def add_verify_argument(parser: argparse.ArgumentParser) -> None:
    """`--verify`, the same on every command that loads a model: read and check every byte of its files first.

    Without it the start-up checks sizes and headers, then the loaded weights (docs/errors.md); `unisign push` and
    `train.py --resume` always check everything.
    """
    parser.add_argument(
        "--verify",
        action="store_true",
        help="before loading, compare the model's files with their recorded SHA-256s (checksums.json) and read every "
        "tensor for NaN or implausible values (default: sizes and headers, then the loaded weights)",
    )


__all__ = ["add_verify_argument", "non_negative_int", "positive_int", "unit_interval", "whole_number_at_least"]
