"""Tests of the `sign-language-translation` pipeline, `unisign translate` and the streaming translator (tiny model)."""

from pathlib import Path

import numpy as np
import pytest

from unisign.models.unisign.keypoints import LEFT_HAND_INDICES, RIGHT_HAND_INDICES

from .training_helpers import TINY_LM, TINY_POSE, make_tokenizer, write_video


GENERATION = {"num_beams": 1, "max_new_tokens": 8}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A tiny random pose-only Uni-Sign folder (model + processor), as `from_pretrained` and the Hub expect it."""
    import torch
    from transformers import AutoTokenizer

    from unisign import UniSignConfig, UniSignForConditionalGeneration, UniSignProcessor
    from unisign.models.unisign.feature_extraction_unisign import UniSignPoseFeatureExtractor

    folder = tmp_path_factory.mktemp("tiny-unisign")
    tokenizer = AutoTokenizer.from_pretrained(make_tokenizer(folder / "tokenizer"))
    torch.manual_seed(3)  # a seed whose translations differ between different clips (checked below)
    config = UniSignConfig(text_config={**TINY_LM, "vocab_size": len(tokenizer)}, **TINY_POSE)
    UniSignForConditionalGeneration(config).save_pretrained(folder / "model")
    UniSignProcessor(UniSignPoseFeatureExtractor(), tokenizer, language="en").save_pretrained(folder / "model")
    return folder / "model"


@pytest.fixture(scope="module")
def translator(model_dir):
    from transformers import pipeline

    import unisign  # noqa: F401  (registers the task)

    return pipeline("sign-language-translation", model=str(model_dir), device="cpu", **GENERATION)


@pytest.fixture(scope="module")
def video(data_dir, mediapipe) -> Path:
    return data_dir / "pose-format" / "test_video.mp4"


@pytest.fixture(scope="module")
def extracted(video, tmp_path_factory):
    """The video's MediaPipe poses, and the `.pose` file they were saved to."""
    from unisign.extraction import extract_poses, save_poses

    sample = extract_poses(video, progress=False)
    pose_file = tmp_path_factory.mktemp("poses") / "test_video.pose"
    save_poses(sample, pose_file)
    return sample, pose_file


def test_same_text_for_video_pose_file_and_arrays(translator, video, extracted):
    sample, pose_file = extracted
    from_video = translator(str(video), return_poses=True)
    np.testing.assert_array_equal(from_video["poses"].keypoints, sample.keypoints)  # extraction is deterministic
    text = from_video["translation_text"]
    assert isinstance(text, str) and text

    as_array = np.concatenate([sample.keypoints, sample.scores[..., None]], axis=-1)  # (T, 133, 3)
    inputs = [pose_file, (sample.keypoints, sample.scores), as_array, sample]
    assert [translator(clip)["translation_text"] for clip in inputs] == [text] * len(inputs)
    batched = translator([*inputs, (sample.keypoints[:20], sample.scores[:20])], batch_size=2)
    assert [result["translation_text"] for result in batched[:-1]] == [text] * len(inputs)
    # the tiny model does look at its input: a shorter clip reads differently
    assert batched[-1]["translation_text"] != text


def test_translate_command_prints_the_text(translator, video, extracted, capsys):
    from unisign.apps import cli

    arguments = ["translate", str(video), "--model", translator.model.name_or_path, "--device", "cpu"]
    cli.main([*arguments, "--language", "en", "--num-beams", "1", "--max-new-tokens", "8", "--no-progress"])
    printed = capsys.readouterr().out.strip()
    assert printed == translator(extracted[0])["translation_text"]  # the command extracts the same poses


