"""The pose feature extractor and the video processor's hand crops: golden parity with the reference, properties, bad
input.

Golden values: ../shared/golden/official-tiny/io.safetensors (`clip{i}.parts.*`, `clip{i}.rgb.*`), made by the
reference code (see that folder's README.md).
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from safetensors.numpy import load_file

from unisign import PoseSample, UniSignPoseFeatureExtractor
from unisign.models.unisign.feature_extraction_unisign import normalize_pose, sample_frame_indices
from unisign.models.unisign.keypoints import (
    BODY_INDICES,
    FINGERTIP_NODES,
    LEFT_HAND_INDICES,
    PART_INDICES,
    PART_NAMES,
    RIGHT_HAND_INDICES,
)
from unisign.models.unisign.video_processing_unisign import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    UniSignVideoProcessor,
    crop_hands,
    sample_hand_frames,
)


GOLDEN_PARTS = ("body", "left", "right", "face_all")  # the reference's names for PART_NAMES, in the same order
NODE_INDICES = np.concatenate([PART_INDICES[name] for name in PART_NAMES])
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def golden(golden_dir):
    return load_file(golden_dir / "io.safetensors")


def golden_clip(golden, index):
    return golden[f"clip{index}.keypoints"], golden[f"clip{index}.scores"]


def close(actual, expected, atol):
    actual, expected = torch.as_tensor(np.asarray(actual)), torch.as_tensor(np.asarray(expected))
    torch.testing.assert_close(actual, expected, rtol=0, atol=atol, check_dtype=False)


def random_clip(num_frames=12, seed=0, low=0.2, high=0.8):
    rng = np.random.default_rng(seed)
    keypoints = rng.uniform(low, high, size=(num_frames, 133, 2)).astype(np.float32)
    scores = rng.uniform(0, 1, size=(num_frames, 133)).astype(np.float32)
    return keypoints, scores


# -- golden parity ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("clip", [0, 1])
def test_parts_match_the_reference(golden, clip):
    features = UniSignPoseFeatureExtractor().extract(golden_clip(golden, clip))
    expected = np.concatenate([golden[f"clip{clip}.parts.{part}"] for part in GOLDEN_PARTS], axis=1)
    assert features["pose_values"].shape == expected.shape == (len(expected), 69, 3)
    assert features["pose_values"].dtype == np.float32
    close(features["pose_values"], expected, atol=1e-6)
    assert (features["pose_attention_mask"] == 1).all()


@pytest.mark.parametrize("clip", [0, 1])
def test_crops_and_priors_match_the_reference_given_its_frames(golden, clip):
    keypoints, _ = golden_clip(golden, clip)
    frames = golden[f"clip{clip}.frames"]
    left = golden[f"clip{clip}.rgb.left_sampled_indices"]
    right = golden[f"clip{clip}.rgb.right_sampled_indices"]
    crops = crop_hands(dict(enumerate(frames)), keypoints, left, right)
    expected_pixels = np.concatenate([golden[f"clip{clip}.rgb.{side}_hands"] for side in ("left", "right")])
    expected_priors = np.concatenate([golden[f"clip{clip}.rgb.{side}_skeletons_norm"] for side in ("left", "right")])
    close(crops["hand_pixel_values"], expected_pixels, atol=1e-5)
    close(crops["hand_keypoints"], expected_priors, atol=1e-6)
    np.testing.assert_array_equal(crops["hand_frame_indices"], np.concatenate([left, right]))
    np.testing.assert_array_equal(crops["hand_sides"], [0] * len(left) + [1] * len(right))


def test_legacy_seed_reproduces_the_reference_hand_frames(golden):
    # the reference drew with numpy's global legacy generator after np.random.seed(0): left, right, per clip
    rng = np.random.RandomState(0)
    for clip in (0, 1):
        _, scores = golden_clip(golden, clip)
        for side, part in (("left", LEFT_HAND_INDICES), ("right", RIGHT_HAND_INDICES)):
            picked = sample_hand_frames(scores[:, part], mode="random", rng=rng)
            np.testing.assert_array_equal(picked, golden[f"clip{clip}.rgb.{side}_sampled_indices"])


def test_video_processor_batch_reproduces_the_reference_rgb_inputs(golden):
    clips = [golden_clip(golden, clip) for clip in (0, 1)]
    batch = UniSignVideoProcessor()(
        [golden[f"clip{clip}.frames"] for clip in (0, 1)],
        [keypoints for keypoints, _ in clips],
        [scores for _, scores in clips],
        hand_sampling="random",
        rng=np.random.RandomState(0),
        return_tensors="pt",
    )
    expected = np.concatenate(
        [golden[f"clip{clip}.rgb.{side}_sampled_indices"] for side in ("left", "right") for clip in (0, 1)]
    )
    np.testing.assert_array_equal(batch["hand_frame_indices"].numpy(), expected)
    close(batch["hand_pixel_values"], np.concatenate([golden["batch.left_hands"], golden["batch.right_hands"]]), 1e-5)


# -- temporal sampling ------------------------------------------------------------------------------------------------


def test_uniform_sampling_is_even_and_deterministic():
    indices = sample_frame_indices(1000, 256)
    assert len(indices) == 256 and indices[0] == 0 and indices[-1] == 999
    assert (np.diff(indices) >= 1).all()
    gaps = np.diff(indices)
    assert gaps.max() - gaps.min() <= 1  # evenly spaced up to rounding
    np.testing.assert_array_equal(indices, sample_frame_indices(1000, 256))
    # a step of exactly 1.5 frames is where round-half-to-even would repeat a frame
    assert len(np.unique(sample_frame_indices(384, 257))) == 257
    np.testing.assert_array_equal(sample_frame_indices(20, 256), np.arange(20))


def test_random_sampling_is_the_reference_sorted_sample():
    first = sample_frame_indices(500, 64, mode="random", rng=3)
    assert len(first) == 64 and len(np.unique(first)) == 64
    assert (np.diff(first) > 0).all() and first.min() >= 0 and first.max() < 500
    np.testing.assert_array_equal(first, sample_frame_indices(500, 64, mode="random", rng=3))
    assert not np.array_equal(first, sample_frame_indices(500, 64, mode="random", rng=4))
    with pytest.raises(ValueError, match="Unknown temporal sampling mode"):
        sample_frame_indices(500, 64, mode="stride")


def test_long_clips_are_normalised_after_subsampling():
    keypoints, scores = random_clip(40)
    extractor = UniSignPoseFeatureExtractor(max_frames=8)
    indices = sample_frame_indices(40, 8)
    expected = normalize_pose(keypoints[indices], scores[indices])
    close(extractor.extract((keypoints, scores))["pose_values"], expected, atol=0)
    random_mode = extractor.extract((keypoints, scores), temporal_sampling="random", rng=0)["pose_values"]
    assert random_mode.shape == (8, 69, 3)


# -- batching ---------------------------------------------------------------------------------------------------------


def test_batch_is_padded_by_repeating_the_last_frame():
    clips = [random_clip(5, seed=1), random_clip(3, seed=2)]
    extractor = UniSignPoseFeatureExtractor()
    batch = extractor(clips, return_tensors="pt")
    assert batch["pose_values"].shape == (2, 5, 69, 3) and batch["pose_values"].dtype == torch.float32
    np.testing.assert_array_equal(batch["pose_attention_mask"].numpy(), [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    single = extractor.extract(clips[1])["pose_values"]
    close(batch["pose_values"][1, :3], single, atol=0)
    close(batch["pose_values"][1, 3:], np.repeat(single[-1:], 2, 0), atol=0)


@PROPERTY_SETTINGS
@given(lengths=st.lists(st.integers(1, 9), min_size=1, max_size=4), seed=st.integers(0, 2**16))
def test_padding_property(lengths, seed):
    clips = [random_clip(length, seed=seed + i) for i, length in enumerate(lengths)]
    batch = UniSignPoseFeatureExtractor()(clips)
    assert batch["pose_values"].shape == (len(lengths), max(lengths), 69, 3)
    np.testing.assert_array_equal(batch["pose_attention_mask"].sum(1), lengths)
    for row, (clip, length) in enumerate(zip(clips, lengths, strict=True)):
        single = normalize_pose(*clip)
        np.testing.assert_array_equal(batch["pose_values"][row, :length], single)
        np.testing.assert_array_equal(
            batch["pose_values"][row, length:], np.repeat(single[-1:], max(lengths) - length, 0)
        )


# -- input forms ------------------------------------------------------------------------------------------------------


def test_every_input_form_gives_the_same_features():
    keypoints, scores = random_clip(6)
    extractor = UniSignPoseFeatureExtractor()
    expected = extractor.extract((keypoints, scores))["pose_values"]
    stacked = np.concatenate([keypoints, scores[..., None]], -1)  # (T, 133, 3)
    forms = [
        PoseSample(id="a", keypoints=keypoints, scores=scores),
        stacked,
        torch.from_numpy(stacked),
        stacked.tolist(),
    ]
    for form in forms:
        np.testing.assert_array_equal(extractor.extract(form)["pose_values"], expected)
    pixels = keypoints * np.array([320, 240], dtype=np.float32)
    close(extractor.extract((pixels, scores), frame_size=(320, 240))["pose_values"], expected, atol=1e-6)
    batch = extractor(np.stack([stacked, stacked]))  # a 4-D array is a batch
    np.testing.assert_array_equal(batch["pose_values"][1], expected)


def test_a_pose_file_of_normalised_poses_beyond_its_header_frame_gives_the_pixel_files_features(data_dir, tmp_path):
    """pose-format's `normalize` (shoulder width 100, centred on 0) in a file whose header frame is 8 x 8 pixels."""
    from pose_format import Pose

    from unisign import read_pose_file

    original = data_dir / "pose-format" / "openpose.pose"  # a square frame, and every part's anchor point present
    pose = Pose.read(original.read_bytes()).normalize(scale_factor=100)
    pose.header.dimensions.width = pose.header.dimensions.height = 8
    with open(tmp_path / "normalised.pose", "wb") as file:
        pose.write(file)
    normalised, pixels = read_pose_file(tmp_path / "normalised.pose"), read_pose_file(original)
    assert np.abs(normalised.keypoints[normalised.scores > 0]).max() > 10  # far beyond the header's frame
    assert pixels.width == pixels.height  # square frames both: the two differ by a shift and a uniform scale
    extractor = UniSignPoseFeatureExtractor()
    expected = extractor.extract(pixels)["pose_values"]
    for clip in (normalised, pose):  # the file read, and the `pose_format.Pose` itself
        close(extractor.extract(clip)["pose_values"], expected, atol=1e-4)
    with pytest.raises(ValueError, match="far outside the frame"):  # the same numbers as a bare array are checked
        extractor.extract((normalised.keypoints, normalised.scores))


