"""The vocabulary of the synthetic sign language: each sign as a bundle of phonological parameters.

The language is made up (its glosses borrow English words and a few forms echo ASL, but it is not ASL). It is
designed so that a recogniser must read the hands: several groups of signs differ in exactly one parameter
(`MINIMAL_PAIRS`), and those that differ only in handshape move the arms identically.
"""

from dataclasses import dataclass

from ..utils.errors import InvalidInputError
from .phonology import HandConfig, Movement


HAND_ARRANGEMENTS = ("one", "symmetric", "alternating", "base")


@dataclass(frozen=True)
class Sign:
    """A sign: gloss, spoken-language word, dominant hand, movement, and how the other hand takes part.

    `hands` is `"one"` (the other hand rests), `"symmetric"` (the other hand mirrors the dominant one),
    `"alternating"` (mirrors it half a cycle late) or `"base"` (the other hand holds `base` still while the
    dominant hand acts on or above it; the dominant location is then `"base"`).
    """

    gloss: str
    word: str
    dominant: HandConfig
    movement: Movement
    hands: str = "one"
    base: HandConfig | None = None

    def __post_init__(self):
        if self.hands not in HAND_ARRANGEMENTS:
            raise InvalidInputError(
                f"Sign {self.gloss}: unknown `hands` {self.hands!r}; available: {HAND_ARRANGEMENTS}."
            )
        if (self.hands == "base") != (self.base is not None):
            raise InvalidInputError(f"Sign {self.gloss}: a `base` hand is given exactly when `hands` is 'base'.")
        if (self.dominant.location == "base") != (self.hands == "base"):
            raise InvalidInputError(
                f"Sign {self.gloss}: the dominant location is 'base' exactly when `hands` is 'base'."
            )

    @property
    def two_handed(self) -> bool:
        """Whether the non-dominant hand takes part."""
        return self.hands != "one"


def _sign(gloss, word, handshape, palm, fingers, location, movement, hands="one", base=None, **hand_kwargs):
    return Sign(gloss, word, HandConfig(handshape, palm, fingers, location, **hand_kwargs), movement, hands, base)


_TAP_OUT = Movement("repeated", "forward", 0.035, count=2)  # touch, leave, touch again
_TAP_UP_TWICE = Movement("repeated", "up", 0.05, count=2)
_BASE_PALM_UP = HandConfig("B", "up", "forward+contra", "neutral", offset=(0.02, 0.03, 0.03))
_BASE_FIST = HandConfig("S", "back+up", "contra", "neutral", offset=(0.02, 0.03, 0.03))
_BASE_HOOK = HandConfig("X", "up", "forward+contra", "neutral", offset=(0.02, 0.03, 0.03))
_NUMBER = {
    "palm": "back",
    "fingers": "up",
    "location": "neutral_ipsi",
    "movement": Movement("shake", "contra", 0.012, count=2),
}
_SYM, _ALT = "symmetric", "alternating"

