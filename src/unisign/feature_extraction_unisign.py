"""Feature extractor for Uni-Sign: COCO-WholeBody-133 keypoints (and optionally RGB frames) -> model inputs.

The normalisation reproduces the reference implementation (Uni-Sign, ICLR 2025, `datasets.py`) number for number,
vectorised over frames: for a clip of `T` frames it returns `pose_values` of shape `(T, 69, 3)`, the four parts of
`keypoints.PART_NAMES` (body 9, left hand 21, right hand 21, face 18 nodes) along the node axis, channels
`(x, y, score)`.
"""

import itertools
import sys

import numpy as np
from transformers import BatchFeature, FeatureExtractionMixin
from transformers.utils import logging

from .data.sample import PoseSample
from .keypoints import (
    FACE_CENTER_NODE,
    HAND_ROOT_NODE,
    LEFT_HAND_INDICES,
    NUM_WHOLEBODY_KEYPOINTS,
    PART_INDICES,
    PART_NAMES,
    RIGHT_HAND_INDICES,
)
from .video_processing_unisign import (
    HAND_SAMPLING_MODES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    as_random_generator,
    crop_hands,
    sample_hand_frames,
)


logger = logging.get_logger(__name__)

# |normalised coordinate| above this (of a point with a score) means pixels: `check_normalized_coordinates`
MAX_NORMALIZED_COORDINATE = 10.0
TEMPORAL_SAMPLING_MODES = ("uniform", "random")
HAND_FEATURE_NAMES = ("hand_pixel_values", "hand_keypoints", "hand_frame_indices", "hand_sides")

# Node layout of `pose_values`: the parts back to back, in `PART_NAMES` order.
_NODE_INDICES = np.concatenate([PART_INDICES[name] for name in PART_NAMES])  # (69,) indices into the 133 points
_PART_SIZES = [len(PART_INDICES[name]) for name in PART_NAMES]
_PART_STARTS = [0, *itertools.accumulate(_PART_SIZES)][:-1]
_PART_SLICES = {
    name: slice(start, start + size) for name, start, size in zip(PART_NAMES, _PART_STARTS, _PART_SIZES, strict=True)
}
NUM_POSE_NODES = sum(_PART_SIZES)  # 69


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
        raise ValueError(
            f"The keypoints reach {largest:g}, far outside the frame in (x / width, y / height) units: {hint}."
        )


def _as_wholebody(clip, frame_size: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray]:
    """Read one clip given as a `PoseSample`, a `pose_format.Pose`, `(keypoints, scores)` or a `(T, 133, 3)` array.

    Returns `(keypoints (T, 133, 2), scores (T, 133))` in `(x / width, y / height)` units, validated.
    """
    if isinstance(clip, PoseSample):
        keypoints, scores = clip.keypoints, clip.scores
    elif _is_pose_format_pose(clip):
        from .data.pose_file import pose_to_sample

        sample = pose_to_sample(clip)
        keypoints, scores = sample.keypoints, sample.scores
    elif isinstance(clip, tuple) and len(clip) == 2:
        keypoints, scores = np.asarray(clip[0]), np.asarray(clip[1])
    elif isinstance(clip, np.ndarray | list) or hasattr(clip, "numpy"):
        array = np.asarray(clip)
        if array.ndim != 3 or array.shape[-1] != 3:
            raise ValueError(
                "A clip given as one array must have shape (num_frames, 133, 3) with channels (x, y, score), "
                f"got {array.shape}."
            )
        keypoints, scores = array[..., :2], array[..., 2]
    else:
        raise ValueError(
            "Each clip must be a `PoseSample`, a `pose_format.Pose`, a `(keypoints, scores)` tuple or an array of "
            f"shape (num_frames, 133, 3); got {type(clip).__name__}."
        )
    keypoints = np.asarray(keypoints, dtype=np.float32)
    scores = np.asarray(scores, dtype=np.float32)
    if keypoints.ndim != 3 or keypoints.shape[1:] != (NUM_WHOLEBODY_KEYPOINTS, 2):
        raise ValueError(
            f"`keypoints` must have shape (num_frames, {NUM_WHOLEBODY_KEYPOINTS}, 2) (COCO-WholeBody-133), got "
            f"{keypoints.shape}. Convert other layouts with `unisign.data.read_pose_file` first."
        )
    if scores.shape != keypoints.shape[:2]:
        raise ValueError(f"`scores` must have shape {keypoints.shape[:2]} to match `keypoints`, got {scores.shape}.")
    if keypoints.shape[0] == 0:
        raise ValueError("The clip has no frames: Uni-Sign needs at least one frame of keypoints.")
    if not (np.isfinite(keypoints).all() and np.isfinite(scores).all()):
        bad_frames = np.flatnonzero(~(np.isfinite(keypoints).all((1, 2)) & np.isfinite(scores).all(1)))
        raise ValueError(
            f"The keypoints or scores contain NaN or infinite values (frames {bad_frames[:10].tolist()}"
            f"{'...' if bad_frames.size > 10 else ''}). Mark missing points with score 0 and finite coordinates."
        )
    if frame_size is not None:
        width, height = frame_size
        if not (np.isfinite(width) and np.isfinite(height)) or width <= 0 or height <= 0:
            raise ValueError(f"`frame_size` must be (width, height) in pixels, both finite and > 0, got {frame_size}.")
        keypoints = keypoints / np.array([width, height], dtype=np.float32)
    check_normalized_coordinates(keypoints, scores, frame_size)
    return keypoints, scores


