"""`.pose` files (the `pose-format` package) to and from COCO-WholeBody-133 `PoseSample`s.

Readable layouts, recognised by their component names:
- MediaPipe Holistic (`POSE_LANDMARKS`, `FACE_LANDMARKS`, `LEFT_HAND_LANDMARKS`, `RIGHT_HAND_LANDMARKS`; v0.1 and v0.2
  files, full or reduced to a subset of points): mapped by point name as in KEYPOINTS.md (body from the 33 pose
  landmarks, the 68 face points from FaceMesh, hands 1:1); the small toes (18, 21) have no counterpart;
- OpenPose 137 (`pose_keypoints_2d` BODY_25, `face_keypoints_2d` 70, `hand_{left,right}_keypoints_2d`): body and
  feet by name, the first 68 face points (iBUG order; the two pupils are dropped), hands 1:1;
- COCO-WholeBody 133 (`BODY`, `FACE`, `LEFT_HAND`, `RIGHT_HAND`: pose-format's own header, written by its MMPose
  estimator and by `write_pose_file`) and AlphaPose 133 (the same with a `_133` suffix): 1:1, losslessly (the
  keypoints of a pose-format MMPose file equal those of the authors' `.pkl` of the clip at float32 precision).

Score semantics (the score channel is what the 0.3 threshold of the processor sees):
- COCO-WholeBody / AlphaPose 133: the detector's keypoint scores, unchanged (RTMPose/RTMW scores are what Uni-Sign
  was trained on);
- OpenPose: its keypoint confidences, unchanged (0 for undetected points);
- MediaPipe Holistic: `pose-format` stores the pose landmarks' *visibility* as confidence, and 1 for every detected
  face or hand point (0 when the face or hand was not found): those values are used unchanged. MediaPipe
  visibility is not calibrated like RTMPose scores (a wrist that is clearly seen can have visibility < 0.3).
- Points with no counterpart, points with confidence 0 and points with non-finite coordinates get score 0 and
  coordinates (0, 0).

Coordinates: `.pose` files store pixels; they are divided by the header's width and height, giving the
`(x / width, y / height)` units of `PoseSample`. Only the first person is read. Depth (z) is dropped.

A flat module that imports only its flat siblings: it is shipped with saved models as remote code. pose-format is
imported when a file is read or written, inside `try` (transformers' remote-code loader then does not demand it).
"""

import struct
from pathlib import Path

import numpy as np

from .keypoints import FACE_START, LEFT_HAND_START, NUM_WHOLEBODY_KEYPOINTS, RIGHT_HAND_START
from .pose_sample import PoseSample


# Files of poses the readers take (anything else is a video): pose-format's, and the reference's pickles.
POSE_FILE_SUFFIXES = (".pose", ".pkl")
# COCO-WholeBody body + feet (0-22) from MediaPipe Holistic pose landmark names (KEYPOINTS.md).
HOLISTIC_BODY = {
    0: "NOSE", 1: "LEFT_EYE", 2: "RIGHT_EYE", 3: "LEFT_EAR", 4: "RIGHT_EAR", 5: "LEFT_SHOULDER",
    6: "RIGHT_SHOULDER", 7: "LEFT_ELBOW", 8: "RIGHT_ELBOW", 9: "LEFT_WRIST", 10: "RIGHT_WRIST", 11: "LEFT_HIP",
    12: "RIGHT_HIP", 13: "LEFT_KNEE", 14: "RIGHT_KNEE", 15: "LEFT_ANKLE", 16: "RIGHT_ANKLE",
    17: "LEFT_FOOT_INDEX", 19: "LEFT_HEEL", 20: "RIGHT_FOOT_INDEX", 22: "RIGHT_HEEL",
}  # fmt: skip
# FaceMesh landmark of each iBUG-68 face point (KEYPOINTS.md; the jaw is approximate).
HOLISTIC_FACE = [
    127, 234, 93, 132, 58, 172, 136, 149, 152, 378, 365, 397, 288, 361, 323, 454, 356,
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
    168, 197, 5, 4, 219, 237, 1, 457, 439,
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
    61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91,
    78, 81, 13, 311, 308, 402, 14, 178,
]  # fmt: skip
# COCO-WholeBody body + feet (0-22) from OpenPose BODY_25 point names.
_OPENPOSE_BODY = {
    0: "Nose", 1: "LEye", 2: "REye", 3: "LEar", 4: "REar", 5: "LShoulder", 6: "RShoulder", 7: "LElbow",
    8: "RElbow", 9: "LWrist", 10: "RWrist", 11: "LHip", 12: "RHip", 13: "LKnee", 14: "RKnee", 15: "LAnkle",
    16: "RAnkle", 17: "LBigToe", 18: "LSmallToe", 19: "LHeel", 20: "RBigToe", 21: "RSmallToe", 22: "RHeel",
}  # fmt: skip


