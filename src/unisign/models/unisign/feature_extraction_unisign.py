"""Feature extractor for Uni-Sign: COCO-WholeBody-133 keypoints -> the pose inputs of the model.

The normalisation reproduces the reference implementation (Uni-Sign, ICLR 2025, `datasets.py`) number for number,
vectorised over frames: for a clip of `T` frames it returns `pose_values` of shape `(T, 69, 3)`, the four parts of
`keypoints.PART_NAMES` (body 9, left hand 21, right hand 21, face 18 nodes) along the node axis, channels
`(x, y, score)`. The RGB hand crops are the video processor's (`video_processing_unisign`).
"""

import itertools
import sys
from typing import NamedTuple

import numpy as np
from transformers import BatchFeature, FeatureExtractionMixin
from transformers.utils import logging

from .errors_unisign import UniSignInputError
from .keypoints import FACE_CENTER_NODE, HAND_ROOT_NODE, NUM_WHOLEBODY_KEYPOINTS, PART_INDICES, PART_NAMES
from .pose_sample import is_pose_sample


logger = logging.get_logger(__name__)

# |normalised coordinate| above this (of a point with a score) means pixels: `check_normalized_coordinates`
MAX_NORMALIZED_COORDINATE = 10.0
TEMPORAL_SAMPLING_MODES = ("uniform", "random")
# Settings of the RGB crops that processors saved before the video processor existed kept here (see `__init__`).
LEGACY_HAND_SETTINGS = (
    "hand_sampling",
    "hand_frame_fraction",
    "hand_crop_size",
    "hand_box_scale",
    "image_mean",
    "image_std",
)

# Node layout of `pose_values`: the parts back to back, in `PART_NAMES` order.
_NODE_INDICES = np.concatenate([PART_INDICES[name] for name in PART_NAMES])  # (69,) indices into the 133 points
_PART_SIZES = [len(PART_INDICES[name]) for name in PART_NAMES]
_PART_STARTS = [0, *itertools.accumulate(_PART_SIZES)][:-1]
_PART_SLICES = {
    name: slice(start, start + size) for name, start, size in zip(PART_NAMES, _PART_STARTS, _PART_SIZES, strict=True)
}
NUM_POSE_NODES = sum(_PART_SIZES)  # 69


def as_random_generator(rng=None) -> np.random.Generator | np.random.RandomState:
    """Turn `rng` (a seed, a numpy `Generator`, a legacy `RandomState`, or `None`) into something with `.choice`.

    A legacy `np.random.RandomState` is accepted because the reference drew its samples from numpy's global legacy
    generator: `np.random.RandomState(0)` reproduces the frames it picked after `np.random.seed(0)`.
    """
    if isinstance(rng, np.random.Generator | np.random.RandomState):
        return rng
    if rng is None or isinstance(rng, int | np.integer):
        return np.random.default_rng(rng)
    raise ValueError(
        "`rng` must be an int seed, a `numpy.random.Generator`, a `numpy.random.RandomState` or None, got "
        f"{type(rng).__name__}."
    )


def _centring() -> tuple[np.ndarray, np.ndarray]:
    """Per node of `pose_values`: the node its part is re-centred on per frame, and its factor after the scaling.

    Hands are re-centred on their wrist and the face on its nose tip (factor 1); the body is centred on its box
    instead (its centre entries are placeholders) and maps the box to [-1, 1] (factor 2).
    """
    centre_nodes = np.zeros(NUM_POSE_NODES, dtype=np.int64)  # (69,)
    gains = np.ones(NUM_POSE_NODES, dtype=np.float32)  # (69,)
    for part, centre in (("left_hand", HAND_ROOT_NODE), ("right_hand", HAND_ROOT_NODE), ("face", FACE_CENTER_NODE)):
        centre_nodes[_PART_SLICES[part]] = _PART_SLICES[part].start + centre
    gains[_PART_SLICES["body"]] = 2
    return centre_nodes, gains


_CENTRE_NODES, _GAINS = _centring()


