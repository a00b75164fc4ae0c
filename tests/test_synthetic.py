"""Tests of the procedural sign-language generator (`unisign.synthetic`): small sizes, CPU, seconds."""

import dataclasses
import json

import numpy as np
import pytest

from unisign.data import sample_from_row
from unisign.models.unisign.keypoints import LEFT_HAND_INDICES, RIGHT_HAND_INDICES
from unisign.synthetic import (
    MINIMAL_PAIRS,
    TEMPLATES,
    VOCABULARY,
    generate_clip,
    generate_dataset,
    load_generated_dataset,
    regenerate_clean,
    sample_signer,
    sample_utterance,
)
from unisign.synthetic.generator import signer_from_dict, signer_to_dict
from unisign.synthetic.render import Appearance, contact_sheet, render_pose, render_sample


BODY = list(range(23))
FACE = list(range(23, 91))
ARMS = list(range(5, 11))  # shoulders, elbows, wrists
SIGN_FIELDS = {
    "handshape": ["handshape", "end_handshape"],
    "location": ["location", "offset"],
    "orientation": ["palm", "fingers", "end_palm", "end_fingers"],
}


def right_handed(index=0, seed=0):
    return sample_signer(index, seed, left_handed=False)


# ---------------------------------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------------------------------
def test_same_seed_gives_identical_clips_and_other_seeds_differ():
    glosses = ["YESTERDAY", "STORE", "I", "GO"]
    first = generate_clip(glosses, right_handed(2), 11)
    again = generate_clip(glosses, right_handed(2), 11)
    np.testing.assert_array_equal(first.keypoints, again.keypoints)
    np.testing.assert_array_equal(first.scores, again.scores)
    assert first.extra == again.extra

    other_seed = generate_clip(glosses, right_handed(2), 12)
    frames = min(first.num_frames, other_seed.num_frames)
    assert not np.allclose(first.keypoints[:frames], other_seed.keypoints[:frames])
    assert signer_to_dict(sample_signer(2, seed=1)) != signer_to_dict(sample_signer(2, seed=0))


def test_dataset_is_deterministic_by_seed(tmp_path):
    sizes = {"num_train": 4, "num_validation": 2, "num_test": 2, "num_train_signers": 2}
    sizes |= {"num_validation_signers": 1, "num_test_signers": 1, "cache_dir": str(tmp_path / "cache")}
    first = generate_dataset(tmp_path / "a", seed=5, **sizes)
    second = generate_dataset(tmp_path / "b", seed=5, **sizes)
    third = generate_dataset(tmp_path / "c", seed=6, **sizes)
    for split in ("train", "validation", "test"):
        for a, b in zip(first[split].with_format("numpy"), second[split].with_format("numpy"), strict=True):
            np.testing.assert_array_equal(a["keypoints"], b["keypoints"])
            np.testing.assert_array_equal(a["scores"], b["scores"])
            assert a["text"] == b["text"] and a["extra"] == b["extra"]
    first_rows, third_rows = first["train"].with_format("numpy"), third["train"].with_format("numpy")
    assert any(not np.array_equal(a["keypoints"], c["keypoints"]) for a, c in zip(first_rows, third_rows, strict=True))


def test_worker_processes_write_the_same_files_as_one_process(tmp_path, monkeypatch):
    # shards of 3 clips, so that each split has several and two spawned workers share them
    monkeypatch.setattr("unisign.synthetic.generator.SHARD_SIZE", 3)
    sizes = {"num_train": 7, "num_validation": 4, "num_test": 2, "num_train_signers": 3, "num_test2": 3}
    sizes |= {"num_validation_signers": 1, "num_test_signers": 1, "cache_dir": str(tmp_path / "cache")}
    alone = generate_dataset(tmp_path / "one", processes=1, **sizes)
    shared = generate_dataset(tmp_path / "two", processes=2, **sizes)
    files = sorted(path.name for path in (tmp_path / "one" / "data").iterdir())
    assert files == sorted(path.name for path in (tmp_path / "two" / "data").iterdir())
    assert "train-00002-of-00003.parquet" in files
    for name in ("generation.json", "README.md"):
        assert (tmp_path / "one" / name).read_text() == (tmp_path / "two" / name).read_text()
    assert list(alone) == list(shared) == ["train", "validation", "test", "test2"]
    for split in alone:
        rows = list(zip(alone[split].with_format("numpy"), shared[split].with_format("numpy"), strict=True))
        assert [a["id"] for a, _ in rows] == [f"{split}-{index:06d}" for index in range(len(rows))]
        for a, b in rows:
            np.testing.assert_array_equal(a["keypoints"], b["keypoints"])
            assert a["text"] == b["text"] and a["extra"] == b["extra"]