def _by_position(component: str, start: int, count: int) -> list[tuple[int, str, int | str]]:
    """(target index, component, source position) for `count` points mapped 1:1 from `start`."""
    return [(start + offset, component, offset) for offset in range(count)]


# For each readable layout: (target COCO-WholeBody index, component name, source point name or position).
POSE_FILE_LAYOUTS = {
    "mediapipe_holistic": [
        *((target, "POSE_LANDMARKS", name) for target, name in HOLISTIC_BODY.items()),
        *((FACE_START + k, "FACE_LANDMARKS", str(landmark)) for k, landmark in enumerate(HOLISTIC_FACE)),
        *_by_position("LEFT_HAND_LANDMARKS", LEFT_HAND_START, 21),
        *_by_position("RIGHT_HAND_LANDMARKS", RIGHT_HAND_START, 21),
    ],
    "openpose_137": [
        *((target, "pose_keypoints_2d", name) for target, name in _OPENPOSE_BODY.items()),
        *_by_position("face_keypoints_2d", FACE_START, 68),
        *_by_position("hand_left_keypoints_2d", LEFT_HAND_START, 21),
        *_by_position("hand_right_keypoints_2d", RIGHT_HAND_START, 21),
    ],
    **{
        layout: [
            *_by_position(f"BODY{suffix}", 0, FACE_START),
            *_by_position(f"FACE{suffix}", FACE_START, LEFT_HAND_START - FACE_START),
            *_by_position(f"LEFT_HAND{suffix}", LEFT_HAND_START, 21),
            *_by_position(f"RIGHT_HAND{suffix}", RIGHT_HAND_START, 21),
        ]
        for layout, suffix in (("coco_wholebody_133", ""), ("alphapose_133", "_133"))
    },
}
# Components of the `coco_wholebody_133` layout: they must hold these numbers of points.
_WHOLEBODY_COMPONENT_SIZES = {"BODY": 23, "FACE": 68, "LEFT_HAND": 21, "RIGHT_HAND": 21}


def detect_layout(component_names: list[str]) -> str:
    """The readable layout (a key of `POSE_FILE_LAYOUTS`) whose components a `.pose` header has."""
    for layout, mapping in POSE_FILE_LAYOUTS.items():
        if {component for _, component, _ in mapping} <= set(component_names):
            return layout
    raise ValueError(
        f"Unknown `.pose` components {component_names}: readable layouts are MediaPipe Holistic, OpenPose 137, "
        "COCO-WholeBody 133 and AlphaPose 133 (components "
        + "; ".join(
            f"{layout}: {sorted({component for _, component, _ in mapping})}"
            for layout, mapping in POSE_FILE_LAYOUTS.items()
        )
        + ")."
    )


