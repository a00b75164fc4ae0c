"""A signer performing a gloss sequence: sign timing, co-articulated transitions, rest poses, non-manual channels.

A clip starts and ends with the hands at rest. Between two signs the hands move directly from the end of one to
the start of the next (co-articulation): position, palm orientation and handshape are interpolated along a
minimum-jerk time course with a slight sag. The non-dominant hand rests during one-handed signs (or hovers, when
one-handed signs sit between two two-handed ones).

Random draws come from two streams whose number of draws does not depend on which signs are performed, so two
signs with the same timing class (same movement and location) give clips of the same length and the same body
sway: a minimal pair differs only where its parameters differ.
"""

from dataclasses import dataclass

import numpy as np

from ..utils.errors import InvalidInputError
from .body import HandTrack, NonManual, base_contact, location_point
from .lexicon import Sign
from .phonology import HANDSHAPES, HandConfig, Movement, ease, interpolate_rotations
from .signer import Signer


REST_SECONDS = (0.12, 0.35)  # still hands before the first and after the last sign
TRANSITION_SECONDS = 0.34  # from rest to the first sign and from the last sign back to rest
_REST = HandConfig("rest", "down", "forward+contra", "rest")  # hands lying on the lap
_HOVER_TOWARDS = "neutral"  # a hovering non-dominant hand sits part of the way from rest to neutral space
_HOVER_FRACTION = 0.45
_TRANSITION_SAG = 0.12  # hands dip by this fraction of the distance travelled between signs
QUESTION_BROW_RAISE = 0.007  # metres
QUESTION_HEAD_PITCH = np.deg2rad(11.0)  # chin down and forward, as for a yes/no question


@dataclass
class Performance:
    """What a signer does in one clip: both hand tracks, non-manual channels, and the frames of each sign."""

    dominant: HandTrack
    other: HandTrack
    non_manual: NonManual
    sign_spans: list[tuple[int, int]]  # (first frame, last frame + 1) of each sign's own movement


def _hand_state(config: HandConfig, signer: Signer) -> HandTrack:
    """A one-frame track holding `config`'s start position, orientation and handshape."""
    position = location_point(config.location, signer) + np.asarray(config.offset) * signer.body_scale
    return HandTrack(position[None], config.start_rotation[None], HANDSHAPES[config.handshape][None])


def _realise(
    config: HandConfig, movement: Movement, signer: Signer, phase: np.ndarray, location: np.ndarray, antiphase: bool
) -> HandTrack:
    """A hand performing `config` with `movement` at each `phase` (0..1) of the sign."""
    position = location + np.asarray(config.offset) * signer.body_scale
    position = position + movement.offsets(phase, signer.body_scale, antiphase)  # (n, 3)
    eased = ease(phase)
    end_shape = config.end_handshape or config.handshape
    angles = (1 - eased)[:, None] * HANDSHAPES[config.handshape] + eased[:, None] * HANDSHAPES[end_shape]
    rotation = interpolate_rotations(config.start_rotation, config.end_rotation, eased)
    return HandTrack(position, rotation, angles + movement.finger_offsets(phase))


def _sign_tracks(sign: Sign, signer: Signer, num_frames: int, passive: HandTrack) -> tuple[HandTrack, HandTrack]:
    """Dominant and non-dominant tracks `(num_frames)` of one sign; `passive` is the other hand's idle state."""
    phase = np.linspace(0.0, 1.0, num_frames)
    if sign.hands == "base":
        other = _hand_state(sign.base, signer).held(num_frames)
        dominant = _realise(sign.dominant, sign.movement, signer, phase, base_contact(signer, other)[0], False)
        return dominant, other
    location = location_point(sign.dominant.location, signer)
    dominant = _realise(sign.dominant, sign.movement, signer, phase, location, False)
    if sign.hands == "one":
        other = passive.held(num_frames)
    else:
        other = _realise(sign.dominant, sign.movement, signer, phase, location, sign.hands == "alternating")
    return dominant, other


def _transition(start: HandTrack, end: HandTrack, num_frames: int) -> HandTrack:
    """`num_frames` in-between frames from the last state of `start` to the first state of `end` (both excluded)."""
    phase = ease(np.arange(1, num_frames + 1) / (num_frames + 1))
    begin, finish = start.position[-1], end.position[0]
    sag = _TRANSITION_SAG * np.linalg.norm(finish - begin) * np.sin(np.pi * phase)
    position = (1 - phase)[:, None] * begin + phase[:, None] * finish
    position[:, 1] += sag
    angles = (1 - phase)[:, None] * start.angles[-1] + phase[:, None] * end.angles[0]
    rotation = interpolate_rotations(start.rotation[-1], end.rotation[0], phase)
    return HandTrack(position, rotation, angles)


def _passive_states(signs: list[Sign], signer: Signer) -> list[HandTrack]:
    """The idle state of the non-dominant hand during each sign (used only for one-handed signs)."""
    rest = _hand_state(_REST, signer)
    hover_point = (1 - _HOVER_FRACTION) * rest.position[0] + _HOVER_FRACTION * location_point(_HOVER_TOWARDS, signer)
    hover = HandTrack(hover_point[None], rest.rotation, rest.angles)
    states = []
    for index in range(len(signs)):
        before = any(sign.two_handed for sign in signs[:index])
        after = any(sign.two_handed for sign in signs[index + 1 :])
        states.append(hover if before and after else rest)
    return states


