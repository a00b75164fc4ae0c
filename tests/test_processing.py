"""The processor and the collator: golden prompt, labels and batch, save/load, prompts, truncation, bad input.

Golden values: ../shared/golden/official-tiny/io.safetensors (`prompt_ids`, `labels`, `batch.*`) and meta.json, made
by the reference code (see that folder's README.md).
"""

import json

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file
from torch.utils.data import DataLoader
from transformers import AutoProcessor, AutoTokenizer, AutoVideoProcessor

from unisign import (
    PoseSample,
    UniSignDataCollator,
    UniSignForConditionalGeneration,
    UniSignPoseFeatureExtractor,
    UniSignProcessor,
    UniSignVideoProcessor,
)
from unisign.models.unisign.processing_unisign import DEFAULT_PROMPTS

from .modeling_helpers import TINY_TEXT_CONFIG, tiny_config


GOLDEN_PARTS = ("body", "left", "right", "face_all")


@pytest.fixture(scope="module")
def golden(golden_dir):
    return load_file(golden_dir / "io.safetensors")


@pytest.fixture(scope="module")
def meta(golden_dir):
    return json.loads((golden_dir / "meta.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tokenizer(golden_dir):
    return AutoTokenizer.from_pretrained(golden_dir / "tiny-mt5")


@pytest.fixture
def processor(tokenizer):
    return UniSignProcessor(UniSignPoseFeatureExtractor(), tokenizer)


def golden_clips(golden):
    return [(golden[f"clip{i}.keypoints"], golden[f"clip{i}.scores"]) for i in (0, 1)]


def golden_frames(golden):
    return [golden[f"clip{i}.frames"] for i in (0, 1)]


def close(actual, expected, atol):
    actual, expected = torch.as_tensor(np.asarray(actual)), torch.as_tensor(np.asarray(expected))
    torch.testing.assert_close(actual, expected, rtol=0, atol=atol, check_dtype=False)


def assert_batches_equal(first, second):
    assert sorted(first) == sorted(second)
    for name in first:
        assert first[name].dtype == second[name].dtype, name
        torch.testing.assert_close(first[name], second[name], rtol=0, atol=0, msg=name)


# -- golden parity ----------------------------------------------------------------------------------------------------


def test_prompt_and_labels_match_the_reference(processor, golden, meta):
    assert processor.prompt_text() == meta["prompt"]
    batch = processor(golden_clips(golden), text=meta["targets"])
    np.testing.assert_array_equal(batch["input_ids"].numpy(), np.repeat(golden["prompt_ids"], 2, 0))
    assert batch["attention_mask"].dtype == torch.long and (batch["attention_mask"] == 1).all()
    np.testing.assert_array_equal(batch["labels"].numpy(), golden["labels"])
    assert batch["labels"].dtype == torch.long
    np.testing.assert_array_equal(processor(text=meta["targets"])["labels"].numpy(), golden["labels"])


def test_batch_matches_the_reference_batch(processor, golden, meta):
    batch = processor(
        golden_clips(golden),
        text=meta["targets"],
        frames=golden_frames(golden),
        hand_sampling="random",
        rng=np.random.RandomState(0),  # the reference's numpy seed; it drew left then right hand, clip by clip
    )
    assert batch["pose_values"].dtype == torch.float32
    close(batch["pose_values"], np.concatenate([golden[f"batch.{part}"] for part in GOLDEN_PARTS], axis=2), 1e-6)
    np.testing.assert_array_equal(batch["pose_attention_mask"].numpy(), golden["batch.attention_mask"])
    np.testing.assert_array_equal(batch["pose_attention_mask"].sum(1).numpy(), golden["batch.src_length_batch"])
    close(batch["hand_pixel_values"], np.concatenate([golden["batch.left_hands"], golden["batch.right_hands"]]), 1e-5)
    priors = np.concatenate([golden["batch.left_skeletons_norm"], golden["batch.right_skeletons_norm"]])
    close(batch["hand_keypoints"], priors, 1e-6)
    indices = np.concatenate([golden["batch.left_sampled_indices"], golden["batch.right_sampled_indices"]])
    np.testing.assert_array_equal(batch["hand_frame_indices"].numpy(), indices)
    for side, name in enumerate(("left", "right")):
        per_sample = np.bincount(batch["hand_sample_indices"][batch["hand_sides"] == side].numpy(), minlength=2)
        np.testing.assert_array_equal(per_sample, golden[f"batch.{name}_rgb_len"])
    np.testing.assert_array_equal(batch["hand_sides"].numpy(), [0] * 4 + [1] * 4)
    np.testing.assert_array_equal(batch["hand_sample_indices"].numpy(), [0, 0, 1, 1, 0, 0, 1, 1])
    assert {name: batch[name].dtype for name in ("hand_frame_indices", "hand_sample_indices", "hand_sides")} == {
        "hand_frame_indices": torch.long,
        "hand_sample_indices": torch.long,
        "hand_sides": torch.long,
    }


def test_the_model_accepts_a_processed_batch(processor, golden, meta):
    batch = processor(golden_clips(golden), text=meta["targets"], frames=golden_frames(golden))
    config = tiny_config(text_config={**TINY_TEXT_CONFIG, "vocab_size": len(processor.tokenizer)}, use_rgb=True)
    with torch.no_grad():
        output = UniSignForConditionalGeneration(config).eval()(**batch)
    assert output.logits.shape[:2] == batch["labels"].shape and torch.isfinite(output.loss)


def test_a_clip_gives_the_same_logits_alone_and_beside_a_longer_or_shorter_prompt(tokenizer):
    """mT5's relative position bias counts positions by index: prompt padding must not sit between prompt and clip."""
    processor = UniSignProcessor(UniSignPoseFeatureExtractor(), tokenizer, prompts={**DEFAULT_PROMPTS, "de": "Los: "})
    config = tiny_config(text_config={**TINY_TEXT_CONFIG, "vocab_size": len(tokenizer)})
    model = UniSignForConditionalGeneration(config).eval()
    clip = (np.random.default_rng(0).random((6, 133, 2)), np.ones((6, 133)))
    languages = ["de", "zh"]  # a short and a long prompt
    assert len(processor.prompt_text("de")) < len(processor.prompt_text("zh"))
    with torch.no_grad():
        batched = model(**processor([clip, clip], text=["a b", "a b"], language=languages)).logits
        for row, language in enumerate(languages):
            alone = model(**processor(clip, text="a b", language=language)).logits[0]
            torch.testing.assert_close(batched[row], alone)


# -- collator ---------------------------------------------------------------------------------------------------------


def test_collator_pads_encoded_samples_like_the_processor(processor, golden, meta):
    rng = np.random.RandomState(0)
    samples = [
        processor.encode_sample(clip, text, frames=frames, hand_sampling="random", rng=rng)
        for clip, text, frames in zip(golden_clips(golden), meta["targets"], golden_frames(golden), strict=True)
    ]
    assert samples[0]["pose_values"].shape == (20, 69, 3) and samples[1]["labels"].shape == (7,)
    expected = processor(
        golden_clips(golden),
        text=meta["targets"],
        frames=golden_frames(golden),
        hand_sampling="random",
        rng=np.random.RandomState(0),
    )
    collator = UniSignDataCollator(processor)
    assert_batches_equal(collator(samples), dict(expected))
    # rows of a datasets.Dataset or a DataLoader come back as lists / tensors: same batch
    as_lists = [{name: value.tolist() for name, value in sample.items()} for sample in samples]
    assert_batches_equal(collator(as_lists), dict(expected))
    loader = DataLoader(samples, batch_size=2, collate_fn=collator)
    assert_batches_equal(next(iter(loader)), dict(expected))


def test_collator_refuses_mixed_batches(processor, golden, meta):
    clips = golden_clips(golden)
    with_hands = processor.encode_sample(clips[0], meta["targets"][0], frames=golden["clip0.frames"])
    without_hands = processor.encode_sample(clips[1], meta["targets"][1])
    without_labels = processor.encode_sample(clips[1])
    collator = UniSignDataCollator(processor)
    with pytest.raises(ValueError, match="hand crops"):
        collator([with_hands, without_hands])
    with pytest.raises(ValueError, match="`labels`"):
        collator([without_hands, without_labels])
    assert "labels" not in collator([without_labels, without_labels])


# -- save / load ------------------------------------------------------------------------------------------------------


def settings(component) -> dict:
    """A processor component's settings, without the `auto_map` that saving adds."""
    return {key: value for key, value in component.to_dict().items() if key != "auto_map"}


def test_save_and_reload_with_auto_processor(tokenizer, golden, meta, tmp_path):
    prompts = {**DEFAULT_PROMPTS, "zh/CSLR": "Recognise the glosses: "}
    extractor = UniSignPoseFeatureExtractor(max_frames=16)
    video_processor = UniSignVideoProcessor(hand_sampling="top", hand_crop_size=64)
    processor = UniSignProcessor(
        extractor, tokenizer, video_processor, prompts=prompts, language="zh", max_target_length=5
    )
    processor.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "processor_config.json").read_text(encoding="utf-8"))
    assert config["prompts"] == prompts and config["max_target_length"] == 5
    assert config["feature_extractor"]["max_frames"] == 16
    assert config["video_processor"]["hand_crop_size"] == 64

    reloaded = AutoProcessor.from_pretrained(tmp_path)
    assert type(reloaded) is UniSignProcessor and type(reloaded.feature_extractor) is UniSignPoseFeatureExtractor
    assert type(reloaded.video_processor) is UniSignVideoProcessor
    assert reloaded.prompts == prompts and reloaded.language == "zh" and reloaded.max_target_length == 5
    # a saved folder also records where its remote code is (`auto_map`); the settings are the same
    assert settings(reloaded.feature_extractor) == settings(extractor)
    assert settings(reloaded.video_processor) == settings(video_processor)
    assert settings(AutoVideoProcessor.from_pretrained(tmp_path)) == settings(video_processor)
    for task in (None, "CSLR"):
        arguments = {"text": meta["targets"], "frames": golden_frames(golden), "task": task}
        assert_batches_equal(processor(golden_clips(golden), **arguments), reloaded(golden_clips(golden), **arguments))
    reloaded.save_pretrained(tmp_path / "again")  # what a fine-tune from a saved folder exports
    assert "video_processor" not in json.loads((tmp_path / "again" / "tokenizer_config.json").read_text())
    assert settings(AutoProcessor.from_pretrained(tmp_path / "again").video_processor) == settings(video_processor)


