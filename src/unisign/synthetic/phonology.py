"""The phonological parameters of a sign and the geometry behind them: handshape, orientation, location, movement.

Every hand is computed as a *right* hand in a canonical body frame and mirrored afterwards where needed, so one
set of tables serves the dominant hand, the non-dominant hand and left-handed signers.

Body frame (metres, origin at the mid-point between the shoulders): x to the image right (the signer's left), y
down, z away from the camera (the signer's forward is -z). Hand frame: x ulnar (towards the little finger), y along
the fingers, z out of the palm; for a right hand these three axes are right-handed, so an orientation is a proper
rotation whose columns are the ulnar, finger and palm directions in the body frame.

Joint angles of one hand are a vector of 20 values (radians): thumb (abduction in the palm plane, opposition out of
it, MCP flexion, IP flexion), then for index, middle, ring and little finger (spread, MCP, PIP, DIP flexion).
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..utils.errors import InvalidInputError


NUM_JOINT_ANGLES = 20
NUM_HAND_POINTS = 21

# ---------------------------------------------------------------------------------------------------------------
# Hand geometry (metres for an adult hand of scale 1, hand frame)
# ---------------------------------------------------------------------------------------------------------------
THUMB_BASE = np.array([-0.021, 0.026, 0.006])  # thumb CMC (COCO hand point 1)
THUMB_BONES = np.array([0.040, 0.032, 0.027])  # CMC-MCP, MCP-IP, IP-tip
# direction thumb flexion bends towards: across the palm (ulnar), slightly back towards the palm plane
_THUMB_BEND = np.array([1.0, 0.0, -0.2]) / np.linalg.norm([1.0, 0.0, -0.2])
FINGER_BASES = np.array(  # MCP knuckles of index, middle, ring, little
    [[-0.023, 0.090, 0.0], [-0.002, 0.094, 0.0], [0.017, 0.089, 0.0], [0.034, 0.079, 0.0]]
)
FINGER_BONES = np.array(  # proximal, middle, distal phalanx
    [[0.043, 0.025, 0.020], [0.047, 0.029, 0.021], [0.044, 0.028, 0.021], [0.035, 0.020, 0.019]]
)
# point on the palm side that a sign's location refers to: a handshape-independent contact point, so that signs
# differing only in handshape put the wrist (and so the whole arm) in exactly the same place
PALM_CONTACT = np.array([0.006, 0.050, 0.020])


def _angles(thumb: tuple, fingers: list[tuple]) -> np.ndarray:
    """Pack a thumb tuple and four finger tuples, in degrees, into a `(20,)` radians vector."""
    return np.deg2rad(np.concatenate([np.asarray(thumb, dtype=float), np.asarray(fingers, dtype=float).ravel()]))


# Finger postures: (spread, MCP, PIP, DIP) in degrees; spread is positive towards the thumb.
_CLOSED_SPREAD = (4, 0, -4, -9)
_FAN_SPREAD = (14, 0, -12, -25)


def _fingers(posture: tuple, spread: tuple = _CLOSED_SPREAD) -> list[tuple]:
    return [(s, *posture) for s in spread]


_EXTENDED = (0, 4, 3)
_FIST = (88, 100, 55)
_CURVED = (30, 45, 25)
_OPEN_O = (45, 70, 35)
_FLAT_O = (62, 12, 8)
_CLAWED = (22, 75, 45)
_BENT = (85, 4, 3)
_HOOKED = (12, 85, 55)

# Thumb postures: (abduction, opposition, MCP, IP) in degrees.
_THUMB_OUT = (58, 12, 4, 4)
_THUMB_SIDE = (8, 8, 6, 12)
_THUMB_TUCKED = (15, 35, 35, 25)  # folded against the palm (B, 4)
_THUMB_OVER = (30, 55, 45, 35)  # wrapped over curled fingers (S, 1, V, W)
_THUMB_OPPOSED = (38, 50, 10, 12)  # C
_THUMB_TOUCH = (32, 62, 20, 20)  # O, flat O: tip meets the fingertips


def _mixed(thumb: tuple, postures: list[tuple], spread: tuple = _CLOSED_SPREAD) -> np.ndarray:
    return _angles(thumb, [(s, *p) for s, p in zip(spread, postures, strict=True)])


HANDSHAPES: dict[str, np.ndarray] = {
    "rest": _mixed((25, 30, 15, 15), [(25, 30, 15), (28, 35, 18), (30, 38, 20), (32, 40, 20)]),
    "5": _angles(_THUMB_OUT, _fingers(_EXTENDED, _FAN_SPREAD)),
    "B": _angles(_THUMB_TUCKED, _fingers(_EXTENDED)),
    "4": _angles(_THUMB_TUCKED, _fingers(_EXTENDED, _FAN_SPREAD)),
    "A": _angles(_THUMB_SIDE, _fingers(_FIST)),
    "S": _angles(_THUMB_OVER, _fingers(_FIST)),
    "1": _mixed(_THUMB_OVER, [_EXTENDED, _FIST, _FIST, _FIST]),
    "V": _mixed(_THUMB_OVER, [_EXTENDED, _EXTENDED, _FIST, _FIST], (12, -6, -4, -9)),
    "W": _mixed(_THUMB_OVER, [_EXTENDED, _EXTENDED, _EXTENDED, _FIST], (12, 0, -12, -9)),
    "L": _mixed(_THUMB_OUT, [_EXTENDED, _FIST, _FIST, _FIST]),
    "Y": _mixed(_THUMB_OUT, [_FIST, _FIST, _FIST, _EXTENDED], (4, 0, -4, -25)),
    "I": _mixed(_THUMB_OVER, [_FIST, _FIST, _FIST, _EXTENDED]),
    "X": _mixed(_THUMB_OVER, [_HOOKED, _FIST, _FIST, _FIST]),
    "C": _angles(_THUMB_OPPOSED, _fingers(_CURVED)),
    "O": _angles(_THUMB_TOUCH, _fingers(_OPEN_O)),
    "flat-O": _angles(_THUMB_TOUCH, _fingers(_FLAT_O)),
    "claw": _angles((50, 25, 20, 25), _fingers(_CLAWED, _FAN_SPREAD)),
    "bent-B": _angles(_THUMB_SIDE, _fingers(_BENT)),
}


def hand_points(angles: np.ndarray, hand_scale: float = 1.0) -> np.ndarray:
    """Forward kinematics of a right hand: joint angles to the 21 COCO hand points in the hand frame.

    Args:
        angles (`np.ndarray` of shape `(..., 20)`):
            Joint angles in radians (layout in the module docstring).
        hand_scale (`float`, *optional*, defaults to 1.0):
            Size of the hand relative to an adult hand of about 19 cm.

    Returns:
        `np.ndarray` of shape `(..., 21, 3)`: wrist, thumb 1-4, index 1-4, middle 1-4, ring 1-4, little 1-4, in
        metres in the hand frame (x ulnar, y along the fingers, z out of the palm).
    """
    angles = np.asarray(angles, dtype=np.float64)
    if angles.shape[-1] != NUM_JOINT_ANGLES:
        raise InvalidInputError(f"`angles` must end with {NUM_JOINT_ANGLES} joint angles, got shape {angles.shape}.")
    lead = angles.shape[:-1]
    points = np.zeros((*lead, NUM_HAND_POINTS, 3))

    # thumb: base direction from abduction (in the palm plane) and opposition (out of it), then two flexions
    abduction, opposition, thumb_mcp, thumb_ip = (angles[..., i] for i in range(4))
    direction = np.stack(
        [-np.sin(abduction) * np.cos(opposition), np.cos(abduction) * np.cos(opposition), np.sin(opposition)], -1
    )  # (..., 3)
    bend = _THUMB_BEND - (direction @ _THUMB_BEND)[..., None] * direction
    bend /= np.linalg.norm(bend, axis=-1, keepdims=True)
    thumb_flex = np.stack([np.zeros_like(thumb_mcp), thumb_mcp, thumb_mcp + thumb_ip], -1)[..., None]  # (..., 3, 1)
    thumb_steps = THUMB_BONES[:, None] * (
        np.cos(thumb_flex) * direction[..., None, :] + np.sin(thumb_flex) * bend[..., None, :]
    )  # (..., 3, 3)
    points[..., 1, :] = THUMB_BASE
    points[..., 2:5, :] = THUMB_BASE + np.cumsum(thumb_steps, axis=-2)

    # fingers: a planar chain in the plane of the spread direction and the palm normal
    finger_angles = angles[..., 4:].reshape(*lead, 4, 4)
    spread = finger_angles[..., 0]  # (..., 4)
    flex = np.cumsum(finger_angles[..., 1:], axis=-1)[..., None]  # (..., 4, 3, 1)
    in_plane = np.stack([-np.sin(spread), np.cos(spread), np.zeros_like(spread)], -1)[..., None, :]  # (..., 4, 1, 3)
    palm_normal = np.array([0.0, 0.0, 1.0])
    steps = FINGER_BONES[..., None] * (np.cos(flex) * in_plane + np.sin(flex) * palm_normal)  # (..., 4, 3, 3)
    chains = np.concatenate(
        [np.broadcast_to(FINGER_BASES[:, None, :], (*lead, 4, 1, 3)), FINGER_BASES[:, None, :] + np.cumsum(steps, -2)],
        axis=-2,
    )  # (..., 4, 4, 3)
    points[..., 5:, :] = chains.reshape(*lead, 16, 3)
    return points * hand_scale


# ---------------------------------------------------------------------------------------------------------------
# Directions and palm orientation
# ---------------------------------------------------------------------------------------------------------------
# For a right hand: ipsi is the hand's own side (the signer's right, image left), contra the other side.
DIRECTIONS: dict[str, np.ndarray] = {
    "up": np.array([0.0, -1.0, 0.0]),
    "down": np.array([0.0, 1.0, 0.0]),
    "forward": np.array([0.0, 0.0, -1.0]),
    "back": np.array([0.0, 0.0, 1.0]),
    "ipsi": np.array([-1.0, 0.0, 0.0]),
    "contra": np.array([1.0, 0.0, 0.0]),
}


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False  # cached results are shared: nobody may change them
    return array


@lru_cache(maxsize=256)
def direction_vector(name: str) -> np.ndarray:
    """A unit vector of the body frame from a name such as `"forward"` or `"forward+up"`.

    Args:
        name (`str`): one of the `DIRECTIONS` names, or several joined with `+` (summed, then normalised).

    Returns:
        `np.ndarray` of shape `(3,)`, read-only.
    """
    parts = name.split("+")
    unknown = [part for part in parts if part not in DIRECTIONS]
    if unknown:
        raise InvalidInputError(f"Unknown direction {unknown} in {name!r}; available: {sorted(DIRECTIONS)}.")
    vector = np.sum([DIRECTIONS[part] for part in parts], axis=0)
    norm = np.linalg.norm(vector)
    if norm < 1e-9:
        raise InvalidInputError(f"Direction {name!r} sums to zero; combine directions that do not cancel.")
    return _frozen(vector / norm)


@lru_cache(maxsize=256)
def orientation_matrix(palm: str, fingers: str) -> np.ndarray:
    """The rotation of a right hand whose palm faces `palm` and whose fingers point towards `fingers`.

    The finger direction is made orthogonal to the palm normal, so `"up+forward"` fingers with a `"forward"` palm
    mean fingers up, tilted as far forward as the palm allows.

    Args:
        palm (`str`): direction name the palm faces (see `direction_vector`).
        fingers (`str`): direction name the fingers point to.

    Returns:
        `np.ndarray` of shape `(3, 3)`, read-only: columns are the ulnar, finger and palm directions in the body
        frame.
    """
    normal = direction_vector(palm)
    finger = direction_vector(fingers)
    finger = finger - (finger @ normal) * normal
    norm = np.linalg.norm(finger)
    if norm < 1e-6:
        raise InvalidInputError(f"Finger direction {fingers!r} is parallel to the palm direction {palm!r}.")
    finger /= norm
    ulnar = np.cross(finger, normal)
    return _frozen(np.stack([ulnar, finger, normal], axis=1))


def _rodrigues(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices `(n, 3, 3)` about a unit `axis` `(3,)` by each of `angle` `(n,)`."""
    kx, ky, kz = axis
    cross = np.array([[0.0, -kz, ky], [kz, 0.0, -kx], [-ky, kx, 0.0]])
    angle = angle[:, None, None]
    return np.eye(3) + np.sin(angle) * cross + (1.0 - np.cos(angle)) * (cross @ cross)


