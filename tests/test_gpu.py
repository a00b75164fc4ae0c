"""Checks that need a CUDA GPU (marker `gpu`: `conftest.py` skips them where torch sees none)."""

import pytest
import torch

from unisign import UniSignForConditionalGeneration

from .modeling_helpers import random_inputs, tiny_config


pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("use_rgb", [False, True])
def test_a_cuda_model_computes_the_cpu_models_loss_and_logits(use_rgb, monkeypatch):
    # float32 convolutions, as on the CPU (cuDNN allows TF32 by default; matrix products do not)
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    config = tiny_config(use_rgb=use_rgb)
    torch.manual_seed(0)
    model = UniSignForConditionalGeneration(config).eval()
    inputs = {**random_inputs(config, with_hands=use_rgb), "labels": torch.tensor([[5, 6, 7, 1], [8, 9, 1, -100]])}
    with torch.no_grad():
        on_cpu = model(**inputs)
        on_cuda = model.cuda()(**{name: value.cuda() for name, value in inputs.items()})
    torch.testing.assert_close(on_cuda.logits.cpu(), on_cpu.logits, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(on_cuda.loss.cpu(), on_cpu.loss, rtol=1e-4, atol=1e-4)


def test_a_bf16_autocast_step_on_cuda_gives_finite_gradients_everywhere():
    config = tiny_config()
    torch.manual_seed(0)
    model = UniSignForConditionalGeneration(config).cuda().train()
    inputs = {name: value.cuda() for name, value in random_inputs(config).items()}
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = model(**inputs, labels=torch.tensor([[5, 6, 7, 1], [8, 9, 1, -100]], device="cuda")).loss
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    assert next(model.pose_encoder.parameters()).grad is not None
