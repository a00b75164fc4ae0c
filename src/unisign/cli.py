"""The `unisign` command line: `unisign convert ...` (more commands join as they land)."""

import argparse
import sys
from pathlib import Path


def convert(args: argparse.Namespace) -> None:
    """Convert a reference checkpoint into a folder that loads with one `from_pretrained`."""
    from . import convert_reference_checkpoint

    config_kwargs = {} if args.max_frames is None else {"max_frames": args.max_frames}
    result = convert_reference_checkpoint(args.checkpoint, args.text_config, tokenizer=args.tokenizer, **config_kwargs)
    model, processor = result if isinstance(result, tuple) else (result, None)
    out = Path(args.out)
    model.save_pretrained(out)
    if processor is not None:
        processor.save_pretrained(out)
    print(f"Wrote {out} ({sum(p.numel() for p in model.parameters()):,} parameters, use_rgb={model.config.use_rgb}).")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every `unisign` command."""
    parser = argparse.ArgumentParser(prog="unisign", description="Uni-Sign sign language translation tools.")
    commands = parser.add_subparsers(dest="command", required=True)

    converter = commands.add_parser("convert", help="reference checkpoint (.pth/.safetensors) -> Hub-ready folder")
    converter.add_argument("checkpoint", help="the authors' checkpoint, e.g. csl_daily_pose_only_slt.pth")
    converter.add_argument("--text-config", required=True, help="mT5 config folder or Hub id, e.g. google/mt5-base")
    converter.add_argument("--out", required=True, help="output folder")
    converter.add_argument("--tokenizer", help="mT5 tokenizer folder or Hub id: also writes the processor")
    converter.add_argument("--max-frames", type=int, help="frames per clip (256; the ISLR checkpoints used 64)")
    converter.set_defaults(handler=convert)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run a `unisign` command."""
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except (ValueError, FileNotFoundError, NotImplementedError) as error:
        sys.exit(f"unisign {args.command}: error: {error}")


if __name__ == "__main__":
    main()
