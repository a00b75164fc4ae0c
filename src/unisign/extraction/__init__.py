"""Pose extraction from video: COCO-WholeBody-133 keypoints and scores, with MediaPipe Holistic or RTMW (rtmlib).

The back-ends are imported only when used (`create_estimator`), so this package imports without mediapipe or rtmlib.
"""

from .extractor import (
    BACKENDS,
    POSE_FILE_SUFFIXES,
    FramePose,
    PoseEstimator,
    create_estimator,
    extract_poses,
    iter_poses,
    load_poses,
)
from .saving import save_poses, write_pose_pickle
