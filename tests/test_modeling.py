"""UniSignConfig and UniSignForConditionalGeneration on tiny configs: shapes, save/load, batching, cache, errors."""

import json

import pytest
import torch
from huggingface_hub.errors import StrictDataclassClassValidationError
from transformers import AutoConfig, AutoModel, AutoModelForSeq2SeqLM
from transformers.utils import ModelOutput

from unisign import UniSignConfig, UniSignForConditionalGeneration
from unisign.models.unisign.keypoints import PART_NAMES
from unisign.models.unisign.modeling_unisign import normalized_adjacency

from .modeling_helpers import random_inputs, select_rows, tiny_config


def build(config, seed=0):
    torch.manual_seed(seed)
    return UniSignForConditionalGeneration(config).eval()


# -- configuration ----------------------------------------------------------------------------------------------


def test_default_config_is_the_released_geometry():
    config = UniSignConfig()
    text = config.text_config
    assert (text.d_model, text.num_layers, text.num_heads, text.d_ff, text.vocab_size) == (768, 12, 12, 2048, 250112)
    assert text.tie_word_embeddings is False
    assert (config.pad_token_id, config.eos_token_id, config.decoder_start_token_id) == (0, 1, 0)
    assert config.num_pose_nodes == 69 and config.pose_hidden_size == 256 and not config.tie_word_embeddings


def test_parameter_counts_equal_the_reference():
    # The reference reports 587,747,368 parameters pose-only and 592,638,310 with RGB; the latter includes the unused
    # `fusion_pose_rgb_linear` (256 * 256 + 256 = 65,792), which this package does not build.
    with torch.device("meta"):
        pose_only = UniSignForConditionalGeneration(UniSignConfig())
        rgb_pose = UniSignForConditionalGeneration(UniSignConfig(use_rgb=True))
    assert sum(p.numel() for p in pose_only.parameters()) == 587_747_368
    assert sum(p.numel() for p in rgb_pose.parameters()) == 592_638_310 - 65_792


def test_config_json_round_trip(tmp_path):
    config = tiny_config(use_rgb=True, mask_padded_frames=True)
    config.save_pretrained(tmp_path)
    reloaded = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(reloaded, UniSignConfig)
    assert reloaded.to_diff_dict() == config.to_diff_dict()
    assert reloaded.text_config.tie_word_embeddings is False  # MT5Config forces True on load; we undo it
    assert json.loads((tmp_path / "config.json").read_text())["auto_map"]["AutoConfig"].endswith("UniSignConfig")


def test_a_config_json_written_before_the_processor_settings_moved_loads(tmp_path):
    tiny_config().save_pretrained(tmp_path)
    path = tmp_path / "config.json"
    saved = json.loads(path.read_text())
    old = {
        **saved,
        "max_frames": 64,
        "pose_score_threshold": 0.3,
        "rgb_sampling_ratio": 0.1,
        "tie_word_embeddings": True,
    }
    path.write_text(json.dumps(old))
    reloaded = AutoConfig.from_pretrained(tmp_path)
    assert not any(hasattr(reloaded, name) for name in ("max_frames", "pose_score_threshold", "rgb_sampling_ratio"))
    assert reloaded.tie_word_embeddings is False  # the model never tied lm_head; the old file said so wrongly
    reloaded.save_pretrained(tmp_path / "again")
    resaved = json.loads((tmp_path / "again" / "config.json").read_text())
    assert "max_frames" not in resaved and resaved["tie_word_embeddings"] is False


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_folder_whose_config_json_names_fast_path_loads_the_one_implementation(tmp_path, fast_path):
    """`fast_path` chose between two implementations of the pose encoder; either value now loads the model as it is."""
    model = build(tiny_config(use_rgb=True))
    model.save_pretrained(tmp_path)
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "fast_path": fast_path}))
    reloaded = UniSignForConditionalGeneration.from_pretrained(tmp_path).eval()
    assert "fast_path" not in reloaded.config.to_dict()
    inputs = random_inputs(model.config, lengths=(9, 5), with_hands=True)
    with torch.no_grad():
        assert torch.equal(reloaded.embed_inputs(**inputs).inputs_embeds, model.embed_inputs(**inputs).inputs_embeds)
    reloaded.save_pretrained(tmp_path / "again")
    assert "fast_path" not in json.loads((tmp_path / "again" / "config.json").read_text())


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"pose_temporal_kernel_size": 4}, "pose_temporal_kernel_size"),
        ({"pose_part_indices": {"body": [0, 1]}}, "pose_part_indices"),
        ({"label_smoothing": 1.5}, "label_smoothing"),
        ({"use_rgb": True, "pgf_head_dim": 3}, "pgf_num_heads"),
    ],
)
def test_bad_config_fields_raise(overrides, message):
    # huggingface_hub's strict dataclasses wrap the ValueError of `validate_architecture`
    with pytest.raises((ValueError, StrictDataclassClassValidationError), match=message):
        tiny_config(**overrides)


