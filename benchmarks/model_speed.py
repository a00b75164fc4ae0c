"""Training-step and generation speed of Uni-Sign at the released geometry (mT5-base, random weights).

    python benchmarks/model_speed.py train --batch-size 2 --frames 64                      # CPU, fp32
    python benchmarks/model_speed.py train --batch-size 16 --frames 256 --dtype bf16 --device cuda
    python benchmarks/model_speed.py train --batch-size 4 --frames 256 --rgb-crops 26 --dtype bf16-autocast
    python benchmarks/model_speed.py generate --batch-size 1 --frames 250 --new-tokens 20

Defaults are the package's: its channels-last pose encoder, fused AdamW, and 2 MB pages for large CPU tensors
(`THP_MEM_ALLOC_ENABLE=1`, as `python train.py` sets). The reference-style baseline on the same machine:
`THP_MEM_ALLOC_ENABLE=0 python benchmarks/model_speed.py train --oracle --unfused-optimizer`, where `--oracle` swaps
in the reference's channels-first pose encoder that the tests check the model against (`tests/reference_unisign.py`,
same weights).

Prints one JSON object per run: step time, samples/s, peak memory and model-FLOPs utilisation (training), or
clips/s and latency (generation with 4 beams and a forced output length).

FLOP count (`estimate_training_flops`): forward matmul/conv FLOPs counted as 2 x multiply-adds, training = 3 x forward
(backward costs twice the forward). Pose encoder, per part and block: 1x1 graph conv `2 T V C_in 2C_out`, adjacency
`2 T 2C_out V V`, temporal conv `2 T V C C k`, residual conv `2 T V C_in C_out`; the two hands counted twice.
Language model: `2 x parameters touched x tokens` for the encoder (prompt + frames) and decoder (targets) stacks, the
LM head on targets only, plus attention `4 L^2 d` per layer (self) and `4 L_dec L_enc d` (cross). Element-wise work
(norms, activations, softmax) and the optimizer are not counted.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path


# as `python train.py` does: 2 MB pages for large tensors (fresh gradient buffers then fault 2 MB at a time, not 4 KB)
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

import torch  # noqa: E402

from unisign import UniSignConfig, UniSignForConditionalGeneration  # noqa: E402


BF16_PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0}  # dense bf16 tensor-core peak (SXM), for utilisation


def oracle_pose_encoder(model: UniSignForConditionalGeneration) -> torch.nn.Module:
    """The reference implementation of `model`'s pose encoder, kept with the tests (`tests/reference_unisign.py`)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, where `tests` is a package
    from tests.reference_unisign import reference_pose_encoder

    return reference_pose_encoder(model)


def build_model(args) -> UniSignForConditionalGeneration:
    """mT5-base geometry with random weights, in the asked dtype, on the asked device."""
    config = UniSignConfig(use_rgb=args.rgb_crops > 0, check_input_values=args.check_input_values)
    with torch.device(args.device):
        model = UniSignForConditionalGeneration(config)
    if args.oracle:
        model.pose_encoder = oracle_pose_encoder(model)
    if args.dtype == "bf16":
        model = model.to(torch.bfloat16)
    return model


def synthetic_batch(config: UniSignConfig, batch_size: int, frames: int, target_length: int, crops: int, device):
    """Fixed-length random inputs: every clip `frames` long, `crops` hand crops per hand and clip."""
    generator = torch.Generator().manual_seed(0)
    batch = {
        "input_ids": torch.randint(5, 1000, (batch_size, 26), generator=generator),
        "pose_values": torch.rand(batch_size, frames, config.num_pose_nodes, 3, generator=generator) * 2 - 1,
        "pose_attention_mask": torch.ones(batch_size, frames, dtype=torch.long),
        "labels": torch.randint(5, 1000, (batch_size, target_length), generator=generator),
    }
    if crops:
        count = 2 * batch_size * crops
        frame_indices = torch.stack(
            [torch.randperm(frames, generator=generator)[:crops].sort().values for _ in range(2 * batch_size)]
        )
        batch.update(
            hand_pixel_values=torch.randn(count, 3, 112, 112, generator=generator),
            hand_keypoints=torch.rand(count, 21, 2, generator=generator),
            hand_frame_indices=frame_indices.reshape(-1),
            hand_sample_indices=torch.arange(batch_size).repeat_interleave(crops).repeat(2),
            hand_sides=torch.arange(2).repeat_interleave(batch_size * crops),
        )
    return {key: value.to(device) for key, value in batch.items()}


