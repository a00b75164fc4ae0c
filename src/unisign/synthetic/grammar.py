"""Sentences of the synthetic sign language and their targets: gloss order, and the English translation.

The sign language is topic-first with time signs at the front and negation (`NOT`) and wh-signs at the end; it
has no articles, copula, tense or agreement. English puts the subject first, the time last, and adds the function
words and inflections. For example `YESTERDAY STORE I GO` is "I went to the store yesterday." and
`YOU LIKE COFFEE` signed with raised brows and the head tilted forward is "Do you like coffee?" (without that
non-manual marker it is "You like coffee.").

Targets: ISLR is the sign's word, CSLR the space-joined glosses, SLT the English sentence.
"""

from dataclasses import dataclass

import numpy as np

from ..utils.errors import InvalidInputError
from .lexicon import VOCABULARY


# ---------------------------------------------------------------------------------------------------------------
# English forms
# ---------------------------------------------------------------------------------------------------------------
PRONOUNS = {"I": ("I", "1s"), "YOU": ("you", "2"), "SHE": ("she", "3s"), "WE": ("we", "1p")}
PEOPLE = {"MOTHER": "mother", "FATHER": "father", "FRIEND": "friend"}
# base, third person singular, past, -ing
VERBS = {
    "GO": ("go", "goes", "went", "going"),
    "COME": ("come", "comes", "came", "coming"),
    "EAT": ("eat", "eats", "ate", "eating"),
    "DRINK": ("drink", "drinks", "drank", "drinking"),
    "WANT": ("want", "wants", "wanted", "wanting"),
    "LIKE": ("like", "likes", "liked", "liking"),
    "HAVE": ("have", "has", "had", "having"),
    "SEE": ("see", "sees", "saw", "seeing"),
    "KNOW": ("know", "knows", "knew", "knowing"),
    "THINK": ("think", "thinks", "thought", "thinking"),
    "WORK": ("work", "works", "worked", "working"),
    "HELP": ("help", "helps", "helped", "helping"),
    "READ": ("read", "reads", "read", "reading"),
    "BUY": ("buy", "buys", "bought", "buying"),
    "LIVE": ("live", "lives", "lived", "living"),
    "PLAY": ("play", "plays", "played", "playing"),
    "WAIT": ("wait", "waits", "waited", "waiting"),
}
# verbs that take the progressive with TODAY ("I am going ... today"); the others stay simple ("I want ... today")
DYNAMIC_VERBS = {"GO", "COME", "EAT", "DRINK", "WORK", "HELP", "READ", "BUY", "PLAY", "WAIT"}
TIMES = {"YESTERDAY": "past", "TOMORROW": "future", "TODAY": "today"}
PLACES = {"STORE": "to the store", "SCHOOL": "to school", "HOME": "home"}
OBJECTS = {"COFFEE": "coffee", "WATER": "water", "BOOK": "the book", "CAR": "the car", "SCHOOL": "school"}
VERB_OBJECTS = {  # which objects each transitive verb takes; "PERSON" is MY + a person
    "LIKE": ("COFFEE", "WATER", "BOOK", "CAR", "SCHOOL"),
    "WANT": ("COFFEE", "WATER", "BOOK", "CAR"),
    "DRINK": ("COFFEE", "WATER"),
    "BUY": ("COFFEE", "BOOK", "CAR"),
    "READ": ("BOOK",),
    "SEE": ("CAR", "BOOK", "PERSON"),
    "HELP": ("PERSON",),
    "KNOW": ("PERSON",),
}
NUMBERS = {"ONE": "one", "TWO": "two", "THREE": "three", "FOUR": "four", "FIVE": "five"}
COUNTABLE = {"BOOK": ("book", "books"), "CAR": ("car", "cars"), "FRIEND": ("friend", "friends")}
PERSON_ADJECTIVES = {
    "HAPPY": "happy",
    "SAD": "sad",
    "TIRED": "tired",
    "HUNGRY": "hungry",
    "COLD": "cold",
    "HOT": "hot",
}
THINGS = {  # thing -> (English, adjectives it takes)
    "BOOK": ("the book", ("BIG", "SMALL", "GOOD", "BAD")),
    "CAR": ("the car", ("BIG", "SMALL", "GOOD", "BAD")),
    "SCHOOL": ("the school", ("BIG", "SMALL", "GOOD", "BAD")),
    "STORE": ("the store", ("BIG", "SMALL", "GOOD", "BAD")),
    "COFFEE": ("the coffee", ("HOT", "COLD", "GOOD", "BAD")),
    "WATER": ("the water", ("HOT", "COLD", "GOOD", "BAD")),
}
WH_VERBS = {
    "WHERE": ("LIVE", "WORK", "PLAY", "EAT", "GO"),
    "WHAT": ("WANT", "READ", "EAT", "BUY", "LIKE", "THINK", "DRINK"),
    "WHO": ("SEE", "HELP", "LIKE", "KNOW"),
}
WANT_TO_VERBS = ("EAT", "DRINK", "PLAY", "WORK", "READ", "WAIT", "HELP")


