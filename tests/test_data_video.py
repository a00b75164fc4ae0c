"""Video frames through PyAV (`unisign.models.unisign.video_io`): only the needed frames, aligned with the poses,
clear errors when
they are not; the video processor crops from a video as from frames.

Uses ../shared/data/pose-format/test_video.mp4 (58 frames, a real signing clip).
"""

import sys

import av
import numpy as np
import pytest

from unisign import PoseSample, UniSignPoseFeatureExtractor, UniSignVideoProcessor
from unisign.models.unisign.keypoints import LEFT_HAND_INDICES, RIGHT_HAND_INDICES
from unisign.models.unisign.video_io import read_video_frames


NUM_VIDEO_FRAMES = 58


@pytest.fixture(scope="module")
def video_path(data_dir):
    return data_dir / "pose-format" / "test_video.mp4"


@pytest.fixture(scope="module")
def all_frames(video_path):
    with av.open(str(video_path)) as container:
        frames = np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])
    assert len(frames) == NUM_VIDEO_FRAMES
    return frames


def test_reads_the_requested_frames_in_order(video_path, all_frames):
    indices = [57, 0, 10, 10, 31]
    frames = read_video_frames(video_path, indices, num_pose_frames=NUM_VIDEO_FRAMES)
    assert frames.dtype == np.uint8 and frames.shape == (5, *all_frames.shape[1:])
    np.testing.assert_array_equal(frames, all_frames[indices])
    np.testing.assert_array_equal(read_video_frames(video_path, [3], frame_offset=20), all_frames[[23]])
    assert read_video_frames(video_path, []).shape[0] == 0


def test_video_shorter_or_longer_than_its_poses_is_refused(video_path):
    with pytest.raises(ValueError, match="has 58 frames but its poses have 100 frames"):
        read_video_frames(video_path, [0, 99], num_pose_frames=100)
    with pytest.raises(ValueError, match="has 58 frames but its poses have 40 frames"):
        read_video_frames(video_path, [0], num_pose_frames=40)
    with pytest.raises(ValueError, match="ends after 58 frames but frame 70 is needed.*shorter than its poses"):
        read_video_frames(video_path, [70])
    with pytest.raises(ValueError, match="starting at frame 30"):
        read_video_frames(video_path, [0], num_pose_frames=40, frame_offset=30)
    with pytest.raises(ValueError, match=">= 0"):
        read_video_frames(video_path, [-1])


def test_unreadable_videos_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_video_frames(tmp_path / "missing.mp4", [0])
    not_a_video = tmp_path / "notes.mp4"
    not_a_video.write_text("these are not frames")
    with pytest.raises(ValueError, match="Could not open .* as a video"):
        read_video_frames(not_a_video, [0])


def clip_with_hands(num_frames, seed=0):
    """Keypoints whose hands sit in the middle of the frame, with confident hands."""
    rng = np.random.default_rng(seed)
    keypoints = rng.uniform(0.3, 0.7, size=(num_frames, 133, 2)).astype(np.float32)
    keypoints[:, LEFT_HAND_INDICES] = rng.uniform(0.4, 0.5, size=(num_frames, 21, 2))
    keypoints[:, RIGHT_HAND_INDICES] = rng.uniform(0.5, 0.6, size=(num_frames, 21, 2))
    scores = rng.uniform(0.5, 1.0, size=(num_frames, 133)).astype(np.float32)
    return keypoints, scores


def crop(clip, max_frames=256, **source):
    """Hand crops of a clip sub-sampled by the feature extractor, from `frames=` or `video=`."""
    sampled = UniSignPoseFeatureExtractor(max_frames=max_frames).sample_clip(clip)
    return UniSignVideoProcessor().crop_clip(
        sampled.keypoints,
        sampled.scores,
        frame_indices=sampled.frame_indices,
        num_video_frames=sampled.num_frames,
        frame_offset=sampled.video_frame_offset,
        **source,
    )


def test_video_processor_crops_from_a_video_like_from_frames(video_path, all_frames):
    clip = clip_with_hands(NUM_VIDEO_FRAMES)
    from_video = crop(clip, max_frames=20, video=str(video_path))
    from_frames = crop(clip, max_frames=20, frames=all_frames)
    assert len(from_video["hand_frame_indices"]) == 4 and (from_video["hand_frame_indices"] >= 0).all()
    for name, value in from_frames.items():
        np.testing.assert_array_equal(from_video[name], value)
    assert from_video["hand_pixel_values"].std() > 0.1  # real image content


def test_video_processor_uses_the_video_offset_of_a_pose_sample(video_path, all_frames):
    keypoints, scores = clip_with_hands(20)
    sample = PoseSample(id="part", keypoints=keypoints, scores=scores, extra={"video_frame_offset": 30})
    from_video = crop(sample, video=str(video_path))
    from_frames = crop((keypoints, scores), frames=all_frames[30:50])
    np.testing.assert_array_equal(from_video["hand_pixel_values"], from_frames["hand_pixel_values"])


def test_video_processor_refuses_a_video_shorter_than_its_poses(video_path):
    with pytest.raises(ValueError, match="has 58 frames but its poses have 70 frames"):
        crop(clip_with_hands(70), video=str(video_path))


def test_missing_optional_libraries_give_one_line_naming_the_pip_package(monkeypatch, video_path):
    monkeypatch.setitem(sys.modules, "av", None)  # as if PyAV were not installed
    with pytest.raises(ImportError, match=r"^Reading video frames needs PyAV: `pip install av`\.$"):
        read_video_frames(video_path, [0])
    monkeypatch.setitem(sys.modules, "PIL", None)
    keypoints, scores = clip_with_hands(4)
    with pytest.raises(ImportError, match=r"needs Pillow: `pip install Pillow`\.$"):
        UniSignVideoProcessor().crop_clip(keypoints, scores, frames=np.zeros((4, 24, 32, 3), np.uint8))
