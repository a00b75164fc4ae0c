"""Live translation of a growing stream: camera frames, a video read at its frame rate, or frames pushed one by one.

Every `step_frames` frames the window is translated, and the latency of each partial translation is reported.
With `background=True` the translations run in a thread of their own, so pose estimation never waits for them.
"""

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from transformers import StoppingCriteria, StoppingCriteriaList

from ..extraction import PoseEstimator, create_estimator
from ..models.unisign.pipeline_unisign import SignLanguageTranslationPipeline
from ..models.unisign.video_io import iter_camera_frames, iter_video_frames, probe_video
from ..utils.errors import InvalidInputError, UnsupportedError
from .inference import load_translation_pipeline


# Nice value added to a streaming translator's background thread (Linux), so that pose estimation, which must keep up
# with the frames, gets the CPU first when the cores are contended (benchmarks/RESULTS.md).
BACKGROUND_NICENESS = 10


@dataclass(frozen=True)
class PartialTranslation:
    """One translation of the stream's window.

    Attributes:
        text: The translation of the frames seen so far (the window).
        num_frames: Frames received since the start of the stream.
        window_frames: Frames in the translated window.
        latency_s: Seconds from the arrival of the window's newest frame to the text (pose estimation of that frame
            included when frames are pushed).
        is_final: Whether this is the translation at the end of the stream.
    """

    text: str
    num_frames: int
    window_frames: int
    latency_s: float
    is_final: bool = False


def _lower_priority() -> None:
    """Lower the calling thread's priority by `BACKGROUND_NICENESS` (Linux, where nice() sets one thread's only)."""
    if sys.platform == "linux":
        os.nice(BACKGROUND_NICENESS)


class _LatestRequestWorker:
    """Runs `function(*request)` in a single-worker `ThreadPoolExecutor`, one request at a time, newest first.

    A request submitted while another waits replaces it (the waiting future is cancelled); results are collected by the
    caller's thread, and an error raised by `function` is raised again there, by the next call. On Linux the thread
    runs `BACKGROUND_NICENESS` lower in priority than the thread that made it. Only the caller's thread calls these
    methods, so the futures alone carry the state between the two threads.
    """

    def __init__(self, function: Callable):
        self._function = function
        self._executor = futures.ThreadPoolExecutor(1, "unisign-streaming-translation", initializer=_lower_priority)
        self._requests: dict[futures.Future, tuple] = {}  # submitted, not yet collected, oldest first
        self._waiting: futures.Future | None = None  # the newest request, cancelled if a newer one comes first

    @property
    def running(self) -> tuple | None:
        """The request being run, if any."""
        return next((request for future, request in self._requests.items() if future.running()), None)

    def _finished(self) -> list[futures.Future]:
        """The finished futures, oldest first; raises (once) the error of one whose `function` failed."""
        finished = [future for future in self._requests if future.done()]
        for future in finished:
            if not future.cancelled() and future.exception() is not None:
                del self._requests[future]
                raise future.exception()
        return finished

    def _drop_waiting(self) -> bool:
        """Cancel the newest request if it has not started; returns whether it was dropped so."""
        dropped = self._waiting is not None and self._waiting.cancel()
        self._waiting = None
        return dropped

    def submit(self, request: tuple) -> bool:
        """Queue a request, replacing one that has not started yet; returns whether one was dropped so."""
        self._finished()
        dropped = self._drop_waiting()
        self._waiting = self._executor.submit(self._function, *request)
        self._requests[self._waiting] = request
        return dropped

    def collect(self) -> list:
        """The results finished since the last call, oldest first."""
        finished = self._finished()
        for future in finished:
            del self._requests[future]
        return [future.result() for future in finished if not future.cancelled()]

    def wait(self) -> bool:
        """Drop the waiting request, if any, and wait for the running one to end; returns whether one was dropped."""
        dropped = self._drop_waiting()
        futures.wait(self._requests)
        self._finished()
        return dropped

    def close(self) -> None:
        """Drop the waiting request, let the running one finish and stop the thread."""
        self._waiting = None
        self._executor.shutdown(wait=True, cancel_futures=True)