@dataclass(frozen=True)
class Utterance:
    """A clip's content: glosses in signing order, the English text, the template, and the question marker."""

    glosses: tuple[str, ...]
    text: str
    template: str
    question: bool = False


@dataclass(frozen=True)
class _Subject:
    glosses: tuple[str, ...]
    english: str
    person: str  # "1s", "2", "3s", "1p"


def _choice(rng: np.random.Generator, options):
    options = list(options)
    return options[int(rng.integers(len(options)))]


def _subject(rng: np.random.Generator, pronouns=tuple(PRONOUNS), people: bool = True) -> _Subject:
    """A pronoun, or MY + a person (a third of the time when allowed)."""
    if people and rng.random() < 1 / 3:
        person = _choice(rng, PEOPLE)
        return _Subject(("MY", person), f"my {PEOPLE[person]}", "3s")
    pronoun = _choice(rng, pronouns)
    return _Subject((pronoun,), *PRONOUNS[pronoun])


def _tense(time: str | None, verb: str) -> str:
    if time is None:
        return "present"
    tense = TIMES[time]
    if tense == "today":
        return "progressive" if verb in DYNAMIC_VERBS else "present"
    return tense


def _be(person: str, tense: str) -> str:
    if tense == "past":
        return "was" if person in ("1s", "3s") else "were"
    if tense == "future":
        return "will be"
    return {"1s": "am", "3s": "is"}.get(person, "are")


def _verb_phrase(verb: str, person: str, tense: str, negated: bool) -> str:
    """The inflected verb with its auxiliaries: "went", "did not go", "will go", "is going", "does not go"."""
    base, third, past, ing = VERBS[verb]
    if tense == "progressive":
        return f"{_be(person, 'present')} {'not ' if negated else ''}{ing}"
    if tense == "future":
        return f"will {'not ' if negated else ''}{base}"
    if tense == "past":
        return f"did not {base}" if negated else past
    if negated:
        return f"{'does' if person == '3s' else 'do'} not {base}"
    return third if person == "3s" else base


def _sentence(words: list[str], end: str = ".") -> str:
    text = " ".join(word for word in words if word)
    return text[0].upper() + text[1:] + end


def _maybe_time(rng: np.random.Generator, probability: float) -> str | None:
    return _choice(rng, TIMES) if rng.random() < probability else None


def _time_glosses(time: str | None) -> tuple[str, ...]:
    return () if time is None else (time,)


def _time_word(time: str | None) -> str:
    return "" if time is None else VOCABULARY[time].word


def _travel(rng: np.random.Generator) -> Utterance:
    time, place, verb = _choice(rng, TIMES), _choice(rng, PLACES), _choice(rng, ("GO", "COME"))
    subject, negated = _subject(rng), rng.random() < 0.2
    phrase = _verb_phrase(verb, subject.person, _tense(time, verb), negated)
    glosses = (time, place, *subject.glosses, verb) + (("NOT",) if negated else ())
    return Utterance(glosses, _sentence([subject.english, phrase, PLACES[place], _time_word(time)]), "travel")


def _object(rng: np.random.Generator, verb: str, subject: _Subject) -> tuple[tuple[str, ...], str]:
    choices = [obj for obj in VERB_OBJECTS[verb] if obj != "PERSON" or subject.glosses[0] != "MY"]
    obj = _choice(rng, choices or VERB_OBJECTS[verb])
    if obj == "PERSON":
        person = _choice(rng, PEOPLE)
        return ("MY", person), f"my {PEOPLE[person]}"
    return (obj,), OBJECTS[obj]


def _topic(rng: np.random.Generator) -> Utterance:
    time, verb, negated = _maybe_time(rng, 0.35), _choice(rng, VERB_OBJECTS), rng.random() < 0.2
    subject = _subject(rng, people=verb not in ("HELP", "KNOW"))
    obj_glosses, obj_english = _object(rng, verb, subject)
    phrase = _verb_phrase(verb, subject.person, _tense(time, verb), negated)
    glosses = _time_glosses(time) + obj_glosses + subject.glosses + (verb,) + (("NOT",) if negated else ())
    return Utterance(glosses, _sentence([subject.english, phrase, obj_english, _time_word(time)]), "topic")


def _have(rng: np.random.Generator) -> Utterance:
    subject, number, noun = _subject(rng), _choice(rng, NUMBERS), _choice(rng, COUNTABLE)
    phrase = _verb_phrase("HAVE", subject.person, "present", False)
    singular, plural = COUNTABLE[noun]
    words = [subject.english, phrase, NUMBERS[number], singular if number == "ONE" else plural]
    return Utterance((*subject.glosses, "HAVE", number, noun), _sentence(words), "have")