# ---------------------------------------------------------------------------------------------------------------
# vocabulary and minimal pairs
# ---------------------------------------------------------------------------------------------------------------
def _parameters(sign):
    """The phonological parameters of a sign, grouped as in MINIMAL_PAIRS."""
    hand = dataclasses.asdict(sign.dominant)
    grouped = {name: tuple(hand[field] for field in fields) for name, fields in SIGN_FIELDS.items()}
    grouped["movement"] = sign.movement
    grouped["hands"] = (sign.hands, sign.base)
    return grouped


@pytest.mark.parametrize("parameter", sorted(MINIMAL_PAIRS))
def test_minimal_pairs_differ_in_exactly_their_parameter(parameter):
    for group in MINIMAL_PAIRS[parameter]:
        parameters = [_parameters(VOCABULARY[gloss]) for gloss in group]
        for other in parameters[1:]:
            differing = {name for name in other if other[name] != parameters[0][name]}
            assert differing == {parameter}, (group, differing)


def test_vocabulary_size_and_every_sign_used_by_the_grammar():
    assert 30 <= len(VOCABULARY) <= 60
    rng = np.random.default_rng(0)
    used = {gloss for _ in range(3000) for gloss in sample_utterance(rng).glosses}
    assert used == set(VOCABULARY)


@pytest.mark.parametrize("group", MINIMAL_PAIRS["handshape"], ids=lambda group: "-".join(group))
def test_handshape_minimal_pairs_move_the_arms_identically(group):
    signer = right_handed(1)
    clips = [generate_clip(gloss, signer, 3) for gloss in group]  # detector noise on
    first = clips[0]
    for other in clips[1:]:
        assert other.num_frames == first.num_frames
        np.testing.assert_array_equal(other.keypoints[:, BODY], first.keypoints[:, BODY])
        np.testing.assert_array_equal(other.keypoints[:, FACE], first.keypoints[:, FACE])
        np.testing.assert_array_equal(other.scores[:, ARMS], first.scores[:, ARMS])
        start, end = first.extra["sign_spans"][0]
        difference = np.abs(
            other.keypoints[start:end, RIGHT_HAND_INDICES] - first.keypoints[start:end, RIGHT_HAND_INDICES]
        )
        assert difference.max() * first.width > 10  # fingers more than 10 pixels apart somewhere


def test_location_minimal_pair_keeps_the_hand_and_moves_the_arm():
    signer = right_handed(1)
    mother, father = (generate_clip(gloss, signer, 3, noise=False) for gloss in ("MOTHER", "FATHER"))
    start, end = mother.extra["sign_spans"][0]
    assert mother.extra["sign_spans"] == father.extra["sign_spans"]

    def hand_shape(sample):  # right hand relative to its wrist, in pixels
        hand = sample.keypoints[start:end, RIGHT_HAND_INDICES] * [sample.width, sample.height]
        return hand - hand[:, :1]

    np.testing.assert_allclose(hand_shape(mother), hand_shape(father), atol=1e-3)
    wrist_rise = mother.keypoints[start:end, 10, 1] - father.keypoints[start:end, 10, 1]
    assert wrist_rise.min() > 0.05  # FATHER is signed at the forehead, MOTHER at the chin


# ---------------------------------------------------------------------------------------------------------------
# grammar and targets
# ---------------------------------------------------------------------------------------------------------------
def test_slt_targets_reorder_and_add_function_words():
    rng = np.random.default_rng(0)
    utterances = [sample_utterance(rng) for _ in range(4000)]
    translations = {(u.glosses, u.question): u.text for u in utterances}
    assert translations[(("YESTERDAY", "STORE", "I", "GO"), False)] == "I went to the store yesterday."
    assert translations[(("YOU", "LIKE", "COFFEE"), True)] == "Do you like coffee?"
    assert translations[(("YOU", "LIKE", "COFFEE"), False)] == "You like coffee."
    assert {u.template for u in utterances} == set(TEMPLATES)
    assert all(2 <= len(u.glosses) <= 7 for u in utterances)


