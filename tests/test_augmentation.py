"""Pose augmentation (`unisign.data.augmentation`): mirror, rotation, stretch and speed of training clips."""

import dataclasses

import numpy as np
import pytest
from transformers import AutoTokenizer

from unisign import PoseSample, UniSignConfig, UniSignPoseFeatureExtractor, UniSignProcessor
from unisign.data.augmentation import WHOLEBODY_MIRROR, PoseAugmentation, mirror_clip
from unisign.data.dataset import SignDataset
from unisign.models.unisign.keypoints import LEFT_HAND_INDICES, RIGHT_HAND_INDICES
from unisign.synthetic import generate_clip, sample_signer
from unisign.training import load_config

from .training_helpers import TINY_LM, TINY_POSE, make_tokenizer, random_clip


def clip(index: int = 0, frames: int = 12) -> PoseSample:
    keypoints, scores = random_clip(np.random.default_rng(index), frames=frames)
    return PoseSample(f"clip-{index}", keypoints, scores, 640, 480, text="I go home", gloss=["I", "GO", "HOME"])


def test_the_mirror_permutation_swaps_left_and_right_and_is_its_own_inverse():
    assert sorted(WHOLEBODY_MIRROR) == list(range(133))
    np.testing.assert_array_equal(WHOLEBODY_MIRROR[WHOLEBODY_MIRROR], np.arange(133))
    np.testing.assert_array_equal(WHOLEBODY_MIRROR[LEFT_HAND_INDICES], RIGHT_HAND_INDICES)
    assert WHOLEBODY_MIRROR[0] == 0 and WHOLEBODY_MIRROR[9] == 10  # the nose stays, the left wrist becomes the right
    assert WHOLEBODY_MIRROR[23 + 8] == 23 + 8 and WHOLEBODY_MIRROR[23] == 23 + 16  # chin stays, jaw ends swap
    sample = clip()
    twice = mirror_clip(mirror_clip(sample))
    np.testing.assert_allclose(twice.keypoints, sample.keypoints, atol=1e-6)
    np.testing.assert_array_equal(twice.scores, sample.scores)


@pytest.mark.parametrize("signer_index", [0, 5])
def test_a_mirrored_clip_is_what_the_model_sees_of_the_same_signer_left_handed(signer_index):
    """The generator's left-handed signer is the mirror image of the skeleton in 3D, before the camera; the
    augmentation mirrors the detected 2-D points. After the processor's normalisation the two must agree (the
    camera's position in the frame is normalised away)."""
    signer = sample_signer(signer_index, left_handed=False)
    right = generate_clip(["BOOK", "HELP"], signer, seed=5, noise=False)
    left = generate_clip(["BOOK", "HELP"], dataclasses.replace(signer, left_handed=True), seed=5, noise=False)
    extractor = UniSignPoseFeatureExtractor()

    def features(sample):
        return extractor.encode_clip(extractor.sample_clip(sample, "uniform", None, None))["pose_values"]

    np.testing.assert_allclose(features(mirror_clip(right)), features(left), atol=1e-5)
    assert np.abs(features(right) - features(left)).max() > 0.1  # without the mirror they differ


def test_rotation_turns_in_pixels_and_speed_resamples_frames():
    sample = clip(frames=40)
    rng = np.random.default_rng(0)
    turned = PoseAugmentation(rotation=30)(sample, rng)
    size = np.array([sample.width, sample.height])
    before, after = sample.keypoints[0] * size, turned.keypoints[0] * size
    # a rotation in pixels keeps distances (in `x / W, y / H` units it would not: the frame is 640 x 480)
    distances = [np.linalg.norm(points[:, None] - points[None], axis=-1) for points in (before, after)]
    np.testing.assert_allclose(distances[0], distances[1], rtol=1e-4, atol=1e-3)
    assert not np.allclose(before, after, atol=1.0)
    np.testing.assert_array_equal(turned.scores, sample.scores)

    lengths = {PoseAugmentation(speed=0.25)(sample, np.random.default_rng(seed)).num_frames for seed in range(50)}
    assert min(lengths) >= 40 / 1.25 - 1 and max(lengths) <= 40 * 1.25 + 1 and len(lengths) > 5


@pytest.fixture(scope="module")
def processor(tmp_path_factory):
    tokenizer = AutoTokenizer.from_pretrained(make_tokenizer(tmp_path_factory.mktemp("tokenizer")))
    config = UniSignConfig(text_config={"vocab_size": len(tokenizer), **TINY_LM}, **TINY_POSE)
    return UniSignProcessor.from_model_config(config, tokenizer, language="en")


def test_a_training_dataset_changes_clips_only_when_asked_and_reproducibly(processor):
    samples = [clip(index) for index in range(6)]
    plain = SignDataset(samples, processor, "SLT", "en", train=True, seed=3)
    off = SignDataset(samples, processor, "SLT", "en", train=True, seed=3, augmentation=PoseAugmentation())
    strong = PoseAugmentation(mirror=1.0, rotation=15, stretch=0.2, speed=0.3)
    augmented = SignDataset(samples, processor, "SLT", "en", train=True, seed=3, augmentation=strong)
    again = SignDataset(samples, processor, "SLT", "en", train=True, seed=3, augmentation=strong)
    evaluation = SignDataset(samples, processor, "SLT", "en", train=False, augmentation=strong)
    reference = SignDataset(samples, processor, "SLT", "en", train=False)
    for index in range(len(samples)):
        np.testing.assert_array_equal(off[index]["pose_values"], plain[index]["pose_values"])
        np.testing.assert_array_equal(augmented[index]["pose_values"], again[index]["pose_values"])
        np.testing.assert_array_equal(evaluation[index]["pose_values"], reference[index]["pose_values"])
        assert not np.array_equal(augmented[index]["pose_values"], plain[index]["pose_values"])
        np.testing.assert_array_equal(augmented[index]["labels"], plain[index]["labels"])
    with pytest.raises(ValueError, match="pose-only models"):
        SignDataset(samples, processor, "SLT", "en", train=True, video_dir="videos", augmentation=strong)


def test_augmentation_settings_are_checked_when_read():
    config = load_config(None, ["data.augmentation={mirror: 0.5, speed: 0.2}"])
    assert config.data.augmentation == PoseAugmentation(mirror=0.5, speed=0.2)
    assert load_config(None).data.augmentation == PoseAugmentation()  # off by default, as in the reference
    with pytest.raises(ValueError, match=r"`data.augmentation.mirror` must be .* <= 1, got 2"):
        load_config(None, ["data.augmentation.mirror=2"])
    with pytest.raises(ValueError, match=r"`data.augmentation.flip`.*Valid settings: \['mirror'"):
        load_config(None, ["data.augmentation={flip: 1}"])