def normalize_pose(
    keypoints: np.ndarray, scores: np.ndarray, score_threshold: float = 0.3, min_body_points: int = 4
) -> np.ndarray:
    """Normalise one clip of COCO-WholeBody-133 keypoints into the four Uni-Sign parts, exactly as the reference.

    The inputs are taken as they are: `UniSignPoseFeatureExtractor` validates them (shapes, finite values) first.

    1. Body: the confident body points (score > `score_threshold`) of all frames define a box; its larger side is
       the clip's `scale`. Body points are mapped into the square of side `scale` centred on that box, then to
       [-1, 1].
    2. Hands: minus their wrist, per frame, divided by `scale`. Face: minus its nose tip, per frame, divided by
       `scale`.
    3. All three channels are clipped to [-1, 1] (the reference clips the score channel too), then x, y and score
       are set to 0 wherever the score is <= `score_threshold`.
    4. Zero path: with fewer than `min_body_points` confident body points in the whole clip (or a zero-size box),
       every part is all zeros, as in the reference.

    Args:
        keypoints (`np.ndarray` of shape `(num_frames, 133, 2)`):
            `(x / width, y / height)` of each keypoint (anisotropic units for non-square frames, as the reference).
        scores (`np.ndarray` of shape `(num_frames, 133)`):
            Keypoint confidences.
        score_threshold (`float`, *optional*, defaults to 0.3):
            Confidence above which a keypoint counts.
        min_body_points (`int`, *optional*, defaults to 4):
            Confident body points the clip needs; fewer gives the all-zero output.

    Returns:
        `np.ndarray` of shape `(num_frames, 69, 3)`, float32: body (9), left hand (21), right hand (21), face (18)
        nodes; channels (x, y, score).
    """
    # Work on contiguous (x, y) planes of shape (T, 69): numpy is slow on a trailing axis of size 2 and on strided
    # operands, and np.take is much faster than fancy indexing.
    points = np.take(np.asarray(keypoints, dtype=np.float32), _NODE_INDICES, axis=1)  # (T, 69, 2)
    planes = np.ascontiguousarray(points.transpose(2, 0, 1))  # (2, T, 69)
    confidence = np.take(np.asarray(scores, dtype=np.float32), _NODE_INDICES, axis=1)  # (T, 69)
    body = _PART_SLICES["body"]
    confident = confidence[:, body] > score_threshold  # (T, 9)
    if np.count_nonzero(confident) < min_body_points:
        return np.zeros((*confidence.shape, 3), dtype=np.float32)
    lowest = np.where(confident, planes[:, :, body], np.inf).min((1, 2))  # (2,)
    highest = np.where(confident, planes[:, :, body], -np.inf).max((1, 2))  # (2,)
    scale = (highest - lowest).max()
    if scale == 0:
        return np.zeros((*confidence.shape, 3), dtype=np.float32)

    centres = np.take(planes, _CENTRE_NODES, axis=2)  # (2, T, 69): each hand's wrist, the face's nose tip, per frame
    # body: ((p - (box centre - scale / 2)) / scale - 0.5) * 2 == (p - box centre) * 2 / scale
    centres[:, :, body] = ((lowest + highest) / 2)[:, None, None]
    channels = np.empty((3, *confidence.shape), dtype=np.float32)  # (3, T, 69): x, y, score
    np.subtract(planes, centres, out=channels[:2])
    channels[:2] *= _GAINS / scale
    channels[2] = confidence
    np.clip(channels, -1, 1, out=channels)
    channels *= channels[2] > score_threshold  # zero x, y and score of unreliable points
    return np.stack(list(channels), axis=-1)  # (T, 69, 3); faster than a transposed copy


