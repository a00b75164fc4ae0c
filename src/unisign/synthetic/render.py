"""RGB frames of a pose: a simple drawing of the signer (torso, head with face, sleeved arms, hands with fingers).

`render_pose` draws any COCO-WholeBody-133 pose, so the frames agree with the keypoints by construction; use it
with `regenerate_clean` (what `render_sample` does for generated clips) to draw the true pose behind a noisy
detection, as a camera would have filmed it. `contact_sheet` lays a few clips out as one image for people to look at.
"""

from dataclasses import dataclass

import numpy as np

from ..data.sample import PoseSample
from ..models.unisign.keypoints import LEFT_HAND_INDICES, PART_COLOURS, RIGHT_HAND_INDICES
from ..utils.errors import InvalidInputError
from .signer import Signer


JAW = list(range(23, 40))
BROWS = (list(range(40, 45)), list(range(45, 50)))
NOSE_BRIDGE = list(range(50, 54))
NOSTRILS = list(range(54, 59))
EYES = (list(range(59, 65)), list(range(65, 71)))
OUTER_LIPS = list(range(71, 83))
INNER_LIPS = list(range(83, 91))
PALM = [0, 1, 5, 9, 13, 17]  # hand-local indices outlining the palm
FINGERS = [[1, 2, 3, 4]] + [[base, base + 1, base + 2, base + 3] for base in (5, 9, 13, 17)]


@dataclass(frozen=True)
class Appearance:
    """Colours of a drawing (RGB)."""

    skin: tuple[int, int, int] = (224, 172, 125)
    hair: tuple[int, int, int] = (40, 30, 25)
    clothing: tuple[int, int, int] = (40, 60, 120)
    background: tuple[int, int, int] = (225, 225, 220)

    @classmethod
    def of(cls, signer: Signer) -> "Appearance":
        """The appearance of a generated signer."""
        return cls(signer.skin, signer.hair, signer.clothing, signer.background)


def _darker(colour: tuple[int, int, int], factor: float = 0.7) -> tuple[int, int, int]:
    return tuple(int(c * factor) for c in colour)


def _points(pixels: np.ndarray, indices) -> list[tuple[float, float]]:
    return [tuple(p) for p in pixels[indices]]


def _visible(visible: np.ndarray, indices) -> bool:
    return bool(np.all(visible[indices]))


def _limb(draw, start, end, width: float, colour):
    draw.line([start, end], fill=colour, width=max(1, int(round(width))))
    radius = width / 2
    for x, y in (start, end):
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour)


def _draw_head(draw, pixels: np.ndarray, visible: np.ndarray, appearance: Appearance):
    if not _visible(visible, JAW + BROWS[0] + BROWS[1]):
        return
    jaw = pixels[JAW]
    brow_centre = pixels[BROWS[0] + BROWS[1]].mean(0)
    chin = pixels[31]
    up = brow_centre - chin  # from the chin to the brows
    left, right = jaw[0], jaw[-1]
    # forehead and skull: an arc over the brows, as high again as brows to mid-face
    angles = np.linspace(0.0, np.pi, 15)
    half_width = (right - left) / 2
    centre = (left + right) / 2
    skull = centre + np.outer(np.cos(angles), half_width) + np.outer(np.sin(angles), 0.62 * up)
    hair = centre + np.outer(np.cos(angles), 1.1 * half_width) + np.outer(np.sin(angles), 0.78 * up)
    draw.polygon([tuple(p) for p in np.concatenate([hair, [centre + 0.15 * up]])], fill=appearance.hair)
    draw.polygon(
        [tuple(p) for p in np.concatenate([jaw, skull])], fill=appearance.skin, outline=_darker(appearance.skin)
    )
    line = max(1, int(np.linalg.norm(half_width) / 18))
    for brow in BROWS:
        draw.line(_points(pixels, brow), fill=_darker(appearance.hair, 0.8), width=line + 1)
    for eye in EYES:
        draw.polygon(_points(pixels, eye), fill=(250, 250, 250), outline=(30, 30, 30))
        x, y = pixels[eye].mean(0)
        r = line + 0.5
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(40, 30, 20))
    draw.line(_points(pixels, NOSE_BRIDGE), fill=_darker(appearance.skin), width=line)
    draw.line(_points(pixels, NOSTRILS), fill=_darker(appearance.skin, 0.6), width=line)
    draw.polygon(_points(pixels, OUTER_LIPS), fill=(170, 80, 80))
    draw.polygon(_points(pixels, INNER_LIPS), fill=(90, 30, 30))


