"""The `unisign` command line: `unisign convert|card|translate|export-onnx|trim-vocab|enroll|recognize|...`.

`train`, `evaluate`, `push` and `demo` hand their arguments over unchanged: `unisign train ARGS` is
`python train.py ARGS` (`unisign.training.cli`), `unisign evaluate ARGS` is `python evaluate.py ARGS`
(`unisign.evaluation.cli`), `unisign push ARGS` is `python -m unisign.hub.push ARGS` and `unisign demo ARGS` runs the
Gradio
demo (`unisign.apps.demo`).
"""

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from ..models.unisign.configuration_unisign import MAX_NEW_TOKENS, MAX_NUM_BEAMS
from ..utils.arguments import add_decoding_arguments, add_verify_argument, positive_int, unit_interval
from ..utils.errors import InvalidInputError, UsageError, input_errors, one_line_errors, pop_debug_flag
from ..utils.precision import DTYPES
from ..utils.validation import (
    check_device,
    check_input_file,
    check_output_file,
    check_output_folder,
    has_suffix,
    resolve_model_reference,
)


TEXTS_HELP = (
    "the training texts: a text file (one per line) or a pose dataset (folder or Hub id; its train split); default: "
    "the data recorded by the model's train.py run (train_config.yaml)"
)
BACKENDS = ("auto", "torch", "onnx")  # = unisign.apps.inference.BACKENDS (not imported: it would load transformers)
FEW_SHOT_EMBEDDINGS = ("decoder", "encoder", "pose")  # = unisign.apps.few_shot.EMBEDDINGS (idem: it loads torch)
# = unisign.apps.streaming.SPOT_WINDOW_FRAMES, SPOT_STEP_FRAMES and SPOT_MARGIN (idem)
SPOT_WINDOW_FRAMES, SPOT_STEP_FRAMES, SPOT_MARGIN = 30, 5, 0.0
FEW_SHOT_METHODS = ("prototype", "knn")  # = unisign.apps.few_shot.METHODS


def convert(args: argparse.Namespace) -> None:
    """Convert a reference checkpoint into a folder that loads with one `from_pretrained`, with its card."""
    from .. import convert_reference_checkpoint
    from ..hub.released import download_released, released_name, save_converted
    from ..models.unisign.convert_unisign_original_checkpoint import checkpoint_language

    name = released_name(args.checkpoint)
    if name is not None:  # a released name: its `.pth` and mT5's config and tokenizer, from the Hub or its cache
        checkpoint, text_model, _ = download_released(name)
        args.checkpoint, args.text_config = str(checkpoint), args.text_config or str(text_model)
        args.tokenizer = args.tokenizer or str(text_model)
    elif args.text_config is None:
        raise UsageError("`--text-config` is required with a checkpoint file (e.g. `--text-config google/mt5-base`).")
    check_input_file(args.checkpoint, "checkpoint")
    out = check_output_folder(args.out, (args.checkpoint, args.text_config, args.tokenizer))
    resolve_model_reference(args.text_config, "--text-config", "mT5 config")
    if args.tokenizer:
        resolve_model_reference(args.tokenizer, "--tokenizer", "tokenizer")
    language = checkpoint_language(args.checkpoint, args.language)
    config_kwargs = {} if args.max_frames is None else {"max_frames": args.max_frames}
    with input_errors(args.text_config):  # transformers' refusals of a damaged mT5 config or tokenizer folder
        result = convert_reference_checkpoint(
            args.checkpoint, args.text_config, tokenizer=args.tokenizer, language=language, **config_kwargs
        )
    model, processor = result if isinstance(result, tuple) else (result, None)
    save_converted(model, processor, out, Path(args.checkpoint).stem, language)
    print(
        f"Wrote {out} ({sum(p.numel() for p in model.parameters()):,} parameters, use_rgb={model.config.use_rgb}, "
        f"language={language}{'' if processor else ', no processor: give --tokenizer for one'}) with its card."
    )