def sample_frame_indices(num_frames: int, max_frames: int, mode: str = "uniform", rng=None) -> np.ndarray:
    """Frame indices that sub-sample a clip to at most `max_frames` frames.

    Args:
        num_frames (`int`): Frames in the clip.
        max_frames (`int`): Most frames to keep.
        mode (`str`, *optional*, defaults to `"uniform"`):
            `"uniform"`: evenly spaced frames including the first and the last (deterministic, for evaluation);
            `"random"`: the reference's sorted random sample without replacement (also used by the reference at
            evaluation time, which made its scores on long clips stochastic).
        rng (*optional*): Seed, `np.random.Generator` or `np.random.RandomState` for `mode="random"`.

    Returns:
        `np.ndarray` of shape `(min(num_frames, max_frames),)`, int64, strictly increasing.
    """
    if mode not in TEMPORAL_SAMPLING_MODES:
        raise ValueError(f"Unknown temporal sampling mode {mode!r}. Available modes: {TEMPORAL_SAMPLING_MODES}.")
    if num_frames <= max_frames:
        return np.arange(num_frames, dtype=np.int64)
    if mode == "random":
        return np.sort(as_random_generator(rng).choice(num_frames, size=max_frames, replace=False)).astype(np.int64)
    # floor(x + 0.5) rather than np.round: banker's rounding could map two neighbours to the same frame
    return np.floor(np.linspace(0, num_frames - 1, max_frames) + 0.5).astype(np.int64)


def _is_pose_format_pose(clip) -> bool:
    """Whether `clip` is a `pose_format.Pose` (pose-format is optional: a `Pose` exists only if it is imported)."""
    pose_format = sys.modules.get("pose_format")
    return pose_format is not None and isinstance(clip, pose_format.Pose)


def check_normalized_coordinates(keypoints: np.ndarray, scores: np.ndarray, frame_size) -> None:
    """Raise when scored keypoints lie far outside the frame: pixel coordinates given without `frame_size`.

    Normalised points of a person in view are within about [-1, 2]; `MAX_NORMALIZED_COORDINATE` leaves room for
    estimates far outside the frame, and is still below any real frame's width in pixels.
    """
    visible = scores > 0
    if not visible.any():
        return
    largest = float(np.abs(keypoints[visible]).max())
    if largest > MAX_NORMALIZED_COORDINATE:
        hint = (
            "give `frame_size=(width, height)` for keypoints in pixels"
            if frame_size is None
            else f"`frame_size` {frame_size} is smaller than the frame they were measured in"
        )
        raise UniSignInputError(
            f"The keypoints reach {largest:g}, far outside the frame in (x / width, y / height) units: {hint}."
        )


def check_keypoints(keypoints, scores) -> tuple[np.ndarray, np.ndarray]:
    """Raise a clear `ValueError` unless a clip's keypoints and scores are COCO-WholeBody-133 frames, all finite.

    Used by the feature extractor and by the video processor (the one place for checks of pose values).

    Args:
        keypoints (array-like of shape `(num_frames, 133, 2)`): x, y per point.
        scores (array-like of shape `(num_frames, 133)`): detection confidence per point (0 for a missing one).

    Returns:
        `(keypoints, scores)` as float32 arrays.
    """
    keypoints = np.asarray(keypoints, dtype=np.float32)
    scores = np.asarray(scores, dtype=np.float32)
    if keypoints.ndim != 3 or keypoints.shape[1:] != (NUM_WHOLEBODY_KEYPOINTS, 2):
        raise UniSignInputError(
            f"`keypoints` must have shape (num_frames, {NUM_WHOLEBODY_KEYPOINTS}, 2) (COCO-WholeBody-133), got "
            f"{keypoints.shape}. Convert other layouts with `unisign.data.read_pose_file` first."
        )
    if scores.shape != keypoints.shape[:2]:
        raise UniSignInputError(
            f"`scores` must have shape {keypoints.shape[:2]} to match `keypoints`, got {scores.shape}."
        )
    if keypoints.shape[0] == 0:
        raise UniSignInputError("The clip has no frames: Uni-Sign needs at least one frame of keypoints.")
    if not (np.isfinite(keypoints).all() and np.isfinite(scores).all()):
        bad_frames = np.flatnonzero(~(np.isfinite(keypoints).all((1, 2)) & np.isfinite(scores).all(1)))
        raise UniSignInputError(
            f"The keypoints or scores contain NaN or infinite values (frames {bad_frames[:10].tolist()}"
            f"{'...' if bad_frames.size > 10 else ''}). Mark missing points with score 0 and finite coordinates."
        )
    return keypoints, scores


