"""The model's pose encoder (channels-last, the fast path) against the reference implementation (the oracle).

The oracle is tests/reference_unisign.py: the reference's channels-first computation, with the same parameters. In
float64 the two agree to rounding, which shows the same mathematics; in float32 they differ by the rounding of
different summation orders (and, in training, of PyTorch's CPU batch-norm statistics for channels-last memory); in
bfloat16 by bfloat16's resolution. The golden parity tests run both as well.
"""

import pytest
import torch

from unisign import UniSignForConditionalGeneration

from .modeling_helpers import random_inputs, tiny_config
from .reference_unisign import with_reference_pose_encoder


def paired_models(dtype=torch.float32, **overrides) -> tuple[UniSignForConditionalGeneration, ...]:
    """A model and a copy of it whose pose encoder is the reference implementation (the oracle)."""
    torch.manual_seed(0)
    model = UniSignForConditionalGeneration(tiny_config(**overrides)).to(dtype)
    # non-trivial batch-norm statistics and a gate that lets the RGB branch in
    with torch.no_grad():
        for name, buffer in model.named_buffers():
            if name.endswith(("running_mean", "running_var")):
                buffer.uniform_(0.5, 1.5)
        if model.prior_guided_fusion is not None:
            model.prior_guided_fusion.gate[2].bias.fill_(0.5)
    return model, with_reference_pose_encoder(model)


def inputs_for(config, dtype=torch.float32, with_hands=False) -> dict:
    """Three clips of different lengths (padding in two of them) with labels, floats cast to `dtype`."""
    inputs = random_inputs(config, lengths=(9, 6, 3), with_hands=with_hands, seed=3)
    inputs["labels"] = torch.randint(
        2, config.text_config.vocab_size, (3, 5), generator=torch.Generator().manual_seed(1)
    )
    return {key: value.to(dtype) if value.is_floating_point() else value for key, value in inputs.items()}


def run_training_step(model, inputs) -> tuple[torch.Tensor, torch.Tensor, dict, dict]:
    """Loss, logits, gradients and batch-norm buffers after one forward/backward in training mode."""
    model.train()
    model.zero_grad()
    torch.manual_seed(0)  # the same dropout and stochastic-depth draws for both models
    outputs = model(**inputs)
    outputs.loss.backward()
    gradients = {name: p.grad for name, p in model.named_parameters() if p.grad is not None}
    buffers = {name: b.clone() for name, b in model.named_buffers() if "running" in name}
    return outputs.loss, outputs.logits, gradients, buffers


def assert_relative_close(actual, expected, rtol):
    scale = expected.abs().max().clamp_min(1e-12)
    assert ((actual - expected).abs().max() / scale).item() < rtol


@pytest.mark.parametrize("mask_padded_frames", [False, True])
@pytest.mark.parametrize("with_hands", [False, True], ids=["pose_only", "rgb_pose"])
def test_pose_encoder_is_the_reference_mathematics_in_float64(mask_padded_frames, with_hands):
    fast, oracle = paired_models(torch.float64, mask_padded_frames=mask_padded_frames, use_rgb=with_hands)
    inputs = inputs_for(fast.config, torch.float64, with_hands)
    fast_loss, fast_logits, fast_gradients, fast_buffers = run_training_step(fast, inputs)
    loss, logits, gradients, buffers = run_training_step(oracle, inputs)
    torch.testing.assert_close(fast_loss, loss, rtol=1e-12, atol=0)
    torch.testing.assert_close(fast_logits, logits, rtol=1e-10, atol=1e-12)
    assert fast_gradients.keys() == gradients.keys()
    for name, gradient in gradients.items():
        # a bias feeding a batch norm has gradient 0 in exact arithmetic: compare it on the scale of its weight's
        scale = gradients[name.replace(".bias", ".weight")].abs().max() if name.endswith("bias") else 0
        torch.testing.assert_close(fast_gradients[name], gradient, rtol=1e-9, atol=1e-12 + 1e-9 * scale, msg=name)
    for name, buffer in buffers.items():
        torch.testing.assert_close(fast_buffers[name], buffer, rtol=1e-12, atol=1e-14, msg=name)