# -- zero path and bad input ------------------------------------------------------------------------------------------


def test_zero_path_for_clips_without_a_confident_body():
    keypoints, scores = random_clip(5)
    extractor = UniSignPoseFeatureExtractor()
    for clip_scores in (np.zeros_like(scores), np.full_like(scores, 0.3)):  # all zero, all at the threshold
        features = extractor.extract((keypoints, clip_scores))
        assert features["pose_values"].shape == (5, 69, 3) and not features["pose_values"].any()
        assert features["pose_attention_mask"].tolist() == [1] * 5
    scores = np.ones_like(scores)
    scores[:, BODY_INDICES] = 0
    scores[0, BODY_INDICES[:3]] = 0.9  # three confident body points in the whole clip: not enough
    assert not normalize_pose(keypoints, scores).any()
    scores[1, BODY_INDICES[0]] = 0.9  # the fourth
    assert normalize_pose(keypoints, scores).any()
    collapsed = np.full_like(keypoints, 0.5)  # every point at one place: the body box has size 0
    assert not normalize_pose(collapsed, np.ones_like(scores)).any()


@pytest.mark.parametrize(
    ("clip", "message"),
    [
        ((np.zeros((0, 133, 2)), np.zeros((0, 133))), "no frames"),
        ((np.zeros((4, 17, 2)), np.zeros((4, 17))), r"\(num_frames, 133, 2\)"),
        ((np.zeros((4, 133, 2)), np.zeros((4, 132))), "to match `keypoints`"),
        (np.zeros((4, 133, 2)), r"\(num_frames, 133, 3\)"),
        ("clip.pkl", "must be a `PoseSample`"),
        (
            (np.where(np.arange(133)[None, :, None] == 7, np.nan, 0.5) * np.ones((4, 133, 2)), np.ones((4, 133))),
            "NaN or infinite",
        ),
        ((np.zeros((4, 133, 2)), np.where(np.arange(4)[:, None] == 2, np.inf, 1.0) * np.ones((4, 133))), r"\[2\]"),
    ],
)
def test_bad_clips_are_refused(clip, message):
    with pytest.raises(ValueError, match=message):
        UniSignPoseFeatureExtractor().extract(clip)