def card(args: argparse.Namespace) -> None:
    """Write a model folder's card and remote-code files, ready for `unisign push`."""
    from ..hub.model_card import make_shareable

    written = make_shareable(args.folder, args.repo, args.code_repo)
    print(f"Wrote {', '.join(written)} in {args.folder}.")


def _backend_options(args: argparse.Namespace) -> dict:
    """Constructor options of the chosen pose extraction back-end (see `unisign.extraction.create_estimator`)."""
    if args.backend == "mediapipe":
        return {"model_complexity": args.mediapipe_complexity}
    return {
        "det_model": args.det_model,
        "pose_model": args.pose_model,
        "mode": args.rtmlib_mode,
        "allow_download": args.allow_download,
    }


def extract(args: argparse.Namespace) -> None:
    """Extract COCO-WholeBody-133 poses from a video and save them as `.pose` or reference `.pkl`."""
    from ..extraction import extract_poses, save_poses
    from ..models.unisign.keypoints import LEFT_HAND_INDICES, RIGHT_HAND_INDICES

    check_input_file(args.video, "video")
    check_output_file(args.out, (args.video,), suffixes=(".pose", ".pkl"))
    with input_errors(args.video):  # the video reader's refusals of an empty, damaged or frameless video
        sample = extract_poses(
            args.video,
            args.backend,
            progress=not args.no_progress,
            max_frames=args.max_frames,
            **_backend_options(args),
        )
    save_poses(sample, args.out)
    hands = [int((sample.scores[:, part].mean(-1) > 0.3).sum()) for part in (LEFT_HAND_INDICES, RIGHT_HAND_INDICES)]
    print(
        f"Wrote {args.out}: {sample.num_frames} frames ({sample.width} x {sample.height}, {sample.fps or 0:g} fps), "
        f"a person in {sample.extra['frames_with_person']}, left hand in {hands[0]}, right hand in {hands[1]}."
    )


def visualize(args: argparse.Namespace) -> None:
    """Draw poses (from a video, a `.pose` file or a reference pickle) to an MP4 or a PNG contact sheet."""
    from ..extraction import POSE_FILE_SUFFIXES, load_poses
    from .visualization import pose_contact_sheet, write_pose_video

    out = check_output_file(args.out, (args.input, args.video), suffixes=(".mp4", ".png"))
    check_input_file(args.input, "INPUT")
    if args.video:
        check_input_file(args.video, "--video")
    with input_errors(args.input):  # the readers' refusals of a damaged file
        sample = load_poses(args.input, args.backend, progress=not args.no_progress, **_backend_options(args))
    video = args.video or (None if has_suffix(args.input, POSE_FILE_SUFFIXES) else args.input)
    canvas_size = None
    if args.canvas_size:
        width, _, height = args.canvas_size.partition("x")
        if not (width.isdigit() and height.isdigit()):
            raise UsageError(f"`--canvas-size` must look like 540x720, got {args.canvas_size!r}.")
        canvas_size = (int(width), int(height))
    options = {"threshold": args.threshold, "canvas_size": canvas_size}
    if out.suffix.lower() == ".mp4":
        frames = write_pose_video(sample, out, video, progress=not args.no_progress, **options)
        print(f"Wrote {out}: {frames} frames{' over ' + str(video) if video else ' on a blank canvas'}.")
    else:
        pose_contact_sheet(sample, video, num_frames=args.frames, **options).save(out, format="PNG")
        print(
            f"Wrote {out}: contact sheet of {sample.id!r}{' over ' + str(video) if video else ' on a blank canvas'}."
        )


