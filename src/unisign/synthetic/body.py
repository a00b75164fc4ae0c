"""The signer's body in 3D: from per-frame hand states and head/torso channels to the 133 COCO-WholeBody points.

Everything is built for a right-handed signer in the canonical body frame of `phonology` (x to the image right,
y down, z away from the camera; metres). The non-dominant hand and arm are computed as a right arm in a mirrored
frame and mirrored back; a left-handed signer is the mirror image of the whole skeleton (`mirror_wholebody`).
"""

from dataclasses import dataclass

import numpy as np

from ..data.augmentation import WHOLEBODY_MIRROR
from ..models.unisign.keypoints import FACE_START, LEFT_HAND_INDICES, NUM_WHOLEBODY_KEYPOINTS, RIGHT_HAND_INDICES
from ..utils.errors import InvalidInputError
from .phonology import BODY_LOCATIONS, HEAD_LOCATIONS, PALM_CONTACT, hand_points
from .signer import Signer


NUM_FACE_POINTS = 68
MIRROR_X = np.diag([-1.0, 1.0, 1.0])


def _face_template() -> np.ndarray:
    """The 68 iBUG face points `(68, 3)` of a neutral face, head frame (origin between the ears), head scale 1."""
    face = np.zeros((NUM_FACE_POINTS, 3))
    angle = np.pi * np.arange(17) / 16  # jaw, from the signer's right ear round the chin to the left ear
    cos = np.cos(angle)
    face[:17] = np.stack(
        [
            -0.069 * np.sign(cos) * np.abs(cos) ** 0.75,
            -0.01 + 0.115 * np.sin(angle) ** 1.4,
            -0.035 - 0.062 * np.sin(angle),
        ],
        -1,
    )
    brow = np.array(
        [[-0.058, -0.036, -0.070], [-0.046, -0.045, -0.085], [-0.033, -0.048, -0.095], [-0.021, -0.046, -0.100]]
        + [[-0.010, -0.041, -0.102]]
    )
    face[17:22] = brow
    face[22:27] = brow[::-1] * [-1, 1, 1]
    face[27:31] = [[0.0, -0.025, -0.100], [0.0, -0.005, -0.110], [0.0, 0.015, -0.120], [0.0, 0.035, -0.130]]
    face[31:36] = [[-0.017, 0.045, -0.105], [-0.009, 0.049, -0.112], [0.0, 0.051, -0.118]] + [
        [0.009, 0.049, -0.112],
        [0.017, 0.045, -0.105],
    ]
    right_eye = np.array(
        [[-0.047, -0.018], [-0.039, -0.024], [-0.027, -0.024], [-0.018, -0.017], [-0.027, -0.013], [-0.039, -0.013]]
    )
    face[36:42, :2] = right_eye
    face[42:48, :2] = right_eye[[3, 2, 1, 0, 5, 4]] * [-1, 1]  # inner corner first, as iBUG orders the left eye
    face[36:48, 2] = -0.088
    outer_lip = np.array(
        [[-0.026, 0.075], [-0.016, 0.067], [-0.006, 0.064], [0.0, 0.065], [0.006, 0.064], [0.016, 0.067]]
        + [[0.026, 0.075], [0.016, 0.083], [0.007, 0.087], [0.0, 0.088], [-0.007, 0.087], [-0.016, 0.083]]
    )
    inner_lip = np.array(
        [[-0.021, 0.075], [-0.008, 0.072], [0.0, 0.072], [0.008, 0.072], [0.021, 0.075], [0.008, 0.077]]
        + [[0.0, 0.077], [-0.008, 0.077]]
    )
    face[48:60, :2] = outer_lip
    face[60:68, :2] = inner_lip
    face[48:68, 2] = -0.104 + 0.4 * np.abs(face[48:68, 0])  # lips curve back towards the corners
    return face