class _StopWhenSet(StoppingCriteria):
    """Stops generation (after the current token) once `event` is set: how a stale background translation is cut."""

    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs) -> torch.BoolTensor:
        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)


class StreamingTranslator:
    r"""Translate a stream of frames (or poses) as it grows: every `step_frames` frames, the window is translated.

    Frames go through the pose estimator one by one as they arrive (`push_frame`), or poses are pushed directly
    (`push_pose`); `stream` drives both from a video file (optionally paced at its frame rate), a camera device or any
    iterable of RGB frames. Only pose-only models are supported (RGB-pose models need the frames of the window's hand
    crops).

    Real time on a small CPU (`benchmarks/RESULTS.md`): with `background=True` each window is translated in a thread
    of its own, at a lower priority, while pose estimation goes on; a window that comes due while a translation is
    still running replaces any older one still waiting, so only the newest window is translated and `push_*` return
    the newest finished partial translation (or `None`); at the end of the stream a translation of an older window
    still running is cut short. The final translation is the same as without `background`. `frame_stride=2` halves
    the pose estimation work by estimating every other frame (the model then sees the clip at half the frame rate, as
    it does for long clips, which the processor sub-samples to `max_frames`).

    Args:
        translator (`SignLanguageTranslationPipeline`, `str` or `Path`): The pipeline that translates each window, or
            a model folder (PyTorch, or an ONNX export run with ONNX Runtime) for `load_translation_pipeline`.
        step_frames (`int`, *optional*, defaults to 30): Translate after every this many new poses.
        max_window_frames (`int`, *optional*): Keep only the latest poses (a sliding window); by default the window
            grows from the start of the stream (the processor sub-samples clips longer than the model's `max_frames`).
        backend (`str`, *optional*, defaults to `"mediapipe"`): Pose estimator for `push_frame`.
        estimator (`PoseEstimator`, *optional*): A ready estimator instead of `backend` (left open by `close`).
        background (`bool`, *optional*, defaults to `False`): Translate in a background thread (see above).
        frame_stride (`int`, *optional*, defaults to 1): `push_frame` estimates the pose of every this many frames and
            skips the others (`step_frames` and `max_window_frames` count the poses kept).
        backend_options (`dict`, *optional*): Passed to `create_estimator` with `backend`.
        **translate_kwargs: Call parameters of the pipeline (`language`, `num_beams`, `max_new_tokens`, ...).
    """

    def __init__(
        self,
        translator: SignLanguageTranslationPipeline | str | Path,
        step_frames: int = 30,
        max_window_frames: int | None = None,
        backend: str = "mediapipe",
        estimator: PoseEstimator | None = None,
        background: bool = False,
        frame_stride: int = 1,
        backend_options: dict | None = None,
        **translate_kwargs,
    ):
        for name, value in (
            ("step_frames", step_frames),
            ("max_window_frames", max_window_frames),
            ("frame_stride", frame_stride),
        ):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise InvalidInputError(f"`{name}` must be a whole number of at least 1, got {value!r}.")
        if isinstance(translator, str | Path):
            translator = load_translation_pipeline(translator)
        if translator.model.config.use_rgb:
            raise UnsupportedError("Streaming supports pose-only models; this model uses RGB hand crops.")
        self.translator = translator
        self.step_frames = step_frames
        self.max_window_frames = max_window_frames
        self.frame_stride = frame_stride
        self.backend = backend
        self.backend_options = backend_options or {}
        self._estimator = estimator
        self._owns_estimator = estimator is None
        self.translate_kwargs = translate_kwargs
        self._worker = _LatestRequestWorker(self._translate) if background else None
        self._cancel = threading.Event()  # set: background translations stop at their next token
        self.dropped_translations = 0  # windows that came due during a background translation and were never run
        self.reset()

    def reset(self) -> None:
        """Start a new stream: forget the frames received so far (a running background translation is discarded)."""
        self._stop_background_translation()
        self._keypoints: list[np.ndarray] = []
        self._scores: list[np.ndarray] = []
        self.num_frames = 0
        self._frames_received = 0
        self._since_translation = 0
        self._last: PartialTranslation | None = None
        if self._estimator is not None:
            self._estimator.reset()

    @property
    def estimator(self) -> PoseEstimator:
        """The pose estimator, built on first use."""
        if self._estimator is None:
            self._estimator = create_estimator(self.backend, **self.backend_options)
        return self._estimator

    def close(self) -> None:
        """Stop the background thread, and release the pose estimator if this translator built it."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        if self._owns_estimator and self._estimator is not None:
            self._estimator.close()
            self._estimator = None

    def push_frame(self, frame: np.ndarray, arrival_time: float | None = None) -> PartialTranslation | None:
        """Add one RGB frame `(height, width, 3)` uint8; returns a translation when one is ready (see `push_pose`).

        Args:
            frame (`np.ndarray`): The frame.
            arrival_time (`float`, *optional*): `time.perf_counter()` when the frame arrived (now by default).
        """
        arrival_time = time.perf_counter() if arrival_time is None else arrival_time
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[-1] != 3 or frame.dtype != np.uint8:
            raise InvalidInputError(
                f"A frame must be an RGB uint8 array of shape (height, width, 3), got {frame.dtype} {frame.shape}."
            )
        self._frames_received += 1
        if (self._frames_received - 1) % self.frame_stride:
            return self._newest_background_result()
        keypoints, scores = self.estimator(frame)
        return self.push_pose(keypoints, scores, arrival_time)

    def push_pose(
        self, keypoints: np.ndarray, scores: np.ndarray, arrival_time: float | None = None
    ) -> PartialTranslation | None:
        """Add the pose of one frame: keypoints `(133, 2)` in `(x / width, y / height)` units and scores `(133,)`.

        Returns:
            `PartialTranslation` when `step_frames` poses arrived since the last translation (with `background`: the
            newest translation finished since the last call), else `None`.
        """
        arrival_time = time.perf_counter() if arrival_time is None else arrival_time
        keypoints, scores = _checked_pose(keypoints, scores)
        self._keypoints.append(keypoints)
        self._scores.append(scores)
        if self.max_window_frames is not None and len(self._keypoints) > self.max_window_frames:
            del self._keypoints[0], self._scores[0]
        self.num_frames += 1
        self._since_translation += 1
        if self._since_translation >= self.step_frames:
            self._since_translation = 0
            request = (self._window(), self.num_frames, arrival_time, False)
            if self._worker is None:
                self._last = self._translate(*request)
                return self._last
            self.dropped_translations += self._worker.submit(request)
        return self._newest_background_result()

    def finish(self, arrival_time: float | None = None) -> PartialTranslation | None:
        """The final translation of the stream: the window is translated again only if poses arrived since.

        With `background`, a window still waiting is dropped and a running translation of an older window is cut
        short; one of the whole stream is waited for.

        Returns:
            `PartialTranslation` with `is_final=True`, or `None` when no frame arrived at all.
        """
        if self.num_frames == 0:
            return None
        if self._worker is not None:
            self._newest_background_result()
            running = self._worker.running
            if running is not None and running[1] == self.num_frames:  # of the whole stream: nothing newer waits
                self.dropped_translations += self._worker.wait()
                self._newest_background_result()
            else:
                self._stop_background_translation()
        if self._last is not None and self._last.num_frames == self.num_frames:
            return replace(self._last, is_final=True)
        arrival_time = time.perf_counter() if arrival_time is None else arrival_time
        self._last = self._translate(self._window(), self.num_frames, arrival_time, True)
        self._since_translation = 0
        return self._last

    def _window(self) -> tuple[np.ndarray, np.ndarray]:
        """The poses of the window: keypoints `(T, 133, 2)` and scores `(T, 133)`."""
        return np.stack(self._keypoints), np.stack(self._scores)

    def _stop_background_translation(self) -> None:
        """Drop the waiting window and cut the running translation short; its (partial) text is discarded."""
        if self._worker is None:
            return
        self._cancel.set()
        try:
            self.dropped_translations += self._worker.wait()
        finally:
            self._worker.collect()
            self._cancel.clear()

    def _translate(
        self, clip: tuple[np.ndarray, np.ndarray], num_frames: int, arrival_time: float, is_final: bool
    ) -> PartialTranslation:
        settings = self.translate_kwargs
        if self._worker is not None and not is_final:  # background: stop when the stream no longer needs it
            stop = StoppingCriteriaList([_StopWhenSet(self._cancel)])
            settings = {
                **settings,
                "generate_kwargs": {**settings.get("generate_kwargs", {}), "stopping_criteria": stop},
            }
        text = self.translator(clip, **settings)["translation_text"]
        return PartialTranslation(text, num_frames, len(clip[0]), time.perf_counter() - arrival_time, is_final)

    def _newest_background_result(self) -> PartialTranslation | None:
        """With `background`: the newest translation finished since the last call (older ones are stale), or `None`."""
        results = [] if self._worker is None else self._worker.collect()
        if not results:
            return None
        self._last = results[-1]
        return self._last

    def stream(
        self, source: str | Path | int | Iterable[np.ndarray], realtime: bool = False, fps: float | None = None
    ) -> Iterator[PartialTranslation]:
        """Translate a video, a camera or an iterable of RGB frames as it plays; yields each partial translation.

        Args:
            source: A video file, a camera (`/dev/videoN` or its number, read with PyAV's v4l2 input) or RGB frames.
            realtime (`bool`, *optional*, defaults to `False`): Deliver a file's (or iterable's) frames at `fps`
                as a camera would: each frame "arrives" at its timestamp, so latencies include any backlog.
            fps (`float`, *optional*): Frame rate for `realtime`; defaults to the video's.

        Yields:
            `PartialTranslation`, the last one with `is_final=True`.
        """
        self.reset()
        frames, is_camera = _open_source(source)
        if realtime and not is_camera:
            fps = fps or (probe_video(source).fps if isinstance(source, str | Path) else None)
            if not fps:
                raise InvalidInputError(
                    "`realtime=True` needs a frame rate: give `fps` (the source does not declare one)."
                )
        start = time.perf_counter()
        arrival_time = start
        for index, frame in enumerate(frames):
            if realtime and not is_camera:
                arrival_time = start + index / fps
                time.sleep(max(0.0, arrival_time - time.perf_counter()))
            else:
                arrival_time = time.perf_counter()
            partial = self.push_frame(frame, arrival_time)
            if partial is not None:
                yield partial
        final = self.finish(arrival_time)
        if final is None:
            raise InvalidInputError(f"The source {source!r} gave no frames: nothing to translate.")
        yield final


# Spotting enrolled signs (few-shot vocabularies, `unisign.apps.few_shot`) in a stream


# a second at 30 fps: the synthetic signs last 25-55 frames with their rest poses, and a window of 30 spotted them
# best on the few-shot validation draw (25, 35, 40 and 50 were tried; docs/few_shot.md)
SPOT_WINDOW_FRAMES = 30
SPOT_STEP_FRAMES = 5
SPOT_MARGIN = 0.0
SPOT_QUANTILE = 0.1  # the calibrated threshold lets through this share of the enrolled examples' own matches least


@dataclass(frozen=True)
class SpottedSign:
    """An enrolled sign found in a stream.

    Attributes:
        sign: The sign's name.
        score: Cosine similarity of the window to the sign's prototype.
        margin: How far the score is above the second best sign's.
        start_frame, end_frame: The window's frames, counted from the start of the stream (end excluded).
        latency_s: Seconds from the arrival of the window's newest frame to this report.
    """

    sign: str
    score: float
    margin: float
    start_frame: int
    end_frame: int
    latency_s: float


def spotting_threshold(vocabulary, quantile: float = SPOT_QUANTILE) -> float:
    """A rejection threshold calibrated on the vocabulary itself, from leave-one-out matches of its examples.

    Each example of a sign with two or more is compared with the prototype of its sign's other examples: how similar
    a new clip of a sign is to that sign, at the least. The threshold is the `quantile` of those similarities, so
    about that share of real signs (as like the examples as they are to each other) is missed, and a window below it
    is reported as no sign.

    Raises:
        InvalidInputError: when no sign has two examples (nothing to compare): give a threshold by hand.
    """
    own = []
    for examples in vocabulary.signs.values():
        for index in range(len(examples) if len(examples) > 1 else 0):
            others = torch.cat([examples[:index], examples[index + 1 :]])
            own.append(float(examples[index] @ torch.nn.functional.normalize(others.mean(0), dim=0)))
    if not own:
        raise InvalidInputError(
            "Calibrating the spotting threshold needs a sign with at least two examples: enroll more, or give a "
            "threshold."
        )
    return float(np.quantile(own, quantile))


class SignSpotter:
    """Spot enrolled signs in a stream: a window slides over the poses, and a sign is reported when it matches.

    Every `step_frames` poses the latest `window_frames` are embedded (`SignEmbedder`) and compared with the
    vocabulary's prototypes. The best sign is reported when its similarity reaches `threshold` and beats the second
    best by `margin`; it is not reported again while the following windows keep finding it (one report per
    performance), only after a window without it.

    Args:
        embedder (`SignEmbedder`): The model the vocabulary was enrolled with.
        vocabulary (`SignVocabulary`): The enrolled signs.
        threshold (`float`, *optional*): Least cosine similarity to report a sign; `spotting_threshold(vocabulary)`
            when `None`.
        margin (`float`, *optional*, defaults to `SPOT_MARGIN`): Least lead over the second best sign.
        window_frames, step_frames (`int`, *optional*): Window length and how often it is embedded, in poses.
        backend (`str`, *optional*, defaults to `"mediapipe"`): Pose estimator for `push_frame`.
        estimator (`PoseEstimator`, *optional*): A ready estimator instead of `backend` (left open by `close`).
    """

    def __init__(
        self,
        embedder,
        vocabulary,
        threshold: float | None = None,
        margin: float = SPOT_MARGIN,
        window_frames: int = SPOT_WINDOW_FRAMES,
        step_frames: int = SPOT_STEP_FRAMES,
        backend: str = "mediapipe",
        estimator: PoseEstimator | None = None,
    ):
        from .few_shot import MIN_CLIP_FRAMES

        for name, value, least in (("window_frames", window_frames, MIN_CLIP_FRAMES), ("step_frames", step_frames, 1)):
            if not isinstance(value, int) or value < least:
                raise InvalidInputError(f"`{name}` must be a whole number of at least {least}, got {value!r}.")
        vocabulary.check_compatible(embedder)
        self.embedder, self.vocabulary = embedder, vocabulary
        self.threshold = spotting_threshold(vocabulary) if threshold is None else float(threshold)
        self.margin = margin
        self.window_frames, self.step_frames = window_frames, step_frames
        self._prototypes = vocabulary.prototypes()
        self.backend = backend
        self._estimator = estimator
        self._owns_estimator = estimator is None
        self.reset()

    def reset(self) -> None:
        """Start a new stream."""
        self._keypoints: list[np.ndarray] = []
        self._scores: list[np.ndarray] = []
        self.num_frames = 0
        self._active: str | None = None  # the sign the latest window found (not reported again while it lasts)
        if self._estimator is not None:
            self._estimator.reset()

    @property
    def estimator(self) -> PoseEstimator:
        """The pose estimator, built on first use."""
        if self._estimator is None:
            self._estimator = create_estimator(self.backend)
        return self._estimator

    def close(self) -> None:
        """Release the pose estimator if this spotter built it."""
        if self._owns_estimator and self._estimator is not None:
            self._estimator.close()
            self._estimator = None

    def push_frame(self, frame: np.ndarray, arrival_time: float | None = None) -> SpottedSign | None:
        """Add one RGB frame `(height, width, 3)` uint8; returns a sign when the window finds one."""
        arrival_time = time.perf_counter() if arrival_time is None else arrival_time
        keypoints, scores = self.estimator(np.asarray(frame))
        return self.push_pose(keypoints, scores, arrival_time)

    def push_pose(
        self, keypoints: np.ndarray, scores: np.ndarray, arrival_time: float | None = None
    ) -> SpottedSign | None:
        """Add the pose of one frame: keypoints `(133, 2)` and scores `(133,)`; returns a sign when one is found."""
        from ..models.unisign.pose_sample import PoseSample

        arrival_time = time.perf_counter() if arrival_time is None else arrival_time
        keypoints, scores = _checked_pose(keypoints, scores)
        self._keypoints.append(keypoints)
        self._scores.append(scores)
        del self._keypoints[: -self.window_frames], self._scores[: -self.window_frames]
        self.num_frames += 1
        if len(self._keypoints) < self.window_frames or (self.num_frames - self.window_frames) % self.step_frames:
            return None
        window = PoseSample(f"window-{self.num_frames}", np.stack(self._keypoints), np.stack(self._scores))
        similarity = (self.embedder.embed([window]) @ self._prototypes.T)[0]  # (num_signs,)
        best = similarity.topk(min(2, len(similarity)))
        score = float(best.values[0])
        margin = score - float(best.values[1]) if len(best.values) > 1 else score
        sign = self.vocabulary.names[int(best.indices[0])]
        if score < self.threshold or margin < self.margin:
            self._active = None
            return None
        if sign == self._active:
            return None
        self._active = sign
        start = self.num_frames - self.window_frames
        return SpottedSign(sign, score, margin, start, self.num_frames, time.perf_counter() - arrival_time)

    def spot(self, poses) -> list[SpottedSign]:
        """The signs found in a whole clip of poses (a `PoseSample`), in order, from a fresh stream."""
        self.reset()
        found = (self.push_pose(k, s) for k, s in zip(poses.keypoints, poses.scores, strict=True))
        return [sign for sign in found if sign is not None]

    def stream(self, source: str | Path | int | Iterable[np.ndarray], realtime: bool = False) -> Iterator[SpottedSign]:
        """Spot signs in a video, a camera or an iterable of RGB frames as it plays (see `StreamingTranslator`)."""
        self.reset()
        frames, is_camera = _open_source(source)
        fps = probe_video(source).fps if realtime and not is_camera and isinstance(source, str | Path) else None
        start = time.perf_counter()
        for index, frame in enumerate(frames):
            arrival_time = start + index / fps if fps else time.perf_counter()
            time.sleep(max(0.0, arrival_time - time.perf_counter()))
            spotted = self.push_frame(frame, arrival_time)
            if spotted is not None:
                yield spotted


def _checked_pose(keypoints: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One frame's keypoints `(133, 2)` and scores `(133,)` as float32, or a one-line refusal of other shapes."""
    keypoints, scores = np.asarray(keypoints, dtype=np.float32), np.asarray(scores, dtype=np.float32)
    if keypoints.shape != (133, 2) or scores.shape != (133,):
        raise InvalidInputError(
            f"A frame's pose must be keypoints (133, 2) and scores (133,), got {keypoints.shape} and {scores.shape}."
        )
    return keypoints, scores


def _open_source(source) -> tuple[Iterable[np.ndarray], bool]:
    """`(frames, is_camera)` of a video file, a camera device (`/dev/videoN` or its number) or an iterable."""
    if isinstance(source, int) or (isinstance(source, str) and source.startswith("/dev/video")):
        return iter_camera_frames(f"/dev/video{source}" if isinstance(source, int) else source), True
    if isinstance(source, str | Path):
        return iter_video_frames(source), False
    return source, False


__all__ = ["PartialTranslation", "SignSpotter", "SpottedSign", "StreamingTranslator", "spotting_threshold"]
