"""Write extracted poses as `.pose` files or as pose pickles in the reference's layout."""

import pickle
from pathlib import Path

from ..data.sample import PoseSample
from ..models.unisign.pose_file import write_pose_file
from ..utils.errors import InvalidInputError


def write_pose_pickle(sample: PoseSample, path: str | Path) -> None:
    """Write a `PoseSample` as a reference pose pickle (readable by `unisign.data.read_pose_pickle`).

    Layout (Uni-Sign's pose files): `{"keypoints": [T arrays (1, 133, 2)], "scores": [T arrays (1, 133)]}` of
    float32 in `(x / width, y / height)` units, one person per frame, plus `"w_h": (width, height)` (as CSL-News
    pose files have) when the frame size is known. Plain pickle of numpy arrays, protocol 4.

    Args:
        sample (`PoseSample`): The poses.
        path (`str` or `Path`): Where to write (conventionally `.pkl`).
    """
    data = {
        "keypoints": [frame[None] for frame in sample.keypoints],  # T x (1, 133, 2)
        "scores": [frame[None] for frame in sample.scores],  # T x (1, 133)
    }
    if sample.width > 0 and sample.height > 0:
        data["w_h"] = (int(sample.width), int(sample.height))
    with open(path, "wb") as file:
        pickle.dump(data, file, protocol=4)


def save_poses(sample: PoseSample, path: str | Path) -> None:
    """Save poses by file suffix: `.pose` (COCO-WholeBody-133 component, pose-format) or `.pkl` (reference layout).

    Args:
        sample (`PoseSample`): The poses (`.pose` needs the frame size).
        path (`str` or `Path`): Output file.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".pose":
        write_pose_file(sample, path)
    elif suffix == ".pkl":
        write_pose_pickle(sample, path)
    else:
        raise InvalidInputError(
            f"Cannot save poses as `{path}`: the suffix must be `.pose` or `.pkl`, got {suffix!r}."
        )


__all__ = ["save_poses", "write_pose_pickle"]