def translate(args: argparse.Namespace) -> None:
    """Translate a video, a `.pose` file or a reference `.pkl` (or a stream of frames, with `--stream`) into text."""
    import torch

    from ..hub.released import resolve_released_model
    from .inference import checked_model_folder, load_translation_pipeline, model_folder_errors
    from .streaming import StreamingTranslator

    if (args.input is None) == (args.stream is None):
        raise UsageError("Give either INPUT (a video, .pose or .pkl) or `--stream VIDEO_OR_DEVICE`, not both or none.")
    if args.input is not None and (args.background or args.frame_stride != 1):
        raise UsageError("`--background` and `--frame-stride` apply to `--stream` only.")
    if args.threads is not None:
        if args.threads < 1:
            raise UsageError(f"`--threads` must be at least 1, got {args.threads}.")
        torch.set_num_threads(args.threads)
    check_device(args.device)
    args.model = resolve_released_model(args.model)  # a released name: its converted folder (converted once)
    model = checked_model_folder(args.model)
    if args.input is not None:
        check_input_file(args.input, "INPUT")
    with model_folder_errors(args.model):  # transformers' refusals of a damaged processor or config file
        translator = load_translation_pipeline(
            model, args.model_backend, args.device, args.dtype, num_threads=args.threads, verify=args.verify
        )
    # unset flags leave the model's saved generation settings (generation_config.json) in force
    settings = {key: value for key in ("num_beams", "max_new_tokens") if (value := getattr(args, key)) is not None}
    if args.language:
        settings["language"] = args.language
    if args.input is not None:
        with input_errors(args.input):  # the readers' refusals of a damaged file
            clip = translator.resolve_clip(args.input, args.backend, _backend_options(args), not args.no_progress)
        print(translator({"poses": clip[0], "video": clip[1]}, **settings)["translation_text"])
        return
    stream = StreamingTranslator(
        translator,
        args.step_frames,
        args.window,
        args.backend,
        background=args.background,
        frame_stride=args.frame_stride,
        backend_options=_backend_options(args),
        **settings,
    )
    source = int(args.stream) if args.stream.isdigit() else args.stream
    try:
        for partial in stream.stream(source, realtime=args.realtime):
            label = "final" if partial.is_final else "partial"
            timing = f"{partial.num_frames} frames, {partial.latency_s * 1000:.0f} ms"
            print(f"[{label} {timing}] {partial.text}", flush=True)
    finally:
        stream.close()


def export_onnx(args: argparse.Namespace) -> None:
    """Export a pose-only model folder to ONNX (encoder graph + decoder step), int8 and trimmed vocabulary optional."""
    import tempfile

    from ..onnx import export_onnx as export
    from .trimming import read_texts, trim_folder

    if args.texts and not args.trim_vocab:
        raise UsageError("`--texts` names the texts of `--trim-vocab`: add `--trim-vocab`.")
    check_output_folder(args.out, (args.folder,))
    note = ", int8" if args.quantize else ""
    if not args.trim_vocab:
        out = export(args.folder, args.out, quantize=args.quantize, verify=args.verify)
    else:
        texts = read_texts(args.texts) if args.texts else None
        with tempfile.TemporaryDirectory(prefix="unisign-trimmed-") as scratch:
            trimmed = trim_folder(args.folder, Path(scratch, "model"), texts, verify=args.verify)
            out = export(trimmed.folder, args.out, quantize=args.quantize)
        note += f", {trimmed.vocab_size_after:,} of {trimmed.vocab_size_before:,} token rows kept"
    size = sum(path.stat().st_size for path in out.iterdir() if path.is_file())
    print(f"Wrote {out} ({size / 1e6:.1f} MB{note}).")


def trim_vocab(args: argparse.Namespace) -> None:
    """Copy a model folder keeping only the tokens of its training texts, prompts and special tokens."""
    from .trimming import describe, read_texts, trim_folder

    texts = read_texts(args.texts) if args.texts else None
    print(describe(trim_folder(args.folder, args.out, texts, verify=args.verify)))