def test_question_marker_changes_only_the_head():
    signer = right_handed(4)
    statement = generate_clip(["YOU", "LIKE", "COFFEE"], signer, 9, question=False, noise=False)
    question = generate_clip(["YOU", "LIKE", "COFFEE"], signer, 9, question=True, noise=False)
    np.testing.assert_array_equal(
        statement.keypoints[:, RIGHT_HAND_INDICES], question.keypoints[:, RIGHT_HAND_INDICES]
    )
    np.testing.assert_array_equal(statement.keypoints[:, ARMS], question.keypoints[:, ARMS])
    start, end = statement.extra["sign_spans"][1]
    nose_drop = (question.keypoints[start:end, 0, 1] - statement.keypoints[start:end, 0, 1]) * statement.height
    assert nose_drop.min() > 3  # the head tilts forward: the nose moves down by several pixels


def test_isolated_clip_targets():
    sample = generate_clip("MOTHER", right_handed(0), 1)
    assert sample.text == "mother" and sample.gloss == ["MOTHER"]
    with pytest.raises(ValueError, match="Unknown gloss"):
        generate_clip("NOT-A-SIGN")


# ---------------------------------------------------------------------------------------------------------------
# value ranges and handedness
# ---------------------------------------------------------------------------------------------------------------
def test_keypoints_mostly_in_frame_and_scores_in_unit_range():
    rng = np.random.default_rng(3)
    clips = []
    for index in range(12):
        utterance = sample_utterance(rng)
        clips.append(generate_clip(utterance.glosses, sample_signer(index), index, question=utterance.question))
    keypoints = np.concatenate([clip.keypoints for clip in clips])
    scores = np.concatenate([clip.scores for clip in clips])
    assert keypoints.dtype == np.float32 and scores.dtype == np.float32
    inside = np.all((keypoints >= 0) & (keypoints <= 1), axis=-1)
    upper_body = list(range(11)) + list(range(23, 133))
    assert inside.mean() > 0.85 and inside[:, upper_body].mean() > 0.95
    assert scores.min() >= 0 and scores.max() <= 1
    assert (scores[:, upper_body] > 0.3).mean() > 0.75
    assert (scores[:, 15:23] < 0.3).mean() > 0.8  # ankles and feet of a seated signer are mostly not seen
    assert min(clip.num_frames for clip in clips) >= 20 and max(clip.num_frames for clip in clips) <= 200


def test_detector_noise_includes_missed_hands():
    signer = dataclasses.replace(right_handed(6), dropout_rate=0.2)
    sample = generate_clip(["MY", "FATHER", "WORK", "WHERE"], signer, 2)
    hand_scores = sample.scores[:, RIGHT_HAND_INDICES].max(1)
    assert (hand_scores < 0.15).any()  # some frames lose the hand entirely
    clean = generate_clip(["MY", "FATHER", "WORK", "WHERE"], signer, 2, noise=False)
    assert (clean.scores[:, RIGHT_HAND_INDICES].max(1) > 0.5).all()


def test_left_handed_signer_mirrors_the_dominant_hand():
    right = generate_clip(["MOTHER", "SEE"], right_handed(1), 5, noise=False)
    left = generate_clip(["MOTHER", "SEE"], dataclasses.replace(right_handed(1), left_handed=True), 5, noise=False)
    assert left.extra["left_handed"] and not right.extra["left_handed"]
    mirrored_x = left.keypoints[:, LEFT_HAND_INDICES, 0] + right.keypoints[:, RIGHT_HAND_INDICES, 0]
    np.testing.assert_allclose(mirrored_x, mirrored_x[0, 0], atol=1e-5)  # x reflected about one vertical line
    np.testing.assert_allclose(
        left.keypoints[:, LEFT_HAND_INDICES, 1], right.keypoints[:, RIGHT_HAND_INDICES, 1], atol=1e-6
    )
    # the same line reflects the body: left wrist of the left-hander <-> right wrist of the right-hander
    np.testing.assert_allclose(left.keypoints[:, 9, 0] + right.keypoints[:, 10, 0], mirrored_x[0, 0], atol=1e-5)

    # the dominant hand signs (both signs are one-handed), the other one rests
    def travel(points):
        return np.linalg.norm(np.diff(points, axis=0), axis=-1).sum()

    assert travel(left.keypoints[:, 91]) > 2 * travel(left.keypoints[:, 112])