def test_bad_arguments_are_refused():
    clip = random_clip(4)
    frames = np.zeros((4, 24, 32, 3), dtype=np.uint8)
    extractor, video_processor = UniSignPoseFeatureExtractor(), UniSignVideoProcessor()
    with pytest.raises(ValueError, match="Unknown `temporal_sampling`"):
        UniSignPoseFeatureExtractor(temporal_sampling="stride")
    with pytest.raises(ValueError, match="Unknown `hand_sampling`"):
        UniSignVideoProcessor(hand_sampling="best")
    with pytest.raises(ValueError, match="`frame_size`"):
        extractor.extract(clip, frame_size=(0, 240))
    with pytest.raises(ValueError, match="aligned 1:1"):
        video_processor.crop_clip(*clip, frames=frames[:3])
    with pytest.raises(ValueError, match="not both"):
        video_processor.crop_clip(*clip, frames=frames, video="clip.mp4")
    with pytest.raises(ValueError, match="one entry of `keypoints`"):
        video_processor([frames, frames], [clip[0]], [clip[1]])
    with pytest.raises(ValueError, match="empty list"):
        extractor([])
    with pytest.raises(ValueError, match="`rng`"):
        extractor.extract(clip, temporal_sampling="random", rng="seed")


def test_float_frames_with_a_visible_hand_are_refused():
    keypoints, scores = random_clip(4)
    scores[:] = 0.9
    with pytest.raises(ValueError, match="uint8"):
        UniSignVideoProcessor().crop_clip(keypoints, scores, frames=np.zeros((4, 24, 32, 3), np.float32))