def _draw_arm(draw, pixels, visible, shoulder, elbow, wrist, width, appearance: Appearance):
    segments = [(shoulder, elbow, width), (elbow, wrist, 0.85 * width)]
    segments = [(a, b, w) for a, b, w in segments if _visible(visible, [a, b])]
    # a lighter seam first, so that a sleeve in front of the torso stays visible
    seam = tuple(min(255, int(c * 1.5) + 40) for c in appearance.clothing)
    for start, end, segment_width in segments:
        _limb(draw, tuple(pixels[start]), tuple(pixels[end]), segment_width + 3, seam)
    for start, end, segment_width in segments:
        _limb(draw, tuple(pixels[start]), tuple(pixels[end]), segment_width, appearance.clothing)


def _draw_hand(draw, pixels: np.ndarray, visible: np.ndarray, indices: list[int], appearance: Appearance):
    hand = pixels[indices]
    shown = visible[indices]
    if shown.mean() < 0.5:
        return
    size = np.linalg.norm(hand[9] - hand[0])  # wrist to middle knuckle
    finger_width = max(2.0, 0.28 * size)
    outline = _darker(appearance.skin, 0.6)
    if np.all(shown[PALM]):
        draw.polygon(_points(hand, PALM), fill=appearance.skin, outline=outline)
    for finger in FINGERS:
        for start, end in zip(finger[:-1], finger[1:], strict=True):
            if shown[start] and shown[end]:
                _limb(draw, tuple(hand[start]), tuple(hand[end]), finger_width + 2, outline)
        for start, end in zip(finger[:-1], finger[1:], strict=True):
            if shown[start] and shown[end]:
                _limb(draw, tuple(hand[start]), tuple(hand[end]), finger_width, appearance.skin)


def render_frame(
    keypoints: np.ndarray,
    width: int,
    height: int,
    scores: np.ndarray | None = None,
    appearance: Appearance | None = None,
    threshold: float = 0.3,
    dominant: str = "right",
):
    """Draw one frame of a pose.

    Args:
        keypoints (`np.ndarray` of shape `(133, 2)`): `(x / width, y / height)`.
        width (`int`), height (`int`): frame size in pixels.
        scores (`np.ndarray` of shape `(133,)`, *optional*): points at or below `threshold` are not drawn.
        appearance (`Appearance`, *optional*): colours.
        threshold (`float`, *optional*, defaults to 0.3): confidence a point needs to be drawn.
        dominant (`str`, *optional*, defaults to `"right"`): the hand drawn last (in front).

    Returns:
        `PIL.Image.Image` (RGB).
    """
    from PIL import Image, ImageDraw

    appearance = appearance or Appearance()
    pixels = np.asarray(keypoints, dtype=np.float64) * [width, height]
    visible = np.ones(len(pixels), dtype=bool) if scores is None else np.asarray(scores) > threshold
    image = Image.new("RGB", (width, height), appearance.background)
    draw = ImageDraw.Draw(image)
    shoulder_width = np.linalg.norm(pixels[5] - pixels[6])
    if _visible(visible, [5, 6]):
        hips = pixels[[12, 11]] if _visible(visible, [11, 12]) else pixels[[6, 5]] + [0, 1.6 * shoulder_width]
        torso = [tuple(pixels[6]), tuple(pixels[5]), tuple(hips[1]), tuple(hips[0])]
        draw.polygon(torso, fill=appearance.clothing)
        neck_base = pixels[[5, 6]].mean(0)
        if _visible(visible, [31]):
            _limb(draw, tuple(neck_base), tuple(pixels[31]), 0.3 * shoulder_width, appearance.skin)
        for shoulder in (5, 6):
            _limb(draw, tuple(pixels[shoulder]), tuple(neck_base), 0.3 * shoulder_width, appearance.clothing)
    _draw_head(draw, pixels, visible, appearance)
    arms = {"left": (5, 7, 9, LEFT_HAND_INDICES), "right": (6, 8, 10, RIGHT_HAND_INDICES)}
    order = ["left", "right"] if dominant == "right" else ["right", "left"]
    for side in order:
        shoulder, elbow, wrist, hand = arms[side]
        _draw_arm(draw, pixels, visible, shoulder, elbow, wrist, 0.22 * shoulder_width, appearance)
        _draw_hand(draw, pixels, visible, hand, appearance)
    return image