def enroll(args: argparse.Namespace) -> None:
    """Enroll new signs from example clips into a vocabulary (safetensors + JSON) for `unisign recognize`."""
    from .few_shot import SignEmbedder, SignVocabulary, examples_from_dataset, examples_from_folder
    from .few_shot import enroll as enroll_signs

    source = Path(args.examples)
    if not source.is_dir():
        raise InvalidInputError(f"`--examples` {source} is no folder (<sign>/<clip>.pose, or a dataset folder).")
    if args.split is not None:
        examples = examples_from_dataset(source, args.split)
    elif sorted(source.glob("data/*.parquet")):
        raise UsageError(f"{source} is a dataset folder: name the split to enroll with `--split`.")
    else:
        examples = examples_from_folder(source)
    out = Path(args.out)
    existing = None
    if args.add:
        existing = SignVocabulary.load(out)
    elif any((out / name).exists() for name in ("vocabulary.json", "vocabulary.safetensors")):
        raise UsageError(f"{out} already holds a vocabulary: add `--add` to extend it, or choose another `--out`.")
    embedder = SignEmbedder.from_pretrained(args.model, args.embedding if existing is None else existing.embedding)
    vocabulary = enroll_signs(embedder, examples, existing)
    vocabulary.save(out)
    added = len(vocabulary) - (len(existing) if existing else 0)
    print(f"Wrote {out}: {len(vocabulary)} signs ({added} new, {sum(len(v) for v in examples.values())} examples).")


def recognize(args: argparse.Namespace) -> None:
    """Print the enrolled signs most similar to a clip (`.pose`, `.pkl` or a video), with their scores."""
    from .few_shot import SignEmbedder, SignVocabulary, load_clip
    from .few_shot import recognize as recognize_sign

    if (args.clip is None) == (args.stream is None):
        raise UsageError("Give either CLIP or `--stream VIDEO_OR_DEVICE`, not both or none.")
    if args.clip is not None:
        check_input_file(args.clip, "CLIP")
    vocabulary = SignVocabulary.load(args.vocabulary or args.model)
    embedder = SignEmbedder.from_pretrained(args.model, vocabulary.embedding)
    vocabulary.check_compatible(embedder, f"The vocabulary {args.vocabulary or args.model}")
    if args.stream is not None:
        return spot_signs(args, embedder, vocabulary)
    for name, score in recognize_sign(embedder, vocabulary, load_clip(args.clip), args.top_k, args.method):
        print(f"{name}\t{score:.3f}")


def spot_signs(args: argparse.Namespace, embedder, vocabulary) -> None:
    """`unisign recognize --stream SOURCE`: print each enrolled sign spotted, as `start-end<TAB>sign<TAB>score`."""
    from .few_shot import POSE_SUFFIXES, load_clip
    from .streaming import SignSpotter

    spotter = SignSpotter(embedder, vocabulary, args.threshold, args.margin, args.window, args.step_frames)
    print(f"# threshold {spotter.threshold:.5f}, margin {spotter.margin:g}", file=sys.stderr)
    source = args.stream
    try:
        if Path(source).suffix.lower() in POSE_SUFFIXES:  # poses already extracted: the stream is the clip's frames
            check_input_file(source, "--stream")
            found = spotter.spot(load_clip(source))
        else:
            found = spotter.stream(int(source) if source.isdigit() else source, realtime=args.realtime)
        for spotted in found:
            print(f"{spotted.start_frame}-{spotted.end_frame}\t{spotted.sign}\t{spotted.score:.4f}", flush=True)
    finally:
        spotter.close()


def train(argv: list[str]) -> None:
    """`unisign train ARGS`: `python train.py ARGS` (`unisign.training.cli.main`)."""
    from ..training.cli import openmp_environment

    openmp = openmp_environment(dict(os.environ))
    if openmp:
        # OpenMP reads them when torch loads, which `import unisign` has done: train in a fresh process with them set
        environment = {**os.environ, **openmp}
        os.execve(sys.executable, [sys.executable, "-m", "unisign.training.cli", *argv], environment)
    from ..training.cli import main as train_main

    train_main(argv)


def evaluate(argv: list[str]) -> int:
    """`unisign evaluate ARGS`: `python evaluate.py ARGS` (`unisign.evaluation.cli.main`)."""
    from ..evaluation.cli import main as evaluate_main

    return evaluate_main(argv)