def _source_indices(header, layout: str) -> np.ndarray:
    """For each of the 133 COCO-WholeBody points, its index among the file's points (-1: no counterpart)."""
    offsets, names = {}, {}
    start = 0
    for component in header.components:
        offsets[component.name], names[component.name] = start, {name: i for i, name in enumerate(component.points)}
        start += len(component.points)
    indices = np.full(NUM_WHOLEBODY_KEYPOINTS, -1)
    for target, component, point in POSE_FILE_LAYOUTS[layout]:
        if isinstance(point, int) and point >= len(names[component]):
            raise ValueError(
                f"The `.pose` component {component!r} has {len(names[component])} points; the {layout} layout needs "
                f"at least {point + 1}."
            )
        position = point if isinstance(point, int) else names[component].get(point)
        if position is not None:
            indices[target] = offsets[component] + position
    return indices


def pose_to_sample(pose, sample_id: str = "") -> PoseSample:
    """Map a `pose_format.Pose` (first person) to a COCO-WholeBody-133 `PoseSample` (see the module docstring).

    Args:
        pose (`pose_format.Pose`): A pose in one of the readable layouts.
        sample_id (`str`, *optional*): Id of the sample.

    Returns:
        `PoseSample` with keypoints in `(x / width, y / height)` units, width, height and fps from the file.
    """
    header = pose.header
    layout = detect_layout([component.name for component in header.components])
    width, height = header.dimensions.width, header.dimensions.height
    if width <= 0 or height <= 0:
        raise ValueError(f"The `.pose` header gives the frame size {width} x {height}; it must be positive.")
    data = np.asarray(np.ma.getdata(pose.body.data), dtype=np.float64)  # (T, P, N, D)
    confidence = np.asarray(pose.body.confidence, dtype=np.float32)  # (T, P, N)
    if data.ndim != 4 or data.shape[1] == 0 or data.shape[-1] < 2:
        raise ValueError(f"The `.pose` body must hold (frames, people >= 1, points, dims >= 2), got {data.shape}.")
    indices = _source_indices(header, layout)  # (133,)
    present = indices >= 0
    keypoints = np.zeros((data.shape[0], NUM_WHOLEBODY_KEYPOINTS, 2), dtype=np.float64)
    scores = np.zeros((data.shape[0], NUM_WHOLEBODY_KEYPOINTS), dtype=np.float32)
    keypoints[:, present] = data[:, 0, indices[present], :2] / np.array([width, height])  # (T, n_present, 2)
    scores[:, present] = confidence[:, 0, indices[present]]
    missing = (scores <= 0) | ~np.isfinite(keypoints).all(-1) | ~np.isfinite(scores)  # (T, 133)
    keypoints[missing], scores[missing] = 0, 0
    return PoseSample(
        id=sample_id,
        keypoints=keypoints,
        scores=scores,
        width=int(width),
        height=int(height),
        fps=float(pose.body.fps),
        extra={"pose_format_layout": layout},
    )


def _import_pose_format():
    """The `pose_format` package with the submodules this module uses, or a one-line error naming the pip package."""
    try:
        import pose_format.numpy
        import pose_format.pose_header
        import pose_format.utils.cocowholebody133_header
        import pose_format.utils.reader
    except ImportError:
        raise ImportError("Reading or writing `.pose` files needs pose-format: `pip install pose-format`.") from None
    return pose_format


def read_pose_file(path: str | Path, sample_id: str | None = None) -> PoseSample:
    """Read a `.pose` file into a COCO-WholeBody-133 `PoseSample` (see the module docstring for the mapping).

    Args:
        path (`str` or `Path`): The `.pose` file.
        sample_id (`str`, *optional*): Id of the sample; defaults to the file name without its suffix.

    Returns:
        `PoseSample`.
    """
    pose_format = _import_pose_format()
    data = Path(path).read_bytes()
    try:
        pose = pose_format.Pose.read(data)
        if round(pose.header.version, 3) == 0.1:
            _check_v0_1_size(data, pose)
    except Exception as error:  # pose-format raises struct, type, index and value errors on damaged files
        raise ValueError(
            f"Could not read `{path}` as a `.pose` file: it is truncated or corrupt ({error!r})."
        ) from error
    return pose_to_sample(pose, sample_id or Path(path).stem)