def test_graph_normalisation():
    # A three-node chain 0-1-2: degrees with self-loops are 2, 3, 2.
    adjacency = normalized_adjacency([(0, 1), (1, 2)], 3)
    torch.testing.assert_close(adjacency[0], torch.diag(torch.tensor([1 / 2, 1 / 3, 1 / 2])))
    expected_edges = torch.tensor([[0, 1 / 3, 0], [1 / 2, 0, 1 / 2], [0, 1 / 3, 0]])
    torch.testing.assert_close(adjacency[1], expected_edges)


# -- shapes, loss, gradients ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_rgb", [False, True])
def test_forward_shapes_loss_and_gradients(use_rgb):
    config = tiny_config(use_rgb=use_rgb)
    model = build(config).train()
    assert sum(p.numel() for p in model.language_model.parameters()) < 1_000_000
    if use_rgb:
        # A new gate is zero and ReLU(tanh(0)) has zero gradient, so, exactly as in the reference, a fresh RGB branch
        # gets no gradient at all; perturb and open the gate as the golden files do to reach every weight.
        with torch.no_grad():
            for conv in (model.prior_guided_fusion.gate[0], model.prior_guided_fusion.gate[2]):
                conv.weight.normal_(std=0.1)
            model.prior_guided_fusion.gate[2].bias.fill_(1.0)
    inputs = random_inputs(config, with_hands=use_rgb)
    labels = torch.tensor([[5, 6, 7, 1], [8, 9, 1, -100]])
    outputs = model(**inputs, labels=labels)
    assert outputs.logits.shape == (2, 4, config.text_config.vocab_size)
    assert torch.isfinite(outputs.loss)
    outputs.loss.backward()
    no_gradient = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert no_gradient == []


def test_a_closed_gate_passes_no_gradient_to_the_rgb_branch():
    config = tiny_config(use_rgb=True)
    model = build(config).train()
    outputs = model(**random_inputs(config, with_hands=True), labels=torch.tensor([[5, 1], [6, 1]]))
    outputs.loss.backward()
    rgb_parameters = [*model.hand_image_encoder.parameters(), *model.prior_guided_fusion.parameters()]
    assert all(p.grad is None or not p.grad.any() for p in rgb_parameters)


def test_label_smoothed_loss_definition():
    config = tiny_config(label_smoothing=0.2)
    model = build(config)
    inputs = random_inputs(config)
    labels = torch.tensor([[5, 6, 7, 1], [8, 9, 1, -100]])
    outputs = model(**inputs, labels=labels)
    log_probs = outputs.logits.log_softmax(-1)
    kept = labels != -100
    nll = -log_probs.gather(-1, labels.clamp_min(0)[..., None])[..., 0][kept]
    uniform = -log_probs.mean(-1)[kept]
    torch.testing.assert_close(outputs.loss, (0.8 * nll + 0.2 * uniform).mean())


def test_lm_head_is_not_tied_and_embeddings_are_shared(tmp_path):
    model = build(tiny_config())
    lm = model.language_model
    assert lm.lm_head.weight.data_ptr() != lm.shared.weight.data_ptr()
    assert lm.encoder.embed_tokens.weight is lm.shared.weight and lm.decoder.embed_tokens.weight is lm.shared.weight
    model.save_pretrained(tmp_path)
    reloaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path).language_model
    assert reloaded.lm_head.weight.data_ptr() != reloaded.shared.weight.data_ptr()
    assert not torch.equal(reloaded.lm_head.weight, reloaded.shared.weight)
    assert reloaded.encoder.embed_tokens.weight is reloaded.shared.weight