FACE_TEMPLATE = _face_template()
EARS = np.array([[0.076, 0.004, 0.0], [-0.076, 0.004, 0.0]])  # signer's left ear (image right), right ear
NECK_PIVOT = np.array([0.0, 0.065, 0.03])  # the head turns about the top of the neck (head frame)
LOWER_LIP = [55, 56, 57, 58, 59, 65, 66, 67]
MOUTH_CORNERS = [48, 54, 60, 64]
UPPER_EYELIDS, LOWER_EYELIDS = [37, 38, 43, 44], [41, 40, 47, 46]
# preferred elbow direction of a right arm (down, out to the side and a little back), for the arm's inverse kinematics
ELBOW_POLE = np.array([-0.45, 1.0, 0.35]) / np.linalg.norm([-0.45, 1.0, 0.35])
# how far above a base hand's palm the dominant hand's contact point sits (metres, hand scale 1)
BASE_CONTACT_GAP = 0.045


def mirror_wholebody(points: np.ndarray) -> np.ndarray:
    """Mirror a skeleton `(..., 133, 3)` in the body frame: negate x and swap left and right points."""
    return points[..., WHOLEBODY_MIRROR, :] * [-1.0, 1.0, 1.0]


@dataclass
class HandTrack:
    """Per-frame state of one hand, computed as a right hand: palm contact point, orientation, joint angles."""

    position: np.ndarray  # (T, 3) metres, body frame (the hand's own mirrored frame for the non-dominant hand)
    rotation: np.ndarray  # (T, 3, 3) columns: ulnar, finger and palm directions
    angles: np.ndarray  # (T, 20) radians

    def held(self, num_frames: int) -> "HandTrack":
        """The last state of this track, held still for `num_frames` frames."""
        return HandTrack(
            np.repeat(self.position[-1:], num_frames, 0),
            np.repeat(self.rotation[-1:], num_frames, 0),
            np.repeat(self.angles[-1:], num_frames, 0),
        )

    @classmethod
    def concatenate(cls, tracks: list["HandTrack"]) -> "HandTrack":
        """Tracks one after the other."""
        return cls(
            np.concatenate([t.position for t in tracks]),
            np.concatenate([t.rotation for t in tracks]),
            np.concatenate([t.angles for t in tracks]),
        )

    def __len__(self) -> int:
        return len(self.position)


@dataclass
class NonManual:
    """Per-frame head and torso channels: head yaw, pitch (chin down > 0) and roll in radians, brows, mouth, eyes."""

    head_angles: np.ndarray  # (T, 3)
    brow_raise: np.ndarray  # (T,) metres
    mouth_open: np.ndarray  # (T,) metres
    blink: np.ndarray  # (T,) 0 open .. 1 closed
    torso_angles: np.ndarray  # (T, 2) roll (lean to the side) and yaw (turn), radians
    torso_shift: np.ndarray  # (T, 3) metres


def location_point(name: str, signer: Signer) -> np.ndarray:
    """Where a named location is on this signer's body (right-hand version, body frame, rest posture).

    Args:
        name (`str`): a key of `phonology.HEAD_LOCATIONS` or `phonology.BODY_LOCATIONS`.
        signer (`Signer`): whose proportions to use.

    Returns:
        `np.ndarray` of shape `(3,)`, metres.
    """
    if name in HEAD_LOCATIONS:
        return np.array([0.0, -signer.neck, 0.0]) + signer.head_scale * np.array(HEAD_LOCATIONS[name])
    if name in BODY_LOCATIONS:
        return signer.body_scale * np.array(BODY_LOCATIONS[name])
    raise InvalidInputError(
        f"Location {name!r} is not a body or head location; available: {[*HEAD_LOCATIONS, *BODY_LOCATIONS]}."
    )


