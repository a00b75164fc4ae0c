"""Video processor for Uni-Sign: RGB hand crops for the RGB branch, chosen and placed by the clip's keypoints.

The reference (Uni-Sign, ICLR 2025, `datasets.py`) picks a few frames per hand where the hand is visible but its
fingertips are least certain, cuts one square box per hand around its keypoints, resizes it to 112 x 112 and
normalises it with the ImageNet statistics. The model also receives each crop's keypoints in crop units (the
"keypoint prior" its fusion module starts from). This module reproduces that geometry number for number, with one
documented difference: box corners left of or above the frame are clamped to the frame instead of wrapping around
through numpy's negative indexing (which gave an empty, all-zero crop in the reference).

`UniSignVideoProcessor` is a `VideoProcessorMixin` (the base of transformers' video processors: own configuration
entry, `AutoVideoProcessor`), not a `BaseVideoProcessor`: the latter's pipeline decodes whole videos, samples frames
by count or rate and resizes whole frames with torchvision, while Uni-Sign samples frames from keypoint scores and
crops hand boxes with Pillow's bicubic filter (exact parity with the reference), and a pose-only model must load its
processor without torchvision.
"""

from pathlib import Path
from typing import Any

import numpy as np
from transformers import BatchFeature
from transformers.processing_utils import VideosKwargs
from transformers.video_processing_utils import VideoProcessorMixin

from .feature_extraction_unisign import as_random_generator, check_keypoints
from .keypoints import (
    FINGERTIP_NODES,
    HAND_PARTS,
    LEFT_HAND_INDICES,
    NUM_HAND_KEYPOINTS,
    RIGHT_HAND_INDICES,
)
from .video_io import read_video_frames


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HAND_SAMPLING_MODES = ("top", "random")
HAND_FEATURE_NAMES = ("hand_pixel_values", "hand_keypoints", "hand_frame_indices", "hand_sides")
INT16_RANGE = (np.iinfo(np.int16).min, np.iinfo(np.int16).max)
# the reference's weights favour frames whose least confident fingertip is low; this keeps all weights positive
_RELIABILITY_EPS = 1e-5


def sample_hand_frames(
    hand_scores: np.ndarray,
    mode: str = "top",
    rng=None,
    score_threshold: float = 0.3,
    fraction: float = 0.1,
) -> np.ndarray:
    """Pick the frames whose hand crops feed the RGB branch (the reference's score-aware sampler).

    Candidates are the frames where the hand's mean keypoint score is above `score_threshold`. A frame's reliability
    is the lowest score among the hand's five fingertips, and its weight is `max(reliability) - reliability + 1e-5`
    (frames with uncertain fingertips are favoured: that is where pixels help most). `ceil(fraction * candidates)`
    frames are kept.

    Args:
        hand_scores (`np.ndarray` of shape `(num_frames, 21)`):
            Keypoint scores of one hand, in COCO-WholeBody hand order.
        mode (`str`, *optional*, defaults to `"top"`):
            `"random"`: the reference's draw without replacement with probabilities proportional to the weights;
            `"top"`: the deterministic variant, the frames with the largest weights; frames tied at the cut are
            taken evenly spread over the clip (MediaPipe gives every hand point the same score: all frames tie).
        rng (*optional*):
            Seed, `np.random.Generator` or `np.random.RandomState` for `mode="random"`.
        score_threshold (`float`, *optional*, defaults to 0.3):
            Mean hand score a frame needs to be a candidate.
        fraction (`float`, *optional*, defaults to 0.1):
            Share of the candidates to keep (rounded up).

    Returns:
        `np.ndarray` of shape `(num_sampled,)`, int64: sorted frame indices; empty when the hand is never visible.
    """
    if mode not in HAND_SAMPLING_MODES:
        raise ValueError(f"Unknown hand sampling mode {mode!r}. Available modes: {HAND_SAMPLING_MODES}.")
    hand_scores = np.asarray(hand_scores)
    if hand_scores.ndim != 2 or hand_scores.shape[1] != NUM_HAND_KEYPOINTS:
        raise ValueError(f"`hand_scores` must have shape (num_frames, 21), got {hand_scores.shape}.")
    candidates = np.flatnonzero(hand_scores.mean(-1) > score_threshold)
    if candidates.size == 0:
        return np.zeros(0, dtype=np.int64)
    reliability = hand_scores[candidates][:, FINGERTIP_NODES].min(-1)  # (num_candidates,)
    weights = reliability.max() - reliability + _RELIABILITY_EPS
    probabilities = weights / weights.sum()
    num_sampled = int(np.ceil(fraction * candidates.size))
    if mode == "random":
        chosen = as_random_generator(rng).choice(candidates, size=num_sampled, replace=False, p=probabilities)
    else:
        cut = np.sort(weights)[::-1][num_sampled - 1]  # the smallest weight kept
        above, tied = candidates[weights > cut], candidates[weights == cut]
        needed = num_sampled - above.size
        # tied frames evenly spread: the centre of each of `needed` equal stretches of them
        chosen = np.concatenate([above, tied[((np.arange(needed) + 0.5) * tied.size / needed).astype(np.int64)]])
    return np.sort(chosen).astype(np.int64)


