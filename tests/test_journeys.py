"""Journey tests (issue 31): the paths composed as a user does, each end result checked against its own expectation.

convert the tiny reference checkpoint (Chinese) -> fine-tune with train.py on English -> export -> translate. The
expectations are computed beside the path, not by running the same path again: the prompt is typed here and
tokenised by hand, and the text is the exported model's own `generate` on those ids.
"""

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForSeq2SeqLM, AutoProcessor, AutoTokenizer, GenerationConfig

from unisign import PoseSample
from unisign.models.unisign.pose_file import write_pose_file

from .conftest import REPO_ROOT
from .environment_helpers import isolated_env
from .test_golden_parity import RGB_PREFIXES
from .training_helpers import load_script, make_pose_dataset, random_clip, run_train_script, write_run_config


ENGLISH_PROMPT = "Translate sign language video to English: "  # the reference's English prompt, typed here
SETTINGS = {"num_beams": 3, "max_new_tokens": 7}  # set on the converted folder; every hop must keep them


def unisign_command(*arguments: str, cwd: Path | None = None) -> str:
    """`unisign *arguments` in a fresh process; its standard output (the command must succeed)."""
    completed = subprocess.run(
        [sys.executable, "-m", "unisign.apps.cli", *arguments], capture_output=True, text=True, timeout=300, cwd=cwd
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


@pytest.fixture(scope="module")
def converted(golden_dir, tmp_path_factory) -> Path:
    """`unisign convert` of the pose-only tiny reference checkpoint, its processor Chinese (CSL-Daily, as named)."""
    root = tmp_path_factory.mktemp("converted")
    state = load_file(golden_dir / "official_state_dict.safetensors")
    checkpoint = root / "csl_daily_pose_only_slt.pth"
    torch.save({"model": {k: v for k, v in state.items() if not k.startswith(RGB_PREFIXES)}}, checkpoint)
    tiny_mt5 = str(golden_dir / "tiny-mt5")
    out = root / "model"
    unisign_command("convert", str(checkpoint), "--text-config", tiny_mt5, "--tokenizer", tiny_mt5, "--out", str(out))
    assert AutoProcessor.from_pretrained(out).language == "zh"  # the journey starts from another language
    generation_config = GenerationConfig.from_pretrained(out)
    assert (generation_config.num_beams, generation_config.max_new_tokens) != tuple(SETTINGS.values())
    generation_config.update(**SETTINGS)  # a user's own defaults, other than the conversion's
    generation_config.save_pretrained(out)
    return out


def write_clip(path: Path, seed: int, frames: int) -> Path:
    """A .pose file of a random clip."""
    keypoints, scores = random_clip(np.random.default_rng(seed), frames=frames)
    write_pose_file(PoseSample(id=path.stem, keypoints=keypoints, scores=scores, width=64, height=48), path, fps=25)
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.pose", seed=7, frames=9)


def fine_tune(converted: Path, root: Path, lora: bool) -> Path:
    """train.py from the converted Chinese folder on a tiny English dataset (no `model.prompts`); its export."""
    data = make_pose_dataset(root / "data", num_train=4, num_dev=2)
    config = write_run_config(
        root / "run.yaml",
        model={"config": {}, "init_from": str(converted)},
        lora={"enabled": lora, "r": 4},
        training={"output_dir": str(root / "run"), "max_steps": 2, "batch_size": 2, "learning_rate": 1e-4},
        data={"format": "parquet", "path": str(data), "task": "SLT", "language": "en", "eval_split": "dev"},
    )
    completed = run_train_script(config)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return root / "run" / "best"


@pytest.fixture(scope="module")
def english_export(converted, tmp_path_factory) -> Path:
    return fine_tune(converted, tmp_path_factory.mktemp("full"), lora=False)


def hand_made_text(model, processor, clip_path: Path, tokenizer) -> str:
    """The model's `generate` on the clip with the English prompt tokenised here (with its `</s>`), decoded."""
    from unisign.models.unisign.pose_file import read_pose_file

    inputs = processor(poses=[read_pose_file(clip_path)], return_tensors="pt")
    prompt = tokenizer(ENGLISH_PROMPT)["input_ids"]
    assert prompt[-1] == tokenizer.eos_token_id
    inputs["input_ids"] = torch.tensor([prompt])
    inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
    with torch.no_grad():
        ids = model.generate(**inputs, **SETTINGS)
    return tokenizer.decode(ids[0], skip_special_tokens=True)


def translate_command(model: Path, clip_path: Path, cwd: Path | None = None, flags: bool = True) -> str:
    """`unisign translate` of the clip in float32, with `SETTINGS` as flags or (`flags=False`) the model's own."""
    arguments = ["translate", str(clip_path), "--model", str(model), "--dtype", "float32", "--no-progress"]
    if flags:
        arguments += ["--num-beams", str(SETTINGS["num_beams"]), "--max-new-tokens", str(SETTINGS["max_new_tokens"])]
    return unisign_command(*arguments, cwd=cwd).strip()


def test_convert_fine_tune_on_english_export_translate(english_export, clip, golden_dir):
    processor = AutoProcessor.from_pretrained(english_export)
    assert processor.language == "en" and processor.prompt_text() == ENGLISH_PROMPT
    model = AutoModelForSeq2SeqLM.from_pretrained(english_export).eval()
    tokenizer = AutoTokenizer.from_pretrained(golden_dir / "tiny-mt5")  # the tokenizer the conversion started from
    expected = hand_made_text(model, processor, clip, tokenizer)
    assert expected  # a text to compare (the brief fine-tune keeps the converted model's varied outputs)
    assert translate_command(english_export, clip) == expected
    assert translate_command(english_export, clip, flags=False) == expected  # the saved settings, not the CLI's


def assert_generation_settings(folder: Path) -> None:
    saved = json.loads((folder / "generation_config.json").read_text())
    assert {key: saved.get(key) for key in SETTINGS} == SETTINGS, folder


# Runs in the bare remote-code install (no `unisign`): argv = folder, pose file. Prints, as JSON, the generation
# settings the remote-code model loaded and the text of each path: the model's `generate` with the processor's
# default prompt, and the pipeline with no settings given (the saved ones).
BARE_SCRIPT = textwrap.dedent(
    """
    import importlib.util, json, sys
    import torch
    from pose_format import Pose
    from transformers import AutoModelForSeq2SeqLM, AutoProcessor, pipeline

    assert importlib.util.find_spec("unisign") is None, "unisign must not be importable here"
    folder, pose_file = sys.argv[1:3]
    model = AutoModelForSeq2SeqLM.from_pretrained(folder, trust_remote_code=True).eval()
    assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
    processor = AutoProcessor.from_pretrained(folder, trust_remote_code=True)
    translator = pipeline("sign-language-translation", model=folder, trust_remote_code=True)
    settings = {key: getattr(translator.model.generation_config, key) for key in ("num_beams", "max_new_tokens")}
    with torch.no_grad():
        ids = model.generate(**processor(poses=[Pose.read(open(pose_file, "rb").read())]), **settings)
    texts = [processor.batch_decode(ids)[0], translator(pose_file)["translation_text"]]
    print(json.dumps({"settings": settings, "texts": texts}))
    """
)


def test_export_card_and_bare_remote_code_install_keep_text_and_settings(
    english_export, clip, golden_dir, bare_python, tmp_path
):
    """Journey 2: the export of journey 1 -> `unisign card` -> the bare install's remote code, pipeline included."""
    shared = tmp_path / "shared"
    shutil.copytree(english_export, shared)
    assert_generation_settings(shared)  # convert -> train.py export
    unisign_command("card", str(shared))
    assert (shared / "README.md").is_file()
    assert_generation_settings(shared)  # -> card
    model = AutoModelForSeq2SeqLM.from_pretrained(shared).eval()
    tokenizer = AutoTokenizer.from_pretrained(golden_dir / "tiny-mt5")
    expected = hand_made_text(model, AutoProcessor.from_pretrained(shared), clip, tokenizer)
    completed = subprocess.run(
        [str(bare_python), "-c", BARE_SCRIPT, str(shared), str(clip)],
        capture_output=True,
        text=True,
        timeout=300,
        env=isolated_env(tmp_path),
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["settings"] == SETTINGS  # -> remote-code load
    assert result["texts"] == [expected, expected]


@pytest.fixture(scope="module")
def translators(english_export, tmp_path_factory) -> dict:
    """The export through `load_translation_pipeline` in each precision, and its ONNX exports (float32, int8)."""
    from unisign.apps.inference import load_translation_pipeline

    root = tmp_path_factory.mktemp("onnx")
    pipelines = {dtype: load_translation_pipeline(english_export, "torch", "cpu", dtype) for dtype in TORCH_DTYPES}
    for name, quantize in (("onnx", []), ("onnx-int8", ["--quantize", "int8"])):
        unisign_command("export-onnx", str(english_export), "--out", str(root / name), *quantize)
        pipelines[name] = load_translation_pipeline(root / name, num_threads=1)
    return pipelines


TORCH_DTYPES = ("float32", "bfloat16", "float16")


def clip_inputs(translator, clip_path: Path) -> dict:
    from unisign.models.unisign.pose_file import read_pose_file

    return translator.processor(poses=[read_pose_file(clip_path)], return_tensors="pt")


def test_precisions_and_onnx_give_the_float32_text(translators, clip):
    """Journey 3: float32 / bfloat16 / float16 (PyTorch) and ONNX float32 / int8 of the same export.

    ONNX float32 computes the same graph as PyTorch float32 and generates the same ids. The low precisions round
    every weight (bfloat16: 8 mantissa bits, float16: 11, int8: 7 bits per weight, see docs/onnx.md): their logits
    move by up to a few per cent of the largest logit, which can swap two near-tied beams late in the text. Their
    tolerance: the first generated token is the float32 one and the first-step logits stay within 10% of the largest
    float32 logit (beyond that the precision would be broken, not rounded).
    """
    inputs = clip_inputs(translators["float32"], clip)
    with torch.no_grad():
        reference_ids = translators["float32"].model.generate(**inputs, **SETTINGS)
        onnx_ids = translators["onnx"].model.generate(**inputs, **SETTINGS)
    assert torch.equal(onnx_ids, reference_ids)
    reference_text = translators["float32"](str(clip), **SETTINGS)["translation_text"]
    assert translators["onnx"](str(clip), **SETTINGS)["translation_text"] == reference_text

    start = torch.tensor([[translators["float32"].model.config.decoder_start_token_id]])

    def first_logits(model) -> torch.Tensor:
        batch = {key: value.to(model.device) for key, value in inputs.items()}
        if hasattr(model, "dtype"):
            batch = {k: v.to(model.dtype) if v.is_floating_point() else v for k, v in batch.items()}
        with torch.no_grad():
            return model(**batch, decoder_input_ids=start).logits[0, -1].float()

    reference_logits = first_logits(translators["float32"].model)
    for name in ("bfloat16", "float16", "onnx-int8"):
        translator = translators[name]
        if name != "onnx-int8":
            assert translator.model.dtype == getattr(torch, name)
            logits = first_logits(translator.model)
            scale = reference_logits.abs().max()
            assert (logits - reference_logits).abs().max() < 0.1 * scale, name
        with torch.no_grad():
            ids = translator.model.generate(**inputs, **SETTINGS)
        assert ids[0, 1] == reference_ids[0, 1], name  # the first generated token
    wo = [module for name, module in translators["float16"].model.named_modules() if name.endswith(".wo")]
    assert wo and all(module.weight.dtype == torch.float32 for module in wo)  # mT5's overflow guard


def test_threads_sharing_one_pipeline_each_get_their_clips_text(translators, tmp_path):
    """Journey 4: one PyTorch pipeline and one ONNX pipeline, each shared by four threads over eight clips."""
    from concurrent.futures import ThreadPoolExecutor

    lengths = (3, 5, 8, 12, 17, 23, 30, 40)  # the briefly trained model's text depends mostly on the length
    clips = [write_clip(tmp_path / f"{seed}.pose", seed, frames) for seed, frames in enumerate(lengths)]
    for name in ("float32", "onnx"):
        translator = translators[name]
        alone = [translator(str(path), **SETTINGS)["translation_text"] for path in clips]
        assert len(set(alone)) >= 4, alone  # the clips give different texts, so a mix-up shows
        with ThreadPoolExecutor(max_workers=4) as pool:
            shared = list(
                pool.map(
                    lambda path, translator=translator: translator(str(path), **SETTINGS)["translation_text"],
                    clips * 2,
                )
            )
        assert shared == alone * 2, name


def test_lora_fine_tune_translates_after_the_run_moves(converted, clip, golden_dir, tmp_path):
    """Journey 5: LoRA train.py from the converted Chinese folder on English -> export -> move -> translate."""
    from peft import PeftModel

    export = fine_tune(converted, tmp_path / "train", lora=True)
    assert (export / "adapter_config.json").is_file()
    processor = AutoProcessor.from_pretrained(export)
    assert processor.language == "en" and processor.prompt_text() == ENGLISH_PROMPT
    # the trained model, put together by hand where it was trained: its base plus the adapter, merged
    base = AutoModelForSeq2SeqLM.from_pretrained(export.parent / "base_model")
    model = PeftModel.from_pretrained(base, export).merge_and_unload().eval()
    expected = hand_made_text(model, processor, clip, AutoTokenizer.from_pretrained(golden_dir / "tiny-mt5"))
    moved = tmp_path / "elsewhere" / "run"
    shutil.move(export.parent, moved)  # nothing is left where the run was trained
    third = tmp_path / "third"
    third.mkdir()
    assert translate_command(moved / "best", clip, cwd=third) == expected


def test_trainer_recipe_from_chinese_fine_tunes_on_english_and_keeps_prompt_and_settings(
    converted, clip, golden_dir, tmp_path
):
    """Journey 6: the converted Chinese folder -> `examples/finetune_with_trainer.py` on English data (`--lang en`)
    -> its saved folder loaded again: the English prompt, the recipe's generation settings, and `unisign translate`
    without flags gives the text of the model's own `generate` on the English prompt typed here."""
    recipe = load_script(REPO_ROOT / "examples" / "finetune_with_trainer.py", "finetune_with_trainer")
    data = make_pose_dataset(tmp_path / "data", num_train=4, num_dev=2)
    out = tmp_path / "recipe"
    arguments = ["--model", str(converted), "--data", str(data), "--output-dir", str(out), "--lang", "en"]
    arguments += ["--max-steps", "2", "--batch-size", "2", "--eval-steps", "2", "--learning-rate", "1e-4"]
    # a length limit of 8 counts the decoder's start token: 7 new tokens at most, `SETTINGS` of `hand_made_text`
    arguments += ["--generation-max-length", str(SETTINGS["max_new_tokens"] + 1)]
    arguments += ["--generation-num-beams", str(SETTINGS["num_beams"])]
    recipe.main(arguments)
    processor = AutoProcessor.from_pretrained(out)
    assert processor.language == "en" and processor.prompt_text() == ENGLISH_PROMPT
    saved = GenerationConfig.from_pretrained(out)
    expected_settings = (SETTINGS["num_beams"], SETTINGS["max_new_tokens"] + 1, None)
    assert (saved.num_beams, saved.max_length, saved.max_new_tokens) == expected_settings
    model = AutoModelForSeq2SeqLM.from_pretrained(out).eval()
    loaded = model.generation_config
    assert (loaded.num_beams, loaded.max_length, loaded.max_new_tokens) == expected_settings
    expected = hand_made_text(model, processor, clip, AutoTokenizer.from_pretrained(golden_dir / "tiny-mt5"))
    assert expected
    assert translate_command(out, clip, flags=False) == expected  # the saved settings, not the CLI's
