"""What a whole-body keypoint detector (RTMPose-like) reports for a 3D skeleton: coordinates and confidences.

The camera is orthographic: a point's pixel is the mid-shoulder pixel plus `pixels_per_metre` times its (x, y).
Coordinates come out as `(x / width, y / height)`, as real extractors give them.

Without noise the confidences follow the parts' typical levels, lowered where a point is hidden (behind a hand,
behind the palm) or out of frame. With noise the detector also jitters the points (more for fast hands), blurs
confidences with motion, loses a hand for a few frames now and then (confidence near 0, coordinates zero or
meaningless), briefly loses a part, and very rarely misses the person for a whole frame.
"""

from dataclasses import dataclass

import numpy as np

from ..models.unisign.keypoints import LEFT_HAND_INDICES, NUM_WHOLEBODY_KEYPOINTS, RIGHT_HAND_INDICES
from .signer import Camera, Signer


HANDS = (np.array(LEFT_HAND_INDICES), np.array(RIGHT_HAND_INDICES))
BODY_WRISTS = (9, 10)  # the body's own wrist point of each hand
FACE = np.arange(23, 91)
FINGERTIPS = np.array([4, 8, 12, 16, 20])


def _part_levels() -> tuple[np.ndarray, np.ndarray]:
    """Typical confidence `(133,)` and jitter in metres `(133,)` of each point when it is plainly visible."""
    score = np.empty(NUM_WHOLEBODY_KEYPOINTS)
    jitter = np.empty(NUM_WHOLEBODY_KEYPOINTS)
    score[:5], jitter[:5] = 0.92, 0.003  # nose, eyes, ears
    score[5:11], jitter[5:11] = [0.9, 0.9, 0.84, 0.84, 0.8, 0.8], 0.006  # shoulders, elbows, wrists
    score[11:23], jitter[11:23] = 0.6, 0.012  # hips, legs, feet (mostly out of frame anyway)
    score[FACE], jitter[FACE] = 0.86, 0.0018
    score[23:40] = 0.8  # the jaw line is less certain than eyes and lips
    for hand in HANDS:
        score[hand], jitter[hand] = 0.78, 0.0035
        score[hand[FINGERTIPS]] = 0.7
    return score, jitter


PART_SCORE, PART_JITTER = _part_levels()
OCCLUDED_FACTOR = 0.35  # confidence multiplier of a point hidden behind a hand
SELF_OCCLUDED_FACTOR = 0.6  # of a finger point hidden behind its own hand (detectors still guess these well)
OUT_OF_FRAME_SCORE = (0.01, 0.2)
MISSED_HAND_SCORE = 0.12  # a lost hand reports confidences below this
BLUR_SPEED = 1.8  # metres per second at which motion blur costs the full penalty
BLUR_PENALTY = 0.3
WHOLE_FRAME_MISS_RATE = 0.004
BRIEF_OCCLUSION_RATE = 0.3  # chance per clip of one brief loss of a hand or the face


@dataclass
class Detection:
    """Detector output for one clip."""

    keypoints: np.ndarray  # (T, 133, 2) float32, (x / width, y / height)
    scores: np.ndarray  # (T, 133) float32 in [0, 1]


def project(points: np.ndarray, camera: Camera) -> np.ndarray:
    """Pixels `(T, 133, 2)` of body-frame points `(T, 133, 3)` (orthographic camera)."""
    return np.array([camera.center_x, camera.center_y]) + camera.pixels_per_metre * points[..., :2]


def _hidden_behind_hands(points: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """`(T, 133)` bool: points inside a hand's outline in the image and farther from the camera than that hand."""
    hidden = np.zeros(points.shape[:2], dtype=bool)
    for hand, wrist in zip(HANDS, BODY_WRISTS, strict=True):
        corner_low, corner_high = pixels[:, hand].min(1), pixels[:, hand].max(1)  # (T, 2)
        margin = 0.1 * (corner_high - corner_low)
        inside = np.all(
            (pixels >= (corner_low - margin)[:, None]) & (pixels <= (corner_high + margin)[:, None]), axis=-1
        )
        behind = points[..., 2] > points[:, hand, 2].mean(1, keepdims=True) + 0.02
        covered = inside & behind
        covered[:, hand] = False
        covered[:, wrist] = False
        hidden |= covered
    return hidden


def _hidden_behind_palm(points: np.ndarray) -> np.ndarray:
    """`(T, 133)` bool: finger points on the palm side of a hand whose palm faces away from the camera."""
    hidden = np.zeros(points.shape[:2], dtype=bool)
    # (index knuckle - wrist) x (little knuckle - wrist) leaves the palm of a left hand and the back of a right one
    for hand, side in zip(HANDS, (1.0, -1.0), strict=True):
        wrist, index_base, little_base = points[:, hand[0]], points[:, hand[5]], points[:, hand[17]]
        normal = side * np.cross(index_base - wrist, little_base - wrist)
        normal /= np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-9)
        depth = np.einsum("tpc,tc->tp", points[:, hand] - wrist[:, None], normal)
        hidden[:, hand] = (normal[:, None, 2] > 0.3) & (depth > 0.015)
    return hidden


