"""Command line: `python -m unisign.synthetic generate DIR` writes a dataset; `... examples OUT.png` draws clips.

Examples:
    python -m unisign.synthetic generate data/synthetic --num-train 2000 --num-validation 200 --num-test 200
    python -m unisign.synthetic examples docs/synthetic_examples.png
"""

import argparse

from ..utils.arguments import non_negative_int
from .generator import TASKS, generate_clip, generate_dataset
from .render import contact_sheet
from .signer import sample_signer


# clips shown by `examples`: (glosses, English, question marker, signer index, clip seed), covering one- and
# two-handed signs, a left-handed signer (index 3), the yes/no question marker, and a handshape minimal pair
# (FATHER, KNOW) by the same signer with the same seed, whose arms move identically
EXAMPLE_CLIPS = (
    (("YESTERDAY", "STORE", "I", "GO"), "I went to the store yesterday.", False, 0, 0),
    (("MY", "MOTHER", "TIRED"), "My mother is tired.", False, 3, 1),
    (("YOU", "LIKE", "COFFEE"), "Do you like coffee?", True, 5, 2),
    (("SHE", "HAVE", "THREE", "BOOK"), "She has three books.", False, 9, 3),
    (("FATHER",), "father", False, 1, 4),
    (("KNOW",), "know", False, 1, 4),
)


def _examples(path: str, seed: int) -> None:
    samples = [
        generate_clip(glosses, sample_signer(signer_index, seed), clip_seed, text=text, question=question)
        for glosses, text, question, signer_index, clip_seed in EXAMPLE_CLIPS
    ]
    contact_sheet(samples).save(path)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run it."""
    parser = argparse.ArgumentParser(prog="python -m unisign.synthetic", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="write a Parquet dataset with a card (cached)")
    generate.add_argument("output_dir")
    generate.add_argument("--num-train", type=non_negative_int, default=2000)
    generate.add_argument("--num-validation", type=non_negative_int, default=200)
    generate.add_argument("--num-test", type=non_negative_int, default=200)
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    generate.add_argument("--overwrite", action="store_true")
    examples = commands.add_parser("examples", help="draw a contact sheet of example clips as a PNG")
    examples.add_argument("output")
    examples.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "generate":
        dataset = generate_dataset(
            args.output_dir,
            num_train=args.num_train,
            num_validation=args.num_validation,
            num_test=args.num_test,
            seed=args.seed,
            tasks=tuple(args.tasks),
            overwrite=args.overwrite,
        )
        print(dataset)
    else:
        _examples(args.output, args.seed)


if __name__ == "__main__":
    main()