# -- save / load -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_rgb", [False, True])
def test_save_and_load_are_identical(tmp_path, use_rgb):
    config = tiny_config(use_rgb=use_rgb)
    model = build(config)
    inputs = random_inputs(config, with_hands=use_rgb)
    model.save_pretrained(tmp_path)
    for loader in (AutoModelForSeq2SeqLM, AutoModel, UniSignForConditionalGeneration):
        reloaded = loader.from_pretrained(tmp_path).eval()
        assert type(reloaded) is UniSignForConditionalGeneration
        expected, actual = model.state_dict(), reloaded.state_dict()
        assert expected.keys() == actual.keys()
        assert all(torch.equal(expected[key], actual[key]) for key in expected)
        # buffers that are not saved are rebuilt, not left as garbage from empty tensors
        if use_rgb:
            torch.testing.assert_close(
                reloaded.prior_guided_fusion.cell_positions, model.prior_guided_fusion.cell_positions
            )
        assert torch.equal(
            model.generate(**inputs, num_beams=1, max_new_tokens=6),
            reloaded.generate(**inputs, num_beams=1, max_new_tokens=6),
        )
    assert reloaded.generation_config.num_beams == 4 and reloaded.generation_config.max_new_tokens == 100


def test_pose_only_weights_in_rgb_model_start_equal_to_pose_only(tmp_path):
    pose_only = build(tiny_config())
    pose_only.save_pretrained(tmp_path)
    rgb = UniSignForConditionalGeneration.from_pretrained(tmp_path, use_rgb=True).eval()
    assert rgb.config.use_rgb
    assert (
        rgb.prior_guided_fusion.gate[2].weight.abs().sum() == 0
        and rgb.prior_guided_fusion.gate[0].bias.abs().sum() == 0
    )
    assert rgb.prior_guided_fusion.prior_frequencies.abs().sum() > 0  # the random Fourier matrix is initialised
    inputs = random_inputs(rgb.config, with_hands=True)
    with torch.no_grad():
        pose_inputs = {k: v for k, v in inputs.items() if not k.startswith("hand_")}
        expected = pose_only.embed_inputs(**pose_inputs).inputs_embeds
        actual = rgb.embed_inputs(**inputs).inputs_embeds
    torch.testing.assert_close(actual, expected)


# -- batching and padding ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_rgb", [False, True])
def test_equal_length_clips_give_identical_results_alone_and_batched(use_rgb):
    config = tiny_config(use_rgb=use_rgb)
    model = build(config)
    inputs = random_inputs(config, lengths=(6, 6, 6), with_hands=use_rgb)
    with torch.no_grad():
        batched = model.embed_inputs(**inputs).inputs_embeds
        batched_ids = model.generate(**inputs, max_new_tokens=6)
        for row in range(3):
            alone_inputs = select_rows(inputs, [row])
            torch.testing.assert_close(model.embed_inputs(**alone_inputs).inputs_embeds[0], batched[row])
            alone_ids = model.generate(**alone_inputs, max_new_tokens=6)
            assert torch.equal(alone_ids[0, : batched_ids.shape[1]], batched_ids[row, : alone_ids.shape[1]])


def test_padding_changes_only_the_last_frames_of_a_short_clip_by_default():
    """Reference behaviour: padding repeats the last frame and the temporal convolutions see it.

    Each temporal block sees (kernel - 1) / 2 frames ahead, so with 2 blocks of kernel 3 the last 2 real frames of a
    padded clip differ from the clip alone, and every earlier frame is the same.
    """
    config = tiny_config()
    model = build(config)
    inputs = random_inputs(config, lengths=(9, 5))
    reach = config.pose_num_temporal_blocks * (config.pose_temporal_kernel_size - 1) // 2
    prompt = inputs["input_ids"].shape[1]
    with torch.no_grad():
        batched = model.embed_inputs(**inputs).inputs_embeds[1, prompt : prompt + 5]
        alone = model.embed_inputs(**select_rows(inputs, [1], frames=5)).inputs_embeds[0, prompt:]
    difference = (batched - alone).abs().amax(dim=-1)
    assert difference[: 5 - reach].max() < 1e-5
    assert (difference[5 - reach :] > 1e-4).all()


@pytest.mark.parametrize("use_rgb", [False, True])
def test_mask_padded_frames_makes_batching_invisible(use_rgb):
    config = tiny_config(mask_padded_frames=True, use_rgb=use_rgb)
    model = build(config)
    inputs = random_inputs(config, lengths=(9, 5, 3), with_hands=use_rgb)
    prompt = inputs["input_ids"].shape[1]
    with torch.no_grad():
        batched = model.embed_inputs(**inputs).inputs_embeds
        batched_ids = model.generate(**inputs, max_new_tokens=6, num_beams=2)
        for row, length in enumerate((9, 5, 3)):
            alone_inputs = select_rows(inputs, [row], frames=length)
            alone = model.embed_inputs(**alone_inputs).inputs_embeds[0]
            torch.testing.assert_close(alone, batched[row, : prompt + length])
            alone_ids = model.generate(**alone_inputs, max_new_tokens=6, num_beams=2)[0]
            assert torch.equal(alone_ids, batched_ids[row, : alone_ids.shape[0]])