# -- prompts, targets, decoding ---------------------------------------------------------------------------------------


def test_prompts_per_language_and_task(tokenizer):
    processor = UniSignProcessor(
        UniSignPoseFeatureExtractor(), tokenizer, prompts={**DEFAULT_PROMPTS, "en/CSLR": "Glosses: "}
    )
    assert processor.prompt_text("en") == "Translate sign language video to English: "
    assert processor.prompt_text("en", task="CSLR") == "Glosses: "
    assert processor.prompt_text("zh", task="CSLR") == DEFAULT_PROMPTS["zh"]  # no task prompt: the language's
    clip = (np.random.default_rng(0).random((4, 133, 2)), np.ones((4, 133)))
    batch = processor([clip, clip], language=["zh", "en"], task="CSLR")
    zh_ids = tokenizer(DEFAULT_PROMPTS["zh"])["input_ids"]
    en_ids = tokenizer("Glosses: ")["input_ids"]
    assert en_ids[-1] == tokenizer.eos_token_id and len(en_ids) < len(zh_ids)
    assert batch["input_ids"][0].tolist() == zh_ids
    # padded on the left: each prompt ends right before its clip's pose tokens
    assert batch["input_ids"][1].tolist() == [tokenizer.pad_token_id] * (len(zh_ids) - len(en_ids)) + en_ids
    assert batch["attention_mask"][1].tolist() == [0] * (len(zh_ids) - len(en_ids)) + [1] * len(en_ids)
    with pytest.raises(ValueError, match="No prompt for language 'de'"):
        processor(clip, language="de")