def test_the_video_processor_refuses_non_finite_keypoints_as_the_feature_extractor_does():
    keypoints, scores = random_clip(4)
    scores[:] = 0.9
    keypoints[2, LEFT_HAND_INDICES[3]] = np.nan  # a visible hand's point: its crop box would be NaN
    message = r"NaN or infinite values \(frames \[2\]\)"
    with pytest.raises(ValueError, match=message):
        UniSignVideoProcessor().crop_clip(keypoints, scores, frames=np.zeros((4, 24, 32, 3), np.uint8))
    with pytest.raises(ValueError, match=message):
        UniSignPoseFeatureExtractor()((keypoints, scores))


# -- properties of the normalisation ----------------------------------------------------------------------------------


@st.composite
def grid_clips(draw):
    """Clips with coordinates on a 1/64 grid (float32 arithmetic stays exact under the shifts and scalings below)
    and scores from a few levels around the threshold, some clips sparse enough to take the zero path."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    frames = draw(st.integers(1, 8))
    keypoints = (rng.integers(0, 129, size=(frames, 133, 2)) / 64).astype(np.float32)
    levels = np.array([0.0, 0.1, 0.3, 0.31, 0.5, 0.9, 1.0, 1.2], dtype=np.float32)
    scores = levels[rng.integers(0, len(levels), size=(frames, 133))]
    scores[rng.random((frames, 133)) < draw(st.sampled_from([0.0, 0.5, 0.95, 1.0]))] = 0
    return keypoints, scores


@PROPERTY_SETTINGS
@given(clip=grid_clips())
def test_normalisation_properties(clip):
    keypoints, scores = clip
    values = normalize_pose(keypoints, scores)
    assert values.shape == (len(keypoints), 69, 3) and values.dtype == np.float32
    assert np.isfinite(values).all() and np.abs(values).max() <= 1
    confident_body = int((scores[:, BODY_INDICES] > 0.3).sum())
    if confident_body < 4 or not values.any():
        assert confident_body < 4 or np.ptp(keypoints[:, BODY_INDICES][scores[:, BODY_INDICES] > 0.3], 0).max() == 0
        return
    node_scores = scores[:, NODE_INDICES]
    unreliable = node_scores <= 0.3
    assert not values[unreliable].any()  # x, y and score zeroed
    np.testing.assert_array_equal(values[..., 2][~unreliable], np.minimum(node_scores[~unreliable], 1))
    assert not values[:, [9, 30, 68], :2].any()  # hands and face are relative to their wrist / nose tip
    # the body box spans [-1, 1] along its longer side
    body = values[:, :9][~unreliable[:, :9]][:, :2]
    assert np.isclose(np.ptp(body, 0).max(), 2, atol=1e-6)


@PROPERTY_SETTINGS
@given(clip=grid_clips(), shift=st.tuples(st.integers(-64, 64), st.integers(-64, 64)), power=st.integers(-2, 2))
def test_normalisation_ignores_translation_and_scale(clip, shift, power):
    keypoints, scores = clip
    moved = (keypoints + np.array(shift, dtype=np.float32) / 64) * np.float32(2.0**power)
    np.testing.assert_array_equal(normalize_pose(moved, scores), normalize_pose(keypoints, scores))


@PROPERTY_SETTINGS
@given(
    frames=st.integers(1, 6),
    points=st.sampled_from([1, 17, 132, 134]),
    channels=st.sampled_from([1, 2, 3]),
    fill=st.sampled_from([0.5, np.nan, np.inf, -np.inf]),
)
def test_random_shapes_and_values_give_features_or_a_clear_error(frames, points, channels, fill):
    keypoints = np.full((frames, points, channels), fill, dtype=np.float32)
    scores = np.full((frames, points), 0.9, dtype=np.float32)
    extractor = UniSignPoseFeatureExtractor()
    if points == 133 and channels == 2 and np.isfinite(fill):
        assert extractor.extract((keypoints, scores))["pose_values"].shape == (frames, 69, 3)
    else:
        with pytest.raises(ValueError, match="133|NaN or infinite"):
            extractor.extract((keypoints, scores))


# -- hand frame sampler -----------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    scores=st.integers(1, 40).flatmap(lambda t: st.lists(st.floats(0, 1, width=32), min_size=t * 21, max_size=t * 21))
)
def test_hand_sampler_properties(scores):
    hand_scores = np.array(scores, dtype=np.float32).reshape(-1, 21)
    candidates = np.flatnonzero(hand_scores.mean(-1) > 0.3)
    top = sample_hand_frames(hand_scores, mode="top")
    drawn = sample_hand_frames(hand_scores, mode="random", rng=np.random.default_rng(0))
    for picked in (top, drawn):
        assert picked.dtype == np.int64 and len(picked) == math.ceil(0.1 * len(candidates))
        assert set(picked.tolist()) <= set(candidates.tolist()) and (np.diff(picked) > 0).all()
    np.testing.assert_array_equal(top, sample_hand_frames(hand_scores, mode="top"))
    if len(top):  # the deterministic variant keeps the largest weights: the least reliable fingertips
        reliability = hand_scores[candidates][:, FINGERTIP_NODES].min(-1)
        weights = dict(zip(candidates.tolist(), reliability.max() - reliability + np.float32(1e-5), strict=True))
        left_out = np.setdiff1d(candidates, top)
        assert not len(left_out) or min(weights[i] for i in top) >= max(weights[i] for i in left_out)


def test_top_hand_sampling_spreads_tied_frames_over_the_clip():
    """MediaPipe gives every hand point the same score: all frames tie, and the clip's first frames were taken."""
    hand_scores = np.ones((40, 21), dtype=np.float32)
    # 4 frames (10 %): the centres of four stretches of 10 frames
    np.testing.assert_array_equal(sample_hand_frames(hand_scores, mode="top"), [5, 15, 25, 35])
    hand_scores[[2, 30], 4] = 0.5  # two less reliable fingertips: taken first, the other two spread over the rest
    np.testing.assert_array_equal(sample_hand_frames(hand_scores, mode="top"), [2, 10, 29, 30])


