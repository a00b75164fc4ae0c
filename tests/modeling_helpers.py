"""Tiny configs, random inputs and golden-batch loading shared by the model tests."""

import torch
from safetensors.torch import load_file

from unisign import UniSignConfig
from unisign.models.unisign.keypoints import PART_NAMES


TINY_TEXT_CONFIG = {
    "vocab_size": 99,
    "d_model": 16,
    "d_kv": 8,
    "d_ff": 32,
    "num_layers": 2,
    "num_decoder_layers": 2,
    "num_heads": 2,
    "dropout_rate": 0.0,
}


def tiny_config(**overrides) -> UniSignConfig:
    """A Uni-Sign config small enough for CPU tests (the LM has about 10 K parameters)."""
    settings = {
        "text_config": dict(TINY_TEXT_CONFIG),
        "pose_embed_dim": 8,
        "pose_spatial_channels": [8, 16, 16],
        "pose_num_temporal_blocks": 2,
        "pose_temporal_kernel_size": 3,
        "pgf_head_dim": 2,
    }
    settings.update(overrides)
    return UniSignConfig(**settings)


def random_inputs(config: UniSignConfig, lengths=(7, 5), prompt_length=4, with_hands=False, seed=0) -> dict:
    """Random model inputs with clips of the given lengths, padded by repeating each clip's last frame."""
    generator = torch.Generator().manual_seed(seed)
    batch, frames = len(lengths), max(lengths)
    pose = torch.rand(batch, frames, config.num_pose_nodes, 3, generator=generator) * 2 - 1
    pose[..., 2] = (pose[..., 2] + 1) / 2  # confidences in [0, 1]
    mask = torch.zeros(batch, frames, dtype=torch.long)
    for row, length in enumerate(lengths):
        pose[row, length:] = pose[row, length - 1]
        mask[row, :length] = 1
    inputs = {
        "input_ids": torch.randint(2, config.text_config.vocab_size, (batch, prompt_length), generator=generator),
        "pose_values": pose,
        "pose_attention_mask": mask,
    }
    inputs["input_ids"][:, -1] = config.eos_token_id
    if with_hands:
        rows, frames_used, sides = [], [], []
        for side in (0, 1):
            for row, length in enumerate(lengths):
                picked = torch.randperm(length, generator=generator)[: max(1, length // 3)].sort().values
                rows += [row] * len(picked)
                frames_used += picked.tolist()
                sides += [side] * len(picked)
        crop = config.rgb_crop_size
        inputs.update(
            hand_pixel_values=torch.randn(len(rows), 3, crop, crop, generator=generator),
            hand_keypoints=torch.rand(len(rows), 21, 2, generator=generator),
            hand_frame_indices=torch.tensor(frames_used),
            hand_sample_indices=torch.tensor(rows),
            hand_sides=torch.tensor(sides),
        )
    return inputs


def select_rows(inputs: dict, rows: list[int], frames: int | None = None) -> dict:
    """The inputs of some batch rows only (hand crops re-indexed), optionally cut to `frames` frames."""
    selected = {key: inputs[key][rows] for key in ("input_ids", "pose_values", "pose_attention_mask")}
    if frames is not None:
        selected["pose_values"] = selected["pose_values"][:, :frames]
        selected["pose_attention_mask"] = selected["pose_attention_mask"][:, :frames]
    if "hand_sides" in inputs:
        keep = torch.isin(inputs["hand_sample_indices"], torch.tensor(rows))
        new_row = {old: new for new, old in enumerate(rows)}
        for key in ("hand_pixel_values", "hand_keypoints", "hand_frame_indices", "hand_sides"):
            selected[key] = inputs[key][keep]
        selected["hand_sample_indices"] = torch.tensor(
            [new_row[r] for r in inputs["hand_sample_indices"][keep].tolist()]
        )
    return selected


def load_golden_batch(golden_dir) -> tuple[dict, dict, dict]:
    """Golden tensors: (io dict, pose-only model inputs, RGB-pose model inputs) in this package's input names."""
    io = load_file(golden_dir / "io.safetensors")
    batch = {key.removeprefix("batch."): value for key, value in io.items() if key.startswith("batch.")}
    reference_parts = {"body": "body", "left_hand": "left", "right_hand": "right", "face": "face_all"}
    pose_values = torch.cat([batch[reference_parts[part]] for part in PART_NAMES], dim=2)
    batch_size = pose_values.shape[0]
    pose_inputs = {
        "input_ids": io["prompt_ids"].repeat(batch_size, 1),
        "pose_values": pose_values,
        "pose_attention_mask": batch["attention_mask"],
    }
    hands = {"pixels": [], "priors": [], "frames": [], "rows": [], "sides": []}
    for side, name in enumerate(("left", "right")):
        crops_per_clip = batch[f"{name}_rgb_len"]
        hands["pixels"].append(batch[f"{name}_hands"])
        hands["priors"].append(batch[f"{name}_skeletons_norm"])
        hands["frames"].append(batch[f"{name}_sampled_indices"])
        hands["rows"].append(torch.repeat_interleave(torch.arange(batch_size), crops_per_clip))
        hands["sides"].append(torch.full((int(crops_per_clip.sum()),), side))
    rgb_inputs = dict(
        pose_inputs,
        hand_pixel_values=torch.cat(hands["pixels"]),
        hand_keypoints=torch.cat(hands["priors"]),
        hand_frame_indices=torch.cat(hands["frames"]),
        hand_sample_indices=torch.cat(hands["rows"]),
        hand_sides=torch.cat(hands["sides"]),
    )
    return io, pose_inputs, rgb_inputs