# ---------------------------------------------------------------------------------------------------------------
# datasets
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synthetic")
    kwargs = {"num_train": 10, "num_validation": 4, "num_test": 4, "seed": 3, "num_train_signers": 3}
    kwargs |= {"num_validation_signers": 2, "num_test_signers": 2, "cache_dir": str(folder / "cache")}
    return folder / "data_root", generate_dataset(folder / "data_root", **kwargs), kwargs


def test_splits_use_unseen_signers(small_dataset):
    _, dataset, _ = small_dataset
    signers = {split: {json.loads(extra)["signer_id"] for extra in dataset[split]["extra"]} for split in dataset}
    assert set(dataset) == {"train", "validation", "test"}
    assert not signers["train"] & signers["validation"]
    assert not signers["train"] & signers["test"]
    assert not signers["validation"] & signers["test"]


def test_a_second_test_split_comes_from_another_seed_with_other_signers(small_dataset, tmp_path):
    _, dataset, kwargs = small_dataset
    with_test2 = generate_dataset(tmp_path / "data", **(kwargs | {"num_test2": 4, "num_test2_signers": 2}))
    for split in dataset:  # the other splits are those of the dataset without `test2`
        assert with_test2[split]["id"] == dataset[split]["id"]
        np.testing.assert_array_equal(with_test2[split][0]["keypoints"], dataset[split][0]["keypoints"])
    test2 = [json.loads(extra) for extra in with_test2["test2"]["extra"]]
    earlier = [json.loads(extra) for split in dataset for extra in dataset[split]["extra"]]
    assert len(test2) == 4 and {extra["split"] for extra in test2} == {"test2"}
    assert not {extra["signer_id"] for extra in test2} & {extra["signer_id"] for extra in earlier}
    # drawn from seed + 1: its signers are other people than those of the same numbers under the dataset's seed
    signers = {extra["signer_id"]: extra["synthetic"]["signer"] for extra in test2}
    for signer_id, signer in signers.items():
        index = int(signer_id.rsplit("-", 1)[1])
        assert signer_from_dict(signer) == sample_signer(index, kwargs["seed"] + 1)
        assert signer_from_dict(signer) != sample_signer(index, kwargs["seed"])
    card = (tmp_path / "data" / "README.md").read_text()
    assert "| test2 | 4 |" in card and "another seed" in card and f"test2_seed={kwargs['seed'] + 1}" in card


def test_parquet_round_trip_matches_regenerated_clips(small_dataset):
    folder, dataset, _ = small_dataset
    import datasets

    files = {split: sorted(str(path) for path in (folder / "data").glob(f"{split}-*.parquet")) for split in dataset}
    loaded = datasets.load_dataset("parquet", data_files=files, cache_dir=str(folder.parent / "cache2"))
    assert loaded["train"].num_rows == 10 and loaded["test"].num_rows == 4
    tasks = set()
    for row in loaded["train"].with_format("numpy"):
        sample = sample_from_row(row)
        recipe = sample.extra["synthetic"]
        rebuilt = generate_clip(
            sample.gloss,
            signer_from_dict(recipe["signer"]),
            recipe["seed"],
            text=sample.text,
            question=sample.extra["question"],
        )
        np.testing.assert_array_equal(sample.keypoints, rebuilt.keypoints)
        np.testing.assert_array_equal(sample.scores, rebuilt.scores)
        assert (sample.width, sample.height, sample.fps) == (rebuilt.width, rebuilt.height, rebuilt.fps)
        tasks.add(tuple(sample.extra["tasks"]))
        if sample.extra["tasks"] == ["islr"]:
            assert sample.text == VOCABULARY[sample.gloss[0]].word
    assert tasks == {("islr",), ("cslr", "slt")}
    card = (folder / "README.md").read_text()
    assert "license:" in card and "| train | 10 |" in card and "never seen in training" in card


