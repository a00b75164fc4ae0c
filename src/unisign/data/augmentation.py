"""Random changes of a training clip that keep its meaning: the signer's handedness, posture and speed.

What varies between signers and recordings and carries no meaning: which hand leads (a left-handed signer signs the
mirror image of a right-handed one), how the camera or the signer is turned, the frame's aspect, and how fast they
sign. A model that sees each training clip in such variants depends less on the training signers (the reference
has no pose augmentation; it is off unless `data.augmentation` asks for it).
"""

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..models.unisign.keypoints import FACE_START, LEFT_HAND_INDICES, NUM_WHOLEBODY_KEYPOINTS, RIGHT_HAND_INDICES
from ..models.unisign.pose_sample import PoseSample
from ..utils.validation import check_range


def _wholebody_mirror_permutation() -> np.ndarray:
    """Index permutation swapping left and right points of COCO-WholeBody-133 (body, feet, face, hands)."""
    permutation = np.arange(NUM_WHOLEBODY_KEYPOINTS)

    def swap(first: list[int], second: list[int]):
        permutation[first], permutation[second] = second, first

    swap([1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16])
    swap([17, 18, 19], [20, 21, 22])
    face_pairs = [(k, 16 - k) for k in range(8)]  # iBUG-68 numbering (point k is COCO point FACE_START + k): jaw
    face_pairs += [(17 + k, 26 - k) for k in range(5)]  # brows
    face_pairs += [(31, 35), (32, 34), (36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]  # nostrils, eyes
    face_pairs += [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64), (61, 63), (65, 67)]  # lips
    swap([FACE_START + a for a, _ in face_pairs], [FACE_START + b for _, b in face_pairs])
    swap(LEFT_HAND_INDICES, RIGHT_HAND_INDICES)
    return permutation


WHOLEBODY_MIRROR = _wholebody_mirror_permutation()


def mirror_clip(sample: PoseSample) -> PoseSample:
    """The clip's mirror image: x -> 1 - x, and every left point swapped with its right twin (hands included)."""
    keypoints = sample.keypoints[:, WHOLEBODY_MIRROR] * np.float32([-1.0, 1.0]) + np.float32([1.0, 0.0])
    return dataclasses.replace(sample, keypoints=keypoints, scores=sample.scores[:, WHOLEBODY_MIRROR])


@dataclass
class PoseAugmentation:
    """Which random changes a training clip gets, and how strong they are (all off by default).

    Args:
        mirror: Probability of the clip's mirror image (`mirror_clip`): the same signs by a signer of the other
            handedness.
        rotation: Largest in-plane rotation, in degrees, about the signer's body centre (drawn uniformly in
            `[-rotation, rotation]`).
        stretch: Largest relative change of the width/height ratio (a frame of another aspect, a signer turned a
            little): x and y are scaled by `exp(+-u / 2)` with `u` uniform in `[-log(1 + stretch), log(1 + stretch)]`.
            A uniform scale would change nothing: the processor normalises by the body's size.
        speed: Largest relative change of signing speed: the frames are resampled to `T / f` frames with `f` drawn
            log-uniformly in `[1 / (1 + speed), 1 + speed]`.
    """

    mirror: float = 0.0
    rotation: float = 0.0
    stretch: float = 0.0
    speed: float = 0.0

    def __post_init__(self):
        check_range("data.augmentation.mirror", self.mirror, minimum=0, maximum=1)
        check_range("data.augmentation.rotation", self.rotation, minimum=0, maximum=90)
        check_range("data.augmentation.stretch", self.stretch, minimum=0)
        check_range("data.augmentation.speed", self.speed, minimum=0)

    @property
    def enabled(self) -> bool:
        """Whether any change is switched on."""
        return any((self.mirror, self.rotation, self.stretch, self.speed))

    def __call__(self, sample: PoseSample, rng: np.random.Generator) -> PoseSample:
        """A randomly changed copy of `sample` (the input is not modified); draws come from `rng`."""
        if rng.random() < self.mirror:
            sample = mirror_clip(sample)
        if self.rotation or self.stretch:
            sample = self._turn(sample, rng)
        if self.speed:
            factor = np.exp(rng.uniform(-np.log1p(self.speed), np.log1p(self.speed)))
            num_frames = max(1, round(sample.num_frames / factor))
            frames = np.round(np.linspace(0, sample.num_frames - 1, num_frames)).astype(int)
            sample = dataclasses.replace(sample, keypoints=sample.keypoints[frames], scores=sample.scores[frames])
        return sample

    def _turn(self, sample: PoseSample, rng: np.random.Generator) -> PoseSample:
        """Rotate and stretch the clip about its mean keypoint, in pixel units where the frame size is known."""
        angle = np.deg2rad(rng.uniform(-self.rotation, self.rotation))
        log_ratio = rng.uniform(-np.log1p(self.stretch), np.log1p(self.stretch))
        cos, sin = np.cos(angle), np.sin(angle)
        matrix = np.array([[cos, -sin], [sin, cos]]) @ np.diag(np.exp([log_ratio / 2, -log_ratio / 2]))
        # (x / W, y / H) units are anisotropic: turn in pixels so that a rotation is a rotation
        size = np.array([sample.width or 1, sample.height or 1], dtype=np.float64)
        points = sample.keypoints * size
        seen = sample.scores > 0
        centre = points[seen].mean(0) if seen.any() else size / 2
        turned = (points - centre) @ matrix.T + centre
        return dataclasses.replace(sample, keypoints=(turned / size).astype(np.float32))


__all__ = ["WHOLEBODY_MIRROR", "PoseAugmentation", "mirror_clip"]
