"""Pictures of what the model sees: the 69 Uni-Sign keypoints drawn over the video or on a blank canvas.

Each frame shows the four parts the processor feeds the model (body 9, hands 21 each, face 18 nodes, with the graph
edges of `unisign.models.unisign.keypoints`; the face's nose-tip star is left out for legibility), only the points
whose score is
above the processor's threshold (0.3), in the colours of `keypoints.PART_COLOURS`. Frames that the RGB hand
sampler (`video_processing_unisign.sample_hand_frames`, deterministic "top" mode, the processor's default) picks for a
hand crop get a border in that hand's colour and a label. Outputs: an MP4 of every frame (`write_pose_video`,
streamed, constant memory) or a PNG contact sheet of a few frames plus every sampled one (`pose_contact_sheet`).
"""

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm.auto import tqdm

from ..data.sample import PoseSample
from ..models.unisign.keypoints import FACE_CENTER_NODE, HAND_PARTS, PART_COLOURS, PART_EDGES, PART_INDICES
from ..models.unisign.video_io import iter_video_frames, probe_video, read_video_frames
from ..models.unisign.video_processing_unisign import sample_hand_frames
from ..utils.errors import InvalidInputError, UsageError


CANVAS_COLOUR = (24, 24, 24)
# the largest side drawn (8K video is 7680 x 4320): a frame header or `--canvas-size` beyond it would need gigabytes
MAX_CANVAS_SIDE = 8192
# parts in drawing order: the body last, so that its wrists stay visible over the hand roots
DRAWING_ORDER = ("face", "left_hand", "right_hand", "body")
DRAWN_EDGES = {
    **PART_EDGES,
    "face": [edge for edge in PART_EDGES["face"] if FACE_CENTER_NODE not in edge],
}


def hand_sampled_frames(
    sample: PoseSample, score_threshold: float = 0.3, fraction: float = 0.1
) -> dict[str, np.ndarray]:
    """Frames the RGB branch would crop each hand from (the processor's deterministic "top" sampler).

    The processor samples on the clip it feeds the model, which for clips longer than its `max_frames` is a
    sub-sampled one; this looks at every frame.

    Args:
        sample (`PoseSample`): The poses.
        score_threshold (`float`, *optional*, defaults to 0.3): Mean hand score a frame needs to be a candidate.
        fraction (`float`, *optional*, defaults to 0.1): Share of the candidate frames that are picked.

    Returns:
        `dict[str, np.ndarray]`: `{"left_hand": indices, "right_hand": indices}`, sorted int64 frame indices.
    """
    return {
        side: sample_hand_frames(sample.scores[:, PART_INDICES[side]], "top", None, score_threshold, fraction)
        for side in HAND_PARTS
    }


def draw_pose(image: Image.Image, keypoints: np.ndarray, scores: np.ndarray, threshold: float = 0.3) -> np.ndarray:
    """Draw the 69 model keypoints of one frame onto `image` (in place).

    Args:
        image (`PIL.Image.Image`): RGB image of the frame (any size: keypoints are scaled to it).
        keypoints (`np.ndarray` of shape `(133, 2)`): `(x / width, y / height)`.
        scores (`np.ndarray` of shape `(133,)`): Points at or below `threshold` are not drawn.
        threshold (`float`, *optional*, defaults to 0.3): The processor's score threshold.

    Returns:
        `np.ndarray` of shape `(133, 2)`, float32: the pixel `(x, y)` where each keypoint was drawn, NaN for points
        not drawn (below the threshold, or not one of the 69).
    """
    width, height = image.size
    pixels = np.asarray(keypoints, dtype=np.float64) * [width, height]  # (133, 2)
    visible = (np.asarray(scores) > threshold) & np.isfinite(pixels).all(-1)  # (133,)
    radius = max(2.0, min(width, height) / 160)
    line_width = max(1, round(radius * 0.6))
    draw = ImageDraw.Draw(image)
    drawn = np.full((len(pixels), 2), np.nan, dtype=np.float32)
    for part in DRAWING_ORDER:
        indices = PART_INDICES[part]
        colour = PART_COLOURS[part]
        for start, end in DRAWN_EDGES[part]:
            if visible[indices[start]] and visible[indices[end]]:
                draw.line([tuple(pixels[indices[start]]), tuple(pixels[indices[end]])], fill=colour, width=line_width)
        for index in indices:
            if visible[index]:
                x, y = pixels[index]
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour)
                drawn[index] = x, y
    return drawn


