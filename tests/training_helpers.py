"""Tiny tokenizer, language model, pose dataset and run configs for the training tests (no download, no shared/)."""

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import yaml
from transformers import AutoTokenizer, MT5Config, MT5ForConditionalGeneration, T5Tokenizer

from unisign import PoseSample
from unisign.data import samples_to_dataset_dict, save_pose_dataset


REPO = Path(__file__).resolve().parents[1]

WORDS = ["I", "you", "go", "come", "store", "home", "today", "tomorrow", "happy", "sad", "eat", "drink"]
TINY_LM = {"d_model": 16, "d_kv": 8, "d_ff": 32, "num_layers": 1, "num_decoder_layers": 1, "num_heads": 2}
TINY_POSE = {
    "pose_embed_dim": 8,
    "pose_spatial_channels": [8, 16, 16],
    "pose_num_temporal_blocks": 1,
    "pgf_head_dim": 2,
}


def load_script(path: Path, module_name: str):
    """A script of the repository (`evaluate.py`, an example) imported as a module under `module_name`."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_tokenizer(folder: Path) -> Path:
    """A word-level SentencePiece-style mT5 tokenizer over `WORDS` (ids: pad 0, eos 1, unk 2)."""
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [(f"\u2581{word}", -1.0) for word in WORDS + ["Translate", "sign", "language", "video", "to", "English:"]]
    vocab += [(char, -8.0) for char in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:."]
    T5Tokenizer(vocab=vocab, extra_ids=0).save_pretrained(folder)
    return folder


def make_language_model(folder: Path, vocab_size: int, seed: int = 0) -> Path:
    """A tiny random mT5 saved as a pretrained folder (what stage 1 starts from)."""
    import torch

    torch.manual_seed(seed)
    config = MT5Config(vocab_size=vocab_size, dropout_rate=0.0, **TINY_LM)
    MT5ForConditionalGeneration(config).save_pretrained(folder)
    return folder


def random_clip(rng: np.random.Generator, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """A plausible-enough random clip: keypoints in the frame's middle, confident scores."""
    keypoints = 0.5 + 0.15 * rng.standard_normal((frames, 133, 2))
    scores = rng.uniform(0.5, 1.0, (frames, 133))
    return keypoints.astype(np.float32), scores.astype(np.float32)


def write_video(path: Path, frames: np.ndarray, fps: int = 25) -> None:
    """Write `(T, H, W, 3)` uint8 frames as an MPEG-4 video with PyAV."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())


def make_pose_dataset(
    folder: Path, num_train: int = 8, num_dev: int = 4, seed: int = 0, video_dir: Path | None = None
) -> Path:
    """A small pose dataset whose targets are two-word sentences, so a model can fit it in a few steps.

    With `video_dir`, each clip also gets a random 64 x 48 video with as many frames as its poses.
    """
    rng = np.random.default_rng(seed)
    splits = {}
    for split, count in (("train", num_train), ("dev", num_dev)):
        samples = []
        for index in range(count):
            words = [WORDS[(index * 2 + k) % len(WORDS)] for k in range(2)]
            keypoints, scores = random_clip(rng, frames=int(rng.integers(6, 12)))
            video_path = None
            if video_dir is not None:
                video_path = f"{split}/{index}.mp4"
                frames = rng.integers(0, 256, (len(keypoints), 48, 64, 3), dtype=np.uint8)
                write_video(video_dir / video_path, frames)
            samples.append(
                PoseSample(
                    id=f"{split}-{index}",
                    keypoints=keypoints,
                    scores=scores,
                    width=64,
                    height=48,
                    text=" ".join(words),
                    gloss=[w.upper() for w in words],
                    video_path=video_path,
                )
            )
        splits[split] = samples
    save_pose_dataset(samples_to_dataset_dict(splits), folder)
    return folder


def write_run_config(path: Path, **sections) -> Path:
    """Write a run config: the tiny-model defaults below, with `sections` merged over them."""
    config = {
        "stage": "finetune",
        "model": {"config": dict(TINY_POSE)},
        "data": {"format": "parquet", "task": "SLT", "language": "en", "eval_split": "dev"},
        "training": {
            "batch_size": 4,
            "eval_batch_size": 4,
            "num_epochs": 1,
            "learning_rate": 1e-2,
            "log_with": None,
            "log_every": 1,
            "eval_num_beams": 1,
            "eval_max_new_tokens": 4,
            "mixed_precision": "no",
            "seed": 0,
        },
    }
    for section, values in sections.items():
        if isinstance(values, dict):
            config.setdefault(section, {}).update(values)
        else:
            config[section] = values
    path.write_text(yaml.safe_dump(config))
    return path


def run_train_script(
    config_path: Path, *extra: str, env: dict | None = None, launcher=()
) -> subprocess.CompletedProcess:
    """`train.py --config config_path *extra` in a fresh process (or under `launcher`, e.g. torchrun), offline."""
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    command = [*launcher] if launcher else [sys.executable]
    command += [str(REPO / "train.py"), "--config", str(config_path), *extra]
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=600, cwd=REPO)


def assert_same_trained_parameters(expected_folder: Path, actual_folder: Path) -> None:
    """The parameters of two exports of the same training, one of them split over processes, agree to 1e-5.

    Parameters only: batch-norm running statistics are buffers, updated once per forward (2 per step in one process
    accumulating two batches, 1 per process in two) and broadcast from rank 0 by DDP. Also left out: the biases of
    convolutions that feed a batch norm directly, whose gradient is zero in exact arithmetic (the norm removes any
    per-channel constant); Adam divides their rounding noise by its own size and moves them by +-lr whichever way the
    noise falls. The processes may run other thread counts than the single one, so reductions sum in other orders;
    Adam turns such rounding in a small gradient component into up to ~1e-4 of its lr-sized step (lr 0.01 here).
    """
    import torch
    from safetensors.torch import load_file

    expected = load_file(expected_folder / "model.safetensors")
    actual = load_file(actual_folder / "model.safetensors")
    assert expected.keys() == actual.keys()
    buffers = ("running_mean", "running_var", "num_batches_tracked")
    cancelled_biases = ("residual.0.bias", "temporal_conv.bias")
    parameters = [key for key in expected if not key.endswith(buffers + cancelled_biases)]
    assert len(parameters) > 100
    for key in parameters:
        torch.testing.assert_close(actual[key], expected[key], rtol=1e-5, atol=1e-5)


def make_run_assets(root: Path) -> SimpleNamespace:
    """What a tiny training run starts from, under `root`: `tokenizer`, `language_model` (tiny mT5), `data`."""
    tokenizer = make_tokenizer(root / "tokenizer")
    vocab_size = len(AutoTokenizer.from_pretrained(tokenizer))
    return SimpleNamespace(
        tokenizer=tokenizer,
        language_model=make_language_model(root / "mt5", vocab_size=vocab_size),
        data=make_pose_dataset(root / "data"),
    )
