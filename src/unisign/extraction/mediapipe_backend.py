"""MediaPipe Holistic (mediapipe 0.10.14, offline) as a COCO-WholeBody-133 pose estimator.

Mapping (KEYPOINTS.md, the same tables `unisign.models.unisign.pose_file` reads `.pose` files with): body and feet
from the 33
pose landmarks, the 68 iBUG face points from the 468 FaceMesh landmarks, hands 1:1 (MediaPipe's "left" is the
signer's left, as in COCO-WholeBody); the small toes (18, 21) have no counterpart.

Confidence convention (the score channel is what the processor's 0.3 threshold and the hand sampler see; MediaPipe
has no calibrated per-point score, so these are chosen to make that threshold keep what is really in the picture):
- body and feet: `min(visibility, presence)` of the pose landmark. Visibility alone is not enough: on the shared test
  video a wrist far below the frame (y = 1.14 H) keeps visibility 0.4-0.6, while its presence (likelihood of being
  inside the frame) is 0.01-0.17; a hand raised into view has both near 0.9;
- a body wrist is raised to at least `DETECTED_SCORE` in frames where the hand model found that hand (the hand is
  in view, so its wrist is too);
- hands and face: `DETECTED_SCORE` (0.9) for every point of a hand or face MediaPipe found, 0 where it found none;
  Holistic gives no per-point score for them. 0.9 sits among the scores RTMW gives confident points, well above 0.3;
- a frame with no person: all keypoints and scores 0.

Coordinates are MediaPipe's normalised `(x / width, y / height)`, unchanged (points outside the frame keep their
values outside [0, 1]; their scores are low).

mediapipe 0.10.14 was written for protobuf 4; with protobuf >= 5 its `packet_getter.get_proto` and
`_modify_calculator_options` use removed protobuf calls. This module therefore runs the Holistic graph through
`SolutionBase` with its built-in calculator options (detection and tracking thresholds 0.5, which are also
`mp.solutions.holistic.Holistic`'s defaults) and decodes the landmark packets itself, which works with protobuf 4 to 7.
"""

import numpy as np

from ..models.unisign.keypoints import FACE_START, LEFT_HAND_START, NUM_WHOLEBODY_KEYPOINTS, RIGHT_HAND_START
from ..models.unisign.pose_file import HOLISTIC_BODY, HOLISTIC_FACE
from ..utils.errors import InvalidInputError
from ..utils.quiet_logs import native_stderr_filtered


_INSTALL_HINT = (
    "The MediaPipe back-end needs mediapipe 0.10.14 (later releases dropped `mp.solutions` and its bundled models): "
    "`pip install --no-deps mediapipe==0.10.14` then `pip install opencv-contrib-python matplotlib attrs` "
    "(--no-deps keeps your protobuf: mediapipe's own pin, protobuf<5, breaks the mT5 tokenizer's sentencepiece)."
)
try:
    with native_stderr_filtered():  # mediapipe's import prints an AttributeError that is harmless here
        from mediapipe.framework.formats import landmark_pb2
        from mediapipe.python import solution_base
        from mediapipe.python._framework_bindings import _packet_getter
        from mediapipe.python.solutions import holistic
        from mediapipe.python.solutions.pose import PoseLandmark
except ImportError as error:
    raise ImportError(_INSTALL_HINT) from error


DETECTED_SCORE = 0.9
LEFT_WRIST, RIGHT_WRIST = 9, 10
_LANDMARK_STREAMS = ["pose_landmarks", "left_hand_landmarks", "right_hand_landmarks", "face_landmarks"]
# COCO-WholeBody indices 0-22 that have a pose landmark, and those landmarks' indices among the 33
_BODY_TARGETS = np.array(list(HOLISTIC_BODY))
_BODY_SOURCES = np.array([PoseLandmark[name].value for name in HOLISTIC_BODY.values()])
_FACE_SOURCES = np.array(HOLISTIC_FACE)


def _landmark_array(landmark_list, fields: tuple[str, ...]) -> np.ndarray:
    """`(num_landmarks, len(fields))` float32 array of the given fields of a `NormalizedLandmarkList`."""
    return np.array([[getattr(point, name) for name in fields] for point in landmark_list.landmark], np.float32)


class _HolisticGraph(solution_base.SolutionBase):
    """The Holistic calculator graph with its four landmark streams decoded protobuf-agnostically."""

    def __init__(self, side_inputs: dict):
        super().__init__(
            binary_graph_path=holistic._BINARYPB_FILE_PATH, side_inputs=side_inputs, outputs=_LANDMARK_STREAMS
        )

    def _get_packet_content(self, packet_data_type, output_packet):
        # replaces `packet_getter.get_proto`, which calls `GetPrototype` (removed in protobuf 5); every output
        # stream of this graph holds a NormalizedLandmarkList
        if output_packet.is_empty():
            return None
        return landmark_pb2.NormalizedLandmarkList.FromString(_packet_getter._get_serialized_proto(output_packet))


