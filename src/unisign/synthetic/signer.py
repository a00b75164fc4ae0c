"""Signers: body proportions, handedness, tempo, recording setup, detector quality and appearance.

A signer is drawn deterministically from `(index, seed)`, so a dataset's signers can be rebuilt from its seed and
a split can be given signers that no other split has.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from ..utils.errors import InvalidInputError


# Stream tags keep the random draws of signers, clips and dataset plans independent of one another.
SIGNER_STREAM = 1

FRAME_SIZES = ((640, 480), (512, 512), (480, 640), (720, 540))
FRAME_RATES = (20.0, 24.0, 25.0, 30.0)
# RGB appearance palettes for rendering
SKIN_TONES = ((255, 219, 183), (241, 194, 150), (224, 172, 125), (198, 134, 90), (141, 85, 54), (99, 62, 40))
HAIR_COLOURS = ((40, 30, 25), (85, 60, 40), (160, 120, 70), (20, 20, 20), (200, 190, 170))
CLOTHING_COLOURS = ((30, 30, 35), (40, 60, 120), (30, 90, 60), (90, 90, 95), (20, 40, 70), (70, 40, 100))
BACKGROUND_COLOURS = ((225, 225, 220), (190, 205, 215), (120, 130, 140), (230, 215, 190), (60, 70, 80))


@dataclass(frozen=True)
class Camera:
    """Frame size and where the signer stands in it (orthographic: pixels per metre and the mid-shoulder pixel)."""

    width: int
    height: int
    pixels_per_metre: float
    center_x: float
    center_y: float

    def jittered(self, rng: np.random.Generator) -> "Camera":
        """The same setup for another recording: the signer a little shifted and nearer or farther."""
        scale = float(np.exp(rng.normal(0.0, 0.03)))
        return replace(
            self,
            pixels_per_metre=self.pixels_per_metre * scale,
            center_x=self.center_x + rng.normal(0.0, 0.015) * self.width,
            center_y=self.center_y + rng.normal(0.0, 0.01) * self.height,
        )


@dataclass(frozen=True)
class Signer:
    """One person: proportions (metres), handedness, tempo, camera, detector quality and appearance."""

    signer_id: str
    index: int
    left_handed: bool
    body_scale: float
    shoulder_half_width: float
    upper_arm: float
    forearm: float
    neck: float  # height of the head centre (between the ears) above the mid-shoulder point
    head_scale: float
    hand_scale: float
    hip_half_width: float
    torso: float  # height of the hips below the mid-shoulder point
    tempo: float  # > 1 signs faster
    fps: float
    camera: Camera
    jitter: float  # multiplier of the detector's keypoint noise
    dropout_rate: float  # chance per frame that a hand detection starts to fail
    score_bias: float  # shifts all confidences of this signer's recordings
    skin: tuple[int, int, int] = field(default=(224, 172, 125))
    hair: tuple[int, int, int] = field(default=(40, 30, 25))
    clothing: tuple[int, int, int] = field(default=(40, 60, 120))
    background: tuple[int, int, int] = field(default=(225, 225, 220))


def _pick(rng: np.random.Generator, options: tuple) -> tuple:
    return options[int(rng.integers(len(options)))]


def sample_signer(index: int, seed: int = 0, left_handed: bool | None = None) -> Signer:
    """Draw signer number `index` of the population defined by `seed`.

    Args:
        index (`int`): the signer's number (non-negative); the id is `"signer-{index:03d}"`.
        seed (`int`, *optional*, defaults to 0): population seed (the dataset seed).
        left_handed (`bool`, *optional*): force the handedness; by default every fourth signer (index 3, 7, ...)
            is left-handed, so any four consecutive signers include one.

    Returns:
        `Signer`
    """
    if index < 0:
        raise InvalidInputError(f"`index` must be non-negative, got {index}.")
    rng = np.random.default_rng(np.random.SeedSequence([seed, SIGNER_STREAM, index]))
    body_scale = float(np.clip(rng.normal(1.0, 0.055), 0.88, 1.12))
    width, height = _pick(rng, FRAME_SIZES)
    # frame the upper body: head top near the top edge, hips near the bottom edge
    pixels_per_metre = min(height / 0.86, width / 0.95) * rng.uniform(0.85, 1.05) / body_scale
    head_top = 0.33 * body_scale * pixels_per_metre
    camera = Camera(
        width=width,
        height=height,
        pixels_per_metre=pixels_per_metre,
        center_x=width / 2 + rng.normal(0.0, 0.04) * width,
        center_y=rng.uniform(0.03, 0.12) * height + head_top,
    )
    return Signer(
        signer_id=f"signer-{index:03d}",
        index=index,
        left_handed=index % 4 == 3 if left_handed is None else left_handed,
        body_scale=body_scale,
        shoulder_half_width=0.19 * body_scale * rng.uniform(0.92, 1.08),
        upper_arm=0.295 * body_scale * rng.uniform(0.95, 1.05),
        forearm=0.255 * body_scale * rng.uniform(0.95, 1.05),
        neck=0.205 * body_scale * rng.uniform(0.93, 1.07),
        head_scale=body_scale**0.5 * rng.uniform(0.94, 1.06),
        hand_scale=body_scale * rng.uniform(0.93, 1.07),
        hip_half_width=0.15 * body_scale * rng.uniform(0.92, 1.1),
        torso=0.5 * body_scale * rng.uniform(0.95, 1.05),
        tempo=float(np.clip(np.exp(rng.normal(0.0, 0.12)), 0.78, 1.28)),
        fps=float(_pick(rng, FRAME_RATES)),
        camera=camera,
        jitter=rng.uniform(0.5, 1.6),
        dropout_rate=rng.uniform(0.01, 0.06),
        score_bias=rng.normal(0.0, 0.04),
        skin=_pick(rng, SKIN_TONES),
        hair=_pick(rng, HAIR_COLOURS),
        clothing=_pick(rng, CLOTHING_COLOURS),
        background=_pick(rng, BACKGROUND_COLOURS),
    )


__all__ = ["Camera", "Signer", "sample_signer"]