def estimate_training_flops(config: UniSignConfig, batch_size: int, frames: int, target_length: int) -> float:
    """Model FLOPs of one training step (see the module docstring for what is counted)."""
    pose = 0
    for indices in config.pose_part_indices.values():
        nodes = len(indices)
        channels = [config.pose_embed_dim, *config.pose_spatial_channels]
        blocks = (
            list(zip(channels[:-1], channels[1:], [1] * 3, strict=True))
            + [(config.pose_hidden_size, config.pose_hidden_size, config.pose_temporal_kernel_size)]
            * config.pose_num_temporal_blocks
        )
        for c_in, c_out, kernel in blocks:
            pose += 2 * frames * nodes * c_in * 2 * c_out + 2 * frames * 2 * c_out * nodes * nodes
            pose += 2 * frames * nodes * c_out * c_out * kernel if kernel > 1 else 0
            pose += 2 * frames * nodes * c_in * c_out if c_in != c_out else 0
    text = config.text_config
    encoder_tokens, decoder_tokens = 26 + frames, target_length
    attention = 4 * text.num_heads * text.d_kv * text.d_model  # q, k, v, o
    feed_forward = 3 * text.d_model * text.d_ff  # gated: wi_0, wi_1, wo
    encoder = text.num_layers * (attention + feed_forward) * 2 * encoder_tokens
    encoder += text.num_layers * 4 * encoder_tokens**2 * text.num_heads * text.d_kv
    decoder = text.num_decoder_layers * (2 * attention + feed_forward) * 2 * decoder_tokens
    decoder += text.num_decoder_layers * 4 * (decoder_tokens**2 + decoder_tokens * encoder_tokens) * text.d_model
    head = 2 * decoder_tokens * text.d_model * text.vocab_size
    projection = 2 * frames * 4 * config.pose_hidden_size * text.d_model
    return 3.0 * batch_size * (pose + projection + encoder + decoder + head)


def device_name(device: str) -> str:
    """Human-readable name of the device the benchmark ran on."""
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def synchronize(device: str) -> None:
    """Wait for queued GPU work, so timings cover it."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def benchmark_training(args) -> dict:
    model = build_model(args).train()
    if args.compile:
        model.pose_encoder = torch.compile(model.pose_encoder)
    batch = synthetic_batch(
        model.config, args.batch_size, args.frames, args.target_length, args.rgb_crops, args.device
    )
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=3e-4, weight_decay=1e-4, eps=1e-9, fused=not args.unfused_optimizer
    )
    autocast = torch.autocast(
        device_type=args.device.split(":")[0], dtype=torch.bfloat16, enabled=args.dtype == "bf16-autocast"
    )
    times = []
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    for step in range(args.warmup + args.steps):
        synchronize(args.device)
        start = time.perf_counter()
        with autocast:
            loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        synchronize(args.device)
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    step_time = sorted(times)[len(times) // 2]
    flops = estimate_training_flops(model.config, args.batch_size, args.frames, args.target_length)
    result = {
        "mode": "train",
        "dtype": args.dtype,
        "pose_encoder": "oracle" if args.oracle else "fast_path",
        "optimizer": "AdamW (foreach)" if args.unfused_optimizer else "AdamW (fused)",
        "batch_size": args.batch_size,
        "frames": args.frames,
        "rgb_crops_per_hand": args.rgb_crops,
        "check_input_values": args.check_input_values,
        "step_time_s": round(step_time, 4),
        "samples_per_s": round(args.batch_size / step_time, 2),
        "model_tflop_per_step": round(flops / 1e12, 3),
        "achieved_tflops": round(flops / step_time / 1e12, 2),
    }
    if args.device.startswith("cuda"):
        result["peak_memory_gb"] = round(torch.cuda.max_memory_allocated() / 1e9, 2)
        peak = next((v for k, v in BF16_PEAK_TFLOPS.items() if k in device_name(args.device)), None)
        if peak:
            result["mfu_percent_of_bf16_peak"] = round(100 * flops / step_time / 1e12 / peak, 2)
    return result


@torch.no_grad()
def benchmark_generation(args) -> dict:
    model = build_model(args).eval()
    batch = synthetic_batch(model.config, args.batch_size, args.frames, 1, args.rgb_crops, args.device)
    batch.pop("labels")
    kwargs = {"num_beams": 4, "max_new_tokens": args.new_tokens, "min_new_tokens": args.new_tokens}
    times = []
    for step in range(args.warmup + args.steps):
        synchronize(args.device)
        start = time.perf_counter()
        generated = model.generate(**batch, **kwargs)
        synchronize(args.device)
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    assert generated.shape[1] == args.new_tokens + 1
    latency = sorted(times)[len(times) // 2]
    return {
        "mode": "generate",
        "dtype": args.dtype,
        "pose_encoder": "oracle" if args.oracle else "fast_path",
        "batch_size": args.batch_size,
        "frames": args.frames,
        "new_tokens": args.new_tokens,
        "num_beams": 4,
        "latency_s": round(latency, 4),
        "clips_per_s": round(args.batch_size / latency, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["train", "generate"])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=["fp32", "bf16-autocast", "bf16"], default="fp32")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--target-length", type=int, default=20)
    parser.add_argument("--new-tokens", type=int, default=20)
    parser.add_argument("--rgb-crops", type=int, default=0, help="hand crops per hand and clip (0: pose only)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the pose encoder")
    parser.add_argument("--oracle", action="store_true", help="the tests' reference pose encoder")
    parser.add_argument(
        "--unfused-optimizer", action="store_true", help="AdamW's default multi-tensor step instead of the fused one"
    )
    parser.add_argument(
        "--check-input-values",
        action="store_true",
        help="check input values on every forward (each check waits for the device; off by default)",
    )
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(0)
    result = benchmark_training(args) if args.mode == "train" else benchmark_generation(args)
    result.update(device=device_name(args.device), torch=torch.__version__, command=" ".join(sys.argv))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
