"""Start-up of `unisign translate CLIP --model FOLDER` against load + translation inside Python (issue 27).

    python benchmarks/startup.py --rounds 2 --workdir /tmp/startup
    python benchmarks/startup.py --before OTHER_CHECKOUT/src    # also time the command of another checkout
    python benchmarks/startup.py --parts      # what each check costs, one process

Builds once (in `--workdir`, reused by later runs) a pose-only folder of the released geometry: mT5-base with its
250,112-token vocabulary, random weights saved in float32 (2.35 GB, as `unisign convert` and `train.py`'s export
write them, with the export's `checksums.json`), a processor whose tokenizer is a Unigram model of mT5's size (mT5's
own cannot be downloaded here; loading it takes seconds, as mT5's does), and a generation config of 4 beams and at
most 20 new tokens. Then, round by round, each variant in a fresh process, so that they share the machine's load:
- `python`: imports, then `load_translation_pipeline(FOLDER)` and one translation of the clip, timed inside (the
  "load + translation" that the command may exceed by at most 1 s), and the whole process;
- `cli`: `unisign translate CLIP --model FOLDER`, from start to exit; `cli_verify`: the same with `--verify`;
- `cli_before` (with `--before SRC`): the command of the code in `SRC` (e.g. the commit before the change).
Each is timed in wall seconds and in CPU seconds (user + system, all threads: `getrusage` of the finished child), which
other jobs on a busy machine disturb far less than wall time. The page cache is warm (the folder was just written or
read): a cold start adds the disk's read time once to every variant, and once more to the hashing and tensor scan of
`--verify` (and of the code before the change). `--parts` instead times each check on its own in this process (two
passes; the second is warm). Prints one JSON object.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


SHARED_DIR = Path(os.environ.get("UNISIGN_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
TOKENS = 250_112  # mT5's vocabulary


IN_PYTHON = """
import json, sys, time
clocks = {"wall": time.perf_counter, "cpu": time.process_time}
start = {name: clock() for name, clock in clocks.items()}
from unisign.apps.inference import load_translation_pipeline
imported = {name: clock() for name, clock in clocks.items()}
translator = load_translation_pipeline(sys.argv[1])
clip = translator.resolve_clip(sys.argv[2], "mediapipe", {}, False)
text = translator({"poses": clip[0], "video": clip[1]})["translation_text"]
done = {name: clock() for name, clock in clocks.items()}
print(json.dumps({
    **{f"import_{name}_s": imported[name] - start[name] for name in clocks},
    **{f"load_and_translation_{name}_s": done[name] - imported[name] for name in clocks},
    "text": text,
}))
"""


def build_folder(folder: Path) -> None:
    """The mT5-base-geometry model folder described in the module docstring."""
    import torch
    from transformers import GenerationConfig, T5Tokenizer

    from unisign import UniSignConfig, UniSignForConditionalGeneration, UniSignProcessor
    from unisign.utils.checksums import write_checksums

    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:.0123456789"
    words = TOKENS - 3 - len(letters) - 1  # T5Tokenizer adds one token of its own
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [(f"\u2581w{index}", -1.0 - index * 1e-5) for index in range(words)]
    vocab += [(letter, -20.0) for letter in letters]
    tokenizer = T5Tokenizer(vocab=vocab, extra_ids=0)
    torch.manual_seed(0)
    config = UniSignConfig()
    model = UniSignForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        num_beams=4, max_new_tokens=20, decoder_start_token_id=0, pad_token_id=0, eos_token_id=None
    )
    model.save_pretrained(folder)
    UniSignProcessor.from_model_config(config, tokenizer, language="en").save_pretrained(folder)
    write_checksums(folder, "*.safetensors")


def time_parts(folder: Path) -> list[dict]:
    """Wall and CPU seconds of each start-up check and of the pipeline load, in this process, two passes."""
    from transformers import AutoTokenizer

    from unisign.apps.inference import load_translation_pipeline
    from unisign.utils.checksums import verify_checksums
    from unisign.utils.validation import check_loaded_weights, check_model_folder, check_safetensors_file

    loaded = {}
    parts = {
        "default_checks_before_loading": lambda: check_model_folder(folder),
        "verify_sha256": lambda: verify_checksums(folder),
        "verify_tensor_scan": lambda: check_safetensors_file(folder / "model.safetensors"),
        "verify_tokenizer_load": lambda: AutoTokenizer.from_pretrained(folder),
        "pipeline_load_with_default_checks": lambda: loaded.update(translator=load_translation_pipeline(str(folder))),
        "loaded_weights_check": lambda: check_loaded_weights(loaded["translator"].model, folder),
    }
    passes = []
    for _ in range(2):
        timings = {}
        for name, part in parts.items():
            wall, cpu = time.perf_counter(), time.process_time()
            part()
            timings[name] = {
                "wall_s": round(time.perf_counter() - wall, 2),
                "cpu_s": round(time.process_time() - cpu, 2),
            }
        passes.append(timings)
    return passes


def child_cpu_s() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], environment: dict) -> tuple[float, float, str]:
    """Wall time, CPU time (all threads) and standard output of a command that must succeed."""
    start, start_cpu = time.perf_counter(), child_cpu_s()
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - start, child_cpu_s() - start_cpu
    if result.returncode:
        raise RuntimeError(f"{command} failed: {result.stderr[-2000:]}")
    return elapsed, cpu, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="/tmp/unisign-startup", help="where the model folder is built (kept)")
    parser.add_argument("--clip", default=str(SHARED_DIR / "data" / "pose-format" / "mediapipe.pose"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before", help="src/ folder of another checkout: also time its `unisign translate`")
    parser.add_argument("--parts", action="store_true", help="time each check on its own instead")
    args = parser.parse_args()
    folder = Path(args.workdir) / "mt5-base-folder"
    build_s = None
    if not (folder / "checksums.json").is_file():
        start = time.perf_counter()
        build_folder(folder)
        build_s = time.perf_counter() - start
    if args.parts:
        print(json.dumps({"load_average": os.getloadavg(), "passes": time_parts(folder)}, indent=2))
        return
    source = str(Path(__file__).resolve().parents[1] / "src")
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": source}
    cli = [sys.executable, "-c", "import sys; from unisign.apps.cli import main; sys.exit(main())"]
    translate = ["translate", args.clip, "--model", str(folder), "--no-progress"]
    variants = {
        "python": ([sys.executable, "-c", IN_PYTHON, str(folder), args.clip], environment),
        "cli": ([*cli, *translate], environment),
        "cli_verify": ([*cli, *translate, "--verify"], environment),
    }
    if args.before:
        variants["cli_before"] = ([*cli, *translate], {**environment, "PYTHONPATH": args.before})
    load_at_start = [round(load, 2) for load in os.getloadavg()]
    times = {name: {"wall": [], "cpu": []} for name in variants}
    inside = []
    texts = {}
    for _ in range(args.rounds):
        for name, (command, variant_environment) in variants.items():
            elapsed, cpu, out = run(command, variant_environment)
            times[name]["wall"].append(round(elapsed, 2))
            times[name]["cpu"].append(round(cpu, 2))
            if name == "python":
                timings = json.loads(out)
                texts[name] = timings.pop("text")
                inside.append({key: round(value, 2) for key, value in timings.items()})
            else:
                texts[name] = out.strip()
    results = {}
    for clock in ("wall", "cpu"):
        # the goal: a command at most 1 s over load + translation
        reference = statistics.median(part[f"load_and_translation_{clock}_s"] for part in inside)
        results[clock] = {"python_load_and_translation_median_s": round(reference, 2)}
        for name, values in times.items():
            median = statistics.median(values[clock])
            results[clock][name] = {"median_s": round(median, 2), "all_s": values[clock]}
            if name != "python":
                results[clock][name]["over_load_and_translation_s"] = round(median - reference, 2)
    print(
        json.dumps(
            {
                "folder_gb": round(sum(path.stat().st_size for path in folder.iterdir()) / 1e9, 2),
                "build_s": build_s and round(build_s, 1),
                "load_average_at_start": load_at_start,
                "load_average_at_end": [round(load, 2) for load in os.getloadavg()],
                "python_inside": inside,
                "results": results,
                "same_text": len(set(texts.values())) == 1,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
