"""Few-shot sign enrollment: teach a trained model new signs from a handful of example clips, without training.

Each example clip is embedded with the model (`SignEmbedder`): the clip runs through the pose encoder and the
language model's encoder under the isolated-sign (ISLR) prompt, and the decoder's state at its first step (or the
masked mean of the encoder's states over the clip's real frames) is L2-normalised. A `SignVocabulary` keeps, per
sign, the embeddings of its examples and the model they came from (a fingerprint of its config and weights); a new
clip is recognised by its cosine similarity to each sign's prototype (the normalised mean of its examples) or to its
nearest examples (k-NN).

A vocabulary is two files, `vocabulary.safetensors` (the embeddings) and `vocabulary.json` (sign names, model
fingerprint, embedding method): safe to load (no pickle) and pushable to the Hub beside or inside a model folder.

>>> from unisign.apps.few_shot import SignEmbedder, enroll, recognize
>>> embedder = SignEmbedder.from_pretrained("path/to/model")
>>> vocabulary = enroll(embedder, {"HELLO": ["hello1.pose", "hello2.pose"], "THANKS": ["thanks1.pose"]})
>>> vocabulary.save("my_vocabulary")
>>> recognize(embedder, vocabulary, "clip.pose", top_k=3)
[('HELLO', 0.93), ('THANKS', 0.41)]
"""

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..models.unisign.pose_sample import PoseSample
from ..utils.errors import InvalidInputError, MissingInputError, UsageError


EMBEDDINGS = ("decoder", "encoder", "pose")  # where the clip's vector is read (see `SignEmbedder`)
METHODS = ("prototype", "knn")  # how a clip is matched to the enrolled signs (see `SignVocabulary.scores`)
WEIGHTS_NAME, INDEX_NAME = "vocabulary.safetensors", "vocabulary.json"
FORMAT_VERSION = 1
MIN_CLIP_FRAMES = 4  # fewer frames cannot show a sign's movement (the synthetic signs last 15 or more)
POSE_SUFFIXES = (".pose", ".pkl")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
ISLR_TASK = "ISLR"