def hand_box_side(hand_points: list[np.ndarray], frame_width: int, frame_height: int, box_scale: float = 1.2) -> int:
    """Side in pixels of the square crop box shared by every sampled frame and both hands of a clip.

    Args:
        hand_points (`list[np.ndarray]`, each of shape `(num_sampled, 21, 2)`):
            Sampled keypoints of each hand, in `(x / width, y / height)` units.
        frame_width (`int`): Frame width in pixels.
        frame_height (`int`): Frame height in pixels.
        box_scale (`float`, *optional*, defaults to 1.2): Margin around the largest hand extent.

    Returns:
        `int`: `int(largest extent * box_scale / 2) * 2` (an even number of pixels; 0 when there is no hand).
    """
    scale = np.array([frame_width, frame_height], dtype=np.float32)
    extents = [((points.max(1) - points.min(1)) * scale).max() for points in hand_points if len(points)]
    if not extents:
        return 0
    return max(int(float(max(extents)) * box_scale / 2) * 2, 0)


def _crop_one(image: np.ndarray, box_corners: np.ndarray, box: int, crop_size: int) -> np.ndarray:
    """Cut the window `box_corners` (x0, y0, x1, y1) from `image` (H, W, 3) and resize it to `crop_size` (uint8)."""
    try:
        from PIL import Image  # only the RGB branch needs Pillow
    except ImportError:
        raise ImportError("Cropping hands for the RGB branch needs Pillow: `pip install Pillow`.") from None

    x0, y0, x1, y1 = np.maximum(box_corners, 0)  # clamped: the reference wrapped negative corners around the frame
    patch = image[y0:y1, x0:x1]  # (h, w, 3)
    pad_rows, pad_columns = max(0, box - patch.shape[0]), max(0, box - patch.shape[1])
    patch = np.pad(patch, ((0, pad_rows), (0, pad_columns), (0, 0)))  # zeros at the bottom/right, as the reference
    resized = Image.fromarray(patch).convert("RGB").resize((crop_size, crop_size), Image.Resampling.BICUBIC)
    return np.asarray(resized)  # (crop_size, crop_size, 3)