def test_generation_is_cached(small_dataset, monkeypatch):
    folder, _, kwargs = small_dataset
    parquet = sorted((folder / "data").glob("*.parquet"))
    stamps = [path.stat().st_mtime_ns for path in parquet]

    def fail(*args, **kwargs):
        raise AssertionError("the cached dataset was regenerated")

    monkeypatch.setattr("unisign.synthetic.generator.generate_clip", fail)
    again = generate_dataset(folder, **kwargs)
    assert again["train"].num_rows == 10
    assert [path.stat().st_mtime_ns for path in parquet] == stamps
    assert load_generated_dataset(folder, kwargs["cache_dir"])["test"].num_rows == 4


def test_only_islr_gives_isolated_clips(tmp_path):
    dataset = generate_dataset(
        tmp_path / "islr",
        num_train=3,
        num_validation=0,
        num_test=1,
        tasks=("islr",),
        num_train_signers=1,
        num_validation_signers=0,
        num_test_signers=1,
        cache_dir=str(tmp_path / "cache"),
    )
    assert set(dataset) == {"train", "test"}
    assert all(len(gloss) == 1 for gloss in dataset["train"]["gloss"])


def test_bad_dataset_arguments_raise(tmp_path):
    with pytest.raises(ValueError, match="tasks"):
        generate_dataset(tmp_path, tasks=("translation",))
    with pytest.raises(ValueError, match="num_test_signers"):
        generate_dataset(tmp_path, num_test_signers=0)
    with pytest.raises(ValueError, match="templates"):
        generate_dataset(tmp_path, templates=("sonnet",))


# ---------------------------------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------------------------------
def test_rendered_frames_put_the_skeleton_where_the_keypoints_are():
    signer = right_handed(2)
    sample = generate_clip(["WATER", "BIG"], signer, 4, noise=False)
    frames = [sample.extra["sign_spans"][0][0] + 2, sample.extra["sign_spans"][1][0] + 2]
    images = render_pose(
        sample.keypoints, sample.width, sample.height, appearance=Appearance.of(signer), frames=frames
    )
    assert images.shape == (2, sample.height, sample.width, 3) and images.dtype == np.uint8
    background = np.array(signer.background)
    for image, frame in zip(images, frames, strict=True):
        pixels = np.round(sample.keypoints[frame] * [sample.width, sample.height]).astype(int)
        drawn = list(range(5, 11)) + list(range(23, 91)) + LEFT_HAND_INDICES + RIGHT_HAND_INDICES
        inside = [i for i in drawn if 0 <= pixels[i, 0] < sample.width and 0 <= pixels[i, 1] < sample.height]
        assert len(inside) > 0.8 * len(drawn)
        painted = np.any(image != background, axis=-1)  # (H, W)
        painted = np.pad(painted, 1)
        near = [
            painted[pixels[inside, 1] + 1 + dy, pixels[inside, 0] + 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)
        ]
        assert np.all(np.any(near, axis=0))  # every keypoint is drawn (within one pixel of rasterisation)
        assert np.all(image[0, 0] == background)  # the top-left corner is far from the signer
        assert np.mean(np.all(image == background, axis=-1)) > 0.3


def test_render_sample_draws_the_clean_pose_and_contact_sheet():
    signer = right_handed(5)
    sample = generate_clip(["SHE", "HAVE", "TWO", "BOOK"], signer, 8)
    frames = render_sample(sample, frames=[0, 10])
    assert frames.shape == (2, sample.height, sample.width, 3)
    clean = regenerate_clean(sample)
    assert not np.array_equal(clean.keypoints, sample.keypoints)
    expected = render_pose(
        clean.keypoints, sample.width, sample.height, appearance=Appearance.of(signer), frames=[0, 10]
    )
    np.testing.assert_array_equal(frames, expected)
    sheet = contact_sheet([sample], frames_per_clip=3, tile_height=120)
    assert sheet.height > 120 and sheet.width > 3 * 100
    with pytest.raises(ValueError, match="133, 2"):
        render_pose(np.zeros((3, 17, 2)), 64, 64)


def test_the_command_line_refuses_negative_split_sizes_in_one_line(tmp_path, capsys):
    from unisign.synthetic.__main__ import main

    with pytest.raises(SystemExit) as exit_info:  # was a traceback from `generate_dataset`
        main(["generate", str(tmp_path / "data"), "--num-train", "-1"])
    assert exit_info.value.code == 2
    assert "argument --num-train: must be at least 0, got -1" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()
