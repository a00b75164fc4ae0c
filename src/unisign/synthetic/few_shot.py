"""A few-shot split of the synthetic sign language: new signs, from the same phonology, by signers never seen.

`new_signs` draws signs that are not in the training lexicon (`lexicon.SIGNS`): handshape, palm orientation,
location, movement and hand arrangement come from the same inventories, combined anew, and every new sign differs
from each training sign and from each other new sign in at least `MIN_DIFFERENCES` of those five parameters. Their
names are made-up words (`"BAMIKO"`), so they cannot be mistaken for the training glosses. `few_shot_signers` draws
signers from a population of their own, with ids (`"signer-9000"` on) that no split of `generate_dataset` uses, and
`few_shot_clips` performs every sign by every signer. All of it is deterministic by seed, and nothing here changes
what `generate_dataset` writes.

>>> from unisign.synthetic.few_shot import few_shot_clips, few_shot_signers, new_signs
>>> signs = new_signs(20, seed=0)
>>> clips = few_shot_clips(signs, few_shot_signers(6, seed=0), seed=0)  # 20 x 6 isolated-sign clips
"""

import numpy as np

from ..data.sample import PoseSample
from ..utils.errors import InvalidInputError
from .generator import generate_clip
from .lexicon import SIGNS, VOCABULARY, Sign
from .phonology import BODY_LOCATIONS, HANDSHAPES, HEAD_LOCATIONS, HandConfig, Movement
from .signer import Signer, sample_signer


FEW_SHOT_STREAM = 11  # keeps these draws apart from the dataset's signers, plans and clips
FIRST_SIGNER_INDEX = 9000  # signer ids of `generate_dataset` splits count up from 0
MIN_DIFFERENCES = 2
MAX_SIGNS = 400
HANDSHAPE_NAMES = tuple(name for name in HANDSHAPES if name != "rest")
LOCATION_NAMES = tuple(name for name in (*HEAD_LOCATIONS, *BODY_LOCATIONS) if name != "rest")
# palm and finger directions as the lexicon pairs them (every pair is a valid, natural orientation)
ORIENTATIONS = tuple(sorted({(sign.dominant.palm, sign.dominant.fingers) for sign in SIGNS}))
MOVEMENT_DIRECTIONS = ("up", "down", "forward", "back", "ipsi", "contra", "forward+down", "back+up")
# (kind, smallest size, largest size, largest count): the ranges the lexicon's movements span
MOVEMENT_RANGES = (
    ("hold", 0.0, 0.0, 1),
    ("straight", 0.06, 0.16, 1),
    ("arc", 0.06, 0.2, 1),
    ("circle", 0.02, 0.045, 2),
    ("repeated", 0.025, 0.06, 2),
    ("shake", 0.015, 0.05, 3),
    ("wiggle", 0.0, 0.0, 3),
)
ARRANGEMENTS = (("one", 0.6), ("symmetric", 0.25), ("alternating", 0.15))
_CONSONANTS, _VOWELS = "BDFGKLMNPRSTVZ", "AEIOU"


def sign_parameters(sign: Sign) -> tuple:
    """The five parameters compared between signs: handshape, orientation, location, movement, arrangement."""
    hand, movement = sign.dominant, sign.movement
    return (
        hand.handshape,
        (hand.palm, hand.fingers),
        hand.location,
        (movement.kind, movement.direction, movement.count),
        sign.hands,
    )


def _differences(first: tuple, second: tuple) -> int:
    return sum(a != b for a, b in zip(first, second, strict=True))


def _name(rng: np.random.Generator, taken: set[str]) -> str:
    """A made-up word of three consonant-vowel syllables, not yet `taken`."""
    while True:
        syllables = [_CONSONANTS[rng.integers(len(_CONSONANTS))] + _VOWELS[rng.integers(len(_VOWELS))] for _ in "123"]
        name = "".join(syllables)
        if name not in taken:
            taken.add(name)
            return name