def _check_v0_1_size(data: bytes, pose) -> None:
    """Refuse a truncated v0.1 file, which pose-format would read with misaligned confidences.

    v0.1 bodies store their frame count in 16 bits, so pose-format infers the count from the file size; a truncated
    file then loads without error. Its size must instead be a whole number of frames, matching the stored count
    modulo 2**16.
    """
    pose_format = _import_pose_format()
    reader = pose_format.utils.reader.BufferReader(data)
    header = pose_format.PoseHeader.read(reader)
    _, declared_frames, people = struct.unpack_from("<HHH", data, reader.read_offset)
    num_points = sum(len(component.points) for component in header.components)
    frame_bytes = people * num_points * (header.num_dims() + 1) * 4  # float32 coordinates and confidence
    body_bytes = len(data) - reader.read_offset - 6
    if frame_bytes == 0 or body_bytes % frame_bytes or (body_bytes // frame_bytes) % 2**16 != declared_frames:
        raise ValueError(
            f"the v0.1 body holds {body_bytes} bytes, not a whole number of {declared_frames} frames of "
            f"{frame_bytes} bytes"
        )


def sample_to_pose(sample: PoseSample, fps: float | None = None):
    """Build a COCO-WholeBody-133 `pose_format.Pose` (components `BODY`, `FACE`, `LEFT_HAND`, `RIGHT_HAND`).

    Args:
        sample (`PoseSample`): Needs its frame `width` and `height` (the file stores pixels).
        fps (`float`, *optional*): Frame rate; defaults to the sample's, or 25 when unknown.

    Returns:
        `pose_format.Pose` with one person, points `(x, y)` in pixels and the sample's scores as confidence.
    """
    pose_format = _import_pose_format()
    if sample.width <= 0 or sample.height <= 0:
        raise ValueError(
            f"Sample {sample.id!r} has no frame size (width {sample.width}, height {sample.height}); `.pose` files "
            "store pixels, so set `width` and `height` first."
        )
    components = pose_format.utils.cocowholebody133_header.cocowholebody_components()
    sizes = {component.name: len(component.points) for component in components}
    if sizes != _WHOLEBODY_COMPONENT_SIZES:
        raise ValueError(f"Unexpected COCO-WholeBody components from pose-format: {sizes}.")
    header = pose_format.PoseHeader(
        version=0.2,
        dimensions=pose_format.pose_header.PoseHeaderDimensions(sample.width, sample.height),
        components=components,
    )
    pixels = sample.keypoints * np.array([sample.width, sample.height], dtype=np.float32)  # (T, 133, 2)
    body = pose_format.numpy.NumPyPoseBody(
        fps=float(fps or sample.fps or 25.0),
        data=np.ma.masked_array(pixels[:, None], mask=np.repeat((sample.scores <= 0)[:, None, :, None], 2, -1)),
        confidence=sample.scores[:, None].copy(),  # (T, 1, 133)
    )
    return pose_format.Pose(header, body)


def write_pose_file(sample: PoseSample, path: str | Path, fps: float | None = None) -> None:
    """Write a `PoseSample` to a COCO-WholeBody-133 `.pose` file (readable by `pose-format` and `read_pose_file`).

    Args:
        sample (`PoseSample`): The clip; needs `width` and `height`.
        path (`str` or `Path`): Where to write.
        fps (`float`, *optional*): Frame rate; defaults to the sample's, or 25 when unknown.
    """
    pose = sample_to_pose(sample, fps)
    with open(path, "wb") as file:
        pose.write(file)


__all__ = [
    "POSE_FILE_LAYOUTS",
    "detect_layout",
    "pose_to_sample",
    "read_pose_file",
    "sample_to_pose",
    "write_pose_file",
]