def test_hand_sampler_refuses_bad_input():
    with pytest.raises(ValueError, match=r"\(num_frames, 21\)"):
        sample_hand_frames(np.ones((5, 20)))
    with pytest.raises(ValueError, match="Unknown hand sampling mode"):
        sample_hand_frames(np.ones((5, 21)), mode="best")


# -- crop geometry ----------------------------------------------------------------------------------------------------


def hand_clip(width, height, left_box=None, right_box=None, frames=3):
    """Keypoints in (x / W, y / H) units with each hand's 21 points spread over the pixel box (x0, y0, x1, y1)."""
    keypoints = np.zeros((frames, 133, 2), dtype=np.float32)
    for part, box in ((LEFT_HAND_INDICES, left_box), (RIGHT_HAND_INDICES, right_box)):
        if box is not None:
            x0, y0, x1, y1 = box
            xs, ys = np.linspace(x0, x1, 21), np.linspace(y1, y0, 21)
            keypoints[:, part] = np.stack([xs / width, ys / height], -1)
    return keypoints


def normalised(pixel_value, channel):
    return (np.float32(pixel_value) / 255 - np.float32(IMAGENET_MEAN[channel])) / np.float32(IMAGENET_STD[channel])


def test_crop_box_rule_and_priors():
    # hand extent 50 x 30 px centred on (100, 80): box side int(50 * 1.2 / 2) * 2 = 60, corner (70, 50)
    keypoints = hand_clip(320, 256, right_box=(75, 65, 125, 95))  # binary fractions: exact in float32
    frames = {1: np.full((256, 320, 3), 200, dtype=np.uint8)}
    crops = crop_hands(frames, keypoints, np.array([], dtype=np.int64), np.array([1]))
    assert crops["hand_pixel_values"].shape == (2, 3, 112, 112)
    np.testing.assert_array_equal(crops["hand_frame_indices"], [-1, 1])
    np.testing.assert_array_equal(crops["hand_sides"], [0, 1])
    assert not crops["hand_pixel_values"][0].any() and not crops["hand_keypoints"][0].any()  # no left hand
    close(crops["hand_keypoints"][1, 0], [(75 - 70) / 60, (95 - 50) / 60], atol=1e-6)
    close(crops["hand_keypoints"][1, 20], [(125 - 70) / 60, (65 - 50) / 60], atol=1e-6)
    for channel in range(3):  # a box inside a uniform frame: the crop is that colour everywhere
        close(crops["hand_pixel_values"][1, channel], np.full((112, 112), normalised(200, channel)), atol=1e-5)