def _movement(rng: np.random.Generator) -> Movement:
    kind, low, high, most = MOVEMENT_RANGES[rng.integers(len(MOVEMENT_RANGES))]
    if kind in ("hold", "wiggle"):
        return Movement(kind, count=int(rng.integers(1, most + 1)) if kind == "wiggle" else 1)
    direction = MOVEMENT_DIRECTIONS[rng.integers(len(MOVEMENT_DIRECTIONS))]
    secondary = "up" if "up" not in direction and "down" not in direction else "forward"
    size = round(float(rng.uniform(low, high)), 3)
    return Movement(kind, direction, size, secondary, count=int(rng.integers(1, most + 1)))


def new_signs(num_signs: int, seed: int = 0) -> tuple[Sign, ...]:
    """`num_signs` signs outside the training lexicon, deterministic by `seed` (a larger number extends a smaller).

    Args:
        num_signs (`int`): How many (1 to `MAX_SIGNS`).
        seed (`int`, *optional*, defaults to 0): The draw.

    Returns:
        `tuple[Sign, ...]`, each one-handed, symmetric or alternating, named by a made-up word.
    """
    if not 1 <= num_signs <= MAX_SIGNS:
        raise InvalidInputError(f"`num_signs` must be between 1 and {MAX_SIGNS}, got {num_signs}.")
    rng = np.random.default_rng(np.random.SeedSequence([seed, FEW_SHOT_STREAM, 0]))
    taken_names = set(VOCABULARY)
    known = [sign_parameters(sign) for sign in SIGNS]
    signs: list[Sign] = []
    arrangements, weights = zip(*ARRANGEMENTS, strict=True)
    while len(signs) < num_signs:
        palm, fingers = ORIENTATIONS[rng.integers(len(ORIENTATIONS))]
        hand = HandConfig(
            HANDSHAPE_NAMES[rng.integers(len(HANDSHAPE_NAMES))],
            palm,
            fingers,
            LOCATION_NAMES[rng.integers(len(LOCATION_NAMES))],
        )
        hands = arrangements[rng.choice(len(arrangements), p=weights)]
        candidate = Sign("", "", hand, _movement(rng), hands)
        parameters = sign_parameters(candidate)
        if all(_differences(parameters, other) >= MIN_DIFFERENCES for other in known):
            name = _name(rng, taken_names)
            signs.append(Sign(name, name.lower(), hand, candidate.movement, hands))
            known.append(parameters)
    return tuple(signs)


def few_shot_signers(num_signers: int, seed: int = 0) -> list[Signer]:
    """`num_signers` signers of their own population (ids `signer-9000` on: never in a `generate_dataset` split)."""
    if num_signers < 1:
        raise InvalidInputError(f"`num_signers` must be at least 1, got {num_signers}.")
    population = int(np.random.SeedSequence([seed, FEW_SHOT_STREAM, 1]).generate_state(1)[0])
    return [sample_signer(FIRST_SIGNER_INDEX + index, population) for index in range(num_signers)]


def few_shot_clips(
    signs: tuple[Sign, ...], signers: list[Signer], clips_per_signer: int = 1, seed: int = 0
) -> list[PoseSample]:
    """Every sign performed `clips_per_signer` times by every signer (sign-major order), deterministic by `seed`.

    Returns:
        `PoseSample`s whose `gloss` is `[sign.gloss]`, `text` the sign's word and `extra["signer_id"]` the signer.
    """
    clips = []
    for sign_index, sign in enumerate(signs):
        for signer in signers:
            for repeat in range(clips_per_signer):
                key = [seed, FEW_SHOT_STREAM, 2, sign_index, signer.index, repeat]
                clip_seed = int(np.random.SeedSequence(key).generate_state(1)[0])
                clips.append(
                    generate_clip(
                        sign,
                        signer,
                        clip_seed,
                        clip_id=f"fewshot-{sign.gloss.lower()}-{signer.signer_id}-{repeat}",
                        extra={"split": "few_shot", "tasks": ["islr"], "template": "isolated"},
                    )
                )
    return clips


__all__ = [
    "FIRST_SIGNER_INDEX",
    "MIN_DIFFERENCES",
    "few_shot_clips",
    "few_shot_signers",
    "new_signs",
    "sign_parameters",
]