def _as_wholebody(clip, frame_size: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray]:
    """Read one clip given as a `PoseSample`, a `pose_format.Pose`, `(keypoints, scores)` or a `(T, 133, 3)` array.

    Returns `(keypoints (T, 133, 2), scores (T, 133))` in `(x / width, y / height)` units, validated.
    """
    # A `.pose` file's header gives its frame: the keypoints were divided by it, whatever units they came in. Files
    # of normalised poses (e.g. pose-format's `normalize`) can reach far beyond their header's frame, and per-clip
    # normalisation (`normalize_pose`) maps them to the same features as pixels, so only other clips are checked.
    framed_by_header = False
    if is_pose_sample(clip):
        keypoints, scores = clip.keypoints, clip.scores
        framed_by_header = "pose_format_layout" in (clip.extra or {}) and clip.width > 0 and clip.height > 0
    elif _is_pose_format_pose(clip):
        from .pose_file import pose_to_sample

        sample = pose_to_sample(clip)
        keypoints, scores = sample.keypoints, sample.scores
        framed_by_header = True
    elif isinstance(clip, tuple) and len(clip) == 2:
        keypoints, scores = np.asarray(clip[0]), np.asarray(clip[1])
    elif isinstance(clip, np.ndarray | list) or hasattr(clip, "numpy"):
        array = np.asarray(clip)
        if array.ndim != 3 or array.shape[-1] != 3:
            raise UniSignInputError(
                "A clip given as one array must have shape (num_frames, 133, 3) with channels (x, y, score), "
                f"got {array.shape}."
            )
        keypoints, scores = array[..., :2], array[..., 2]
    else:
        raise UniSignInputError(
            "Each clip must be a `PoseSample`, a `pose_format.Pose`, a `(keypoints, scores)` tuple or an array of "
            f"shape (num_frames, 133, 3); got {type(clip).__name__}."
        )
    keypoints, scores = check_keypoints(keypoints, scores)
    if frame_size is not None:
        width, height = frame_size
        if not (np.isfinite(width) and np.isfinite(height)) or width <= 0 or height <= 0:
            raise UniSignInputError(
                f"`frame_size` must be (width, height) in pixels, both finite and > 0, got {frame_size}."
            )
        keypoints = keypoints / np.array([width, height], dtype=np.float32)
    if not framed_by_header:
        check_normalized_coordinates(keypoints, scores, frame_size)
    return keypoints, scores


class SampledClip(NamedTuple):
    """One clip as the model will see it: keypoints after temporal sub-sampling, and where its frames come from."""

    keypoints: np.ndarray  # (T', 133, 2) in (x / width, y / height) units
    scores: np.ndarray  # (T', 133)
    frame_indices: np.ndarray  # (T',) index of each kept frame in the whole clip
    num_frames: int  # T, frames of the whole clip
    video_frame_offset: int  # index in its video of the clip's first frame (reference pose files with a `start`)