def sign_key(name: str) -> str:
    """The form under which two sign names count as the same sign: Unicode-normalised, stripped, case-folded."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def model_fingerprint(model) -> str:
    """A cheap identity of a model's weights: SHA-256 of its architecture and of a few trained tensors.

    Reads the pose projection and the language model's final layer norms (a few thousand numbers, milliseconds even
    for mT5-base): training or fine-tuning moves them all, so two models with other weights differ.
    """
    config = model.config.to_dict()
    architecture = {key: config[key] for key in sorted(config) if key not in ("_name_or_path", "transformers_version")}
    digest = hashlib.sha256(json.dumps(architecture, sort_keys=True, default=str).encode())
    language_model = model.language_model
    tensors = [
        model.pose_projection.weight,
        model.pose_projection.bias,
        language_model.get_encoder().final_layer_norm.weight,
        language_model.get_decoder().final_layer_norm.weight,
    ]
    for tensor in tensors:
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


class SignEmbedder:
    """Clips -> L2-normalised vectors read from a Uni-Sign model's encoder.

    `embedding` chooses where: `"decoder"` takes the decoder's last hidden state at its first step, under the ISLR
    prompt (what predicts the sign's first word); `"encoder"` averages the language model's encoder states over the
    clip's frames; `"pose"` averages the pose encoder's features (before the language model). `"decoder"` was the
    most accurate on the few-shot benchmark's validation draw (docs/few_shot.md).

    Args:
        model: A `UniSignForConditionalGeneration` (pose-only).
        processor: Its `UniSignProcessor`.
        embedding (`str`, *optional*, defaults to `"decoder"`): One of `EMBEDDINGS`.
        name (`str`, *optional*): Where the model came from, stored in vocabularies for messages.
    """

    def __init__(self, model, processor, embedding: str = "decoder", name: str | None = None):
        if embedding not in EMBEDDINGS:
            raise UsageError(f"Unknown embedding {embedding!r}; available: {list(EMBEDDINGS)}.")
        if model.config.use_rgb:
            raise InvalidInputError("Few-shot enrollment uses pose-only models; this one needs hand crops (use_rgb).")
        self.model = model.eval()
        self.processor = processor
        self.embedding = embedding
        self.name = name or model.config._name_or_path or "model"
        self.fingerprint = model_fingerprint(model)
        has_islr_prompt = any(key.endswith(f"/{ISLR_TASK}") for key in processor.prompts)
        self.task = ISLR_TASK if has_islr_prompt else None

    @classmethod
    def from_pretrained(cls, reference: str | Path, embedding: str = "decoder") -> "SignEmbedder":
        """Load the model and processor of a folder, Hub id or released name."""
        from ..hub.released import resolve_released_model
        from ..models.unisign.modeling_unisign import UniSignForConditionalGeneration
        from ..models.unisign.processing_unisign import UniSignProcessor
        from ..utils.errors import one_line
        from ..utils.validation import checked_model

        reference = resolve_released_model(str(reference))
        try:
            folder = checked_model(reference)
            model = UniSignForConditionalGeneration.from_pretrained(folder, dtype=torch.float32)
            processor = UniSignProcessor.from_pretrained(folder)
        except (OSError, ValueError) as error:
            if isinstance(error, InvalidInputError | UsageError):
                raise
            raise InvalidInputError(f"Could not load a Uni-Sign model from `{reference}`: {one_line(error)}") from None
        return cls(model, processor, embedding, name=str(reference))

    @torch.no_grad()
    def embed(self, clips: Sequence[PoseSample], batch_size: int = 32) -> torch.Tensor:
        """Embed clips.

        Args:
            clips: `PoseSample`s (at least `MIN_CLIP_FRAMES` frames each).
            batch_size (`int`, *optional*, defaults to 32): Clips per forward pass.

        Returns:
            `torch.FloatTensor` of shape `(len(clips), dim)`, each row of unit length.
        """
        for clip in clips:
            check_clip_length(clip)
        # a model that does not mask padded frames lets them leak into a clip's last frames: batch equal lengths only
        max_frames = self.processor.feature_extractor.max_frames
        groups: dict[int, list[int]] = {}
        for index, clip in enumerate(clips):
            length = 0 if self.model.config.mask_padded_frames else min(clip.num_frames, max_frames)
            groups.setdefault(length, []).append(index)
        result = torch.zeros(len(clips), self.dim)
        for indices in groups.values():
            for start in range(0, len(indices), batch_size):
                chunk = indices[start : start + batch_size]
                result[chunk] = self._embed_batch([clips[i] for i in chunk]).cpu()
        return result

    @property
    def dim(self) -> int:
        """Length of the vectors `embed` returns."""
        if self.embedding == "pose":
            return self.model.pose_projection.in_features
        return self.model.config.text_config.d_model

    def _embed_batch(self, clips: list[PoseSample]) -> torch.Tensor:
        # on the model's device (a demo on a GPU); the vectors come back to the CPU
        inputs = self.processor(poses=clips, task=self.task, return_tensors="pt").to(self.model.device)
        frame_mask = inputs["pose_attention_mask"].float()  # (B, T)
        model = self.model
        if self.embedding == "pose":
            states = model.pose_encoder(inputs["pose_values"], inputs["pose_attention_mask"])  # (B, T, 4C)
            return _masked_mean(states, frame_mask)
        encoder_inputs = model.embed_inputs(
            inputs["input_ids"], inputs["pose_values"], inputs["pose_attention_mask"], inputs["attention_mask"]
        )
        encoder = model.get_encoder()(
            inputs_embeds=encoder_inputs.inputs_embeds, attention_mask=encoder_inputs.attention_mask
        )
        if self.embedding == "encoder":
            frames = encoder.last_hidden_state[:, -frame_mask.shape[1] :]  # (B, T, D): the pose tokens come last
            return _masked_mean(frames, frame_mask)
        start = torch.full((len(clips), 1), model.config.decoder_start_token_id, device=model.device)
        decoder = model.language_model.get_decoder()(
            input_ids=start,
            encoder_hidden_states=encoder.last_hidden_state,
            encoder_attention_mask=encoder_inputs.attention_mask,
        )
        return torch.nn.functional.normalize(decoder.last_hidden_state[:, 0].float(), dim=-1)  # (B, D)


def _masked_mean(states: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
    """`(B, T, D)` states averaged over the real frames of `frame_mask` `(B, T)`, then L2-normalised: `(B, D)`."""
    total = (states.float() * frame_mask[..., None]).sum(1)
    mean = total / frame_mask.sum(1, keepdim=True).clamp(min=1.0)
    return torch.nn.functional.normalize(mean, dim=-1)


def check_clip_length(clip: PoseSample) -> None:
    """Refuse, in one line naming the clip, a clip too short to show a sign."""
    if clip.num_frames < MIN_CLIP_FRAMES:
        raise InvalidInputError(
            f"Clip {clip.id!r} has {clip.num_frames} frame(s): a sign needs at least {MIN_CLIP_FRAMES}."
        )


@dataclass
class SignVocabulary:
    """Enrolled signs: per sign, the embeddings of its examples; and the model and embedding they came from.

    Args:
        fingerprint (`str`): `model_fingerprint` of the model that embedded the examples.
        embedding (`str`): The `SignEmbedder.embedding` used.
        model_name (`str`): Where that model came from (for messages).
        signs (`dict[str, torch.Tensor]`): Sign name -> `(num_examples, dim)` unit vectors, in enrollment order.
    """

    fingerprint: str
    embedding: str
    model_name: str = "model"
    signs: dict[str, torch.Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.signs)

    @property
    def names(self) -> list[str]:
        """Sign names in enrollment order."""
        return list(self.signs)

    def add(self, name: str, embeddings: torch.Tensor) -> None:
        """Enroll one sign from the `(num_examples, dim)` embeddings of its examples.

        Raises:
            InvalidInputError: for a sign without examples, a name already enrolled (case and spacing aside), or
                vectors of another length than the vocabulary's.
        """
        if not name.strip():
            raise InvalidInputError("A sign name is empty.")
        if embeddings.ndim != 2 or embeddings.shape[0] == 0:
            raise InvalidInputError(f"Sign {name!r} has no examples: give at least one clip of it.")
        existing = {sign_key(other): other for other in self.signs}
        if sign_key(name) in existing:
            raise InvalidInputError(
                f"Two signs are named {name!r} (the vocabulary has {existing[sign_key(name)]!r}): give each sign "
                "one name, or enroll its examples together."
            )
        if self.signs and embeddings.shape[1] != self.dim:
            raise InvalidInputError(f"Sign {name!r}: vectors of length {embeddings.shape[1]}, not {self.dim}.")
        self.signs[name] = embeddings.detach().float().cpu()

    @property
    def dim(self) -> int:
        """Length of the vectors (0 for an empty vocabulary)."""
        return next(iter(self.signs.values())).shape[1] if self.signs else 0

    def check_compatible(self, embedder: SignEmbedder, source: str = "the vocabulary") -> None:
        """Refuse, in one line, a vocabulary made with another model or embedding than `embedder`'s."""
        if self.fingerprint != embedder.fingerprint:
            raise InvalidInputError(
                f"{source} was made with another model ({self.model_name}, fingerprint {self.fingerprint}) than "
                f"{embedder.name} (fingerprint {embedder.fingerprint}): enroll the signs again with this model."
            )
        if self.embedding != embedder.embedding:
            raise InvalidInputError(
                f"{source} holds {self.embedding!r} embeddings, not {embedder.embedding!r}: use the same embedding."
            )

    def merge(self, other: "SignVocabulary") -> "SignVocabulary":
        """A new vocabulary with the signs of both (same model and embedding; no sign in both)."""
        if (other.fingerprint, other.embedding) != (self.fingerprint, self.embedding):
            raise InvalidInputError("The vocabularies come from different models or embeddings; they cannot merge.")
        merged = SignVocabulary(self.fingerprint, self.embedding, self.model_name, dict(self.signs))
        for name, embeddings in other.signs.items():
            merged.add(name, embeddings)
        return merged

    def prototypes(self) -> torch.Tensor:
        """`(num_signs, dim)`: each sign's normalised mean embedding, in `names` order."""
        means = torch.stack([embeddings.mean(0) for embeddings in self.signs.values()])
        return torch.nn.functional.normalize(means, dim=-1)

    def scores(self, embeddings: torch.Tensor, method: str = "prototype", k: int = 3) -> torch.Tensor:
        """Cosine similarity of each clip to each sign.

        Args:
            embeddings (`torch.Tensor` of shape `(num_clips, dim)`): Unit vectors from the same `SignEmbedder`.
            method (`str`, *optional*, defaults to `"prototype"`): `"prototype"`: similarity to the sign's
                prototype; `"knn"`: mean similarity to the sign's `k` nearest examples (all of them when it has fewer).
            k (`int`, *optional*, defaults to 3): Neighbours per sign for `"knn"`.

        Returns:
            `torch.Tensor` of shape `(num_clips, num_signs)`, in `names` order.
        """
        if not self.signs:
            raise InvalidInputError("The vocabulary is empty: enroll at least one sign first.")
        if method == "prototype":
            return embeddings.float() @ self.prototypes().T
        if method != "knn":
            raise UsageError(f"Unknown method {method!r}; available: {list(METHODS)}.")
        columns = []
        for examples in self.signs.values():
            similarity = embeddings.float() @ examples.T  # (N, n_examples)
            columns.append(similarity.topk(min(k, examples.shape[0]), dim=1).values.mean(1))
        return torch.stack(columns, dim=1)

    def save(self, folder: str | Path) -> Path:
        """Write `vocabulary.safetensors` and `vocabulary.json` into `folder` (created; may be a model folder)."""
        from safetensors.torch import save_file

        if not self.signs:
            raise InvalidInputError("The vocabulary is empty: there is nothing to save.")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        embeddings = torch.cat(list(self.signs.values())).contiguous()
        labels = torch.cat([torch.full((len(e),), i, dtype=torch.int64) for i, e in enumerate(self.signs.values())])
        save_file({"embeddings": embeddings, "labels": labels}, str(folder / WEIGHTS_NAME))
        index = {
            "format_version": FORMAT_VERSION,
            "model_fingerprint": self.fingerprint,
            "model_name": self.model_name,
            "embedding": self.embedding,
            "signs": self.names,
            "examples_per_sign": [len(e) for e in self.signs.values()],
        }
        (folder / INDEX_NAME).write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n")
        return folder

    @classmethod
    def load(cls, reference: str | Path) -> "SignVocabulary":
        """Load a vocabulary: a folder, one of its two files, a model folder holding one, or a Hub repo id.

        A model folder may hold the two files beside its own or in a `vocabulary/` subfolder.

        Raises:
            MissingInputError: when there is no vocabulary there.
            InvalidInputError: for an empty or damaged vocabulary (one line naming the file).
        """
        folder = _vocabulary_folder(reference)
        index_path, weights_path = folder / INDEX_NAME, folder / WEIGHTS_NAME
        try:
            index = json.loads(index_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidInputError(f"{index_path} is not a vocabulary index (JSON): {error}.") from None
        required = {"format_version", "model_fingerprint", "embedding", "signs", "examples_per_sign"}
        if not isinstance(index, dict) or not required <= set(index):
            raise InvalidInputError(f"{index_path} is not a vocabulary index: it lacks {sorted(required)}.")
        if index["format_version"] != FORMAT_VERSION:
            version = index["format_version"]
            raise InvalidInputError(f"{index_path} has format version {version}, not {FORMAT_VERSION}.")
        names, counts = index["signs"], index["examples_per_sign"]
        if not names:
            raise InvalidInputError(f"{index_path} holds no signs: enroll at least one.")
        if len(names) != len(counts) or not all(isinstance(n, str) for n in names):
            raise InvalidInputError(f"{index_path}: `signs` and `examples_per_sign` do not match.")
        embeddings, labels = _read_weights(weights_path)
        expected = torch.repeat_interleave(torch.arange(len(names)), torch.tensor(counts, dtype=torch.int64))
        if embeddings.ndim != 2 or not torch.equal(labels, expected) or len(embeddings) != len(labels):
            raise InvalidInputError(f"{weights_path} does not match {index_path} (other signs or example counts).")
        if not torch.isfinite(embeddings).all():
            raise InvalidInputError(f"{weights_path} holds NaN or infinite embeddings.")
        vocabulary = cls(index["model_fingerprint"], index["embedding"], index.get("model_name", "model"))
        for i, (name, part) in enumerate(zip(names, embeddings.split(counts), strict=True)):
            if len(part) == 0:
                raise InvalidInputError(f"{index_path}: sign {names[i]!r} has no examples.")
            vocabulary.add(name, part)
        return vocabulary


def _vocabulary_folder(reference: str | Path) -> Path:
    """The local folder holding `vocabulary.json` and `vocabulary.safetensors` (downloaded for a Hub id)."""
    path = Path(reference)
    if path.is_file() and path.name in (INDEX_NAME, WEIGHTS_NAME):
        path = path.parent
    if path.is_dir():
        for candidate in (path, path / "vocabulary"):
            if (candidate / INDEX_NAME).is_file() or (candidate / WEIGHTS_NAME).is_file():
                for name in (INDEX_NAME, WEIGHTS_NAME):
                    if not (candidate / name).is_file():
                        raise InvalidInputError(f"{candidate} has no {name}: a vocabulary is both files.")
                return candidate
        raise MissingInputError(f"`{path}` holds no vocabulary ({INDEX_NAME} and {WEIGHTS_NAME}).")
    if path.exists() or str(reference).count("/") != 1 or str(reference).startswith((".", "/")):
        raise MissingInputError(f"`{reference}` is no vocabulary folder (nor a Hub repo id).")
    from huggingface_hub import snapshot_download

    try:
        local = snapshot_download(str(reference), allow_patterns=[INDEX_NAME, WEIGHTS_NAME, "vocabulary/*"])
    except (OSError, ValueError) as error:  # the Hub's refusals (offline, no such repo, a bad id): one line
        raise MissingInputError(f"Could not get a vocabulary from the Hub repo `{reference}`: {error}") from None
    return _vocabulary_folder(local)


def _read_weights(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise InvalidInputError(f"{path} is not a readable safetensors file: {error}.") from None
    if set(tensors) != {"embeddings", "labels"}:
        raise InvalidInputError(f"{path} holds {sorted(tensors)}, not `embeddings` and `labels`.")
    return tensors["embeddings"].float(), tensors["labels"].long()


# ----------------------------------------------------------------------------------------------------------------
# Example sources
# ----------------------------------------------------------------------------------------------------------------
def examples_from_folder(folder: str | Path) -> dict[str, list[Path]]:
    """`<folder>/<sign>/<anything>.pose` (or `.pkl`, or a video) -> `{sign: [files]}`, signs and files sorted.

    Raises:
        InvalidInputError: for a sign folder without any clip, or a folder without sign folders.
    """
    folder = Path(folder)
    signs = {}
    for sign_folder in sorted(path for path in folder.iterdir() if path.is_dir() and not path.name.startswith(".")):
        files = sorted(
            path
            for path in sign_folder.iterdir()
            if path.is_file() and path.suffix.lower() in POSE_SUFFIXES + VIDEO_SUFFIXES
        )
        if not files:
            raise InvalidInputError(
                f"Sign {sign_folder.name!r} has no examples: {sign_folder} holds no .pose, .pkl or video file."
            )
        signs[sign_folder.name] = files
    if not signs:
        raise InvalidInputError(f"{folder} holds no sign folders: lay the examples out as <sign>/<name>.pose.")
    return signs


def examples_from_dataset(folder: str | Path, split: str) -> dict[str, list[PoseSample]]:
    """The isolated-sign clips of a dataset split (`save_pose_dataset` layout), grouped by their text.

    Clips of several glosses (sentences) are left out: a vocabulary entry is one sign.
    """
    from ..data import load_pose_dataset, sample_from_row

    try:
        dataset = load_pose_dataset(folder, split=split)
    except ValueError as error:  # `datasets` refuses an unknown split with a plain ValueError
        if isinstance(error, InvalidInputError):
            raise
        raise InvalidInputError(f"Could not read split {split!r} of {folder}: {error}") from None
    signs: dict[str, list[PoseSample]] = {}
    for row in dataset.with_format("numpy"):
        sample = sample_from_row(row)
        if sample.gloss is not None and len(sample.gloss) != 1:
            continue
        name = sample.gloss[0] if sample.gloss else sample.text
        if name:
            signs.setdefault(str(name), []).append(sample)
    if not signs:
        raise InvalidInputError(f"Split {split!r} of {folder} has no isolated-sign clips to enroll.")
    return signs


def load_clip(source: str | Path | PoseSample) -> PoseSample:
    """A `PoseSample` as it is, or read from a `.pose`/`.pkl` file or extracted from a video."""
    if isinstance(source, PoseSample):
        return source
    from ..extraction import load_poses
    from ..utils.errors import input_errors

    with input_errors(source):  # the readers' refusals of a damaged file, one line naming it
        return load_poses(source, progress=False)


def _clip_fingerprint(clip: PoseSample) -> str:
    """A digest of a clip's keypoints and scores: equal for copies of one clip, whatever their names."""
    digest = hashlib.sha256()
    for values in (clip.keypoints, clip.scores):
        digest.update(str(values.shape).encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


def enroll(
    embedder: SignEmbedder,
    examples: Mapping[str, Iterable[str | Path | PoseSample]],
    vocabulary: SignVocabulary | None = None,
    batch_size: int = 32,
) -> SignVocabulary:
    """Embed each sign's example clips and add the signs to a vocabulary.

    Args:
        embedder: The `SignEmbedder` of the model to enroll with.
        examples: Sign name -> its example clips (files or `PoseSample`s).
        vocabulary (*optional*): A vocabulary to extend (made with the same model and embedding); a new one when
            `None`. It is not changed: the result is a new vocabulary.
        batch_size (`int`, *optional*, defaults to 32): Clips per forward pass.

    Returns:
        `SignVocabulary`.
    """
    if vocabulary is None:
        result = SignVocabulary(embedder.fingerprint, embedder.embedding, embedder.name)
    else:
        vocabulary.check_compatible(embedder, "The vocabulary to extend")
        result = SignVocabulary(vocabulary.fingerprint, vocabulary.embedding, vocabulary.model_name)
        result.signs = dict(vocabulary.signs)
    batch = {name: [load_clip(clip) for clip in clips] for name, clips in examples.items()}
    keys = {}
    for name in batch:  # before embedding anything: a clash in the examples themselves
        if sign_key(name) in keys:
            raise InvalidInputError(f"Two signs are named {name!r} and {keys[sign_key(name)]!r}: give each one name.")
        keys[sign_key(name)] = name
    owners = {}  # the same clip under two signs would make them one: a mistake in the examples
    for name, clips in batch.items():
        for clip in clips:
            owner = owners.setdefault(_clip_fingerprint(clip), name)
            if owner != name:
                raise InvalidInputError(
                    f"The same clip ({clip.id or 'unnamed'}) is an example of both {owner!r} and {name!r}: give each "
                    "sign its own clips."
                )
    for name, clips in batch.items():
        if not clips:
            raise InvalidInputError(f"Sign {name!r} has no examples: give at least one clip of it.")
        result.add(name, embedder.embed(clips, batch_size))
    return result


def recognize(
    embedder: SignEmbedder,
    vocabulary: SignVocabulary,
    clip: str | Path | PoseSample,
    top_k: int = 5,
    method: str = "prototype",
) -> list[tuple[str, float]]:
    """The `top_k` enrolled signs most similar to a clip, best first, with their cosine similarity.

    Raises:
        InvalidInputError: for a vocabulary from another model, or a clip too short.
    """
    if top_k < 1:
        raise UsageError(f"`top_k` must be at least 1, got {top_k}.")
    vocabulary.check_compatible(embedder)
    scores = vocabulary.scores(embedder.embed([load_clip(clip)]), method)[0]
    best = scores.topk(min(top_k, len(scores)))
    return [(vocabulary.names[i], float(v)) for v, i in zip(best.values, best.indices, strict=True)]


def top_k_accuracy(scores: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    """Percentage of rows of `scores` `(N, S)` whose label `(N,)` is among their `k` highest columns."""
    top = scores.topk(min(k, scores.shape[1]), dim=1).indices
    return float((top == labels[:, None]).any(1).float().mean() * 100)


__all__ = [
    "EMBEDDINGS",
    "INDEX_NAME",
    "METHODS",
    "MIN_CLIP_FRAMES",
    "WEIGHTS_NAME",
    "SignEmbedder",
    "SignVocabulary",
    "check_clip_length",
    "enroll",
    "examples_from_dataset",
    "examples_from_folder",
    "load_clip",
    "model_fingerprint",
    "recognize",
    "sign_key",
    "top_k_accuracy",
]