def render_pose(
    keypoints: np.ndarray,
    width: int,
    height: int,
    scores: np.ndarray | None = None,
    appearance: Appearance | None = None,
    threshold: float = 0.3,
    dominant: str = "right",
    frames: list[int] | None = None,
) -> np.ndarray:
    """Draw the frames of a pose sequence.

    Args:
        keypoints (`np.ndarray` of shape `(num_frames, 133, 2)`): `(x / width, y / height)`.
        width (`int`), height (`int`): frame size in pixels.
        scores (`np.ndarray` of shape `(num_frames, 133)`, *optional*): points at or below `threshold` are not drawn.
        appearance (`Appearance`, *optional*): colours.
        threshold (`float`, *optional*, defaults to 0.3): confidence a point needs to be drawn.
        dominant (`str`, *optional*, defaults to `"right"`): the hand drawn in front.
        frames (`list[int]`, *optional*): draw only these frames (all by default).

    Returns:
        `np.ndarray` of shape `(len(frames), height, width, 3)`, uint8.
    """
    keypoints = np.asarray(keypoints)
    if keypoints.ndim != 3 or keypoints.shape[1:] != (133, 2):
        raise InvalidInputError(f"`keypoints` must have shape (num_frames, 133, 2), got {keypoints.shape}.")
    if scores is not None and np.shape(scores) != keypoints.shape[:2]:
        raise InvalidInputError(f"`scores` must have shape {keypoints.shape[:2]}, got {np.shape(scores)}.")
    if width <= 0 or height <= 0:
        raise InvalidInputError(f"Frame size must be positive, got width={width}, height={height}.")
    if dominant not in ("left", "right"):
        raise InvalidInputError(f"`dominant` must be 'left' or 'right', got {dominant!r}.")
    frames = range(len(keypoints)) if frames is None else frames
    out = np.empty((len(frames), height, width, 3), dtype=np.uint8)
    for row, frame in enumerate(frames):
        frame_scores = None if scores is None else scores[frame]
        image = render_frame(keypoints[frame], width, height, frame_scores, appearance, threshold, dominant)
        out[row] = np.asarray(image)
    return out


def render_sample(sample: PoseSample, frames: list[int] | None = None, clean: bool = True) -> np.ndarray:
    """RGB frames of a sample: for a generated clip the noise-free pose behind it, else its own keypoints.

    Args:
        sample (`PoseSample`): a clip; generated clips carry their signer (appearance) and recipe in `extra`.
        frames (`list[int]`, *optional*): only these frames.
        clean (`bool`, *optional*, defaults to `True`): for generated clips, draw the true (noise-free) pose, as a
            camera would show it, rather than the detector's noisy points.

    Returns:
        `np.ndarray` of shape `(num_frames, height, width, 3)`, uint8.
    """
    from .generator import regenerate_clean, signer_from_dict

    recipe = sample.extra.get("synthetic")
    width, height = sample.width, sample.height
    if width <= 0 or height <= 0:
        raise InvalidInputError(
            f"Sample {sample.id!r} has no frame size (width={width}, height={height}); cannot render."
        )
    appearance = Appearance.of(signer_from_dict(recipe["signer"])) if recipe else None
    dominant = "left" if sample.extra.get("left_handed") else "right"
    if recipe and clean:
        source = regenerate_clean(sample)
        return render_pose(source.keypoints, width, height, None, appearance, dominant=dominant, frames=frames)
    return render_pose(sample.keypoints, width, height, sample.scores, appearance, dominant=dominant, frames=frames)


