"""`.pose` files: the real MediaPipe (v0.1, v0.2) and OpenPose files of ../shared/data/pose-format/ map to
COCO-WholeBody-133 with plausible geometry and round-trip; bad files give clear errors."""

import io

import numpy as np
import pytest
from pose_format import Pose, PoseHeader
from pose_format.numpy import NumPyPoseBody
from pose_format.pose_header import PoseHeaderComponent, PoseHeaderDimensions
from pose_format.utils.generic import detect_known_pose_format

from unisign import (
    PoseSample,
    UniSignPoseFeatureExtractor,
    pose_to_sample,
    read_pose_file,
    sample_to_pose,
    write_pose_file,
)


POSE_FILES = {
    "mediapipe.pose": "mediapipe_holistic",  # v0.1, reduced Holistic (8 pose points, 128 face points)
    "mediapipe_long.pose": "mediapipe_holistic",
    "openpose.pose": "openpose_137",  # v0.0
    "0ff215ef4f1f111e217e2cefee0adc77.pose": "mediapipe_holistic",  # v0.2, full Holistic
    "6fb01565da31c5500d1ef2cd2906b06b.pose": "mediapipe_holistic",
    "7731febd6afbbe90f806a4434c282016.pose": "mediapipe_holistic",
    "7bd6dd48722def3cf84258b96371cb1e.pose": "mediapipe_holistic",
    "84322c38ff23406f222641da30d0a49b.pose": "mediapipe_holistic",
}
LEFT_WRIST, RIGHT_WRIST, LEFT_SHOULDER, RIGHT_SHOULDER = 9, 10, 5, 6
LEFT_HAND_ROOT, RIGHT_HAND_ROOT = 91, 112


def pixel_distance(sample, first, second, frames):
    offset = (sample.keypoints[frames, first] - sample.keypoints[frames, second]) * [sample.width, sample.height]
    return np.linalg.norm(offset, axis=-1)


@pytest.mark.parametrize(("file_name", "layout"), POSE_FILES.items())
def test_real_pose_files_map_to_plausible_wholebody_poses(data_dir, file_name, layout):
    sample = read_pose_file(data_dir / "pose-format" / file_name)
    assert sample.id == file_name.removesuffix(".pose") and sample.extra == {"pose_format_layout": layout}
    assert sample.keypoints.shape == (sample.num_frames, 133, 2) and sample.num_frames > 0
    assert sample.width > 0 and sample.height > 0 and sample.fps > 0
    scores, keypoints = sample.scores, sample.keypoints
    assert np.isfinite(keypoints).all() and (scores >= 0).all()
    assert not keypoints[scores == 0].any()  # missing points sit at (0, 0)
    if layout == "mediapipe_holistic":
        assert not scores[:, [18, 21]].any()  # the small toes have no MediaPipe counterpart
        hands = scores[:, 91:133]
        assert set(np.unique(hands).tolist()) <= {0.0, 1.0}  # pose-format: 1 for detected hand points

    shoulders = (scores[:, LEFT_SHOULDER] > 0) & (scores[:, RIGHT_SHOULDER] > 0)
    shoulder_width = np.median(pixel_distance(sample, LEFT_SHOULDER, RIGHT_SHOULDER, shoulders))
    checked = 0
    for wrist, root, other_root in (
        (LEFT_WRIST, LEFT_HAND_ROOT, RIGHT_HAND_ROOT),
        (RIGHT_WRIST, RIGHT_HAND_ROOT, LEFT_HAND_ROOT),
    ):
        both = (scores[:, wrist] > 0) & (scores[:, root] > 0)
        if both.sum() < 3:
            continue
        checked += 1
        # the body's wrist lies at the root of the same-side hand (within a third of the shoulder width)
        assert np.median(pixel_distance(sample, wrist, root, both)) < shoulder_width / 3
        all_three = both & (scores[:, other_root] > 0)
        if all_three.sum() >= 3:  # and not at the other hand
            assert np.median(pixel_distance(sample, wrist, root, all_three)) < np.median(
                pixel_distance(sample, wrist, other_root, all_three)
            )
    assert checked >= 1