def test_crop_pads_bottom_right_and_clamps_negative_corners():
    frame = np.full((256, 320, 3), 200, dtype=np.uint8)
    # right hand in the bottom-right corner: its box (298, 234, 322, 258) runs past the frame, padded with zeros
    keypoints = hand_clip(320, 256, left_box=(-5, 100, 15, 120), right_box=(300, 236, 320, 256))
    crops = crop_hands({0: frame}, keypoints, np.array([0]), np.array([0]))
    right = crops["hand_pixel_values"][1]
    close(right[:, 0, 0], [normalised(200, c) for c in range(3)], atol=1e-5)
    close(right[:, -1, -1], [normalised(0, c) for c in range(3)], atol=1e-5)
    # left hand centred at x = 5 with a 24 px box: corner x0 = -7 is clamped to 0 (the reference wrapped it around
    # and cropped nothing); the crop is frame[y0:y1, 0:17] padded on the right, and the prior is measured from x = 0
    left = crops["hand_pixel_values"][0]
    box = 24
    expected = np.pad(frame[98:122, 0:17], ((0, 0), (0, box - 17), (0, 0)))
    expected = np.asarray(Image.fromarray(expected).resize((112, 112), Image.Resampling.BICUBIC))
    expected = np.stack([normalised(expected[..., c], c) for c in range(3)])
    close(left, expected, atol=1e-5)
    close(crops["hand_keypoints"][0, 0], [0.0, (120 - 98) / box], atol=1e-6)  # x = -5 px clips to 0
    close(crops["hand_keypoints"][0, 20], [15 / box, (100 - 98) / box], atol=1e-6)