def test_targets_are_truncated_at_fifty_tokens_with_their_end_token(processor, tokenizer):
    long_text = "他今年四岁。" * 40
    assert len(tokenizer(long_text)["input_ids"]) > 50
    labels = processor(text=[long_text, "他今年四岁。"])["labels"]
    assert labels.shape == (2, 50)
    assert labels[0, -1] == tokenizer.eos_token_id and (labels[0] != -100).all()
    short = tokenizer("他今年四岁。")["input_ids"]
    assert labels[1].tolist() == short + [-100] * (50 - len(short))


def test_batch_decode_skips_padding_and_ignored_labels(processor, tokenizer, golden):
    texts = processor.batch_decode(torch.from_numpy(golden["labels"]))
    assert texts == tokenizer.batch_decode(
        [row[row != -100].tolist() for row in golden["labels"]], skip_special_tokens=True
    )
    assert processor.batch_decode(golden["prompt_ids"]) == ["Translate sign language video to Chinese:"]


def test_pose_sample_and_text_per_clip(processor):
    rng = np.random.default_rng(1)
    sample = PoseSample(id="x", keypoints=rng.random((6, 133, 2)), scores=np.ones((6, 133)), text="今天星期几?")
    batch = processor(sample, text=sample.text)
    assert batch["pose_values"].shape == (1, 6, 69, 3) and batch["labels"].shape[0] == 1


