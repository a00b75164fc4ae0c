"""pose-format's COCO-WholeBody-133 files: one written by pose-format itself reads as the authors' `.pkl` does.

pose-format 0.15 has a COCO-WholeBody-133 header (`pose_format.utils.cocowholebody133_header`) and an MMPose
estimator (`pose_format.utils.mmposewholebody.estimate_mmpose_wholebody`) that writes it. MMPose is not installed
here (it needs mmcv), so its inferencer is replaced by one that returns the golden clip's keypoints, in pixels as
MMPose does; everything else, header and body included, is pose-format's own code. The same clip as the authors'
pose pickle (`{"keypoints": T x (1, 133, 2), "scores": T x (1, 133)}` in `(x / W, y / H)` units, float32) must read
to the same keypoints and scores.
"""

import importlib
import pickle
import sys
import types

import numpy as np
import pytest
from pose_format import Pose
from pose_format.utils.generic import detect_known_pose_format
from safetensors.numpy import load_file

from unisign import read_pose_file, write_pose_file
from unisign.data import read_pose_pickle


@pytest.fixture
def golden_clip(golden_dir):
    """The golden clip's COCO-WholeBody-133 keypoints `(T, 133, 2)` in `(x / W, y / H)`, scores `(T, 133)`, W, H."""
    io = load_file(golden_dir / "io.safetensors")
    height, width = 240, 320  # meta.json `frame_size` (H, W)
    return io["clip0.keypoints"], io["clip0.scores"], width, height


@pytest.fixture
def mmpose_estimator(monkeypatch):
    """pose-format's MMPose estimator module, over a stand-in `mmpose.apis.MMPoseInferencer` given its frames."""
    frames = []

    class Inferencer:
        def __init__(self, *args, **kwargs):
            pass

        def __call__(self, input_path, show=False, return_vis=False):
            yield from ({"predictions": [people]} for people in frames)

    apis = types.ModuleType("mmpose.apis")
    apis.MMPoseInferencer = Inferencer
    monkeypatch.setitem(sys.modules, "mmpose", types.ModuleType("mmpose"))
    monkeypatch.setitem(sys.modules, "mmpose.apis", apis)
    monkeypatch.delitem(sys.modules, "pose_format.utils.mmposewholebody", raising=False)
    return importlib.import_module("pose_format.utils.mmposewholebody"), frames


def test_a_pose_format_mmpose_file_reads_as_the_authors_pickle(golden_clip, mmpose_estimator, tmp_path):
    keypoints, scores, width, height = golden_clip
    pixels = keypoints * np.array([width, height], dtype=np.float32)  # (T, 133, 2): what MMPose returns
    estimator, frames = mmpose_estimator
    predictions = zip(pixels, scores, strict=True)
    frames += [[{"keypoints": frame.tolist(), "keypoint_scores": score.tolist()}] for frame, score in predictions]
    frames.insert(3, [])  # a frame without a person: pose-format writes it masked, with confidence 0
    pose = estimator.estimate_mmpose_wholebody("clip.mp4", fps=25, width=width, height=height)
    assert detect_known_pose_format(pose) == "coco_wholebody_133"
    with open(tmp_path / "clip.pose", "wb") as file:
        pose.write(file)

    # the authors' pickle of the same clip: normalised keypoints, and zeros where nobody was found
    pickled_keypoints = np.insert(pixels / np.array([width, height], dtype=np.float32), 3, 0, axis=0)
    pickled_scores = np.insert(scores, 3, 0, axis=0)
    with open(tmp_path / "clip.pkl", "wb") as file:
        pickle.dump({"keypoints": list(pickled_keypoints[:, None]), "scores": list(pickled_scores[:, None])}, file)

    from_pose, from_pickle = read_pose_file(tmp_path / "clip.pose"), read_pose_pickle(tmp_path / "clip.pkl")
    assert from_pose.num_frames == from_pickle.num_frames == len(keypoints) + 1
    np.testing.assert_array_equal(from_pose.keypoints.astype(np.float32), from_pickle.keypoints)
    np.testing.assert_array_equal(from_pose.scores, from_pickle.scores)
    assert (from_pose.width, from_pose.height, from_pose.fps) == (width, height, 25.0)

    # and what we write is the same layout, read back to the same values by pose-format and by us
    write_pose_file(from_pose, tmp_path / "again.pose")
    again = Pose.read((tmp_path / "again.pose").read_bytes())
    assert [c.name for c in again.header.components] == [c.name for c in pose.header.components]
    assert [c.points for c in again.header.components] == [c.points for c in pose.header.components]
    np.testing.assert_array_equal(again.body.confidence, pose.body.confidence)
    np.testing.assert_array_equal(np.ma.filled(again.body.data, 0), np.ma.filled(pose.body.data, 0))
    reread = read_pose_file(tmp_path / "again.pose")
    np.testing.assert_array_equal(reread.keypoints, from_pose.keypoints)
    np.testing.assert_array_equal(reread.scores, from_pose.scores)