def test_zero_size_box_means_no_rgb():
    keypoints = np.full((2, 133, 2), 0.5, dtype=np.float32)  # both hands collapsed to one point: box side 0
    crops = crop_hands({0: np.zeros((24, 32, 3), np.uint8)}, keypoints, np.array([0]), np.array([0]))
    np.testing.assert_array_equal(crops["hand_frame_indices"], [-1, -1])
    assert not crops["hand_pixel_values"].any() and not crops["hand_keypoints"].any()


def test_clip_without_visible_hands_gets_one_empty_crop_per_hand():
    keypoints, scores = random_clip(6)
    scores[:, LEFT_HAND_INDICES + RIGHT_HAND_INDICES] = 0.1
    features = UniSignVideoProcessor().crop_clip(keypoints, scores, frames=np.zeros((6, 24, 32, 3), np.uint8))
    np.testing.assert_array_equal(features["hand_frame_indices"], [-1, -1])
    np.testing.assert_array_equal(features["hand_sides"], [0, 1])
    assert features["hand_pixel_values"].shape == (2, 3, 112, 112) and not features["hand_pixel_values"].any()


def test_crops_use_the_frames_of_the_subsampled_clip():
    keypoints = np.repeat(hand_clip(64, 48, left_box=(10, 10, 30, 30), right_box=(34, 10, 54, 30), frames=1), 30, 0)
    scores = np.full((30, 133), 0.9, dtype=np.float32)
    frames = np.stack([np.full((48, 64, 3), value, np.uint8) for value in range(0, 240, 8)])  # frame i has value 8 i
    clip = UniSignPoseFeatureExtractor(max_frames=10).sample_clip((keypoints, scores))
    features = UniSignVideoProcessor().crop_clip(
        clip.keypoints, clip.scores, frames, frame_indices=clip.frame_indices, num_video_frames=clip.num_frames
    )
    kept = sample_frame_indices(30, 10)
    for crop, index in zip(features["hand_pixel_values"], features["hand_frame_indices"], strict=True):
        assert 0 <= index < 10  # an index into the sub-sampled clip
        close(crop[0, 56, 56], normalised(8 * kept[index], 0), atol=1e-5)