def crop_hands(
    frames: dict[int, np.ndarray],
    keypoints: np.ndarray,
    left_indices: np.ndarray,
    right_indices: np.ndarray,
    crop_size: int = 112,
    box_scale: float = 1.2,
    image_mean: tuple[float, float, float] = IMAGENET_MEAN,
    image_std: tuple[float, float, float] = IMAGENET_STD,
) -> dict[str, np.ndarray]:
    """Crop both hands from the sampled frames of one clip, with the reference geometry.

    Steps: (1) one square box side for the whole clip and both hands (`hand_box_side`); (2) per sampled frame and
    hand, the box is centred on the centre of the hand's keypoint extent, and its corners are truncated to int16 as
    in the reference; (3) corners left of or above the frame are clamped to 0 (the reference wrapped them around);
    the window is cut, zero-padded at the bottom/right up to the box side, resized with PIL bicubic to
    `crop_size`, scaled to [0, 1] and normalised with `image_mean`/`image_std`; (4) the keypoint prior is the hand's
    keypoints in crop units, `(point_px - corner) / box` clipped to [0, 1], measured from the clamped corner so that
    it matches the pixels of the crop. A hand with no sampled frame (or a clip whose box side is 0) gets a single
    entry with frame index -1, an all-zero crop and an all-zero prior, as in the reference.

    Args:
        frames (`dict[int, np.ndarray]`):
            The RGB frames (each `(height, width, 3)` uint8, all the same size) of every sampled index, keyed by
            that index.
        keypoints (`np.ndarray` of shape `(num_frames, 133, 2)`):
            The clip's COCO-WholeBody keypoints in `(x / width, y / height)` units, indexed like `frames`.
        left_indices (`np.ndarray` of shape `(num_left,)`): Sampled frames of the left hand (may be empty).
        right_indices (`np.ndarray` of shape `(num_right,)`): Sampled frames of the right hand (may be empty).
        crop_size (`int`, *optional*, defaults to 112): Output crop side.
        box_scale (`float`, *optional*, defaults to 1.2): Margin around the largest hand extent.
        image_mean (`tuple[float, float, float]`, *optional*): Per-channel mean, ImageNet by default.
        image_std (`tuple[float, float, float]`, *optional*): Per-channel standard deviation, ImageNet by default.

    Returns:
        `dict[str, np.ndarray]`, left-hand entries first, then right-hand entries (N = max(num_left, 1) +
        max(num_right, 1)):
            - `hand_pixel_values` `(N, 3, crop_size, crop_size)` float32;
            - `hand_keypoints` `(N, 21, 2)` float32 keypoint priors in crop units;
            - `hand_frame_indices` `(N,)` int64 (-1: no usable hand);
            - `hand_sides` `(N,)` int64 (0 left, 1 right).
    """
    indices_per_side = [np.asarray(left_indices, dtype=np.int64), np.asarray(right_indices, dtype=np.int64)]
    hand_points = [
        keypoints[indices][:, part]  # (num_sampled, 21, 2)
        for indices, part in zip(indices_per_side, (LEFT_HAND_INDICES, RIGHT_HAND_INDICES), strict=True)
    ]
    frame_height, frame_width = _frame_size(frames, np.concatenate(indices_per_side))
    box = hand_box_side(hand_points, frame_width, frame_height, box_scale) if frame_height else 0
    mean = np.asarray(image_mean, dtype=np.float32)[:, None, None]
    std = np.asarray(image_std, dtype=np.float32)[:, None, None]

    pixel_values, priors, frame_indices, sides = [], [], [], []
    for side, (indices, points) in enumerate(zip(indices_per_side, hand_points, strict=True)):
        if box == 0 or indices.size == 0:
            pixel_values.append(np.zeros((1, 3, crop_size, crop_size), dtype=np.float32))
            priors.append(np.zeros((1, 21, 2), dtype=np.float32))
            frame_indices.append(np.full(1, -1, dtype=np.int64))
            sides.append(np.full(1, side, dtype=np.int64))
            continue
        scale = np.array([frame_width, frame_height], dtype=np.float32)
        centres = (points.max(1) + points.min(1)) / 2 * scale  # (num_sampled, 2) pixels, float32 as the reference
        # (num_sampled, 4) x0, y0, x1, y1, computed in float32 and truncated to int16 as the reference (clipped to
        # the int16 range first: far off-frame keypoints would otherwise wrap around)
        box_corners = np.concatenate([centres - box / 2, centres + box / 2], 1)
        box_corners = np.clip(box_corners, *INT16_RANGE).astype(np.int16).astype(np.int64)
        crops = np.stack(
            [
                _crop_one(frames[int(index)], corners, box, crop_size)
                for index, corners in zip(indices, box_corners, strict=True)
            ]
        )  # (num_sampled, crop_size, crop_size, 3) uint8
        crops = (crops.transpose(0, 3, 1, 2).astype(np.float32) / 255 - mean) / std  # (num_sampled, 3, S, S)
        origin = np.maximum(box_corners[:, None, :2], 0)  # (num_sampled, 1, 2) the clamped top-left corner
        prior = (points * np.array([frame_width, frame_height]) - origin) / box
        pixel_values.append(crops.astype(np.float32))
        priors.append(np.clip(prior, 0, 1).astype(np.float32))
        frame_indices.append(indices)
        sides.append(np.full(indices.size, side, dtype=np.int64))
    return {
        "hand_pixel_values": np.concatenate(pixel_values),
        "hand_keypoints": np.concatenate(priors),
        "hand_frame_indices": np.concatenate(frame_indices),
        "hand_sides": np.concatenate(sides),
    }


