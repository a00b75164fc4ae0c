"""A procedural sign-language data generator: COCO-WholeBody-133 keypoint clips of a small made-up sign language.

Signs are built from phonological parameters (`phonology`, `lexicon`), sentences from a small grammar with
English translations (`grammar`), performed by varied signers (`signer`, `motion`, `body`) and observed by a
simulated keypoint detector (`detection`). `generator` writes Parquet datasets; `render` draws RGB frames.

>>> from unisign.synthetic import generate_clip, generate_dataset, sample_signer
>>> clip = generate_clip(["YESTERDAY", "STORE", "I", "GO"], sample_signer(3), seed=0)
>>> clip.keypoints.shape[1:], clip.scores.shape[1:]
((133, 2), (133,))

An optional part of the package (`pip install "unisign[synthetic]"`): nothing else imports it unless asked to use
synthetic data.
"""

import importlib.util

from .generator import (
    GENERATOR_VERSION,
    generate_clip,
    generate_dataset,
    load_generated_dataset,
    regenerate_clean,
)
from .grammar import TEMPLATES, Utterance, isolated_utterance, sample_utterance
from .lexicon import MINIMAL_PAIRS, VOCABULARY, Sign, lookup
from .render import Appearance, contact_sheet, render_pose, render_sample
from .signer import Signer, sample_signer


# the extra's dependencies (imported lazily by the modules above), checked here rather than deep inside a call
_missing = [name for name in ("datasets", "PIL") if importlib.util.find_spec(name) is None]
if _missing:
    raise ImportError(f"`unisign.synthetic` needs {_missing}: install it with `pip install 'unisign[synthetic]'`.")

__all__ = [
    "GENERATOR_VERSION",
    "MINIMAL_PAIRS",
    "TEMPLATES",
    "VOCABULARY",
    "Appearance",
    "Sign",
    "Signer",
    "Utterance",
    "contact_sheet",
    "generate_clip",
    "generate_dataset",
    "isolated_utterance",
    "load_generated_dataset",
    "lookup",
    "regenerate_clean",
    "render_pose",
    "render_sample",
    "sample_signer",
    "sample_utterance",
]