def interpolate_rotations(start: np.ndarray, end: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Rotations on the shortest path from `start` to `end` (spherical interpolation).

    Args:
        start (`np.ndarray` of shape `(3, 3)`): first rotation.
        end (`np.ndarray` of shape `(3, 3)`): last rotation.
        fractions (`np.ndarray` of shape `(n,)`): 0 gives `start`, 1 gives `end`.

    Returns:
        `np.ndarray` of shape `(n, 3, 3)`.
    """
    relative = start.T @ end
    cos_angle = np.clip((np.trace(relative) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos_angle)
    if angle < 1e-6:
        return np.broadcast_to(start, (len(fractions), 3, 3)).copy()
    skew = np.array(
        [relative[2, 1] - relative[1, 2], relative[0, 2] - relative[2, 0], relative[1, 0] - relative[0, 1]]
    )
    if np.sin(angle) > 1e-4:
        axis = skew / (2.0 * np.sin(angle))
    else:  # half a turn: the axis is the dominant column of (R + I) / 2
        symmetric = (relative + np.eye(3)) / 2.0
        axis = symmetric[:, np.argmax(np.diag(symmetric))]
    axis = axis / np.linalg.norm(axis)
    return start @ _rodrigues(axis, np.asarray(fractions) * angle)


# ---------------------------------------------------------------------------------------------------------------
# Locations (where the palm contact point goes, right hand, before the signer's proportions are applied)
# ---------------------------------------------------------------------------------------------------------------
# Head locations are offsets from the head centre (midpoint between the ears) and scale with the head; body
# locations are offsets from the mid-shoulder point and scale with the body. "base" is the non-dominant hand.
HEAD_LOCATIONS: dict[str, tuple[float, float, float]] = {
    "forehead": (-0.005, -0.055, -0.150),
    "eyes": (-0.030, -0.015, -0.165),
    "nose": (0.0, 0.020, -0.175),
    "mouth": (0.0, 0.060, -0.160),
    "chin": (0.0, 0.100, -0.140),
    "cheek": (-0.060, 0.035, -0.125),
}
BODY_LOCATIONS: dict[str, tuple[float, float, float]] = {
    "chest": (0.0, 0.150, -0.140),
    "chest_ipsi": (-0.085, 0.130, -0.135),
    "stomach": (0.0, 0.330, -0.170),
    "neutral": (-0.060, 0.170, -0.360),
    "neutral_ipsi": (-0.200, 0.170, -0.320),
    "neutral_high": (-0.050, -0.020, -0.380),
    "rest": (-0.120, 0.450, -0.200),
}
LOCATIONS = (*HEAD_LOCATIONS, *BODY_LOCATIONS, "base")


@dataclass(frozen=True)
class HandConfig:
    """One hand's static parameters in a sign: handshape, palm orientation, location (and optional changes)."""

    handshape: str
    palm: str
    fingers: str
    location: str
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)  # refinement of the location, metres
    end_handshape: str | None = None  # handshape change over the sign (e.g. opening or closing)
    end_palm: str | None = None  # orientation change over the sign (e.g. turning the palm over)
    end_fingers: str | None = None

    def __post_init__(self):
        for name in (self.handshape, self.end_handshape):
            if name is not None and name not in HANDSHAPES:
                raise InvalidInputError(f"Unknown handshape {name!r}; available: {sorted(HANDSHAPES)}.")
        if self.location not in LOCATIONS:
            raise InvalidInputError(f"Unknown location {self.location!r}; available: {list(LOCATIONS)}.")
        if (self.end_palm is None) != (self.end_fingers is None):
            raise InvalidInputError("An orientation change needs both `end_palm` and `end_fingers`, or neither.")
        orientation_matrix(self.palm, self.fingers)  # validates the direction names
        if self.end_palm is not None:
            orientation_matrix(self.end_palm, self.end_fingers)

    @property
    def start_rotation(self) -> np.ndarray:
        """`(3, 3)` orientation at the start of the sign."""
        return orientation_matrix(self.palm, self.fingers)

    @property
    def end_rotation(self) -> np.ndarray:
        """`(3, 3)` orientation at the end of the sign."""
        if self.end_palm is None:
            return self.start_rotation
        return orientation_matrix(self.end_palm, self.end_fingers)