def _frame_size(frames: dict[int, np.ndarray], indices: np.ndarray) -> tuple[int, int]:
    """(height, width) shared by the frames at `indices`; (0, 0) when there are none. Checks shape and dtype."""
    missing = sorted({int(index) for index in indices} - set(frames))
    if missing:
        raise ValueError(f"No frame was given for the sampled frame indices {missing}.")
    shapes = {frames[int(index)].shape for index in indices}
    if not shapes:
        return 0, 0
    if len(shapes) > 1:
        raise ValueError(f"All frames of a clip must have the same size, got shapes {sorted(shapes)}.")
    (shape,) = shapes
    if len(shape) != 3 or shape[2] != 3:
        raise ValueError(f"Frames must be RGB arrays of shape (height, width, 3), got {shape}.")
    dtypes = {frames[int(index)].dtype for index in indices}
    if dtypes != {np.dtype(np.uint8)}:
        raise ValueError(f"Frames must be uint8 RGB arrays, got dtype(s) {sorted(map(str, dtypes))}.")
    return shape[0], shape[1]


def _load_frames(frames, video, wanted: np.ndarray, num_video_frames: int, frame_offset: int) -> np.ndarray:
    """The RGB frames at `wanted` (indices into the clip's frames), from an array aligned with the clip or a video.

    `frame_offset` is the video index of the clip's first frame (reference pose files with a `start`).
    """
    if frames is not None and video is not None:
        raise ValueError("Give either `frames` or `video` for a clip, not both.")
    if video is not None:
        return read_video_frames(video, wanted, num_pose_frames=num_video_frames, frame_offset=frame_offset)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"`frames` must have shape (num_frames, height, width, 3), got {frames.shape}.")
    if len(frames) != num_video_frames:
        raise ValueError(
            f"The clip has {num_video_frames} frames of keypoints but {len(frames)} RGB frames: they must be aligned "
            "1:1."
        )
    return frames[wanted]


class UniSignVideoProcessorKwargs(VideosKwargs, total=False):
    """Settings of `UniSignVideoProcessor` (what `from_pretrained(..., **kwargs)` may override)."""

    hand_sampling: str
    hand_frame_fraction: float
    hand_score_threshold: float
    hand_crop_size: int
    hand_box_scale: float