@pytest.mark.parametrize("with_hands", [False, True], ids=["pose_only", "rgb_pose"])
def test_pose_encoder_equals_the_reference_in_float32(with_hands):
    fast, oracle = paired_models(use_rgb=with_hands)
    inputs = inputs_for(fast.config, with_hands=with_hands)
    for model in (fast, oracle):
        model.eval()
    with torch.no_grad():
        fast_embeds = fast.embed_inputs(**{k: v for k, v in inputs.items() if k != "labels"}).inputs_embeds
        embeds = oracle.embed_inputs(**{k: v for k, v in inputs.items() if k != "labels"}).inputs_embeds
        assert_relative_close(fast_embeds, embeds, rtol=1e-5)
        assert_relative_close(fast(**inputs).logits, oracle(**inputs).logits, rtol=1e-5)
    generate_inputs = {k: v for k, v in inputs.items() if k != "labels"}
    assert torch.equal(
        fast.generate(**generate_inputs, max_new_tokens=6), oracle.generate(**generate_inputs, max_new_tokens=6)
    )

    fast_loss, _, fast_gradients, fast_buffers = run_training_step(fast, inputs)
    loss, _, gradients, buffers = run_training_step(oracle, inputs)
    torch.testing.assert_close(fast_loss, loss, rtol=1e-5, atol=0)
    for name, gradient in gradients.items():
        if name.endswith("bias") and name.replace(".bias", ".weight") in gradients:
            continue  # biases feeding a batch norm: 0 in exact arithmetic, rounding noise in both
        # training-mode batch norms over a tiny batch magnify float32 rounding (1e-3 to 4e-3 of the largest gradient
        # on an AVX-512 Xeon, varying from run to run); the float64 test above shows the two are the same mathematics
        assert_relative_close(fast_gradients[name], gradient, rtol=1e-2)
    for name, buffer in buffers.items():
        torch.testing.assert_close(fast_buffers[name], buffer, rtol=1e-4, atol=1e-5, msg=name)


def test_bfloat16_model_stays_within_bfloat16_resolution_of_the_float32_reference():
    fast, oracle = paired_models()
    fast.to(torch.bfloat16).eval()
    oracle.eval()
    inputs = inputs_for(fast.config)
    with torch.no_grad():
        fast_logits = fast(**inputs).logits  # float32 inputs, cast by the model
        logits = oracle(**inputs).logits
    assert fast_logits.dtype == torch.bfloat16
    assert_relative_close(fast_logits.float(), logits, rtol=5e-2)


def test_pose_encoder_compiles_without_graph_breaks():
    model = UniSignForConditionalGeneration(tiny_config(mask_padded_frames=True))
    inputs = random_inputs(model.config, lengths=(9, 6, 3))
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(model.pose_encoder)(inputs["pose_values"], inputs["pose_attention_mask"])
    assert explanation.graph_break_count == 0, explanation.break_reasons
    assert explanation.graph_count == 1


def test_compiled_pose_encoder_trains_like_eager():
    """`torch.compile` (through AOTAutograd, no C++ compiler needed) gives the eager forward and gradients."""
    model = UniSignForConditionalGeneration(tiny_config()).train()
    inputs = random_inputs(model.config, lengths=(9, 6, 3))
    args = (inputs["pose_values"], inputs["pose_attention_mask"])
    torch._dynamo.reset()
    compiled = torch.compile(model.pose_encoder, backend="aot_eager", fullgraph=True)
    results = []
    for encoder in (model.pose_encoder, compiled):
        model.zero_grad()
        features = encoder(*args)
        features.square().mean().backward()
        results.append((features.detach(), model.pose_encoder.parts["hand"].embed.weight.grad.clone()))
    torch.testing.assert_close(results[1][0], results[0][0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(results[1][1], results[0][1], rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("use_rgb", [False, True], ids=["pose_only", "rgb_pose"])
def test_from_pretrained_in_bfloat16_builds_every_tensor_in_bfloat16(tmp_path, use_rgb):
    """Tensors the model builds itself (graph adjacencies, the PGF position table) follow `dtype` like the weights."""
    UniSignForConditionalGeneration(tiny_config(use_rgb=use_rgb)).save_pretrained(tmp_path)
    model = UniSignForConditionalGeneration.from_pretrained(tmp_path, dtype=torch.bfloat16).eval()
    floats = [(name, t) for name, t in [*model.named_parameters(), *model.named_buffers()] if t.is_floating_point()]
    assert [name for name, t in floats if t.dtype != torch.bfloat16] == []
    inputs = inputs_for(model.config, with_hands=use_rgb)
    inputs.pop("labels")
    assert model.generate(**inputs, max_new_tokens=3).shape[0] == 3
