"""Hand crops for the RGB branch of Uni-Sign: which frames to crop, where, and how to normalise the crops.

The reference (Uni-Sign, ICLR 2025, `datasets.py`) picks a few frames per hand where the hand is visible but its
fingertips are least certain, cuts one square box per hand around its keypoints, resizes it to 112 x 112 and
normalises it with the ImageNet statistics. The model also receives each crop's keypoints in crop units (the
"keypoint prior" its fusion module starts from). This module reproduces that geometry number for number, with one
documented difference: box corners left of or above the frame are clamped to the frame instead of wrapping around
through numpy's negative indexing (which gave an empty, all-zero crop in the reference).
"""

import numpy as np

from .keypoints import FINGERTIP_NODES, LEFT_HAND_INDICES, RIGHT_HAND_INDICES


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HAND_SIDES = ("left", "right")  # side id 0 = left hand (the signer's), 1 = right hand
HAND_SAMPLING_MODES = ("top", "random")
INT16_RANGE = (np.iinfo(np.int16).min, np.iinfo(np.int16).max)
# the reference's weights favour frames whose least confident fingertip is low; this keeps all weights positive
_RELIABILITY_EPS = 1e-5


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
            `"top"`: the deterministic variant, the frames with the largest weights (earlier frame first on ties).
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
    if hand_scores.ndim != 2 or hand_scores.shape[1] != 21:
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
        chosen = candidates[np.argsort(-probabilities, kind="stable")[:num_sampled]]
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
    from PIL import Image  # only the RGB branch needs Pillow

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


__all__ = [
    "HAND_SAMPLING_MODES",
    "HAND_SIDES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "as_random_generator",
    "crop_hands",
    "hand_box_side",
    "sample_hand_frames",
]