def test_streaming_translates_the_growing_window(translator, video, extracted):
    from unisign.apps.streaming import StreamingTranslator

    sample, _ = extracted
    full_text = translator(sample)["translation_text"]
    stream = StreamingTranslator(translator, step_frames=20)
    try:
        partials = list(stream.stream(str(video)))
    finally:
        stream.close()
    assert [partial.num_frames for partial in partials] == [20, 40, 58]
    assert [partial.is_final for partial in partials] == [False, False, True]
    assert all(partial.latency_s > 0 for partial in partials)
    assert partials[0].text == translator((sample.keypoints[:20], sample.scores[:20]))["translation_text"]
    assert partials[-1].text == full_text  # frame-by-frame estimation gives the same poses as `extract_poses`


def test_streaming_pushed_poses_and_sliding_window(translator):
    from unisign.apps.streaming import StreamingTranslator

    rng = np.random.default_rng(0)
    keypoints = (0.5 + 0.15 * rng.standard_normal((12, 133, 2))).astype(np.float32)
    scores = rng.uniform(0.5, 1.0, (12, 133)).astype(np.float32)
    stream = StreamingTranslator(translator, step_frames=5, max_window_frames=8)
    results = [stream.push_pose(keypoints[index], scores[index]) for index in range(12)]
    assert [index for index, result in enumerate(results) if result is not None] == [4, 9]
    assert results[9].window_frames == 8
    assert results[9].text == translator((keypoints[2:10], scores[2:10]))["translation_text"]
    final = stream.finish()
    assert final.is_final and final.num_frames == 12
    assert final.text == translator((keypoints[4:], scores[4:]))["translation_text"]
    with pytest.raises(ValueError, match=r"keypoints \(133, 2\)"):
        stream.push_pose(keypoints, scores)