class UniSignPoseFeatureExtractor(FeatureExtractionMixin):
    r"""Turns clips of COCO-WholeBody-133 keypoints into the pose inputs of Uni-Sign.

    Per clip, in order:
    1. read the keypoints (a `PoseSample`, a `pose_format.Pose`, `(keypoints (T, 133, 2), scores (T, 133))` or a
       `(T, 133, 3)` array; pixel coordinates are divided by `frame_size` when it is given);
    2. sub-sample to at most `max_frames` frames (`"uniform"` by default, or the reference's `"random"`);
    3. normalise into the four parts (`normalize_pose`) -> `pose_values` `(T', 69, 3)`.

    A batch is padded to its longest clip by repeating each clip's last frame (`pose_attention_mask` is 0 there).

    Args:
        max_frames (`int`, *optional*, defaults to 256):
            Longest clip fed to the model (the reference uses 256, and 64 for isolated signs).
        score_threshold (`float`, *optional*, defaults to 0.3):
            Keypoint confidence above which a point counts (tuned for RTMPose/RTMW scores).
        min_body_points (`int`, *optional*, defaults to 4):
            Confident body points a clip needs; with fewer the clip's features are all zeros (the reference's
            fallback, logged as a warning).
        temporal_sampling (`str`, *optional*, defaults to `"uniform"`):
            Default sub-sampling of long clips: `"uniform"` (deterministic) or `"random"` (the reference, for
            training).
    """

    model_input_names = ["pose_values", "pose_attention_mask"]

    def __init__(
        self,
        max_frames: int = 256,
        score_threshold: float = 0.3,
        min_body_points: int = 4,
        temporal_sampling: str = "uniform",
        **kwargs,
    ):
        # processors saved before the video processor existed kept its settings here; `UniSignProcessor` reads them
        for name in LEGACY_HAND_SETTINGS:
            kwargs.pop(name, None)
        super().__init__(**kwargs)
        if max_frames < 1:
            raise ValueError(f"`max_frames` must be at least 1, got {max_frames}.")
        if not 0 <= score_threshold < 1:
            raise ValueError(f"`score_threshold` must be in [0, 1), got {score_threshold}.")
        if temporal_sampling not in TEMPORAL_SAMPLING_MODES:
            raise ValueError(
                f"Unknown `temporal_sampling` {temporal_sampling!r}. Available modes: {TEMPORAL_SAMPLING_MODES}."
            )
        self.max_frames = max_frames
        self.score_threshold = score_threshold
        self.min_body_points = min_body_points
        self.temporal_sampling = temporal_sampling

    def sample_clip(
        self, clip, temporal_sampling: str | None = None, rng=None, frame_size: tuple[int, int] | None = None
    ) -> SampledClip:
        """Read and check one clip, and sub-sample it to at most `max_frames` frames (steps 1 and 2).

        Args:
            clip: A `PoseSample`, a `pose_format.Pose`, `(keypoints (T, 133, 2), scores (T, 133))` or an array of
                shape `(T, 133, 3)`.
            temporal_sampling (`str`, *optional*): Overrides `self.temporal_sampling` for long clips.
            rng (*optional*): Seed, `np.random.Generator` or `np.random.RandomState` for `"random"`.
            frame_size (`tuple[int, int]`, *optional*): `(width, height)` when the keypoints are in pixels.

        Returns:
            `SampledClip`; the video processor crops its hands from it.
        """
        keypoints, scores = _as_wholebody(clip, frame_size)
        num_frames = keypoints.shape[0]
        frame_indices = sample_frame_indices(
            num_frames, self.max_frames, temporal_sampling or self.temporal_sampling, as_random_generator(rng)
        )  # (T',)
        if len(frame_indices) < num_frames:
            keypoints, scores = keypoints[frame_indices], scores[frame_indices]  # (T', 133, 2), (T', 133)
        offset = clip.extra.get("video_frame_offset", 0) if is_pose_sample(clip) else 0
        return SampledClip(keypoints, scores, frame_indices, num_frames, offset)

    def encode_clip(self, clip: SampledClip) -> dict[str, np.ndarray]:
        """`pose_values` `(T', 69, 3)` float32 and `pose_attention_mask` `(T',)` (all ones) of a sampled clip."""
        pose_values = normalize_pose(clip.keypoints, clip.scores, self.score_threshold, self.min_body_points)
        if not pose_values[:, _PART_SLICES["body"], 2].any():  # only the zero path has no confident body point
            logger.warning_once(
                f"A clip has fewer than {self.min_body_points} body keypoints with score > {self.score_threshold} "
                "(or they all coincide): its pose features are all zeros (the reference's fallback)."
            )
        return {"pose_values": pose_values, "pose_attention_mask": np.ones(len(pose_values), dtype=np.int64)}

    def extract(
        self, clip, temporal_sampling: str | None = None, rng=None, frame_size: tuple[int, int] | None = None
    ) -> dict[str, np.ndarray]:
        """Features of one clip, unpadded (what a `Dataset` returns per sample; `pad` batches them).

        Args: see `sample_clip`.

        Returns:
            `dict[str, np.ndarray]`: `pose_values` `(T', 69, 3)` float32, `pose_attention_mask` `(T',)` int64 (all
            ones).
        """
        return self.encode_clip(self.sample_clip(clip, temporal_sampling, rng, frame_size))

    def pad(self, features: list[dict], return_tensors: str | None = None) -> BatchFeature:
        """Batch the per-clip outputs of `extract`.

        Args:
            features (`list[dict]`):
                One dict per clip with `pose_values` `(T_i, 69, 3)` and optionally `pose_attention_mask` `(T_i,)`
                (numpy arrays, torch tensors or nested lists); other entries are ignored.
            return_tensors (`str`, *optional*): `"pt"` or `"np"`; plain numpy arrays when `None`.

        Returns:
            `BatchFeature` with `pose_values` `(B, T, 69, 3)` (padded by repeating each clip's last frame) and
            `pose_attention_mask` `(B, T)` (1 on real frames).
        """
        if not features:
            raise ValueError("Cannot pad an empty list of clips.")
        clips = [np.asarray(feature["pose_values"], dtype=np.float32) for feature in features]
        for index, clip in enumerate(clips):
            if clip.ndim != 3 or clip.shape[1:] != (NUM_POSE_NODES, 3) or clip.shape[0] == 0:
                raise ValueError(
                    f"`pose_values` of clip {index} must have shape (num_frames >= 1, {NUM_POSE_NODES}, 3), "
                    f"got {clip.shape}."
                )
        lengths = [
            int(np.asarray(feature.get("pose_attention_mask", np.ones(len(clip)))).sum())
            for feature, clip in zip(features, clips, strict=True)
        ]
        longest = max(len(clip) for clip in clips)
        batch = {
            "pose_values": np.stack(
                [np.concatenate([clip, np.repeat(clip[-1:], longest - len(clip), 0)]) for clip in clips]
            ),  # (B, T, 69, 3)
            "pose_attention_mask": (np.arange(longest)[None] < np.array(lengths)[:, None]).astype(np.int64),  # (B, T)
        }
        return BatchFeature(batch, tensor_type=return_tensors)

    def __call__(
        self,
        poses,
        temporal_sampling: str | None = None,
        rng=None,
        frame_size: tuple[int, int] | None = None,
        return_tensors: str | None = None,
    ) -> BatchFeature:
        """Features of one clip or a batch of clips (see the class docstring for the steps).

        Args:
            poses: One clip or a list of clips, each as `sample_clip` takes it (a 4-D array is a batch of
                `(T, 133, 3)` clips).
            temporal_sampling (`str`, *optional*): `"uniform"` or `"random"`; defaults to `self.temporal_sampling`.
            rng (*optional*): Seed, `np.random.Generator` or `np.random.RandomState` shared by the clips, in order.
            frame_size (`tuple[int, int]`, *optional*): `(width, height)` when the keypoints are in pixels.
            return_tensors (`str`, *optional*): `"pt"` or `"np"`.

        Returns:
            `BatchFeature`: see `pad`.
        """
        clips, _, _ = batch_clips(poses)
        rng = as_random_generator(rng)
        features = [self.extract(clip, temporal_sampling, rng, frame_size) for clip in clips]
        return self.pad(features, return_tensors=return_tensors)


