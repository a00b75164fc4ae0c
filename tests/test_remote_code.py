"""Saved folders work with `trust_remote_code=True` in a fresh virtual environment that has no `unisign`.

For a pose-only and an RGB-pose folder (model and processor saved by their own `save_pretrained`), the processor,
the model, `AutoModel` and the `sign-language-translation` pipeline loaded as remote code must give exactly the
input tensors, logits and texts of the installed package, on arrays and on a `.pose` file of ../shared/data; nothing
may prompt (standard input is closed), and a missing optional library gives a one-line error naming its pip package.

The pose-only folder runs in the documented bare install, built for real (`bare_python`: torch, transformers,
sentencepiece, protobuf, pose-format; no Pillow, no torchvision). The RGB-pose folder needs torchvision, whose pair
for the CPU build of torch is not installable on the CI machines (PyPI's torchvision is built against the CUDA torch
of several GB): it runs in a venv that sees this environment's libraries but not `unisign` (`make_linked_venv`).
"""

import json
import os
import subprocess
import sys
import sysconfig
import textwrap

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, PreTrainedModel, pipeline

from unisign import UniSignForConditionalGeneration, UniSignProcessor
from unisign.models.unisign.remote_code import MODEL_AUTO_MAP, SHIPPED_MODULES, add_remote_code

from .conftest import DATA_DIR, GOLDEN_DIR, require_shared
from .environment_helpers import isolated_env
from .modeling_helpers import TINY_TEXT_CONFIG, tiny_config


POSE_FILE = DATA_DIR / "pose-format" / "6fb01565da31c5500d1ef2cd2906b06b.pose"

# Runs in the fresh environment: argv = folder, expected.pt, pose file. Computes what the test computed with the
# package, with the remote code only, and compares exactly.
FRESH_ENV_SCRIPT = textwrap.dedent(
    """
    import importlib.util, sys
    import numpy as np
    import torch
    from transformers import AutoModel, AutoModelForSeq2SeqLM, AutoProcessor, AutoTokenizer, pipeline

    assert importlib.util.find_spec("unisign") is None, "unisign must not be importable here"
    folder, expected_path, pose_file = sys.argv[1:4]
    expected = torch.load(expected_path, weights_only=False)

    def resolve(clip, pose_file):  # the placeholder of the `.pose` file replaced by its path
        if isinstance(clip, dict):
            return {**clip, "poses": resolve(clip["poses"], pose_file)}
        return pose_file if isinstance(clip, str) and clip == "POSE_FILE" else clip

    processor = AutoProcessor.from_pretrained(folder, trust_remote_code=True)
    assert type(processor).__name__ == "UniSignProcessor", type(processor)
    assert type(processor).__module__.startswith("transformers_modules"), type(processor).__module__
    batch = processor(**expected["call"])
    assert sorted(batch) == sorted(expected["inputs"]), (sorted(batch), sorted(expected["inputs"]))
    for name, value in expected["inputs"].items():
        torch.testing.assert_close(batch[name], value, rtol=0, atol=0, msg=name)

    model = AutoModelForSeq2SeqLM.from_pretrained(folder, trust_remote_code=True).eval()
    assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
    with torch.no_grad():
        logits = model(**batch).logits
    # same inputs, same weights; the RGB branch's convolutions may round differently in another process (seen on
    # AVX-512 Xeons: 4e-6), so logits are compared at float32 rounding and the texts exactly
    torch.testing.assert_close(logits, expected["logits"], rtol=1e-4, atol=1e-5)
    assert type(AutoModel.from_pretrained(folder, trust_remote_code=True)) is type(model)

    translator = pipeline("sign-language-translation", model=folder, trust_remote_code=True)
    for name, clip in expected["pipeline_inputs"].items():
        result = translator(resolve(clip, pose_file), max_new_tokens=6, num_beams=2)
        assert result == expected["texts"][name], (name, result, expected["texts"][name])
    assert type(AutoTokenizer.from_pretrained(folder)).__name__ == "T5Tokenizer"  # no trust prompt

    # a missing optional library: one line naming its pip package
    sys.modules["pose_format"] = None
    try:
        translator(pose_file)
    except ImportError as error:
        assert str(error) == "Reading or writing `.pose` files needs pose-format: `pip install pose-format`.", error
    else:
        raise AssertionError("no error without pose-format")
    print("remote code OK")
    """
)


