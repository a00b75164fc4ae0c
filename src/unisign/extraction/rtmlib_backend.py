"""RTMW whole-body pose estimation through `rtmlib` (the reference's extractor), on the largest detected person.

The reference demo (Uni-Sign `demo/online_inference.py`) runs `rtmlib.Wholebody(mode="lightweight")`: a YOLOX person
detector, then RTMW on each detected box, giving COCO-WholeBody-133 keypoints in pixels with SimCC scores (the scores
the 0.3 threshold was tuned for). Here the detector and RTMW run as separate `rtmlib` models so that RTMW runs only on
the largest box (by area); a frame with no detected person gets all-zero keypoints and scores. Scores are RTMW's,
unchanged; keypoints are divided by the frame size.

Weights: give the two ONNX files (`det_model`, `pose_model`), or set `allow_download=True` to let `rtmlib` fetch the
files of `mode` from download.openmmlab.com into its cache. Nothing is downloaded otherwise.
"""

from pathlib import Path

import numpy as np

from ..models.unisign.keypoints import NUM_WHOLEBODY_KEYPOINTS
from ..utils.errors import InvalidInputError, MissingInputError


# rtmlib's `Wholebody.MODE` input sizes (width, height) of the detector and of RTMW
RTMLIB_MODES = {
    "performance": {"det_input_size": (640, 640), "pose_input_size": (288, 384)},
    "balanced": {"det_input_size": (640, 640), "pose_input_size": (192, 256)},
    "lightweight": {"det_input_size": (416, 416), "pose_input_size": (192, 256)},
}
_INSTALL_HINT = "The RTMW back-end needs rtmlib and an ONNX runtime: `pip install rtmlib onnxruntime`."


def _check_weights(det_model: str | Path | None, pose_model: str | Path | None, allow_download: bool) -> None:
    if (det_model is None or pose_model is None) and not allow_download:
        raise InvalidInputError(
            "The RTMW back-end needs its ONNX weights: pass `det_model` (a YOLOX person detector .onnx) and "
            "`pose_model` (an RTMW whole-body .onnx) as local paths, or `allow_download=True` to let rtmlib download "
            "the files of its `mode` from download.openmmlab.com."
        )
    for name, path in (("det_model", det_model), ("pose_model", pose_model)):
        if path is not None and not Path(path).is_file():
            raise MissingInputError(f"The RTMW `{name}` file `{path}` does not exist.")


class RTMWEstimator:
    """RGB frame -> COCO-WholeBody-133 keypoints and RTMW scores of the largest detected person.

    Args:
        det_model (`str` or `Path`, *optional*): YOLOX person-detector ONNX file.
        pose_model (`str` or `Path`, *optional*): RTMW whole-body ONNX file.
        mode (`str`, *optional*, defaults to `"lightweight"`):
            rtmlib preset (`"lightweight"`, as the reference demo, `"balanced"` or `"performance"`): the input sizes
            and, with `allow_download`, the files.
        allow_download (`bool`, *optional*, defaults to `False`): Let rtmlib download the weights of `mode` that are
            not given.
        device (`str`, *optional*, defaults to `"cpu"`): rtmlib device (`"cpu"`, `"cuda"`, `"mps"`).
        runtime (`str`, *optional*, defaults to `"onnxruntime"`): rtmlib back-end (`"onnxruntime"`, `"opencv"`,
            `"openvino"`).
    """

    name = "rtmlib"

    def __init__(
        self,
        det_model: str | Path | None = None,
        pose_model: str | Path | None = None,
        mode: str = "lightweight",
        allow_download: bool = False,
        device: str = "cpu",
        runtime: str = "onnxruntime",
    ):
        if mode not in RTMLIB_MODES:
            raise InvalidInputError(f"Unknown rtmlib `mode` {mode!r}. Available modes: {sorted(RTMLIB_MODES)}.")
        _check_weights(det_model, pose_model, allow_download)
        try:
            from rtmlib import YOLOX, RTMPose, Wholebody
        except ImportError as error:
            raise ImportError(_INSTALL_HINT) from error
        sizes = RTMLIB_MODES[mode]
        det_model = str(det_model) if det_model is not None else Wholebody.MODE[mode]["det"]
        pose_model = str(pose_model) if pose_model is not None else Wholebody.MODE[mode]["pose"]
        self._detector = YOLOX(det_model, model_input_size=sizes["det_input_size"], backend=runtime, device=device)
        self._pose_model = RTMPose(
            pose_model, model_input_size=sizes["pose_input_size"], backend=runtime, device=device
        )
        self.description = f"rtmlib-rtmw ({Path(pose_model).name}, detector {Path(det_model).name})"

    def __call__(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Estimate the pose of the largest person in one frame.

        Args:
            frame (`np.ndarray` of shape `(height, width, 3)`): uint8 RGB.

        Returns:
            `tuple[np.ndarray, np.ndarray]`: keypoints `(133, 2)` float32 in `(x / width, y / height)` units and RTMW
            scores `(133,)` float32; all zeros when no person is detected.
        """
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise InvalidInputError(
                f"A frame must be a uint8 RGB array of shape (height, width, 3), got {frame.dtype} of shape "
                f"{frame.shape}."
            )
        image = np.ascontiguousarray(frame[..., ::-1])  # rtmlib models take OpenCV's BGR order
        boxes = np.asarray(self._detector(image), dtype=np.float32).reshape(-1, 4)  # (N, 4) x0, y0, x1, y1 pixels
        keypoints = np.zeros((NUM_WHOLEBODY_KEYPOINTS, 2), dtype=np.float32)
        scores = np.zeros(NUM_WHOLEBODY_KEYPOINTS, dtype=np.float32)
        if len(boxes) == 0:
            return keypoints, scores
        areas = (boxes[:, 2] - boxes[:, 0]).clip(0) * (boxes[:, 3] - boxes[:, 1]).clip(0)  # (N,)
        largest = boxes[int(np.argmax(areas))]
        person_keypoints, person_scores = _first_person(self._pose_model(image, bboxes=[largest.tolist()]))
        height, width = frame.shape[:2]
        keypoints[:] = person_keypoints / np.array([width, height], dtype=np.float32)
        scores[:] = person_scores
        return keypoints, scores

    def reset(self) -> None:
        """RTMW keeps no state between frames."""

    def close(self) -> None:
        """Nothing to release (the ONNX sessions go with the object)."""


def _first_person(output) -> tuple[np.ndarray, np.ndarray]:
    """`(133, 2)` pixels and `(133,)` scores of the first person of an `RTMPose.__call__` output.

    Current rtmlib returns `(keypoints (N, 133, 2), scores (N, 133))`; older versions returned a list of dicts.
    """
    if isinstance(output, list) and output and isinstance(output[0], dict):
        keypoints, scores = output[0]["keypoints"], output[0]["scores"]
    else:
        keypoints, scores = output
    keypoints = np.asarray(keypoints, dtype=np.float32).reshape(-1, NUM_WHOLEBODY_KEYPOINTS, 2)[0]
    scores = np.asarray(scores, dtype=np.float32).reshape(-1, NUM_WHOLEBODY_KEYPOINTS)[0]
    return keypoints, scores


__all__ = ["RTMLIB_MODES", "RTMWEstimator"]