def _hand_speed(points: np.ndarray, fps: float) -> np.ndarray:
    """Wrist speed `(T, 2)` in metres per second of the left and right hand."""
    wrists = points[:, [HANDS[0][0], HANDS[1][0]]]
    step = np.linalg.norm(np.diff(wrists, axis=0), axis=-1) * fps
    return np.concatenate([step[:1], step]) if len(step) else np.zeros((1, 2))


def _missed_hand_frames(rng: np.random.Generator, rate: np.ndarray) -> np.ndarray:
    """`(T, 2)` bool bursts of lost hands: each frame a loss starts with `rate` `(T, 2)`, and lasts about 3 frames."""
    starts = rng.random(rate.shape) < rate
    lengths = rng.integers(1, 6, rate.shape)
    missed = np.zeros(rate.shape, dtype=bool)
    for frame, side in zip(*np.nonzero(starts), strict=True):
        missed[frame : frame + lengths[frame, side], side] = True
    return missed


def detect(points: np.ndarray, signer: Signer, camera: Camera, rng: np.random.Generator | None) -> Detection:
    """Simulate the detector on a clip.

    Args:
        points (`np.ndarray` of shape `(num_frames, 133, 3)`): the skeleton, body frame, metres.
        signer (`Signer`): detector quality of this signer's recordings (`jitter`, `dropout_rate`, `score_bias`).
        camera (`Camera`): frame size and framing.
        rng (`np.random.Generator` or `None`): noise stream; `None` gives the clean, deterministic detection.

    Returns:
        `Detection`
    """
    num_frames = len(points)
    size = np.array([camera.width, camera.height], dtype=np.float64)
    pixels = project(points, camera)  # (T, 133, 2)
    scores = np.broadcast_to(PART_SCORE, (num_frames, NUM_WHOLEBODY_KEYPOINTS)).copy()
    scores[_hidden_behind_hands(points, pixels)] *= OCCLUDED_FACTOR
    scores[_hidden_behind_palm(points)] *= SELF_OCCLUDED_FACTOR
    outside = np.any((pixels < 0) | (pixels > size), axis=-1)  # (T, 133)

    if rng is None:
        scores[outside] = OUT_OF_FRAME_SCORE[0]
        return Detection((pixels / size).astype(np.float32), scores.astype(np.float32))

    # every draw below has a fixed shape, so the noise of two clips of equal length is the same
    jitter_draw = rng.normal(size=(num_frames, NUM_WHOLEBODY_KEYPOINTS, 2))
    score_draw = rng.normal(0.0, 0.04, (num_frames, NUM_WHOLEBODY_KEYPOINTS))
    outside_draw = rng.uniform(*OUT_OF_FRAME_SCORE, (num_frames, NUM_WHOLEBODY_KEYPOINTS))
    missed_draw = rng.uniform(0.0, MISSED_HAND_SCORE, (num_frames, 2, 21))
    garbage_centre = rng.uniform(0.2, 0.8, (num_frames, 2, 1, 2)) * size
    garbage_spread = rng.normal(0.0, 4.0, (num_frames, 2, 21, 2))
    zero_missed = rng.random(2) < 0.5  # per hand: a lost hand reports zeros, or points collapsed somewhere
    whole_frame_missed = rng.random(num_frames) < WHOLE_FRAME_MISS_RATE

    speed = _hand_speed(points, signer.fps)  # (T, 2)
    blur = np.clip(speed / BLUR_SPEED, 0.0, 1.0)
    jitter = PART_JITTER * signer.jitter * np.ones((num_frames, 1))  # (T, 133) metres
    for side, hand in enumerate(HANDS):
        jitter[:, hand] += 0.004 * blur[:, side, None]
        scores[:, hand] -= BLUR_PENALTY * blur[:, side, None]
    scores[:, [9, 10]] -= 0.5 * BLUR_PENALTY * blur
    pixels = pixels + jitter_draw * (jitter * camera.pixels_per_metre)[..., None]
    scores += score_draw + signer.score_bias

    if rng.random() < BRIEF_OCCLUSION_RATE:
        start, length = int(rng.integers(num_frames)), int(rng.integers(2, 7))
        part = (*HANDS, FACE)[int(rng.integers(3))]
        scores[start : start + length, part] *= rng.uniform(0.1, 0.4)

    scores[outside] = outside_draw[outside]
    pixels = np.clip(pixels, -0.02 * size, 1.02 * size)  # a detector reports points at most a little off-frame

    missed = _missed_hand_frames(rng, signer.dropout_rate * (1.0 + 2.0 * blur))
    for side, hand in enumerate(HANDS):
        frames = missed[:, side]
        scores[np.ix_(frames, hand)] = missed_draw[frames, side]
        garbage = 0.0 if zero_missed[side] else garbage_centre[frames, side] + garbage_spread[frames, side]
        pixels[np.ix_(frames, hand)] = garbage
    pixels[whole_frame_missed] = 0.0
    scores[whole_frame_missed] = 0.0

    keypoints = pixels / size
    return Detection(keypoints.astype(np.float32), np.clip(scores, 0.0, 1.0).astype(np.float32))


__all__ = ["Detection", "detect", "project"]