# ---------------------------------------------------------------------------------------------------------------
# Movements
# ---------------------------------------------------------------------------------------------------------------
MOVEMENT_KINDS = ("hold", "straight", "arc", "circle", "repeated", "shake", "wiggle")
# typical duration of the sign's own movement in seconds, before the signer's tempo is applied
MOVEMENT_SECONDS = {
    "hold": 0.40,
    "straight": 0.38,
    "arc": 0.44,
    "circle": 0.58,
    "repeated": 0.52,
    "shake": 0.50,
    "wiggle": 0.55,
}
_WIGGLE_AMPLITUDE = np.deg2rad(28.0)


@dataclass(frozen=True)
class Movement:
    """The path of a hand during a sign (right hand, body frame), or the finger wiggle of `"wiggle"`.

    `size` is the path length of `"straight"` and `"arc"`, the radius of `"circle"`, the excursion of `"repeated"`
    (out and back `count` times) and the amplitude of `"shake"` (side to side `count` times).
    """

    kind: str
    direction: str = "forward"
    size: float = 0.08
    secondary: str = "up"  # bulge of an arc, second axis of a circle's plane
    count: int = 1

    def __post_init__(self):
        if self.kind not in MOVEMENT_KINDS:
            raise InvalidInputError(f"Unknown movement kind {self.kind!r}; available: {MOVEMENT_KINDS}.")
        direction_vector(self.direction)
        direction_vector(self.secondary)
        if self.count < 1:
            raise InvalidInputError(f"`count` must be at least 1, got {self.count}.")

    @property
    def seconds(self) -> float:
        """Nominal duration of the movement."""
        return MOVEMENT_SECONDS[self.kind]

    def offsets(self, phase: np.ndarray, scale: float = 1.0, antiphase: bool = False) -> np.ndarray:
        """Displacement of the hand from its location at each phase of the sign.

        Args:
            phase (`np.ndarray` of shape `(n,)`): 0 at the start of the sign, 1 at its end.
            scale (`float`, *optional*, defaults to 1.0): the signer's body scale.
            antiphase (`bool`, *optional*, defaults to `False`): half a cycle late, for alternating two-handed signs.

        Returns:
            `np.ndarray` of shape `(n, 3)` in metres (all zeros for `"hold"` and `"wiggle"`).
        """
        main = direction_vector(self.direction)
        second = direction_vector(self.secondary)
        eased = ease(phase)
        size = self.size * scale
        if self.kind == "straight":
            amount = eased[:, None] * main
        elif self.kind == "arc":
            amount = eased[:, None] * main + 0.35 * np.sin(np.pi * eased)[:, None] * second
        elif self.kind == "circle":
            angle = 2.0 * np.pi * self.count * eased + (np.pi if antiphase else 0.0)
            start = np.pi if antiphase else 0.0
            amount = (np.cos(angle) - np.cos(start))[:, None] * main + (np.sin(angle) - np.sin(start))[
                :, None
            ] * second
        elif self.kind == "repeated":
            wave = 0.5 * (1.0 - np.cos(2.0 * np.pi * self.count * phase))
            amount = (1.0 - wave if antiphase else wave)[:, None] * main
        elif self.kind == "shake":
            amount = ((-1.0 if antiphase else 1.0) * np.sin(2.0 * np.pi * self.count * phase))[:, None] * main
        else:  # hold, wiggle: the hand stays where it is
            amount = np.zeros((len(phase), 3))
        return size * amount

    def finger_offsets(self, phase: np.ndarray) -> np.ndarray:
        """Joint-angle changes `(n, 20)` at each phase: a travelling flutter of the fingers for `"wiggle"`."""
        offsets = np.zeros((len(phase), NUM_JOINT_ANGLES))
        if self.kind != "wiggle":
            return offsets
        envelope = np.sin(np.pi * phase)  # starts and ends in the plain handshape
        for finger in range(4):
            wave = np.sin(2.0 * np.pi * self.count * phase - 0.9 * finger)
            offsets[:, 5 + 4 * finger] = _WIGGLE_AMPLITUDE * envelope * wave  # MCP
            offsets[:, 6 + 4 * finger] = 0.6 * _WIGGLE_AMPLITUDE * envelope * wave  # PIP
        return offsets


def ease(phase: np.ndarray) -> np.ndarray:
    """Minimum-jerk time course `10 s^3 - 15 s^4 + 6 s^5`: starts and stops at rest, like human reaching."""
    phase = np.clip(phase, 0.0, 1.0)
    return phase**3 * (10.0 - 15.0 * phase + 6.0 * phase**2)


__all__ = [
    "BODY_LOCATIONS",
    "DIRECTIONS",
    "HANDSHAPES",
    "HEAD_LOCATIONS",
    "LOCATIONS",
    "MOVEMENT_KINDS",
    "PALM_CONTACT",
    "HandConfig",
    "Movement",
    "direction_vector",
    "ease",
    "hand_points",
    "interpolate_rotations",
    "orientation_matrix",
]