def _describe(rng: np.random.Generator) -> Utterance:
    time, negated = _maybe_time(rng, 0.3), rng.random() < 0.2
    tense = "present" if time in (None, "TODAY") else TIMES[time]
    if rng.random() < 0.5:
        subject = _subject(rng)
        glosses, english, person = subject.glosses, subject.english, subject.person
        adjective = _choice(rng, PERSON_ADJECTIVES)
        adjective_word = PERSON_ADJECTIVES[adjective]
    else:
        thing = _choice(rng, THINGS)
        english, adjectives = THINGS[thing]
        glosses, person = (thing,), "3s"
        adjective = _choice(rng, adjectives)
        adjective_word = VOCABULARY[adjective].word
    be = _be(person, tense)
    be = be.replace("will", "will not") if negated and tense == "future" else be + (" not" if negated else "")
    words = [english, be, adjective_word, _time_word(time)]
    all_glosses = _time_glosses(time) + glosses + (adjective,) + (("NOT",) if negated else ())
    return Utterance(all_glosses, _sentence(words), "describe")


def _wh_question(rng: np.random.Generator) -> Utterance:
    wh = _choice(rng, WH_VERBS)
    verb, time = _choice(rng, WH_VERBS[wh]), _maybe_time(rng, 0.3)
    subject = _subject(rng)
    tense = _tense(time, verb)
    base, _, _, ing = VERBS[verb]
    if tense == "progressive":
        words = [VOCABULARY[wh].word, _be(subject.person, "present"), subject.english, ing]
    else:
        auxiliary = {"past": "did", "future": "will"}.get(tense, "does" if subject.person == "3s" else "do")
        words = [VOCABULARY[wh].word, auxiliary, subject.english, base]
    glosses = _time_glosses(time) + subject.glosses + (verb, wh)
    return Utterance(glosses, _sentence([*words, _time_word(time)], "?"), "wh_question")


def _yes_no(rng: np.random.Generator) -> Utterance:
    verb, question = _choice(rng, VERB_OBJECTS), bool(rng.random() < 0.5)
    subject = _subject(rng, pronouns=("YOU", "SHE", "WE"), people=verb not in ("HELP", "KNOW"))
    obj_glosses, obj_english = _object(rng, verb, subject)
    if question:
        auxiliary = "does" if subject.person == "3s" else "do"
        text = _sentence([auxiliary, subject.english, VERBS[verb][0], obj_english], "?")
    else:
        text = _sentence([subject.english, _verb_phrase(verb, subject.person, "present", False), obj_english])
    return Utterance((*subject.glosses, verb, *obj_glosses), text, "yes_no", question)


def _want_to(rng: np.random.Generator) -> Utterance:
    subject, verb, negated = _subject(rng), _choice(rng, WANT_TO_VERBS), rng.random() < 0.25
    phrase = _verb_phrase("WANT", subject.person, "present", negated)
    glosses = (*subject.glosses, "WANT", verb) + (("NOT",) if negated else ())
    return Utterance(glosses, _sentence([subject.english, phrase, "to", VERBS[verb][0]]), "want_to")


TEMPLATES = {
    "travel": _travel,
    "topic": _topic,
    "have": _have,
    "describe": _describe,
    "wh_question": _wh_question,
    "yes_no": _yes_no,
    "want_to": _want_to,
}
TEMPLATE_WEIGHTS = {"travel": 1.0, "topic": 1.2, "have": 0.8, "describe": 1.2, "wh_question": 1.0}
TEMPLATE_WEIGHTS |= {"yes_no": 1.0, "want_to": 0.8}


def sample_utterance(rng: np.random.Generator, templates: tuple[str, ...] | None = None) -> Utterance:
    """Draw one sentence.

    Args:
        rng (`np.random.Generator`): the random stream.
        templates (`tuple[str]`, *optional*): restrict to these templates (keys of `TEMPLATES`); all by default.

    Returns:
        `Utterance`
    """
    names = list(TEMPLATES) if templates is None else list(templates)
    unknown = [name for name in names if name not in TEMPLATES]
    if unknown or not names:
        raise InvalidInputError(f"Unknown or no templates {unknown or names}; available: {list(TEMPLATES)}.")
    weights = np.array([TEMPLATE_WEIGHTS[name] for name in names])
    name = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    return TEMPLATES[name](rng)


def isolated_utterance(gloss: str) -> Utterance:
    """One sign on its own (ISLR): the target text is the sign's word."""
    if gloss not in VOCABULARY:
        raise InvalidInputError(f"Unknown gloss {gloss!r}; the vocabulary has {sorted(VOCABULARY)}.")
    return Utterance((gloss,), VOCABULARY[gloss].word, "isolated")


__all__ = ["TEMPLATES", "Utterance", "isolated_utterance", "sample_utterance"]