@pytest.mark.parametrize("file_name", list(POSE_FILES))
def test_real_pose_files_round_trip(data_dir, tmp_path, file_name):
    sample = read_pose_file(data_dir / "pose-format" / file_name)
    path = tmp_path / "copy.pose"
    write_pose_file(sample, path)
    pose = Pose.read(path.read_bytes())  # readable by pose-format itself, in its COCO-WholeBody layout
    assert detect_known_pose_format(pose) == "coco_wholebody_133"
    assert pose.body.data.shape == (sample.num_frames, 1, 133, 2)
    again = read_pose_file(path)
    np.testing.assert_allclose(again.keypoints, sample.keypoints, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(again.scores, sample.scores)
    assert (again.width, again.height) == (sample.width, sample.height)
    assert again.fps == pytest.approx(sample.fps)
    assert again.extra == {"pose_format_layout": "coco_wholebody_133"}


def test_feature_extractor_reads_pose_objects(data_dir):
    raw = (data_dir / "pose-format" / "7731febd6afbbe90f806a4434c282016.pose").read_bytes()
    extractor = UniSignPoseFeatureExtractor()
    from_pose = extractor.extract(Pose.read(raw))["pose_values"]
    from_sample = extractor.extract(pose_to_sample(Pose.read(raw)))["pose_values"]
    np.testing.assert_array_equal(from_pose, from_sample)
    assert from_pose.shape == (18, 69, 3) and from_pose.any()


def custom_pose(components, num_points=None, width=100, height=80):
    total = num_points or sum(len(component.points) for component in components)
    header = PoseHeader(version=0.2, dimensions=PoseHeaderDimensions(width, height), components=components)
    data = np.ma.masked_array(np.ones((3, 1, total, 2), dtype=np.float32))
    return Pose(header, NumPyPoseBody(fps=25, data=data, confidence=np.ones((3, 1, total), dtype=np.float32)))


def component(name, num_points):
    return PoseHeaderComponent(name, [f"p{i}" for i in range(num_points)], [], [(255, 255, 255)], "XYC")


def test_unknown_components_are_refused():
    pose = custom_pose([component("HEAD_MOUNTED_MARKERS", 12)])
    with pytest.raises(ValueError, match=r"Unknown `.pose` components \['HEAD_MOUNTED_MARKERS'\].*MediaPipe"):
        pose_to_sample(pose)


def test_wrong_point_counts_are_refused():
    components = [component("BODY", 23), component("FACE", 68), component("LEFT_HAND", 5), component("RIGHT_HAND", 21)]
    with pytest.raises(ValueError, match="'LEFT_HAND' has 5 points"):
        pose_to_sample(custom_pose(components))


def test_zero_frame_size_is_refused():
    components = [
        component("BODY", 23),
        component("FACE", 68),
        component("LEFT_HAND", 21),
        component("RIGHT_HAND", 21),
    ]
    with pytest.raises(ValueError, match="frame size 0 x 80"):
        pose_to_sample(custom_pose(components, width=0))
    assert pose_to_sample(custom_pose(components)).keypoints.shape == (3, 133, 2)


def test_truncated_pose_file_is_refused(data_dir, tmp_path):
    raw = (data_dir / "pose-format" / "mediapipe.pose").read_bytes()
    path = tmp_path / "truncated.pose"
    path.write_bytes(raw[: len(raw) // 3])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_pose_file(path)


def test_writing_needs_the_frame_size(tmp_path):
    sample = PoseSample(id="x", keypoints=np.zeros((2, 133, 2)), scores=np.zeros((2, 133)))
    with pytest.raises(ValueError, match="no frame size"):
        write_pose_file(sample, tmp_path / "x.pose")


def test_written_pose_keeps_pixels_and_scores():
    rng = np.random.default_rng(0)
    keypoints = (rng.integers(0, 640, size=(4, 133, 2)) / [640, 480]).astype(np.float32)
    scores = rng.random((4, 133)).astype(np.float32)
    scores[0, :10] = 0
    sample = PoseSample(id="x", keypoints=keypoints, scores=scores, width=640, height=480, fps=30.0)
    pose = sample_to_pose(sample)
    np.testing.assert_allclose(pose.body.data.data[:, 0], keypoints * [640, 480], rtol=1e-6)
    np.testing.assert_array_equal(pose.body.confidence[:, 0], scores)
    buffer = io.BytesIO()
    pose.write(buffer)
    back = pose_to_sample(Pose.read(buffer.getvalue()))
    np.testing.assert_allclose(back.keypoints[1:], keypoints[1:], atol=1e-6)
    assert not back.keypoints[0, :10].any()  # score 0: the point is missing