@pytest.mark.parametrize("use_rgb", [False, True])
def test_batching_the_hands_together_changes_nothing_in_eval_mode(use_rgb):
    reference = build(tiny_config(use_rgb=use_rgb, mask_padded_frames=True))
    together = build(tiny_config(use_rgb=use_rgb, mask_padded_frames=True, batch_hands_together=True))
    together.load_state_dict(reference.state_dict())
    inputs = random_inputs(reference.config, lengths=(9, 5, 3), with_hands=use_rgb)
    with torch.no_grad():
        torch.testing.assert_close(
            together.embed_inputs(**inputs).inputs_embeds, reference.embed_inputs(**inputs).inputs_embeds
        )


@pytest.mark.parametrize("together", [False, True])
def test_eval_mode_normalises_the_hands_as_training_did_only_when_they_share_a_batch(together):
    """Batch norms whose running statistics hold one training batch's statistics (momentum 1) give that batch
    nearly its training-mode output in eval mode (the running variance is the unbiased estimate: the body shows
    how near). The hands do too when they share a batch; normalised separately in training, the running statistics
    are the right hand's (the last call) and the left hand comes out far from its training-mode output."""
    model = build(tiny_config(mask_padded_frames=True, batch_hands_together=together))
    for norm in model.modules():
        if isinstance(norm, torch.nn.BatchNorm2d):
            norm.momentum = 1.0
    inputs = random_inputs(model.config, lengths=(16,) * 8, seed=1)
    with torch.no_grad():
        training = model.train().pose_encoder(inputs["pose_values"], inputs["pose_attention_mask"])
        evaluation = model.eval().pose_encoder(inputs["pose_values"], inputs["pose_attention_mask"])
    gaps = dict(zip(PART_NAMES, (training - evaluation).abs().chunk(4, dim=-1), strict=True))
    gaps = {part: gap.max().item() for part, gap in gaps.items()}
    if together:
        assert gaps["left_hand"] < 2 * gaps["body"] and gaps["right_hand"] < 2 * gaps["body"], gaps
    else:
        assert gaps["left_hand"] > 5 * gaps["body"] and gaps["right_hand"] < 2 * gaps["body"], gaps


# -- generation --------------------------------------------------------------------------------------------------


def test_greedy_with_and_without_cache_agree():
    config = tiny_config()
    model = build(config)
    inputs = random_inputs(config)
    with_cache = model.generate(**inputs, num_beams=1, max_new_tokens=10, min_new_tokens=10, use_cache=True)
    without_cache = model.generate(**inputs, num_beams=1, max_new_tokens=10, min_new_tokens=10, use_cache=False)
    assert with_cache.shape == (2, 11)
    assert torch.equal(with_cache, without_cache)


def test_beam_search_is_deterministic_and_returns_sequences():
    config = tiny_config()
    model = build(config)
    inputs = random_inputs(config)
    first = model.generate(**inputs, max_new_tokens=8, num_return_sequences=2)
    second = model.generate(**inputs, max_new_tokens=8, num_return_sequences=2)
    assert first.shape[0] == 4 and torch.equal(first, second)
    assert (first[:, 0] == config.decoder_start_token_id).all()


# -- bad input -----------------------------------------------------------------------------------------------------


def corrupt(inputs, **changes):
    return {**inputs, **changes}


