"""A new SentencePiece vocabulary for a randomly initialised language model, trained on a run's own texts.

mT5's 250,112-piece vocabulary would make a small language model mostly embedding; a run that starts from a random
language model (`model.text_config`) can instead train a vocabulary of a few hundred pieces on its training targets
(sentences, glosses, words) and prompts, with mT5's special ids (pad 0, eos 1, unk 2, no bos), and load it as the
mT5 tokenizer class (`T5Tokenizer`, `legacy=False`, no sentinel tokens), so that processors and exports work as with
mT5's own.
"""

import io
from collections.abc import Iterable
from pathlib import Path

from transformers import T5Tokenizer

from ..utils.errors import InvalidInputError


def train_sentencepiece_tokenizer(texts: Iterable[str], folder: str | Path, vocab_size: int) -> T5Tokenizer:
    """Train a unigram SentencePiece model on `texts` and save it in `folder` as an mT5-style tokenizer.

    Args:
        texts: The training texts (every target and prompt the model will see).
        folder: Where `spiece.model` and the tokenizer files are written.
        vocab_size: Most pieces (special tokens included); fewer when the texts hold fewer distinct pieces.

    Returns:
        The `T5Tokenizer`, also saved in `folder` (loadable with `AutoTokenizer.from_pretrained(folder)`).

    Raises:
        ValueError: if there is no text or `vocab_size` is too small to hold the special tokens and a few pieces.
    """
    import sentencepiece

    texts = [text for text in texts if text and text.strip()]
    if not texts:
        raise InvalidInputError("A tokenizer needs training texts, got none (or only blank ones).")
    if vocab_size < 8:
        raise InvalidInputError(
            f"`vocab_size` must be at least 8 (3 special tokens and some pieces), got {vocab_size}."
        )
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=model,
        vocab_size=vocab_size,
        hard_vocab_limit=False,  # a small corpus may hold fewer pieces than asked
        model_type="unigram",
        character_coverage=1.0,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        num_threads=1,  # deterministic
        minloglevel=2,
    )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "spiece.model").write_bytes(model.getvalue())
    tokenizer = T5Tokenizer.from_pretrained(folder, extra_ids=0, legacy=False)
    tokenizer.save_pretrained(folder)
    return tokenizer