def _overlay_dots(image, keypoints: np.ndarray, scores: np.ndarray, threshold: float = 0.3):
    """Mark the detected points (confidence above `threshold`) on a frame, one colour per part."""
    from PIL import ImageDraw

    from ..models.unisign.keypoints import PART_INDICES

    draw = ImageDraw.Draw(image)
    width, height = image.size
    parts = dict(PART_INDICES)
    parts["face"] = list(range(23, 91))
    for part, indices in parts.items():
        for index in indices:
            if scores[index] > threshold:
                x, y = keypoints[index] * [width, height]
                draw.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=PART_COLOURS[part])


def contact_sheet(samples: list[PoseSample], frames_per_clip: int = 6, tile_height: int = 200, dots: bool = True):
    """Lay out a few frames of each clip in a grid with captions, for people to look at.

    Frames are taken at the middle of each sign (then evenly between them when there are fewer signs than
    `frames_per_clip`); each is drawn clean and, with `dots`, overlaid with the detector's points.

    Args:
        samples (`list[PoseSample]`): the clips, one row each.
        frames_per_clip (`int`, *optional*, defaults to 6): columns.
        tile_height (`int`, *optional*, defaults to 200): height of each frame in the sheet, pixels.
        dots (`bool`, *optional*, defaults to `True`): overlay the detected keypoints.

    Returns:
        `PIL.Image.Image`
    """
    from PIL import Image, ImageDraw, ImageFont

    if not samples:
        raise InvalidInputError("`samples` is empty: give at least one clip.")
    font = ImageFont.load_default(size=13)
    caption_height, gap = 36, 6
    rows = []
    for sample in samples:
        frames = _pick_frames(sample, frames_per_clip)
        rendered = render_sample(sample, frames=frames)
        scale = tile_height / sample.height
        tiles = []
        for image_array, frame in zip(rendered, frames, strict=True):
            image = Image.fromarray(image_array)
            if dots:
                _overlay_dots(image, sample.keypoints[frame], sample.scores[frame])
            tiles.append(image.resize((max(1, int(sample.width * scale)), tile_height)))
        row = Image.new("RGB", (sum(t.width for t in tiles) + gap * (len(tiles) - 1), tile_height + caption_height))
        row.paste((255, 255, 255), (0, 0, row.width, row.height))
        x = 0
        for frame, tile in zip(frames, tiles, strict=True):
            row.paste(tile, (x, caption_height))
            ImageDraw.Draw(row).text((x + 3, caption_height + 3), f"frame {frame}", fill=(0, 0, 0), font=font)
            x += tile.width + gap
        handed = "left-handed" if sample.extra.get("left_handed") else "right-handed"
        question = " [yes/no question marker]" if sample.extra.get("question") else ""
        draw = ImageDraw.Draw(row)
        draw.text((3, 2), f"{' '.join(sample.gloss or [])}{question}  ->  {sample.text}", fill=(0, 0, 0), font=font)
        details = f"{sample.extra.get('signer_id')} ({handed}), {sample.num_frames} frames at {sample.fps:g} fps"
        draw.text((3, 18), f"{details}, {sample.width}x{sample.height}", fill=(90, 90, 90), font=font)
        rows.append(row)
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows) + gap * len(rows)), "white")
    y = 0
    for row in rows:
        sheet.paste(row, (0, y))
        y += row.height + gap
    return sheet


def _pick_frames(sample: PoseSample, count: int) -> list[int]:
    """Frames at the middle of each sign, padded with evenly spaced frames, sorted and unique."""
    spans = sample.extra.get("sign_spans") or []
    chosen = {(start + end - 1) // 2 for start, end in spans}
    for frame in np.linspace(0, sample.num_frames - 1, count + 2)[1:-1].round().astype(int):
        if len(chosen) >= count:
            break
        chosen.add(int(frame))
    return sorted(chosen)[:count]


__all__ = ["Appearance", "contact_sheet", "render_frame", "render_pose", "render_sample"]