class UniSignPoseFeatureExtractor(FeatureExtractionMixin):
    r"""Turns clips of COCO-WholeBody-133 keypoints (and optionally their RGB frames) into Uni-Sign model inputs.

    Per clip, in order:
    1. read the keypoints (a `PoseSample`, a `pose_format.Pose`, `(keypoints (T, 133, 2), scores (T, 133))` or a
       `(T, 133, 3)` array; pixel coordinates are divided by `frame_size` when it is given);
    2. sub-sample to at most `max_frames` frames (`"uniform"` by default, or the reference's `"random"`);
    3. normalise into the four parts (`normalize_pose`) -> `pose_values` `(T', 69, 3)`;
    4. with RGB frames (an array or a video file): sample the frames of each hand (`"top"` by default, or the
       reference's `"random"`), decode only those frames and crop the hands -> `hand_*` features.

    A batch is padded to its longest clip by repeating each clip's last frame (`pose_attention_mask` is 0 there), and
    the hand crops of the whole batch are concatenated: all left-hand crops of sample 0, 1, ..., then all right-hand
    crops, with `hand_sample_indices` giving each crop's sample.

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
        hand_sampling (`str`, *optional*, defaults to `"top"`):
            Default choice of hand frames: `"top"` (deterministic) or `"random"` (the reference, for training).
        hand_frame_fraction (`float`, *optional*, defaults to 0.1):
            Share of the frames with a visible hand that are cropped.
        hand_crop_size (`int`, *optional*, defaults to 112):
            Side of the hand crops.
        hand_box_scale (`float`, *optional*, defaults to 1.2):
            Margin of the crop box around the largest hand extent.
        image_mean (`list[float]`, *optional*, defaults to the ImageNet mean):
            Per-channel mean of the crop normalisation.
        image_std (`list[float]`, *optional*, defaults to the ImageNet standard deviation):
            Per-channel standard deviation of the crop normalisation.
    """

    model_input_names = ["pose_values", "pose_attention_mask"]

    def __init__(
        self,
        max_frames: int = 256,
        score_threshold: float = 0.3,
        min_body_points: int = 4,
        temporal_sampling: str = "uniform",
        hand_sampling: str = "top",
        hand_frame_fraction: float = 0.1,
        hand_crop_size: int = 112,
        hand_box_scale: float = 1.2,
        image_mean: list[float] | None = None,
        image_std: list[float] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if max_frames < 1:
            raise ValueError(f"`max_frames` must be at least 1, got {max_frames}.")
        if not 0 <= score_threshold < 1:
            raise ValueError(f"`score_threshold` must be in [0, 1), got {score_threshold}.")
        if not 0 < hand_frame_fraction <= 1:
            raise ValueError(f"`hand_frame_fraction` must be in (0, 1], got {hand_frame_fraction}.")
        if temporal_sampling not in TEMPORAL_SAMPLING_MODES:
            raise ValueError(
                f"Unknown `temporal_sampling` {temporal_sampling!r}. Available modes: {TEMPORAL_SAMPLING_MODES}."
            )
        if hand_sampling not in HAND_SAMPLING_MODES:
            raise ValueError(f"Unknown `hand_sampling` {hand_sampling!r}. Available modes: {HAND_SAMPLING_MODES}.")
        self.max_frames = max_frames
        self.score_threshold = score_threshold
        self.min_body_points = min_body_points
        self.temporal_sampling = temporal_sampling
        self.hand_sampling = hand_sampling
        self.hand_frame_fraction = hand_frame_fraction
        self.hand_crop_size = hand_crop_size
        self.hand_box_scale = hand_box_scale
        self.image_mean = list(IMAGENET_MEAN if image_mean is None else image_mean)
        self.image_std = list(IMAGENET_STD if image_std is None else image_std)

    def extract(
        self,
        clip,
        frames: np.ndarray | None = None,
        video: str | None = None,
        temporal_sampling: str | None = None,
        hand_sampling: str | None = None,
        rng=None,
        frame_size: tuple[int, int] | None = None,
    ) -> dict[str, np.ndarray]:
        """Features of one clip, unpadded (what a `Dataset` returns per sample; `pad` batches them).

        Args:
            clip: A `PoseSample`, a `pose_format.Pose`, `(keypoints (T, 133, 2), scores (T, 133))` or an array of
                shape `(T, 133, 3)`.
            frames (`np.ndarray` of shape `(T, height, width, 3)`, uint8, *optional*):
                The clip's RGB frames, aligned 1:1 with its keypoints. Enables the hand crops.
            video (`str`, *optional*):
                Path of the clip's video instead of `frames` (only the needed frames are decoded; its frame count
                must equal the keypoints').
            temporal_sampling (`str`, *optional*): Overrides `self.temporal_sampling` for long clips.
            hand_sampling (`str`, *optional*): Overrides `self.hand_sampling`.
            rng (*optional*): Seed, `np.random.Generator` or `np.random.RandomState` for the random modes.
            frame_size (`tuple[int, int]`, *optional*):
                `(width, height)` when the keypoints are in pixels.

        Returns:
            `dict[str, np.ndarray]`: `pose_values` `(T', 69, 3)` float32, `pose_attention_mask` `(T',)` int64 (all
            ones), and with frames or a video the `hand_*` entries of `video_processing_unisign.crop_hands`.
        """
        if frames is not None and video is not None:
            raise ValueError("Give either `frames` or `video` for a clip, not both.")
        keypoints, scores = _as_wholebody(clip, frame_size)
        rng = as_random_generator(rng)
        num_pose_frames = keypoints.shape[0]
        frame_indices = sample_frame_indices(
            num_pose_frames, self.max_frames, temporal_sampling or self.temporal_sampling, rng
        )  # (T',)
        if len(frame_indices) < num_pose_frames:
            keypoints, scores = keypoints[frame_indices], scores[frame_indices]  # (T', 133, 2), (T', 133)
        pose_values = normalize_pose(keypoints, scores, self.score_threshold, self.min_body_points)  # (T', 69, 3)
        if not pose_values[:, _PART_SLICES["body"], 2].any():  # only the zero path has no confident body point
            logger.warning_once(
                f"A clip has fewer than {self.min_body_points} body keypoints with score > {self.score_threshold} "
                "(or they all coincide): its pose features are all zeros (the reference's fallback)."
            )
        features = {"pose_values": pose_values, "pose_attention_mask": np.ones(len(frame_indices), dtype=np.int64)}
        if frames is None and video is None:
            return features

        mode = hand_sampling or self.hand_sampling
        left, right = (
            sample_hand_frames(scores[:, part], mode, rng, self.score_threshold, self.hand_frame_fraction)
            for part in (LEFT_HAND_INDICES, RIGHT_HAND_INDICES)
        )
        needed = np.union1d(left, right)  # indices into the sub-sampled clip
        offset = clip.extra.get("video_frame_offset", 0) if isinstance(clip, PoseSample) else 0
        images = _load_frames(frames, video, frame_indices[needed], num_pose_frames, offset)  # (len(needed), H, W, 3)
        features.update(
            crop_hands(
                dict(zip(needed.tolist(), images, strict=True)),
                keypoints,
                left,
                right,
                self.hand_crop_size,
                self.hand_box_scale,
                tuple(self.image_mean),
                tuple(self.image_std),
            )
        )
        return features

    def pad(self, features: list[dict], return_tensors: str | None = None) -> BatchFeature:
        """Batch the per-clip outputs of `extract`.

        Args:
            features (`list[dict]`):
                One dict per clip with `pose_values` `(T_i, 69, 3)`, optionally `pose_attention_mask` `(T_i,)` and
                the `hand_*` entries (numpy arrays, torch tensors or nested lists).
            return_tensors (`str`, *optional*): `"pt"` or `"np"`; plain numpy arrays when `None`.

        Returns:
            `BatchFeature` with `pose_values` `(B, T, 69, 3)` (padded by repeating each clip's last frame),
            `pose_attention_mask` `(B, T)` (1 on real frames), and, when the clips have hand crops,
            `hand_pixel_values` `(N, 3, S, S)`, `hand_keypoints` `(N, 21, 2)`, `hand_frame_indices` `(N,)`,
            `hand_sample_indices` `(N,)` and `hand_sides` `(N,)`, ordered by hand side, then sample.
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
        with_hands = [all(name in feature for name in HAND_FEATURE_NAMES) for feature in features]
        if any(with_hands) and not all(with_hands):
            raise ValueError(
                "Either every clip of a batch has hand crops or none has; clips "
                f"{np.flatnonzero(with_hands).tolist()} have them and the others do not."
            )
        if all(with_hands):
            batch.update(_concatenate_hands(features))
        return BatchFeature(batch, tensor_type=return_tensors)

    def __call__(
        self,
        poses,
        frames=None,
        videos=None,
        temporal_sampling: str | None = None,
        hand_sampling: str | None = None,
        rng=None,
        frame_size: tuple[int, int] | None = None,
        return_tensors: str | None = None,
    ) -> BatchFeature:
        """Features of one clip or a batch of clips (see the class docstring for the steps).

        Args:
            poses: One clip or a list of clips, each as `extract` takes it (a 4-D array is a batch of
                `(T, 133, 3)` clips).
            frames (*optional*): The RGB frames of each clip (`(T, height, width, 3)` uint8), matching `poses`.
            videos (*optional*): A video path per clip instead of `frames`.
            temporal_sampling (`str`, *optional*): `"uniform"` or `"random"`; defaults to `self.temporal_sampling`.
            hand_sampling (`str`, *optional*): `"top"` or `"random"`; defaults to `self.hand_sampling`.
            rng (*optional*): Seed, `np.random.Generator` or `np.random.RandomState` shared by the clips, in order.
            frame_size (`tuple[int, int]`, *optional*): `(width, height)` when the keypoints are in pixels.
            return_tensors (`str`, *optional*): `"pt"` or `"np"`.

        Returns:
            `BatchFeature`: see `pad`.
        """
        clips, frames, videos = batch_clips(poses, frames, videos)
        rng = as_random_generator(rng)
        features = [
            self.extract(clip, clip_frames, video, temporal_sampling, hand_sampling, rng, frame_size)
            for clip, clip_frames, video in zip(clips, frames, videos, strict=True)
        ]
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


def _load_frames(frames, video, needed_frames: np.ndarray, num_pose_frames: int, video_offset: int) -> np.ndarray:
    """The RGB frames at `needed_frames` (indices into the clip), from an array aligned with the clip or a video.

    `video_offset` is the video index of the clip's first frame (reference pose files with a `start`).
    """
    if video is not None:
        from .data.video import read_video_frames

        return read_video_frames(video, needed_frames, num_pose_frames=num_pose_frames, frame_offset=video_offset)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"`frames` must have shape (num_frames, height, width, 3), got {frames.shape}.")
    if len(frames) != num_pose_frames:
        raise ValueError(
            f"The clip has {num_pose_frames} frames of keypoints but {len(frames)} RGB frames: they must be aligned "
            "1:1."
        )
    return frames[needed_frames]


def _concatenate_hands(features: list[dict]) -> dict[str, np.ndarray]:
    """Concatenate the hand crops of a batch: left hands of samples 0..B-1, then right hands of samples 0..B-1."""
    per_sample = [{name: np.asarray(feature[name]) for name in HAND_FEATURE_NAMES} for feature in features]
    selections = [
        (sample_index, hands, hands["hand_sides"] == side)
        for side in range(2)
        for sample_index, hands in enumerate(per_sample)
    ]
    batch = {
        name: np.concatenate([hands[name][selected] for _, hands, selected in selections])
        for name in HAND_FEATURE_NAMES
    }
    batch["hand_sample_indices"] = np.concatenate(
        [np.full(int(selected.sum()), sample_index, dtype=np.int64) for sample_index, _, selected in selections]
    )
    batch["hand_pixel_values"] = batch["hand_pixel_values"].astype(np.float32)
    batch["hand_keypoints"] = batch["hand_keypoints"].astype(np.float32)
    batch["hand_frame_indices"] = batch["hand_frame_indices"].astype(np.int64)
    batch["hand_sides"] = batch["hand_sides"].astype(np.int64)
    return batch


__all__ = ["UniSignPoseFeatureExtractor", "normalize_pose", "sample_frame_indices"]