class UniSignVideoProcessor(VideoProcessorMixin):
    r"""Crops the hands of a clip's RGB frames for the RGB branch, using the clip's keypoints.

    Per clip, in order:
    1. pick the frames of each hand (`sample_hand_frames`: `"top"` by default, or the reference's `"random"`);
    2. take only those frames from the RGB frames or decode only those from the video (`video_io`);
    3. crop both hands with one box side per clip (`crop_hands`) -> `hand_*` features.

    A batch concatenates the crops of its clips: all left-hand crops of sample 0, 1, ..., then all right-hand crops,
    with `hand_sample_indices` giving each crop's sample.

    Args:
        hand_sampling (`str`, *optional*, defaults to `"top"`):
            Default choice of hand frames: `"top"` (deterministic) or `"random"` (the reference, for training).
        hand_frame_fraction (`float`, *optional*, defaults to 0.1):
            Share of the frames with a visible hand that are cropped.
        hand_score_threshold (`float`, *optional*, defaults to 0.3):
            Mean hand keypoint score a frame needs to be cropped (RTMPose/RTMW scale).
        hand_crop_size (`int`, *optional*, defaults to 112):
            Side of the hand crops; the model's `rgb_crop_size`.
        hand_box_scale (`float`, *optional*, defaults to 1.2):
            Margin of the crop box around the largest hand extent.
        image_mean (`list[float]`, *optional*, defaults to the ImageNet mean):
            Per-channel mean of the crop normalisation.
        image_std (`list[float]`, *optional*, defaults to the ImageNet standard deviation):
            Per-channel standard deviation of the crop normalisation.
    """

    valid_kwargs = UniSignVideoProcessorKwargs
    model_input_names = [*HAND_FEATURE_NAMES, "hand_sample_indices"]

    def __init__(
        self,
        hand_sampling: str = "top",
        hand_frame_fraction: float = 0.1,
        hand_score_threshold: float = 0.3,
        hand_crop_size: int = 112,
        hand_box_scale: float = 1.2,
        image_mean: list[float] | None = None,
        image_std: list[float] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if hand_sampling not in HAND_SAMPLING_MODES:
            raise ValueError(f"Unknown `hand_sampling` {hand_sampling!r}. Available modes: {HAND_SAMPLING_MODES}.")
        if not 0 < hand_frame_fraction <= 1:
            raise ValueError(f"`hand_frame_fraction` must be in (0, 1], got {hand_frame_fraction}.")
        if hand_crop_size < 1:
            raise ValueError(f"`hand_crop_size` must be at least 1, got {hand_crop_size}.")
        self.hand_sampling = hand_sampling
        self.hand_frame_fraction = hand_frame_fraction
        self.hand_score_threshold = hand_score_threshold
        self.hand_crop_size = hand_crop_size
        self.hand_box_scale = hand_box_scale
        self.image_mean = list(IMAGENET_MEAN if image_mean is None else image_mean)
        self.image_std = list(IMAGENET_STD if image_std is None else image_std)

    def crop_clip(
        self,
        keypoints: np.ndarray,
        scores: np.ndarray,
        frames: np.ndarray | None = None,
        video: str | None = None,
        frame_indices: np.ndarray | None = None,
        num_video_frames: int | None = None,
        frame_offset: int = 0,
        hand_sampling: str | None = None,
        rng=None,
    ) -> dict[str, np.ndarray]:
        """Hand crops of one clip, unpadded (what a `Dataset` returns per sample; `pad` batches them).

        Args:
            keypoints (`np.ndarray` of shape `(num_frames, 133, 2)`):
                The clip's COCO-WholeBody keypoints in `(x / width, y / height)` units, as the model sees it (after
                any temporal sub-sampling).
            scores (`np.ndarray` of shape `(num_frames, 133)`): Their confidences.
            frames (`np.ndarray` of shape `(num_video_frames, height, width, 3)`, uint8, *optional*):
                The RGB frames of the whole clip.
            video (`str`, *optional*): Path of the clip's video instead of `frames` (only the needed frames are
                decoded).
            frame_indices (`np.ndarray` of shape `(num_frames,)`, *optional*):
                Index into `frames` (or the video, from `frame_offset`) of each keypoint frame; defaults to
                `0 .. num_frames - 1`.
            num_video_frames (`int`, *optional*): Frames of the whole clip (`frames` must have this many, a video
                must declare this many); defaults to `num_frames`.
            frame_offset (`int`, *optional*, defaults to 0): Video index of the clip's first frame.
            hand_sampling (`str`, *optional*): Overrides `self.hand_sampling`.
            rng (*optional*): Seed, `np.random.Generator` or `np.random.RandomState` for `"random"`.

        Returns:
            `dict[str, np.ndarray]`: the `hand_*` entries of `crop_hands`.
        """
        keypoints, scores = check_keypoints(keypoints, scores)
        if frame_indices is None:
            frame_indices = np.arange(len(keypoints), dtype=np.int64)
        rng = as_random_generator(rng)
        mode = hand_sampling or self.hand_sampling
        left, right = (
            sample_hand_frames(scores[:, part], mode, rng, self.hand_score_threshold, self.hand_frame_fraction)
            for part in (LEFT_HAND_INDICES, RIGHT_HAND_INDICES)
        )
        needed = np.union1d(left, right)  # indices into the clip the model sees
        num_video_frames = len(keypoints) if num_video_frames is None else num_video_frames
        images = _load_frames(frames, video, np.asarray(frame_indices)[needed], num_video_frames, frame_offset)
        return crop_hands(
            dict(zip(needed.tolist(), images, strict=True)),
            keypoints,
            left,
            right,
            self.hand_crop_size,
            self.hand_box_scale,
            tuple(self.image_mean),
            tuple(self.image_std),
        )

    def pad(self, features: list[dict[str, Any]], return_tensors: str | None = None) -> BatchFeature:
        """Concatenate the hand crops of a batch: left hands of samples 0..B-1, then right hands of samples 0..B-1.

        Args:
            features (`list[dict]`): One dict per clip with the `hand_*` entries of `crop_clip` (numpy arrays, torch
                tensors or nested lists).
            return_tensors (`str`, *optional*): `"pt"` or `"np"`; plain numpy arrays when `None`.

        Returns:
            `BatchFeature` with `hand_pixel_values` `(N, 3, S, S)`, `hand_keypoints` `(N, 21, 2)`,
            `hand_frame_indices` `(N,)`, `hand_sample_indices` `(N,)` and `hand_sides` `(N,)`.
        """
        per_sample = [{name: np.asarray(feature[name]) for name in HAND_FEATURE_NAMES} for feature in features]
        selections = [
            (sample_index, hands, hands["hand_sides"] == side)
            for side in range(len(HAND_PARTS))
            for sample_index, hands in enumerate(per_sample)
        ]
        batch = {
            name: np.concatenate([hands[name][selected] for _, hands, selected in selections])
            for name in HAND_FEATURE_NAMES
        }
        batch["hand_sample_indices"] = np.concatenate(
            [np.full(int(selected.sum()), sample_index, dtype=np.int64) for sample_index, _, selected in selections]
        )
        for name, dtype in zip(HAND_FEATURE_NAMES, (np.float32, np.float32, np.int64, np.int64), strict=True):
            batch[name] = batch[name].astype(dtype)
        return BatchFeature(batch, tensor_type=return_tensors)

    def __call__(
        self,
        videos,
        keypoints,
        scores,
        hand_sampling: str | None = None,
        rng=None,
        return_tensors: str | None = None,
    ) -> BatchFeature:
        """Hand crops of one clip or a batch of clips (see the class docstring for the steps).

        Args:
            videos: The RGB frames of each clip (`(T, height, width, 3)` uint8) or its video path; a list for a
                batch.
            keypoints: `(T, 133, 2)` keypoints of each clip in `(x / width, y / height)` units, aligned 1:1 with
                its frames; a list for a batch.
            scores: `(T, 133)` confidences of each clip; a list for a batch.
            hand_sampling (`str`, *optional*): `"top"` or `"random"`; defaults to `self.hand_sampling`.
            rng (*optional*): Seed, `np.random.Generator` or `np.random.RandomState` shared by the clips, in order.
            return_tensors (`str`, *optional*): `"pt"` or `"np"`.

        Returns:
            `BatchFeature`: see `pad`.
        """
        is_batch = isinstance(videos, list | tuple)
        videos, keypoints, scores = (list(x) if is_batch else [x] for x in (videos, keypoints, scores))
        if not len(videos) == len(keypoints) == len(scores) > 0:
            raise ValueError(
                f"Give one entry of `keypoints` and `scores` per video, got {len(videos)} videos, {len(keypoints)} "
                f"keypoint clips and {len(scores)} score clips."
            )
        rng = as_random_generator(rng)
        features = [
            self.crop_clip(
                clip_keypoints,
                clip_scores,
                frames=None if isinstance(video, str | Path) else video,
                video=video if isinstance(video, str | Path) else None,
                hand_sampling=hand_sampling,
                rng=rng,
            )
            for video, clip_keypoints, clip_scores in zip(videos, keypoints, scores, strict=True)
        ]
        return self.pad(features, return_tensors=return_tensors)


__all__ = [
    "HAND_FEATURE_NAMES",
    "HAND_SAMPLING_MODES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "UniSignVideoProcessor",
    "as_random_generator",
    "crop_hands",
    "hand_box_side",
    "sample_hand_frames",
]
