"""Run a command line in-process and check that it either succeeded or failed with one clear line; a tiny model."""

from dataclasses import dataclass
from pathlib import Path

from .training_helpers import TINY_LM, TINY_POSE, make_tokenizer


@dataclass
class Outcome:
    """What a command did: its exit status, what it printed, and the message of its `SystemExit`, if any."""

    status: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if ": error: " in line]


def run_command(main, argv: list[str], capsys) -> Outcome:
    """Call `main(argv)`; an exit by message (status 1) counts as printed to stderr, as Python does at exit."""
    capsys.readouterr()
    status, message = 0, ""
    try:
        returned = main(argv)
        status = returned if isinstance(returned, int) else 0
    except SystemExit as exit_info:
        code = exit_info.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
        message = "" if isinstance(code, int) or code is None else str(code) + "\n"
    captured = capsys.readouterr()
    return Outcome(status, captured.out, captured.err + message)


def assert_one_line_error(outcome: Outcome, *fragments: str, status: int | None = None) -> str:
    """The command failed with exactly one `prog: error: ...` line containing `fragments`, and no traceback."""
    assert outcome.status != 0, f"exit 0 for a bad input; printed {outcome.out!r}"
    if status is not None:
        assert outcome.status == status, outcome.err
    assert "Traceback" not in outcome.err + outcome.out, outcome.err
    lines = outcome.error_lines or [line for line in outcome.err.splitlines() if "error:" in line]
    assert len(lines) == 1, outcome.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def cli_main(argv: list[str]) -> int | None:
    from unisign.apps import cli

    return cli.main(argv)


def command_runner(capsys):
    """`runner(*argv)` -> `Outcome` of `unisign.apps.cli.main(argv)` (arguments may be paths)."""
    return lambda *argv: run_command(cli_main, [str(argument) for argument in argv], capsys)


def make_model_folder(root: Path) -> Path:
    """A tiny random pose-only Uni-Sign folder in `root/model`: model, processor, and the card `push` needs."""
    import torch
    from transformers import AutoTokenizer

    from unisign import UniSignConfig, UniSignForConditionalGeneration, UniSignProcessor
    from unisign.models.unisign.feature_extraction_unisign import UniSignPoseFeatureExtractor
    from unisign.training.arguments import TrainConfig, config_to_dict
    from unisign.training.export import write_model_card

    tokenizer = AutoTokenizer.from_pretrained(make_tokenizer(root / "tokenizer"))
    torch.manual_seed(3)
    config = UniSignConfig(text_config={**TINY_LM, "vocab_size": len(tokenizer)}, **TINY_POSE)
    UniSignForConditionalGeneration(config).save_pretrained(root / "model")
    UniSignProcessor(UniSignPoseFeatureExtractor(), tokenizer, language="en").save_pretrained(root / "model")
    write_model_card(root / "model", config_to_dict(TrainConfig()))
    return root / "model"


def recorded_then_changed(folder: Path) -> None:
    """A checksum recorded, then one weight changed to another plausible value: only the hash tells."""
    from safetensors.torch import load_file, save_file

    from unisign.utils.checksums import write_checksums

    write_checksums(folder, "*.safetensors")
    weights = load_file(folder / "model.safetensors")
    name = next(name for name, tensor in weights.items() if tensor.is_floating_point() and tensor.numel() > 4)
    weights[name].view(-1)[0] += 0.5
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