def batch_clips(poses, frames=None, videos=None) -> tuple[list, list, list]:
    """Split `poses` (one clip or a list of clips) and the matching `frames` / `videos` into per-clip lists.

    A list (or a 4-D array) is a batch; anything else is one clip. Returns `(clips, frames, videos)`, each with one
    entry per clip (`None` where not given).
    """
    is_batch = isinstance(poses, list) or (isinstance(poses, np.ndarray) and poses.ndim == 4)
    clips = list(poses) if is_batch else [poses]
    if not clips:
        raise ValueError("`poses` is an empty list: give at least one clip.")
    per_clip = []
    for name, value in (("frames", frames), ("videos", videos)):
        if value is None:
            per_clip.append([None] * len(clips))
        elif not is_batch:
            per_clip.append([value])
        elif isinstance(value, list | tuple) and len(value) == len(clips):
            per_clip.append(list(value))
        else:
            received = len(value) if isinstance(value, list | tuple) else type(value).__name__
            raise ValueError(f"`{name}` must be a list with one entry per clip ({len(clips)}), got {received}.")
    return clips, per_clip[0], per_clip[1]


__all__ = [
    "SampledClip",
    "UniSignPoseFeatureExtractor",
    "as_random_generator",
    "normalize_pose",
    "sample_frame_indices",
]