@pytest.mark.parametrize(
    "make_bad, message",
    [
        (lambda x: corrupt(x, pose_values=x["pose_values"][:, :, :60]), "pose_values` must have shape"),
        (lambda x: corrupt(x, pose_values=x["pose_values"][..., :2]), "pose_values` must have shape"),
        (
            lambda x: corrupt(
                x, pose_values=x["pose_values"][:, :0], pose_attention_mask=x["pose_attention_mask"][:, :0]
            ),
            "zero frames",
        ),
        (lambda x: corrupt(x, pose_values=x["pose_values"].index_fill(1, torch.tensor([2]), float("nan"))), "NaN"),
        (
            lambda x: corrupt(x, pose_values=x["pose_values"].index_fill(1, torch.tensor([0]), float("inf"))),
            "NaN or inf",
        ),
        (
            lambda x: corrupt(x, pose_attention_mask=x["pose_attention_mask"][:, :3]),
            "pose_attention_mask` must have shape",
        ),
        (lambda x: corrupt(x, pose_attention_mask=x["pose_attention_mask"].flip(1)), "padding after them"),
        (
            lambda x: corrupt(x, pose_attention_mask=torch.zeros_like(x["pose_attention_mask"])),
            "at least one real frame",
        ),
        (lambda x: corrupt(x, input_ids=None), "input_ids"),
        (lambda x: corrupt(x, input_ids=x["input_ids"][:1]), "input_ids` must have shape"),
        (lambda x: corrupt(x, hand_frame_indices=x["hand_frame_indices"] + 100), "hand_frame_indices"),
        (lambda x: corrupt(x, hand_frame_indices=x["hand_frame_indices"] - 10), "hand_frame_indices"),
        (lambda x: corrupt(x, hand_sample_indices=x["hand_sample_indices"] + 5), "hand_sample_indices"),
        (lambda x: corrupt(x, hand_sides=x["hand_sides"] + 2), "hand_sides"),
        (lambda x: corrupt(x, hand_keypoints=x["hand_keypoints"][:, :20]), "hand_keypoints"),
        (lambda x: corrupt(x, hand_sides=None), "need all of"),
    ],
)
def test_bad_inputs_raise_clear_errors(make_bad, message):
    config = tiny_config(use_rgb=True, check_input_values=True)
    model = build(config)
    inputs = make_bad(random_inputs(config, with_hands=True))
    with pytest.raises(ValueError, match=message):
        model(**inputs)


def test_value_checks_are_off_by_default_and_shape_checks_stay():
    config = tiny_config(use_rgb=True)
    model = build(config)
    inputs = random_inputs(config, with_hands=True)
    inputs["pose_values"][0, 1, 0, 0] = float("nan")
    with torch.no_grad():
        assert torch.isnan(model.embed_inputs(**inputs).inputs_embeds).any()  # passed through: no value check
    with pytest.raises(ValueError, match="pose_values` must have shape"):
        model.embed_inputs(**corrupt(inputs, pose_values=inputs["pose_values"][..., :2]))


def test_an_rgb_pose_model_without_hand_crops_refuses():
    config = tiny_config(use_rgb=True)
    model = build(config)
    pose_only_inputs = random_inputs(config)
    with pytest.raises(ValueError, match="needs hand crops"):
        model.generate(**pose_only_inputs)
    with pytest.raises(ValueError, match="needs hand crops"):
        model(**pose_only_inputs, labels=torch.tensor([[5, 1], [6, 1]]))


def test_embed_inputs_returns_a_model_output_and_return_dict_is_honoured():
    config = tiny_config()
    model = build(config)
    inputs = random_inputs(config)
    labels = torch.tensor([[5, 6, 1], [7, 1, -100]])
    with torch.no_grad():
        embedded = model.embed_inputs(**inputs)
        as_dict = model(**inputs, labels=labels)
        as_tuple = model(**inputs, labels=labels, return_dict=False)
    assert isinstance(embedded, ModelOutput) and embedded[0] is embedded.inputs_embeds
    assert isinstance(as_tuple, tuple) and torch.equal(as_tuple[0], as_dict.loss)
    assert torch.equal(as_tuple[1], as_dict.logits)


def test_gradient_checkpointing_gives_the_same_gradients():
    config = tiny_config()
    model = build(config).double().train()  # float64: the recomputation rounds differently, by 1e-7 in float32
    inputs = random_inputs(config)
    labels = torch.tensor([[5, 6, 1], [7, 1, -100]])

    def step() -> tuple[dict, int]:
        """Gradients of one step, and how many values the forward pass kept for the backward pass."""
        saved = []
        model.zero_grad()
        with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t, lambda t: t):
            loss = model(**inputs, labels=labels).loss
        loss.backward()
        gradients = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
        return gradients, sum(saved)

    plain, plain_saved = step()
    assert model.supports_gradient_checkpointing
    model.gradient_checkpointing_enable()
    assert model.is_gradient_checkpointing
    assert all(block.gradient_checkpointing for block in model.pose_encoder.parts["body"].temporal)
    checkpointed, checkpointed_saved = step()
    assert checkpointed_saved < plain_saved / 2  # the layers' activations are recomputed, not kept
    assert plain.keys() == checkpointed.keys() and len(plain) > 20
    for name, gradient in plain.items():
        torch.testing.assert_close(checkpointed[name], gradient, rtol=1e-9, atol=1e-12, msg=name)


def test_hand_crops_for_a_pose_only_model_raise():
    config = tiny_config()
    model = build(config)
    inputs = random_inputs(tiny_config(use_rgb=True), with_hands=True)
    with pytest.raises(ValueError, match="no RGB branch"):
        model.generate(**inputs)