def _smooth_noise(rng: np.random.Generator, times: np.ndarray, amplitude: float, channels: int) -> np.ndarray:
    """Slow random wander `(T, channels)`: two sinusoids per channel with random frequency (0.15-0.8 Hz) and phase."""
    frequency = rng.uniform(0.15, 0.8, (2, channels))
    phase = rng.uniform(0.0, 2.0 * np.pi, (2, channels))
    weight = rng.uniform(0.3, 1.0, (2, channels))
    waves = np.sin(2.0 * np.pi * frequency[:, None] * times[None, :, None] + phase[:, None])  # (2, T, channels)
    return amplitude * (weight[:, None] * waves).sum(0) / weight.sum(0)


def _non_manual(
    rng: np.random.Generator, num_frames: int, fps: float, sentence: tuple[int, int], question: bool
) -> NonManual:
    """Head, face and torso channels: slow sway, blinks, mouthing, and the question marker over `sentence`."""
    times = np.arange(num_frames) / fps
    head_angles = _smooth_noise(rng, times, np.deg2rad(3.0), 3)
    torso_angles = _smooth_noise(rng, times, np.deg2rad(1.5), 2)
    torso_shift = _smooth_noise(rng, times, 0.008, 3) * [1.0, 0.3, 0.5]
    mouth_open = np.clip(_smooth_noise(rng, times, 0.008, 1)[:, 0], 0.0, None)
    blink = np.zeros(num_frames)
    blink_times = np.cumsum(rng.exponential(3.0, 4))  # about one blink every three seconds
    for start in blink_times:
        blink += np.clip(1.0 - np.abs(times - start) / 0.08, 0.0, 1.0)
    brow_raise = np.zeros(num_frames)
    if question:
        start, end = sentence
        ramp = max(2, int(0.25 * fps))
        frames = np.arange(num_frames)
        level = ease((frames - start + ramp) / ramp) * ease((end + ramp - frames) / ramp)
        brow_raise = QUESTION_BROW_RAISE * level
        head_angles[:, 1] += QUESTION_HEAD_PITCH * level
    return NonManual(head_angles, brow_raise, mouth_open, np.clip(blink, 0.0, 1.0), torso_angles, torso_shift)


def _frames(seconds: float, fps: float, minimum: int) -> int:
    return max(minimum, int(round(seconds * fps)))


def perform(
    signs: list[Sign],
    signer: Signer,
    timing_rng: np.random.Generator,
    sway_rng: np.random.Generator,
    question: bool = False,
) -> Performance:
    """Plan and realise one clip of `signs`, from rest to rest.

    Args:
        signs (`list[Sign]`): the signs in order (at least one).
        signer (`Signer`): who signs (right-handed geometry; mirroring for left-handers happens later).
        timing_rng (`np.random.Generator`): draws the durations (a fixed number per sign).
        sway_rng (`np.random.Generator`): draws the head and torso sway, blinks and mouthing.
        question (`bool`, *optional*, defaults to `False`): raise the brows and tilt the head forward over the
            signs, the non-manual marker of a yes/no question.

    Returns:
        `Performance`
    """
    if not signs:
        raise InvalidInputError("`signs` must hold at least one sign.")
    fps, tempo = signer.fps, signer.tempo
    rest_before, rest_after = timing_rng.uniform(*REST_SECONDS, 2)
    transition_in, transition_out = TRANSITION_SECONDS * timing_rng.uniform(0.85, 1.15, 2) / tempo
    sign_factors = timing_rng.uniform(0.85, 1.15, (len(signs), 2))  # movement, following transition

    passive = _passive_states(signs, signer)
    rest = _hand_state(_REST, signer)
    segments_dominant = [rest.held(_frames(rest_before, fps, 1))]
    segments_other = [segments_dominant[0]]
    spans = []
    for index, sign in enumerate(signs):
        num_sign_frames = _frames(sign.movement.seconds * sign_factors[index, 0] / tempo, fps, 3)
        dominant, other = _sign_tracks(sign, signer, num_sign_frames, passive[index])
        if index == 0:
            gap = transition_in
        else:  # a longer way takes longer (about 0.1 s plus 0.45 s per metre)
            distance = np.linalg.norm(dominant.position[0] - segments_dominant[-1].position[-1])
            gap = (0.10 + 0.45 * distance) * sign_factors[index - 1, 1] / tempo
        num_gap_frames = _frames(gap, fps, 1)
        segments_dominant.append(_transition(segments_dominant[-1], dominant, num_gap_frames))
        segments_other.append(_transition(segments_other[-1], other, num_gap_frames))
        start = sum(len(track) for track in segments_dominant)
        spans.append((start, start + num_sign_frames))
        segments_dominant.append(dominant)
        segments_other.append(other)
    final = rest.held(_frames(rest_after, fps, 1))
    num_out_frames = _frames(transition_out, fps, 1)
    for segments in (segments_dominant, segments_other):
        segments.append(_transition(segments[-1], final, num_out_frames))
        segments.append(final)

    dominant_track = HandTrack.concatenate(segments_dominant)
    other_track = HandTrack.concatenate(segments_other)
    non_manual = _non_manual(sway_rng, len(dominant_track), fps, (spans[0][0], spans[-1][1]), question)
    return Performance(dominant_track, other_track, non_manual, spans)


__all__ = ["Performance", "perform"]
