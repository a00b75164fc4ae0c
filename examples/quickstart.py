"""Quick start: build a tiny Uni-Sign model, save it, load it back with one call, and translate a random clip.

Run with `python examples/quickstart.py` (no download: the language model and its vocabulary are tiny and random).
"""

import tempfile

import torch
from transformers import AutoModelForSeq2SeqLM

from unisign import UniSignConfig, UniSignForConditionalGeneration


def main() -> None:
    """Build, save, reload and generate."""
    torch.manual_seed(0)
    text_config = {"vocab_size": 128, "d_model": 64, "d_kv": 16, "d_ff": 128, "num_layers": 2, "num_heads": 4}
    config = UniSignConfig(text_config=text_config, use_rgb=False)
    model = UniSignForConditionalGeneration(config).eval()
    print(f"Built a Uni-Sign model with {sum(p.numel() for p in model.parameters()):,} parameters.")

    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        reloaded = AutoModelForSeq2SeqLM.from_pretrained(folder).eval()
    print(f"Reloaded it with AutoModelForSeq2SeqLM.from_pretrained: {type(reloaded).__name__}.")

    frames = 48
    pose_values = torch.rand(1, frames, config.num_pose_nodes, 3) * 2 - 1  # (batch, frames, 69 keypoints, x/y/score)
    prompt_ids = torch.tensor([[5, 6, 7, config.eos_token_id]])  # a real model gets these from UniSignProcessor
    generated = reloaded.generate(input_ids=prompt_ids, pose_values=pose_values, max_new_tokens=10)
    same = torch.equal(generated, model.generate(input_ids=prompt_ids, pose_values=pose_values, max_new_tokens=10))
    print(f"Generated token ids with 4-beam search: {generated[0].tolist()} (identical before and after: {same}).")


if __name__ == "__main__":
    main()