# -- bad input --------------------------------------------------------------------------------------------------------


def test_bad_processor_input_is_refused(processor, tokenizer):
    clip = (np.random.default_rng(0).random((4, 133, 2)), np.ones((4, 133)))
    with pytest.raises(ValueError, match="one entry per clip"):
        processor([clip, clip], text=["only one"])
    with pytest.raises(ValueError, match="Give `poses`"):
        processor()
    with pytest.raises(ValueError, match="must be a string"):
        processor.encode_sample(clip, text=["a list"])
    with pytest.raises(ValueError, match="empty list"):
        processor(text=[])
    with pytest.raises(ValueError, match="No prompt for the default language"):
        UniSignProcessor(UniSignPoseFeatureExtractor(), tokenizer, language="fr")
    with pytest.raises(ValueError, match="max_target_length"):
        UniSignProcessor(UniSignPoseFeatureExtractor(), tokenizer, max_target_length=0)
    with pytest.raises(ValueError, match="no frames"):
        processor((np.zeros((0, 133, 2)), np.zeros((0, 133))))


def test_processor_from_model_config(tokenizer):
    processor = UniSignProcessor.from_model_config(tiny_config(rgb_crop_size=96), tokenizer, 64, language="en")
    assert processor.feature_extractor.max_frames == 64 and processor.video_processor.hand_crop_size == 96
    assert processor.language == "en" and processor.prompts == DEFAULT_PROMPTS


def test_a_folder_saved_before_the_video_processor_loads_with_its_settings(tokenizer, tmp_path):
    UniSignProcessor(UniSignPoseFeatureExtractor(), tokenizer).save_pretrained(tmp_path)
    path = tmp_path / "processor_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    del config["video_processor"]  # the layout written before: hand settings inside the feature extractor's entry
    config["feature_extractor"].update(max_frames=64, score_threshold=0.4, hand_frame_fraction=0.2, hand_crop_size=96)
    path.write_text(json.dumps(config), encoding="utf-8")
    reloaded = AutoProcessor.from_pretrained(tmp_path)
    assert (reloaded.feature_extractor.max_frames, reloaded.feature_extractor.score_threshold) == (64, 0.4)
    assert "hand_crop_size" not in reloaded.feature_extractor.to_dict()
    video = reloaded.video_processor
    assert (video.hand_frame_fraction, video.hand_crop_size, video.hand_score_threshold) == (0.2, 96, 0.4)