class MediaPipeHolisticEstimator:
    """RGB frame -> COCO-WholeBody-133 keypoints and scores of the most prominent person, with MediaPipe Holistic.

    Holistic tracks the person from frame to frame (and smooths the landmarks), so feed the frames of one video in
    order and call `reset()` before the next video.

    Args:
        model_complexity (`int`, *optional*, defaults to 1):
            Pose landmark model: 1 ships inside the mediapipe wheel (offline); 0 and 2 are downloaded at first use.
        smooth_landmarks (`bool`, *optional*, defaults to `True`): Temporal smoothing of the landmarks.
    """

    name = "mediapipe"

    def __init__(self, model_complexity: int = 1, smooth_landmarks: bool = True):
        if model_complexity not in (0, 1, 2):
            raise InvalidInputError(f"`model_complexity` must be 0, 1 or 2, got {model_complexity!r}.")
        self.model_complexity = model_complexity
        self.smooth_landmarks = smooth_landmarks
        try:
            holistic._download_oss_pose_landmark_model(model_complexity)  # no-op for the bundled complexity 1
        except OSError as error:
            raise InvalidInputError(
                f"MediaPipe's model_complexity={model_complexity} pose model is not in the mediapipe wheel and could "
                f"not be downloaded ({error}); use model_complexity=1 (bundled, offline) or download it once online."
            ) from error
        with native_stderr_filtered():  # TF-Lite's start-up chatter
            self._graph = _HolisticGraph(self._side_inputs())
        self._started = False
        self.description = f"mediapipe-holistic-0.10.14 (model_complexity={model_complexity})"

    def _side_inputs(self) -> dict:
        return {
            "model_complexity": self.model_complexity,
            "smooth_landmarks": self.smooth_landmarks,
            "enable_segmentation": False,
            "smooth_segmentation": False,
            "refine_face_landmarks": False,
            "use_prev_landmarks": True,
        }

    def __call__(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Estimate the pose of one frame.

        Args:
            frame (`np.ndarray` of shape `(height, width, 3)`): uint8 RGB.

        Returns:
            `tuple[np.ndarray, np.ndarray]`: keypoints `(133, 2)` float32 in `(x / width, y / height)` units and
            scores `(133,)` float32 (see the module docstring for their meaning).
        """
        frame = np.ascontiguousarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise InvalidInputError(
                f"A frame must be a uint8 RGB array of shape (height, width, 3), got {frame.dtype} of shape "
                f"{frame.shape}."
            )
        if self._started:
            results = self._graph.process(frame)
        else:  # the graph's first frame starts TF-Lite, which prints its chatter then
            with native_stderr_filtered():
                results = self._graph.process(frame)
            self._started = True
        landmarks = {stream: getattr(results, stream) for stream in _LANDMARK_STREAMS}
        keypoints = np.zeros((NUM_WHOLEBODY_KEYPOINTS, 2), dtype=np.float32)
        scores = np.zeros(NUM_WHOLEBODY_KEYPOINTS, dtype=np.float32)
        pose = landmarks["pose_landmarks"]
        if pose is None:
            return keypoints, scores
        body = _landmark_array(pose, ("x", "y", "visibility", "presence"))[_BODY_SOURCES]  # (21, 4)
        keypoints[_BODY_TARGETS] = body[:, :2]
        scores[_BODY_TARGETS] = np.clip(np.minimum(body[:, 2], body[:, 3]), 0, 1)
        for stream, start, wrist in (
            ("left_hand_landmarks", LEFT_HAND_START, LEFT_WRIST),
            ("right_hand_landmarks", RIGHT_HAND_START, RIGHT_WRIST),
        ):
            if landmarks[stream] is not None:
                keypoints[start : start + 21] = _landmark_array(landmarks[stream], ("x", "y"))  # (21, 2)
                scores[start : start + 21] = DETECTED_SCORE
                scores[wrist] = max(scores[wrist], DETECTED_SCORE)
        if landmarks["face_landmarks"] is not None:
            face = _landmark_array(landmarks["face_landmarks"], ("x", "y"))  # (468, 2)
            keypoints[FACE_START : FACE_START + 68] = face[_FACE_SOURCES]
            scores[FACE_START : FACE_START + 68] = DETECTED_SCORE
        missing = ~np.isfinite(keypoints).all(-1)
        keypoints[missing], scores[missing] = 0, 0
        return keypoints, scores

    def reset(self) -> None:
        """Forget the tracked person (call between videos)."""
        self._graph.reset()

    def close(self) -> None:
        """Release the MediaPipe graph."""
        self._graph.close()


__all__ = ["DETECTED_SCORE", "MediaPipeHolisticEstimator"]