def test_missing_files_and_bad_inputs_raise_clear_errors(translator, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        translator(str(tmp_path / "missing.mp4"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        translator(str(tmp_path / "missing.pose"))
    with pytest.raises(ValueError, match="no frames"):
        translator((np.zeros((0, 133, 2)), np.zeros((0, 133))))
    with pytest.raises(ValueError, match="Each input must be"):
        translator(42)
    with pytest.raises(ValueError, match="shape"):
        translator((np.zeros((5, 17, 2)), np.zeros((5, 17))))


def test_broken_videos_raise_clear_errors(translator, tmp_path):
    import av

    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    audio_only = tmp_path / "audio.wav"
    with av.open(str(audio_only), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
    with pytest.raises(ValueError, match="empty"):
        translator(str(empty))
    with pytest.raises(ValueError, match="corrupt|not a video"):
        translator(str(corrupt))
    with pytest.raises(ValueError, match="no video stream"):
        translator(str(audio_only))


def test_translate_command_reports_errors(model_dir, tmp_path, capsys):
    from unisign.apps import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["translate", str(tmp_path / "missing.pose"), "--model", str(model_dir), "--device", "cpu"])
    assert "unisign translate: error:" in str(exit_info.value.code) and "does not exist" in str(exit_info.value.code)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["translate", str(tmp_path / "x.pose"), "--model", str(tmp_path / "no-model"), "--device", "cpu"])
    assert "Could not load a Uni-Sign model" in str(exit_info.value.code)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["translate", "--model", str(model_dir)])
    assert exit_info.value.code == 2 and "Give either INPUT" in capsys.readouterr().err  # a usage error


def test_pose_file_without_hands_and_video_without_person_give_documented_results(translator, extracted, tmp_path):
    from unisign import PoseSample
    from unisign.extraction import save_poses

    sample, _ = extracted
    scores = sample.scores.copy()
    scores[:, LEFT_HAND_INDICES + RIGHT_HAND_INDICES] = 0.0
    keypoints = sample.keypoints.copy()
    keypoints[:, LEFT_HAND_INDICES + RIGHT_HAND_INDICES] = 0.0
    no_hands = PoseSample(id="no-hands", keypoints=keypoints, scores=scores, width=sample.width, height=sample.height)
    save_poses(no_hands, tmp_path / "no_hands.pose")
    result = translator(str(tmp_path / "no_hands.pose"), return_poses=True)
    assert not result["poses"].scores[:, LEFT_HAND_INDICES + RIGHT_HAND_INDICES].any()
    assert result["translation_text"] == translator((keypoints, scores))["translation_text"]

    noise = np.random.default_rng(0).integers(0, 256, (6, 48, 64, 3), dtype=np.uint8)
    write_video(tmp_path / "nobody.mp4", noise)
    nobody = translator(str(tmp_path / "nobody.mp4"), return_poses=True)
    assert not nobody["poses"].scores.any()  # no person: all-zero poses, documented, not an error
    assert isinstance(nobody["translation_text"], str)


def random_poses(num_frames: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints `(T, 133, 2)` and scores `(T, 133)` of a random clip."""
    rng = np.random.default_rng(seed)
    keypoints = (0.5 + 0.15 * rng.standard_normal((num_frames, 133, 2))).astype(np.float32)
    return keypoints, rng.uniform(0.5, 1.0, (num_frames, 133)).astype(np.float32)


@pytest.fixture(scope="module")
def sensitive_translator(model_dir):
    """The tiny model with larger weights, so that a few changed pose features change its text."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, pipeline

    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.mul_(4)
    return pipeline("sign-language-translation", model=model, processor=str(model_dir), device="cpu")


def test_a_batched_clip_gets_its_own_text_with_unmasked_padded_frames(sensitive_translator):
    """A converted model (`mask_padded_frames=False`) reads padded frames: a short clip beside a long one changed."""
    assert not sensitive_translator.model.config.mask_padded_frames
    clips = [random_poses(3, seed=0), random_poses(30, seed=1), random_poses(3, seed=2), random_poses(30, seed=3)]
    alone = [sensitive_translator(clip, **GENERATION)["translation_text"] for clip in clips]
    assert len(set(alone)) == 4
    batched = sensitive_translator(clips, batch_size=4, **GENERATION)
    assert [result["translation_text"] for result in batched] == alone


def test_several_return_sequences_stay_with_their_clip(sensitive_translator):
    clips = [random_poses(12, seed=seed) for seed in range(3)]
    settings = {"num_beams": 4, "generate_kwargs": {"num_return_sequences": 2}, "max_new_tokens": 8}
    alone = [sensitive_translator(clip, **settings) for clip in clips]
    assert sensitive_translator(clips[0], num_beams=4, num_return_sequences=2, max_new_tokens=8) == alone[0]
    best = [sensitive_translator(clip, num_beams=4, max_new_tokens=8)["translation_text"] for clip in clips]
    assert [[result["translation_text"] for result in results][0] for results in alone] == best
    assert (
        all(len(results) == 2 for results in alone) and len({result[0]["translation_text"] for result in alone}) == 3
    )
    assert sensitive_translator(clips, batch_size=2, **settings) == alone  # a batch of 2, then one of 1


class SlowTranslator:
    """The pipeline, slowed down so that windows come due while a background translation runs."""

    def __init__(self, translator, delay_s: float = 0.05, fail: bool = False):
        self.translator, self.model, self.delay_s, self.fail, self.calls = (
            translator,
            translator.model,
            delay_s,
            fail,
            0,
        )

    def __call__(self, clip, **kwargs):
        import time

        self.calls += 1
        time.sleep(self.delay_s)
        if self.fail:
            raise ValueError("translation failed on purpose")
        return self.translator(clip, **kwargs)


def test_background_streaming_gives_the_synchronous_texts(translator):
    from unisign.apps.streaming import StreamingTranslator

    keypoints, scores = random_poses(23)
    synchronous = StreamingTranslator(translator, step_frames=5)
    expected = {
        partial.num_frames: partial.text
        for index in range(23)
        if (partial := synchronous.push_pose(keypoints[index], scores[index])) is not None
    }
    expected[23] = synchronous.finish().text
    slow = SlowTranslator(translator)
    stream = StreamingTranslator(slow, step_frames=5, background=True)
    try:
        partials = [stream.push_pose(keypoints[index], scores[index]) for index in range(23)]
        final = stream.finish()
    finally:
        stream.close()
    assert final.is_final and final.num_frames == 23 and final.text == expected[23]
    for partial in filter(None, partials):  # each partial is the translation of the window it names
        assert not partial.is_final and partial.text == expected[partial.num_frames]
    assert stream.dropped_translations > 0  # pushes outran the translations: stale windows were dropped
    assert slow.calls < len(expected)


def test_background_streaming_of_a_video_matches_the_synchronous_final_text(translator, video, extracted):
    from unisign.apps.streaming import StreamingTranslator

    stream = StreamingTranslator(translator, step_frames=20, background=True)
    try:
        partials = list(stream.stream(str(video)))
    finally:
        stream.close()
    assert partials[-1].is_final and partials[-1].num_frames == 58
    assert partials[-1].text == translator(extracted[0])["translation_text"]


def test_translate_command_streams_in_the_background_every_other_frame(translator, video, capsys):
    from unisign.apps import cli

    arguments = ["translate", "--stream", str(video), "--model", translator.model.name_or_path, "--device", "cpu"]
    arguments += ["--num-beams", "1", "--max-new-tokens", "8", "--step-frames", "10", "--background"]
    cli.main([*arguments, "--frame-stride", "2", "--dtype", "bfloat16"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("[final 29 frames, ")  # 29 poses: frames 0, 2, ..., 56 of the 58


def test_the_background_worker_runs_only_the_newest_waiting_request():
    import threading
    import time

    from unisign.apps.streaming import _LatestRequestWorker

    started, release = threading.Event(), threading.Event()

    def run(name: str) -> str:
        started.set()
        release.wait(10)
        return name

    worker = _LatestRequestWorker(run)
    try:
        assert not worker.submit(("first",))
        assert started.wait(10) and worker.running == ("first",)
        assert not worker.submit(("stale",))  # waits behind the running one
        assert worker.submit(("newest",))  # replaces the waiting one, which never runs
        release.set()
        results, deadline = [], time.monotonic() + 10
        while len(results) < 2 and time.monotonic() < deadline:
            results += worker.collect()
            time.sleep(0.01)
        assert results == ["first", "newest"] and worker.running is None
    finally:
        release.set()
        worker.close()


def test_background_errors_are_raised_in_the_callers_thread(translator):
    from unisign.apps.streaming import StreamingTranslator

    keypoints, scores = random_poses(3)
    stream = StreamingTranslator(SlowTranslator(translator, delay_s=0.0, fail=True), step_frames=1, background=True)
    try:
        stream.push_pose(keypoints[0], scores[0])
        with pytest.raises(ValueError, match="failed on purpose"):
            stream.finish()
    finally:
        stream.close()


class CountingEstimator:
    """A pose estimator that counts its frames (every pose is the same)."""

    name = description = "counting"

    def __init__(self):
        self.frames = 0

    def __call__(self, frame):
        self.frames += 1
        return np.full((133, 2), 0.5, np.float32), np.ones(133, np.float32)

    def reset(self):
        self.frames = 0

    def close(self):
        pass


def test_frame_stride_estimates_every_nth_frame(translator):
    from unisign.apps.streaming import StreamingTranslator

    estimator = CountingEstimator()
    stream = StreamingTranslator(translator, step_frames=2, estimator=estimator, frame_stride=3)
    frames = np.zeros((10, 8, 8, 3), np.uint8)
    partials = [stream.push_frame(frame) for frame in frames]  # poses of frames 0, 3, 6, 9
    assert estimator.frames == 4 and stream.num_frames == 4
    assert [index for index, partial in enumerate(partials) if partial is not None] == [3, 9]
    assert stream.finish().window_frames == 4


@pytest.mark.parametrize(
    "options, message",
    [
        ({"step_frames": 0}, "`step_frames` must be a whole number of at least 1, got 0"),
        ({"frame_stride": 0}, "`frame_stride` must be a whole number of at least 1, got 0"),
        ({"frame_stride": 1.5}, "`frame_stride` must be a whole number of at least 1, got 1.5"),
        ({"max_window_frames": -2}, "`max_window_frames` must be a whole number of at least 1, got -2"),
    ],
)
def test_bad_streaming_options_are_refused(translator, options, message):
    from unisign.apps.streaming import StreamingTranslator

    with pytest.raises(ValueError, match=message):
        StreamingTranslator(translator, **options)


def test_bfloat16_command_and_pipeline(model_dir, tmp_path, capsys):
    import torch
    from transformers import AutoModelForSeq2SeqLM, pipeline

    from unisign import PoseSample
    from unisign.apps import cli
    from unisign.extraction import save_poses

    keypoints, scores = random_poses(12)
    save_poses(PoseSample(id="clip", keypoints=keypoints, scores=scores), tmp_path / "clip.pkl")
    arguments = ["translate", str(tmp_path / "clip.pkl"), "--model", str(model_dir), "--device", "cpu"]
    arguments += ["--num-beams", "1", "--max-new-tokens", "8", "--no-progress"]
    cli.main([*arguments, "--dtype", "bfloat16", "--threads", str(torch.get_num_threads())])
    printed = capsys.readouterr().out.strip()

    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir).to(torch.bfloat16)
    bf16 = pipeline("sign-language-translation", model=model, processor=str(model_dir), device="cpu", **GENERATION)
    assert {parameter.dtype for parameter in bf16.model.parameters()} == {torch.bfloat16}
    assert printed == bf16((keypoints, scores))["translation_text"]
    assert isinstance(printed, str) and printed


def test_float16_keeps_the_layers_mt5_keeps_in_float32(model_dir):
    """`from_pretrained` keeps `_keep_in_fp32_modules` (mT5's `wo`) in float32: casting them overflows (NaN text)."""
    import torch

    from unisign.apps.inference import load_translation_pipeline

    translator = load_translation_pipeline(model_dir, "torch", "cpu", "float16")
    dtypes = {name: parameter.dtype for name, parameter in translator.model.named_parameters()}
    kept = {name for name in dtypes if name.endswith(".wo.weight")}
    assert kept and {dtypes[name] for name in kept} == {torch.float32}
    assert {dtype for name, dtype in dtypes.items() if name not in kept} == {torch.float16}
    keypoints, scores = random_poses(12)
    assert isinstance(translator((keypoints, scores), **GENERATION)["translation_text"], str)


def test_translate_refuses_unbounded_generation_in_one_line(model_dir, tmp_path, capsys):
    from unisign import PoseSample
    from unisign.apps import cli
    from unisign.extraction import save_poses

    keypoints, scores = random_poses(6)
    save_poses(PoseSample(id="clip", keypoints=keypoints, scores=scores), tmp_path / "clip.pkl")
    arguments = ["translate", str(tmp_path / "clip.pkl"), "--model", str(model_dir), "--device", "cpu"]
    for option, value, bound in (("--max-new-tokens", "1000000000", 1024), ("--num-beams", "1000", 64)):
        with pytest.raises(SystemExit) as exit_info:
            cli.main([*arguments, option, value, "--no-progress"])
        printed = f"{capsys.readouterr().err}\n{exit_info.value.code}"  # after the weights' loading bar
        errors = [line for line in printed.splitlines() if "error:" in line]
        assert len(errors) == 1 and "Traceback" not in printed and exit_info.value.code == 2
        assert errors[0].endswith(f"argument {option}: must be at most {bound}, got {value}")


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--dtype", "int8"], "invalid choice: 'int8'"),
        (["--threads", "0"], "`--threads` must be at least 1, got 0"),
        (["--background"], "`--background` and `--frame-stride` apply to `--stream` only"),
        (["--mediapipe-complexity", "3"], "invalid choice: 3"),
    ],
)
def test_translate_command_refuses_bad_options(model_dir, tmp_path, capsys, extra, message):
    from unisign.apps import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["translate", str(tmp_path / "clip.pose"), "--model", str(model_dir), *extra])
    assert message in str(exit_info.value.code) + capsys.readouterr().err