def make_linked_venv(path) -> str:
    """A new virtual environment that sees this one's libraries (torch, transformers) but not the editable `unisign`.

    Its site-packages gets a `.pth` line naming ours: that puts our packages on `sys.path` without running our
    `.pth` files, among them the one that makes the editable `unisign` importable.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    fresh_site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    with open(os.path.join(fresh_site, "parent_libraries.pth"), "w") as file:
        file.write("\n".join(sorted(ours)) + "\n")
    return str(python)


def run_fresh(python: str, tmp_path, *arguments) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), *map(str, arguments)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=isolated_env(tmp_path),
        stdin=subprocess.DEVNULL,  # a trust prompt would read standard input
        timeout=600,
    )


def clip_arrays(num_frames: int, seed: int = 0) -> np.ndarray:
    """A `(T, 133, 3)` clip with confident points, so that the pose features and the hand crops are not empty."""
    rng = np.random.default_rng(seed)
    keypoints = rng.uniform(0.3, 0.7, size=(num_frames, 133, 2))
    scores = rng.uniform(0.5, 1.0, size=(num_frames, 133, 1))
    return np.concatenate([keypoints, scores], axis=-1).astype(np.float32)


def build_folder(folder, use_rgb: bool) -> tuple[UniSignForConditionalGeneration, UniSignProcessor]:
    tokenizer = AutoTokenizer.from_pretrained(GOLDEN_DIR / "tiny-mt5")
    config = tiny_config(use_rgb=use_rgb, text_config={**TINY_TEXT_CONFIG, "vocab_size": len(tokenizer)})
    torch.manual_seed(0)
    model = UniSignForConditionalGeneration(config).eval()
    if use_rgb:
        with torch.no_grad():  # open the zero-initialised gate so the RGB code path matters
            model.prior_guided_fusion.gate[0].weight.normal_(std=0.1)
            model.prior_guided_fusion.gate[2].weight.normal_(std=0.1)
            model.prior_guided_fusion.gate[2].bias.fill_(1.0)
    processor = UniSignProcessor.from_model_config(config, tokenizer, max_frames=16, language="en")
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return model, processor


@pytest.fixture(scope="module")
def linked_python(tmp_path_factory) -> str:
    return make_linked_venv(tmp_path_factory.mktemp("venv") / "venv")


@pytest.mark.parametrize("use_rgb", [False, True], ids=["pose_only", "rgb_pose"])
def test_remote_code_in_a_fresh_environment_gives_the_same_outputs(tmp_path, request, use_rgb):
    from unisign.models.unisign.pose_file import read_pose_file

    fresh_python = request.getfixturevalue("linked_python" if use_rgb else "bare_python")
    pose_file = require_shared(POSE_FILE)
    folder = tmp_path / "model"
    model, processor = build_folder(folder, use_rgb)
    assert set(SHIPPED_MODULES) <= {path.name for path in folder.iterdir()}
    assert json.loads((folder / "config.json").read_text())["auto_map"] == MODEL_AUTO_MAP

    sample = read_pose_file(pose_file)
    rng = np.random.default_rng(2)
    frames = [rng.integers(0, 256, (length, 48, 64, 3), dtype=np.uint8) for length in (20, sample.num_frames)]
    arrays = clip_arrays(20, seed=1)  # longer than the processor's 16 frames: sub-sampled
    call = {"poses": [arrays, (sample.keypoints, sample.scores)], "text": ["a b", "c"], "language": "en"}
    pipeline_inputs = {"arrays": arrays, "pose_file": "POSE_FILE"}
    if use_rgb:
        call["frames"] = frames
        pipeline_inputs = {
            "arrays": {"poses": arrays, "frames": frames[0]},
            "pose_file": {"poses": "POSE_FILE", "frames": frames[1]},
        }
    inputs = processor(**call)
    assert ("hand_pixel_values" in inputs) == use_rgb
    with torch.no_grad():
        logits = model(**inputs).logits
    translator = pipeline("sign-language-translation", model=folder)
    texts = {
        name: translator(resolve(clip, str(pose_file)), max_new_tokens=6, num_beams=2)
        for name, clip in pipeline_inputs.items()
    }
    expected = {
        "call": call,
        "inputs": dict(inputs),
        "logits": logits,
        "pipeline_inputs": pipeline_inputs,
        "texts": texts,
    }
    torch.save(expected, tmp_path / "expected.pt")
    (tmp_path / "check.py").write_text(FRESH_ENV_SCRIPT)
    completed = run_fresh(fresh_python, tmp_path, tmp_path / "check.py", folder, tmp_path / "expected.pt", pose_file)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "remote code OK" in completed.stdout


def resolve(clip, pose_file):
    """A pipeline input with the placeholder of the `.pose` file replaced by its path (as the fresh script does)."""
    if isinstance(clip, dict):
        return {**clip, "poses": resolve(clip["poses"], pose_file)}
    return pose_file if isinstance(clip, str) and clip == "POSE_FILE" else clip


def test_add_remote_code_makes_any_folder_self_contained(tmp_path):
    model = UniSignForConditionalGeneration(tiny_config())
    # a folder written by `PreTrainedModel.save_pretrained` alone (an older version, another tool): no code
    PreTrainedModel.save_pretrained(model, tmp_path)
    assert not (tmp_path / "modeling_unisign.py").exists()
    written = add_remote_code(tmp_path)
    assert set(SHIPPED_MODULES) | {"config.json"} == set(written)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["auto_map"] == MODEL_AUTO_MAP and "sign-language-translation" in saved["custom_pipelines"]
    assert add_remote_code(tmp_path) == written and json.loads((tmp_path / "config.json").read_text()) == saved
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="not a saved Uni-Sign folder"):
        add_remote_code(empty)