def _mark_sampled(image: Image.Image, sides: list[str]) -> None:
    """Frame `image` with the colour of each hand whose crop the RGB sampler takes from it, and label it."""
    if not sides:
        return
    draw = ImageDraw.Draw(image)
    border = max(3, min(image.size) // 60)
    for offset, side in enumerate(sides):
        inset = offset * border
        draw.rectangle(
            [inset, inset, image.width - 1 - inset, image.height - 1 - inset],
            outline=PART_COLOURS[side],
            width=border,
        )
    label = " + ".join(side.replace("_", " ") for side in sides) + " crop"
    font = ImageFont.load_default(size=max(12, min(image.size) // 25))
    draw.text((3 * border, 3 * border), label, fill=PART_COLOURS[sides[-1]], font=font)


def _marked_sides(highlight: dict[str, np.ndarray]) -> dict[int, list[str]]:
    """Frame index -> the hands (in `HAND_PARTS` order) whose crop the sampler takes from that frame."""
    sides = {}
    for side in HAND_PARTS:
        for frame in np.asarray(highlight.get(side, []), dtype=np.int64).tolist():
            sides.setdefault(frame, []).append(side)
    return sides


def _frame_size(sample: PoseSample, video: str | Path | None, canvas_size: tuple[int, int] | None) -> tuple[int, int]:
    """`(width, height)` to draw at: the video's, else `canvas_size`, else the sample's; checked for agreement."""
    if video is not None:
        info = probe_video(video)
        size = (info.width, info.height)
        if sample.width > 0 and sample.height > 0 and (sample.width, sample.height) != size:
            raise InvalidInputError(
                f"The video `{video}` is {size[0]} x {size[1]} but the poses were extracted from a "
                f"{sample.width} x {sample.height} video: draw them over the video they come from."
            )
        return size
    if canvas_size is not None:
        width, height = canvas_size
    else:
        width, height = sample.width, sample.height
    if width <= 0 or height <= 0:
        raise UsageError(
            f"The poses of {sample.id!r} carry no frame size; give the video they come from (`video`) or a "
            f"`canvas_size` (width, height) for a blank canvas, got {width} x {height}."
        )
    if max(width, height) > MAX_CANVAS_SIDE:  # a frame of gigabytes: refused before any allocation
        error = UsageError if canvas_size is not None else InvalidInputError
        where = "`canvas_size`" if canvas_size is not None else f"The frame size the poses of {sample.id!r} carry"
        raise error(f"{where} is {width} x {height}: at most {MAX_CANVAS_SIDE} pixels a side can be drawn.")
    return int(width), int(height)


def _check_frame_count(sample: PoseSample, video: str | Path) -> int:
    """The video index of the clip's first frame; raises when the video is shorter than the poses."""
    offset = int(sample.extra.get("video_frame_offset", 0))
    declared = probe_video(video).num_frames
    if declared is not None and declared < offset + sample.num_frames:
        raise InvalidInputError(
            f"The video `{video}` has {declared} frames but the poses need {offset + sample.num_frames} "
            f"({sample.num_frames} from frame {offset}): poses and video frames must be aligned 1:1."
        )
    return offset


def render_pose_frames(
    sample: PoseSample,
    frames: list[int] | np.ndarray,
    video: str | Path | None = None,
    threshold: float = 0.3,
    canvas_size: tuple[int, int] | None = None,
    highlight: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw selected frames of a clip, over its video or on a blank canvas.

    Args:
        sample (`PoseSample`): The poses.
        frames (`list[int]` or `np.ndarray`): Clip frame indices to draw.
        video (`str` or `Path`, *optional*): The video the poses come from (aligned 1:1, from
            `sample.extra["video_frame_offset"]` if set); without it a blank canvas.
        threshold (`float`, *optional*, defaults to 0.3): Points at or below it are not drawn.
        canvas_size (`tuple[int, int]`, *optional*): `(width, height)` of the blank canvas; defaults to the
            sample's frame size.
        highlight (`dict[str, np.ndarray]`, *optional*): Frames to mark per hand (`"left_hand"`, `"right_hand"`);
            defaults to `hand_sampled_frames(sample, threshold)`. Give `{}` to mark none.

    Returns:
        `tuple[np.ndarray, np.ndarray]`: images `(len(frames), height, width, 3)` uint8 and drawn keypoint pixels
        `(len(frames), 133, 2)` float32 (NaN where not drawn; see `draw_pose`).
    """
    frames = np.asarray(frames, dtype=np.int64).reshape(-1)
    if frames.size and (frames.min() < 0 or frames.max() >= sample.num_frames):
        raise UsageError(f"Frame indices must be in [0, {sample.num_frames}), got {frames.tolist()}.")
    width, height = _frame_size(sample, video, canvas_size)
    if video is not None:
        offset = _check_frame_count(sample, video)
        backgrounds = read_video_frames(video, frames, frame_offset=offset)  # (N, H, W, 3)
    else:
        backgrounds = np.broadcast_to(np.array(CANVAS_COLOUR, np.uint8), (len(frames), height, width, 3))
    marked = _marked_sides(hand_sampled_frames(sample, threshold) if highlight is None else highlight)
    images = np.empty((len(frames), height, width, 3), dtype=np.uint8)
    drawn = np.empty((len(frames), sample.keypoints.shape[1], 2), dtype=np.float32)
    for row, (frame, background) in enumerate(zip(frames.tolist(), backgrounds, strict=True)):
        image = Image.fromarray(np.array(background))  # a copy: the blank canvas is shared between rows
        drawn[row] = draw_pose(image, sample.keypoints[frame], sample.scores[frame], threshold)
        _mark_sampled(image, marked.get(frame, []))
        images[row] = np.asarray(image)
    return images, drawn


def _contact_sheet_frames(num_frames: int, count: int, highlight: dict[str, np.ndarray]) -> list[int]:
    """`count` evenly spaced frames plus the highlighted ones, sorted and unique.

    At most `count` highlighted frames (evenly spaced among them): the hand sampler picks a tenth of a clip's
    frames, thousands in a long clip, which would make a sheet of thousands of tiles.
    """
    spaced = np.linspace(0, num_frames - 1, min(count, num_frames)).round().astype(int).tolist()
    marked = sorted({int(frame) for indices in highlight.values() for frame in np.asarray(indices).tolist()})
    if len(marked) > count:
        marked = [marked[index] for index in np.linspace(0, len(marked) - 1, count).round().astype(int)]
    return sorted(set(spaced) | set(marked))


def _listed(frames, shown: int = 12) -> str:
    """Frame indices as the sheet's header lists them: the first `shown`, then how many there are in all."""
    frames = np.asarray(frames).tolist()
    return str(frames) if len(frames) <= shown else f"{str(frames[:shown])[:-1]}, ... ({len(frames)} in all)]"


def pose_contact_sheet(
    sample: PoseSample,
    video: str | Path | None = None,
    num_frames: int = 8,
    columns: int = 4,
    tile_width: int = 240,
    threshold: float = 0.3,
    canvas_size: tuple[int, int] | None = None,
    highlight: dict[str, np.ndarray] | None = None,
) -> Image.Image:
    """A grid of drawn frames: `num_frames` evenly spaced ones plus those the hand sampler picked (as many at most).

    Args:
        sample (`PoseSample`): The poses.
        video (`str` or `Path`, *optional*): The video to draw over; blank canvas without it.
        num_frames (`int`, *optional*, defaults to 8): Evenly spaced frames to show.
        columns (`int`, *optional*, defaults to 4): Tiles per row.
        tile_width (`int`, *optional*, defaults to 240): Width of each tile in pixels.
        threshold (`float`, *optional*, defaults to 0.3): Points at or below it are not drawn.
        canvas_size (`tuple[int, int]`, *optional*): `(width, height)` of the blank canvas.
        highlight (`dict[str, np.ndarray]`, *optional*): Frames to mark per hand; defaults to the hand sampler's.

    Returns:
        `PIL.Image.Image` (RGB).
    """
    if sample.num_frames == 0:
        raise InvalidInputError(f"Sample {sample.id!r} has no frames to draw.")
    if num_frames < 1 or columns < 1 or tile_width < 16:
        raise UsageError(
            f"`num_frames` and `columns` must be >= 1 and `tile_width` >= 16, got {num_frames}, {columns}, "
            f"{tile_width}."
        )
    highlight = hand_sampled_frames(sample, threshold) if highlight is None else highlight
    frames = _contact_sheet_frames(sample.num_frames, num_frames, highlight)
    images, _ = render_pose_frames(sample, frames, video, threshold, canvas_size, highlight)
    tile_height = max(1, round(images.shape[1] * tile_width / images.shape[2]))
    font = ImageFont.load_default(size=13)
    caption, gap, header = 18, 6, 40
    rows = -(-len(frames) // columns)
    sheet = Image.new(
        "RGB", (columns * (tile_width + gap) + gap, header + rows * (tile_height + caption + gap)), "white"
    )
    draw = ImageDraw.Draw(sheet)
    fps = f" at {sample.fps:g} fps" if sample.fps else ""
    title = f"{sample.id}: {sample.num_frames} frames{fps}, points with score > {threshold}"
    draw.text((gap, 4), title, fill=(0, 0, 0), font=font)
    sampled = ", ".join(f"{side.replace('_', ' ')} {_listed(highlight.get(side, []))}" for side in HAND_PARTS)
    draw.text((gap, 20), f"hand-crop frames: {sampled}", fill=(90, 90, 90), font=font)
    for position, (frame, image) in enumerate(zip(frames, images, strict=True)):
        x = gap + (position % columns) * (tile_width + gap)
        y = header + (position // columns) * (tile_height + caption + gap)
        draw.text((x, y + 2), f"frame {frame}", fill=(0, 0, 0), font=font)
        sheet.paste(
            Image.fromarray(image).resize((tile_width, tile_height), Image.Resampling.LANCZOS), (x, y + caption)
        )
    return sheet


def _video_encoder(path: Path, width: int, height: int, fps: float):
    """Open an H.264 (or MPEG-4 Part 2 when libx264 is missing) MP4 writer; returns `(container, stream)`."""
    import av

    container = av.open(str(path), mode="w")
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    return container, stream


def _background_frames(
    sample: PoseSample, video: str | Path | None, size: tuple[int, int], offset: int = 0
) -> Iterator[Image.Image]:
    """One fresh background image per pose frame: video frames from `offset` on (streamed), or a blank canvas."""
    if video is None:
        for _ in range(sample.num_frames):
            yield Image.new("RGB", size, CANVAS_COLOUR)
        return
    count = 0
    for index, frame in enumerate(iter_video_frames(video, offset + sample.num_frames)):
        if index >= offset:
            count += 1
            yield Image.fromarray(frame)
    if count < sample.num_frames:
        raise InvalidInputError(
            f"The video `{video}` ends after {offset + count} frames but the poses need {offset + sample.num_frames}."
        )


def write_pose_video(
    sample: PoseSample,
    path: str | Path,
    video: str | Path | None = None,
    fps: float | None = None,
    threshold: float = 0.3,
    canvas_size: tuple[int, int] | None = None,
    highlight: dict[str, np.ndarray] | None = None,
    progress: bool = True,
) -> int:
    """Write every frame of a clip, drawn, to an MP4 (one output frame per pose frame), holding one frame at a time.

    Args:
        sample (`PoseSample`): The poses.
        path (`str` or `Path`): Output `.mp4`.
        video (`str` or `Path`, *optional*): The video to draw over (decoded as it is written); blank canvas
            without it.
        fps (`float`, *optional*): Frame rate; defaults to the sample's, else the video's, else 25.
        threshold (`float`, *optional*, defaults to 0.3): Points at or below it are not drawn.
        canvas_size (`tuple[int, int]`, *optional*): `(width, height)` of the blank canvas.
        highlight (`dict[str, np.ndarray]`, *optional*): Frames to mark per hand; defaults to the hand sampler's.
        progress (`bool`, *optional*, defaults to `True`): Show a progress bar of frames written.

    Returns:
        `int`: Number of frames written.
    """
    import av

    if sample.num_frames == 0:
        raise InvalidInputError(f"Sample {sample.id!r} has no frames to draw.")
    width, height = _frame_size(sample, video, canvas_size)
    fps = fps or sample.fps or (probe_video(video).fps if video is not None else None) or 25.0
    offset = _check_frame_count(sample, video) if video is not None else 0
    marked = _marked_sides(hand_sampled_frames(sample, threshold) if highlight is None else highlight)
    even_size = (width + width % 2, height + height % 2)  # yuv420p needs even sides: pad by one pixel
    container, stream = _video_encoder(Path(path), *even_size, fps)
    backgrounds = _background_frames(sample, video, (width, height), offset)
    written = 0
    with container:
        for frame, image in enumerate(
            tqdm(backgrounds, total=sample.num_frames, unit="frame", desc="Drawing poses", disable=not progress)
        ):
            draw_pose(image, sample.keypoints[frame], sample.scores[frame], threshold)
            _mark_sampled(image, marked.get(frame, []))
            if image.size != even_size:
                padded = Image.new("RGB", even_size, CANVAS_COLOUR)
                padded.paste(image, (0, 0))
                image = padded
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
            written += 1
        for packet in stream.encode():  # flush the encoder
            container.mux(packet)
    return written


__all__ = [
    "CANVAS_COLOUR",
    "draw_pose",
    "hand_sampled_frames",
    "pose_contact_sheet",
    "render_pose_frames",
    "write_pose_video",
]