# fmt: off
SIGNS: tuple[Sign, ...] = (
    # pronouns and possessive: the index finger points
    _sign("I", "I", "1", "contra", "back", "chest", Movement("repeated", "forward", 0.03)),
    _sign("YOU", "you", "1", "down", "forward", "neutral", Movement("straight", "forward", 0.06)),
    _sign("SHE", "she", "1", "forward", "ipsi+forward", "neutral_ipsi", Movement("straight", "ipsi", 0.05)),
    _sign("WE", "we", "1", "contra", "back", "chest_ipsi", Movement("arc", "contra", 0.17, "forward")),
    _sign("MY", "my", "B", "back", "up+contra", "chest", Movement("repeated", "forward", 0.025)),
    # time
    _sign("YESTERDAY", "yesterday", "A", "contra", "up", "cheek", Movement("arc", "back", 0.08, "up")),
    _sign("TOMORROW", "tomorrow", "A", "contra", "up", "cheek", Movement("arc", "forward", 0.08, "up")),
    _sign("TODAY", "today", "Y", "up", "forward", "neutral", Movement("repeated", "down", 0.06, count=2), _SYM),
    # verbs
    _sign("GO", "go", "1", "down", "up+forward", "chest_ipsi", Movement("arc", "forward", 0.2, "up"), _SYM),
    _sign("COME", "come", "1", "up", "up+forward", "neutral", Movement("arc", "back", 0.2, "up"), _SYM),
    _sign("EAT", "eat", "flat-O", "back", "up+contra", "mouth", _TAP_OUT),
    _sign("DRINK", "drink", "C", "contra", "up", "chin", Movement("arc", "back+up", 0.06, "up")),
    _sign("WANT", "want", "claw", "up", "forward", "neutral", Movement("straight", "back", 0.11), _SYM),
    _sign("LIKE", "like", "L", "back", "contra+down", "chest", Movement("straight", "forward", 0.12)),
    _sign("HAVE", "have", "bent-B", "back", "contra", "chest_ipsi", Movement("repeated", "forward", 0.04), _SYM),
    _sign("SEE", "see", "V", "back", "up", "eyes", Movement("straight", "forward", 0.14)),
    _sign("KNOW", "know", "B", "back", "up+contra", "forehead", _TAP_OUT),
    _sign("THINK", "think", "1", "back", "up+contra", "forehead", _TAP_OUT),
    _sign("WORK", "work", "S", "down", "forward+contra", "base", _TAP_UP_TWICE, "base", _BASE_FIST),
    _sign("HELP", "help", "A", "contra", "forward", "base", Movement("straight", "up", 0.12), "base", _BASE_PALM_UP),
    _sign("READ", "read", "V", "down", "down+forward", "base", Movement("straight", "back", 0.1), "base",
          _BASE_PALM_UP),
    _sign("BUY", "buy", "flat-O", "up", "forward", "base", Movement("arc", "forward", 0.14, "up"), "base",
          _BASE_PALM_UP),
    _sign("LIVE", "live", "A", "back", "up", "stomach", Movement("straight", "up", 0.14), _SYM),
    _sign("PLAY", "play", "Y", "back", "up+contra", "neutral", Movement("shake", "contra", 0.04, count=3), _ALT),
    _sign("WAIT", "wait", "5", "up", "forward+contra", "neutral", Movement("wiggle", count=3), _SYM),
    # things and places
    _sign("STORE", "store", "flat-O", "back", "down", "neutral", Movement("repeated", "forward", 0.05, count=2), _SYM),
    _sign("SCHOOL", "school", "B", "down", "forward+contra", "base", _TAP_UP_TWICE, "base", _BASE_PALM_UP),
    _sign("HOME", "home", "flat-O", "back", "up+contra", "cheek", _TAP_OUT),
    _sign("WATER", "water", "W", "back", "up+contra", "chin", _TAP_OUT),
    _sign("MOTHER", "mother", "5", "back", "up+contra", "chin", _TAP_OUT),
    _sign("FATHER", "father", "5", "back", "up+contra", "forehead", _TAP_OUT),
    _sign("FRIEND", "friend", "X", "down", "forward+contra", "base", Movement("circle", "forward", 0.03, "up"), "base",
          _BASE_HOOK),
    _sign("BOOK", "book", "B", "contra", "forward", "neutral", Movement("hold"), _SYM, end_palm="up",
          end_fingers="forward"),
    _sign("COFFEE", "coffee", "S", "down", "forward+contra", "base", Movement("circle", "ipsi", 0.035, "forward", 2),
          "base", _BASE_FIST),
    _sign("CAR", "car", "S", "back", "contra", "neutral", Movement("shake", "up", 0.05, count=2), _ALT),
    # qualities
    _sign("GOOD", "good", "B", "back", "up", "chin", Movement("straight", "forward+down", 0.14), end_palm="up",
          end_fingers="forward"),
    _sign("BAD", "bad", "B", "back", "up", "chin", Movement("straight", "forward+down", 0.14), end_palm="down",
          end_fingers="forward"),
    _sign("HAPPY", "happy", "B", "back", "contra", "chest", Movement("circle", "up", 0.045, "forward", 2)),
    _sign("SAD", "sad", "5", "back", "up", "eyes", Movement("straight", "down", 0.14), _SYM),
    _sign("TIRED", "tired", "bent-B", "back", "contra+up", "chest_ipsi", Movement("arc", "down", 0.08, "forward"),
          _SYM),
    _sign("HUNGRY", "hungry", "C", "back", "contra", "chest", Movement("straight", "down", 0.14)),
    _sign("BIG", "big", "L", "contra", "forward", "neutral", Movement("straight", "ipsi", 0.13), _SYM),
    _sign("SMALL", "small", "B", "contra", "forward", "neutral_ipsi", Movement("straight", "contra", 0.1), _SYM),
    _sign("HOT", "hot", "claw", "back", "up", "mouth", Movement("arc", "forward+down", 0.12, "ipsi")),
    _sign("COLD", "cold", "S", "back", "up", "chest_ipsi", Movement("shake", "contra", 0.015, count=4), _SYM),
    # questions and negation
    _sign("WHERE", "where", "1", "forward", "up", "neutral_high", Movement("shake", "contra", 0.035, count=2)),
    _sign("WHAT", "what", "5", "up", "forward+contra", "neutral", Movement("shake", "ipsi", 0.035, count=2), _SYM),
    _sign("WHO", "who", "L", "back", "up+contra", "chin", Movement("circle", "forward", 0.02, "contra", 2)),
    _sign("NOT", "not", "A", "contra", "up", "chin", Movement("straight", "forward", 0.12)),
    # numbers: same place, same movement, only the handshape differs
    _sign("ONE", "one", "1", **_NUMBER),
    _sign("TWO", "two", "V", **_NUMBER),
    _sign("THREE", "three", "W", **_NUMBER),
    _sign("FOUR", "four", "4", **_NUMBER),
    _sign("FIVE", "five", "5", **_NUMBER),
)
# fmt: on

VOCABULARY: dict[str, Sign] = {sign.gloss: sign for sign in SIGNS}

# Groups of signs that differ in exactly one parameter, by that parameter.
MINIMAL_PAIRS: dict[str, tuple[tuple[str, ...], ...]] = {
    "handshape": (
        ("ONE", "TWO", "THREE", "FOUR", "FIVE"),
        ("KNOW", "THINK", "FATHER"),
        ("MOTHER", "WATER"),
    ),
    "location": (("MOTHER", "FATHER"), ("EAT", "HOME")),
    "movement": (("WHAT", "WAIT"), ("WORK", "COFFEE"), ("YESTERDAY", "TOMORROW")),
    "orientation": (("GOOD", "BAD"),),
}


def lookup(gloss: str) -> Sign:
    """The `Sign` of a gloss, with a clear error for unknown glosses."""
    try:
        return VOCABULARY[gloss]
    except KeyError:
        raise InvalidInputError(f"Unknown gloss {gloss!r}; the vocabulary has {sorted(VOCABULARY)}.") from None


__all__ = ["HAND_ARRANGEMENTS", "MINIMAL_PAIRS", "SIGNS", "VOCABULARY", "Sign", "lookup"]