def push(argv: list[str]) -> None:
    """`unisign push FOLDER REPO_ID [--dry-run] ...`: `python -m unisign.hub.push ...`."""
    from ..hub.push import main as hub_main

    hub_main(argv, prog="unisign push")


def demo(argv: list[str]) -> None:
    """`unisign demo --model FOLDER_OR_HUB_ID [--port N]`: the Gradio demo (`unisign.apps.demo.main`)."""
    from .demo import main as demo_main

    demo_main(argv, prog="unisign demo")


# name -> (one-line help, handler of the remaining arguments)
DELEGATED_COMMANDS: dict[str, tuple[str, Callable[[list[str]], int | None]]] = {
    "train": ("train, test and export a model (= python train.py)", train),
    "evaluate": ("score prediction files or run a model over a split (= python evaluate.py)", evaluate),
    "push": ("upload a model, dataset or Space folder to the Hub, or list it with --dry-run", push),
    "demo": ("the Gradio demo: video -> keypoints -> text in the browser", demo),
}


def _add_extraction_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the pose extraction back-ends, shared by `extract` and `visualize`."""
    parser.add_argument("--backend", choices=("mediapipe", "rtmlib"), default="mediapipe", help="pose estimator")
    parser.add_argument(
        "--mediapipe-complexity",
        type=int,
        choices=(0, 1, 2),
        default=1,
        help="mediapipe: pose landmark model, 0 lite, 1 full (bundled), 2 heavy; 0 and 2 are downloaded at first use",
    )
    parser.add_argument("--det-model", help="rtmlib: YOLOX person detector .onnx")
    parser.add_argument("--pose-model", help="rtmlib: RTMW whole-body .onnx")
    parser.add_argument(
        "--rtmlib-mode",
        choices=("lightweight", "balanced", "performance"),
        default="lightweight",
        help="rtmlib preset",
    )
    parser.add_argument("--allow-download", action="store_true", help="rtmlib: download missing weights")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _add_few_shot_commands(commands) -> None:
    """`unisign enroll` and `unisign recognize`: few-shot signs (`unisign.apps.few_shot`)."""
    enroller = commands.add_parser("enroll", help="teach a model new signs from a few example clips (no training)")
    enroller.add_argument("--model", required=True, help="Uni-Sign model folder, Hub id or released name")
    enroller.add_argument(
        "--examples", required=True, help="a folder of <sign>/<name>.pose (.pkl or video) files, or a dataset folder"
    )
    enroller.add_argument(
        "--split", help="with a dataset folder as --examples: enroll the isolated signs of this split"
    )
    enroller.add_argument("--out", required=True, help="vocabulary folder (vocabulary.safetensors + vocabulary.json)")
    enroller.add_argument("--add", action="store_true", help="extend the vocabulary already in --out")
    enroller.add_argument(
        "--embedding",
        choices=FEW_SHOT_EMBEDDINGS,
        default="decoder",
        help="where a clip's vector is read (with --add: the vocabulary's own)",
    )
    enroller.set_defaults(handler=enroll)

    recognizer = commands.add_parser("recognize", help="clip -> the most similar enrolled signs, with scores")
    recognizer.add_argument("clip", nargs="?", help="a .pose file, a reference .pkl or a video")
    recognizer.add_argument("--model", required=True, help="the model the vocabulary was enrolled with")
    recognizer.add_argument(
        "--vocabulary", help="vocabulary folder or Hub id (default: the one in the --model folder)"
    )
    recognizer.add_argument("--top-k", type=positive_int, default=5, help="how many signs to print")
    recognizer.add_argument(
        "--method", choices=FEW_SHOT_METHODS, default="prototype", help="match to prototypes or k-NN"
    )
    recognizer.add_argument(
        "--stream",
        help="spot enrolled signs as frames arrive: a video, a camera (/dev/video0 or 0) or a .pose file",
    )
    recognizer.add_argument(
        "--window", type=positive_int, default=SPOT_WINDOW_FRAMES, help="--stream: frames per window"
    )
    recognizer.add_argument(
        "--step-frames", type=positive_int, default=SPOT_STEP_FRAMES, help="--stream: embed the window every N frames"
    )
    recognizer.add_argument(
        "--threshold",
        type=float,
        help="--stream: least cosine similarity to report a sign (default: calibrated on the vocabulary)",
    )
    recognizer.add_argument(
        "--margin", type=float, default=SPOT_MARGIN, help="--stream: least lead over the second best sign"
    )
    recognizer.add_argument("--realtime", action="store_true", help="--stream: play a video file at its frame rate")
    recognizer.set_defaults(handler=recognize)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every `unisign` command."""
    parser = argparse.ArgumentParser(
        prog="unisign",
        description="Uni-Sign sign language translation tools.",
        epilog="Errors are one line; add --debug (anywhere) or set UNISIGN_DEBUG=1 for the traceback.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (summary, _) in DELEGATED_COMMANDS.items():  # listed here, run by `main` with their own parsers
        commands.add_parser(name, help=summary, add_help=False)

    converter = commands.add_parser("convert", help="reference checkpoint (.pth/.safetensors) -> Hub-ready folder")
    converter.add_argument(
        "checkpoint",
        help="the authors' checkpoint file, e.g. csl_daily_pose_only_slt.pth, or a released name (downloaded)",
    )
    converter.add_argument(
        "--text-config", help="mT5 config folder or Hub id, e.g. google/mt5-base (a released name: google/mt5-base)"
    )
    converter.add_argument("--out", required=True, help="output folder")
    converter.add_argument("--tokenizer", help="mT5 tokenizer folder or Hub id: also writes the processor")
    converter.add_argument(
        "--max-frames",
        type=positive_int,
        help="frames per clip (256; the released ISLR checkpoints: 64, set from the name)",
    )
    converter.add_argument(
        "--language",
        choices=("en", "zh"),
        help="the processor's default prompt language (default: from the released file name, else required)",
    )
    converter.set_defaults(handler=convert)

    carder = commands.add_parser("card", help="write a model folder's card and remote code (before unisign push)")
    carder.add_argument("folder", help="a converted, train.py, Seq2SeqTrainer or PEFT adapter folder")
    carder.add_argument("--repo", help="the Hub id it is shared as, user/name (default: a placeholder)")
    carder.add_argument("--code-repo", help="point auto_map to the code in this Hub repo (org/repo) instead of copies")
    carder.set_defaults(handler=card)

    extractor = commands.add_parser("extract", help="video -> COCO-WholeBody-133 poses (.pose or reference .pkl)")
    extractor.add_argument("video", help="the video file")
    extractor.add_argument("--out", required=True, help="output file: .pose (pose-format) or .pkl (reference layout)")
    extractor.add_argument("--max-frames", type=positive_int, help="only the first N frames")
    _add_extraction_arguments(extractor)
    extractor.set_defaults(handler=extract)

    visualizer = commands.add_parser("visualize", help="draw poses over the video or on a blank canvas (.mp4/.png)")
    visualizer.add_argument("input", help="a video (poses are extracted), a .pose file or a reference .pkl")
    visualizer.add_argument("--out", required=True, help="output file: .mp4 (every frame) or .png (contact sheet)")
    visualizer.add_argument("--video", help="video to draw over (default: INPUT when it is a video, else blank)")
    visualizer.add_argument("--frames", type=positive_int, default=8, help="evenly spaced frames on the contact sheet")
    visualizer.add_argument("--threshold", type=unit_interval, default=0.3, help="draw points with a score above this")
    visualizer.add_argument("--canvas-size", help="WIDTHxHEIGHT of the blank canvas when the poses carry no size")
    _add_extraction_arguments(visualizer)
    visualizer.set_defaults(handler=visualize)

    translator = commands.add_parser("translate", help="video, .pose or .pkl (or a live stream) -> text")
    translator.add_argument("input", nargs="?", help="a video (poses are extracted), a .pose file or a reference .pkl")
    translator.add_argument("--model", required=True, help="Uni-Sign model folder, Hub id or released name")
    translator.add_argument("--language", choices=("en", "zh"), help="prompt language (default: the processor's)")
    add_decoding_arguments(translator, MAX_NUM_BEAMS, MAX_NEW_TOKENS)
    translator.add_argument("--device", help="torch device, e.g. cpu or cuda:0 (default: the first GPU, else CPU)")
    translator.add_argument(
        "--dtype",
        choices=DTYPES,
        default="auto",
        help="PyTorch precision (default auto: bfloat16 on GPUs and CPUs with bf16 instructions, else float32)",
    )
    translator.add_argument(
        "--model-backend",
        choices=BACKENDS,
        default="auto",
        help="torch or onnx (ONNX Runtime; default auto: onnx for a folder from `unisign export-onnx`)",
    )
    translator.add_argument(
        "--threads", type=int, help="torch (or ONNX Runtime) threads (default: one per core; 1 on a busy small CPU)"
    )
    translator.add_argument("--stream", help="translate as frames arrive: a video file or a camera (/dev/video0 or 0)")
    translator.add_argument(
        "--step-frames", type=positive_int, default=30, help="--stream: translate every N new frames"
    )
    translator.add_argument(
        "--window", type=positive_int, help="--stream: keep only the latest N frames (default: all)"
    )
    translator.add_argument("--realtime", action="store_true", help="--stream: play a video file at its frame rate")
    translator.add_argument(
        "--background",
        action="store_true",
        help="--stream: translate in a background thread, only the newest window (pose estimation never waits)",
    )
    translator.add_argument(
        "--frame-stride",
        type=positive_int,
        default=1,
        help="--stream: estimate the pose of every N-th frame only (default 1)",
    )
    add_verify_argument(translator)
    _add_extraction_arguments(translator)
    translator.set_defaults(handler=translate)

    exporter = commands.add_parser("export-onnx", help="pose-only model folder -> ONNX Runtime folder (int8 optional)")
    exporter.add_argument("folder", help="Uni-Sign model folder (train.py export, save_pretrained, unisign convert)")
    exporter.add_argument("--out", required=True, help="output folder (new or empty)")
    exporter.add_argument("--quantize", choices=("int8",), help="int8 dynamic quantisation of the matrix products")
    exporter.add_argument(
        "--trim-vocab", action="store_true", help="keep only the tokens of the training texts (see `trim-vocab`)"
    )
    exporter.add_argument("--texts", help=TEXTS_HELP)
    add_verify_argument(exporter)
    exporter.set_defaults(handler=export_onnx)
    _add_few_shot_commands(commands)

    trimmer = commands.add_parser(
        "trim-vocab", help="model folder -> copy whose vocabulary keeps only its training texts' tokens"
    )
    trimmer.add_argument("folder", help="Uni-Sign model folder with its processor (train.py export, save_pretrained)")
    trimmer.add_argument("--out", required=True, help="output folder (new or empty)")
    trimmer.add_argument("--texts", help=TEXTS_HELP)
    add_verify_argument(trimmer)
    trimmer.set_defaults(handler=trim_vocab)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run a `unisign` command (expected errors are one line: see `unisign.utils.errors`)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in DELEGATED_COMMANDS:
        with one_line_errors(f"unisign {argv[0]}", pop_debug_flag(argv)[1]):  # `--debug` stays: theirs to read
            status = DELEGATED_COMMANDS[argv[0]][1](argv[1:])
        if status:
            sys.exit(status)
        return
    argv, debug = pop_debug_flag(argv)
    args = build_parser().parse_args(argv)
    with one_line_errors(f"unisign {args.command}", debug):
        args.handler(args)


if __name__ == "__main__":
    main()