def _rotation_xyz(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Rotations `(T, 3, 3)` = turn about y (yaw), then nod about x (pitch), then tilt about z (roll)."""
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    zeros, ones = np.zeros_like(yaw), np.ones_like(yaw)
    about_y = np.stack([cy, zeros, sy, zeros, ones, zeros, -sy, zeros, cy], -1).reshape(-1, 3, 3)
    about_x = np.stack([ones, zeros, zeros, zeros, cp, -sp, zeros, sp, cp], -1).reshape(-1, 3, 3)
    about_z = np.stack([cr, -sr, zeros, sr, cr, zeros, zeros, zeros, ones], -1).reshape(-1, 3, 3)
    return about_y @ about_x @ about_z


def head_points(signer: Signer, non_manual: NonManual) -> tuple[np.ndarray, np.ndarray]:
    """Face and head points of every frame.

    Returns:
        `(face, ears)`: `(T, 68, 3)` iBUG face points and `(T, 2, 3)` left and right ear, body frame.
    """
    num_frames = len(non_manual.brow_raise)
    face = np.repeat(FACE_TEMPLATE[None], num_frames, 0)  # (T, 68, 3)
    mouth = non_manual.mouth_open[:, None]
    face[:, LOWER_LIP, 1] += mouth
    face[:, MOUTH_CORNERS, 1] += 0.5 * mouth
    face[:, 4:13, 1] += mouth * np.sin(np.pi * np.arange(4, 13) / 16) ** 4  # the chin follows the jaw
    face[:, 17:27, 1] -= non_manual.brow_raise[:, None]
    face[:, UPPER_EYELIDS, 1] += non_manual.blink[:, None] * (
        FACE_TEMPLATE[LOWER_EYELIDS, 1] - FACE_TEMPLATE[UPPER_EYELIDS, 1]
    )
    local = np.concatenate([face, np.repeat(EARS[None], num_frames, 0)], axis=1) - NECK_PIVOT  # (T, 70, 3)
    rotation = _rotation_xyz(*non_manual.head_angles.T)  # (T, 3, 3)
    world = signer.head_scale * (local @ rotation.transpose(0, 2, 1) + NECK_PIVOT)
    world += np.array([0.0, -signer.neck, 0.0])
    return world[:, :NUM_FACE_POINTS], world[:, NUM_FACE_POINTS:]


def arm_points(signer: Signer, track: HandTrack) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shoulder, elbow and hand points of a right arm whose hand follows `track` (two-bone inverse kinematics).

    The shoulder rises a little when the hand is high. If the hand is out of reach, the whole hand is pulled
    back along the arm so that the skeleton stays connected.

    Returns:
        `(shoulder, elbow, hand)`: `(T, 3)`, `(T, 3)` and `(T, 21, 3)`, body frame.
    """
    local = hand_points(track.angles, signer.hand_scale)  # (T, 21, 3)
    wrist = track.position - track.rotation @ (PALM_CONTACT * signer.hand_scale)  # (T, 3)
    hand = wrist[:, None] + local @ track.rotation.transpose(0, 2, 1)  # (T, 21, 3)

    shoulder = np.repeat([[-signer.shoulder_half_width, 0.0, 0.0]], len(track), 0)
    height = np.clip(-wrist[:, 1] / (0.35 * signer.body_scale), 0.0, 1.0)
    shoulder[:, 1] -= 0.025 * signer.body_scale * height

    upper, lower = signer.upper_arm, signer.forearm
    reach = wrist - shoulder
    distance = np.linalg.norm(reach, axis=-1)
    along = reach / distance[:, None]
    clamped = np.clip(distance, abs(upper - lower) + 1e-3, 0.999 * (upper + lower))
    hand += ((clamped - distance)[:, None] * along)[:, None]
    cos_angle = (upper**2 + clamped**2 - lower**2) / (2.0 * upper * clamped)
    sin_angle = np.sqrt(np.clip(1.0 - cos_angle**2, 0.0, 1.0))
    pole = ELBOW_POLE - (along @ ELBOW_POLE)[:, None] * along
    pole /= np.maximum(np.linalg.norm(pole, axis=-1, keepdims=True), 1e-9)
    elbow = shoulder + upper * (cos_angle[:, None] * along + sin_angle[:, None] * pole)
    return shoulder, elbow, hand


def base_contact(signer: Signer, track: HandTrack) -> np.ndarray:
    """Where the dominant hand acts on a base hand held as `track` (its own frame): `(T, 3)` in the body frame."""
    palm_normal = track.rotation[:, :, 2]
    point = track.position + BASE_CONTACT_GAP * signer.hand_scale * palm_normal
    return point @ MIRROR_X


def _legs(signer: Signer) -> np.ndarray:
    """Hips, knees, ankles (COCO 11-16) and feet (17-22) of a seated signer, `(12, 3)`, left before right."""
    hip, torso, scale = signer.hip_half_width, signer.torso, signer.body_scale
    left = {
        "hip": [hip, torso, 0.03],
        "knee": [hip + 0.01, torso + 0.06 * scale, -0.40 * scale],
        "ankle": [hip + 0.02, torso + 0.48 * scale, -0.42 * scale],
    }
    toes = [[0.03, 0.06, -0.16], [0.07, 0.06, -0.13], [0.0, 0.07, 0.05]]  # big toe, small toe, heel
    points = [left[name] * np.array([side, 1, 1]) for name in ("hip", "knee", "ankle") for side in (1, -1)]
    ankle = np.array(left["ankle"])
    points += [(ankle + np.array(toe) * scale) * [side, 1, 1] for side in (1, -1) for toe in toes]
    return np.array(points)


def wholebody_points(signer: Signer, dominant: HandTrack, other: HandTrack, non_manual: NonManual) -> np.ndarray:
    """The full skeleton of every frame, for a right-handed signer.

    Args:
        signer (`Signer`): proportions.
        dominant (`HandTrack`): the right hand, body frame.
        other (`HandTrack`): the left hand, in its own mirrored frame.
        non_manual (`NonManual`): head and torso channels.

    Returns:
        `np.ndarray` of shape `(num_frames, 133, 3)`, metres, body frame.
    """
    num_frames = len(dominant)
    points = np.zeros((num_frames, NUM_WHOLEBODY_KEYPOINTS, 3))
    face, ears = head_points(signer, non_manual)
    points[:, FACE_START : FACE_START + NUM_FACE_POINTS] = face
    points[:, 0] = face[:, 30]  # nose tip
    points[:, 1] = face[:, 42:48].mean(1)  # left eye
    points[:, 2] = face[:, 36:42].mean(1)  # right eye
    points[:, 3:5] = ears

    right_shoulder, right_elbow, right_hand = arm_points(signer, dominant)
    left_shoulder, left_elbow, left_hand = (part @ MIRROR_X for part in arm_points(signer, other))
    points[:, [5, 6]] = np.stack([left_shoulder, right_shoulder], 1)
    points[:, [7, 8]] = np.stack([left_elbow, right_elbow], 1)
    points[:, [9, 10]] = np.stack([left_hand[:, 0], right_hand[:, 0]], 1)
    points[:, LEFT_HAND_INDICES] = left_hand
    points[:, RIGHT_HAND_INDICES] = right_hand
    points[:, 11:23] = _legs(signer)

    # the torso sways as a whole about the hips
    hips = np.array([0.0, signer.torso, 0.0])
    roll, yaw = non_manual.torso_angles.T
    sway = _rotation_xyz(yaw, np.zeros_like(yaw), roll)  # (T, 3, 3)
    return (points - hips) @ sway.transpose(0, 2, 1) + hips + non_manual.torso_shift[:, None]


__all__ = [
    "FACE_TEMPLATE",
    "WHOLEBODY_MIRROR",
    "HandTrack",
    "NonManual",
    "arm_points",
    "base_contact",
    "head_points",
    "location_point",
    "mirror_wholebody",
    "wholebody_points",
]
