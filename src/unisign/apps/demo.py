"""A Gradio demo of Uni-Sign: drop in a sign language video, see the keypoints the model reads, read the translation.

`unisign demo --model FOLDER_OR_HUB_ID` runs it on this machine; the Hugging Face Space in `spaces/unisign-demo`
runs the same `build_demo` (`unisign push --space user/name` uploads that folder with a copy of this package). The
translation is the `sign-language-translation` pipeline's, given the same poses as `unisign translate`, so the text is
the command's. Gradio is an optional dependency: `pip install "unisign[demo]"`.
"""

import argparse
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.sample import PoseSample
from ..extraction import extract_poses, load_poses
from ..hub.push import SPACE_FOLDER
from ..models.unisign.configuration_unisign import MAX_NEW_TOKENS, MAX_NUM_BEAMS
from ..utils.arguments import add_verify_argument, positive_int, whole_number_at_least
from ..utils.errors import InvalidInputError
from ..utils.precision import DTYPES
from .inference import BACKENDS
from .visualization import pose_contact_sheet, write_pose_video


VIDEO_SUFFIXES = (".mp4", ".webm", ".mov")
POSE_SUFFIX = ".pose"
# A clip shorter than this (about a quarter of a second at 30 fps) holds no sign; the pose encoder's temporal
# convolutions would read mostly padding.
MIN_FRAMES = 8
# The Space folder of a source checkout (src/unisign/demo.py -> repository root); absent in an installed wheel.
# Request folders older than this are removed (Gradio has copied their files into its own cache long before).
KEEP_OUTPUTS_S = 3600

TITLE = "Uni-Sign: sign language video to text"
DESCRIPTION = (
    "Upload a sign language video (mp4, webm, mov), record one with your webcam, or upload a `.pose` file. The demo "
    "extracts the signer's pose with MediaPipe Holistic, draws the **69 keypoints the model reads** (body, hands, "
    "face) and translates them with [Uni-Sign](https://arxiv.org/abs/2501.15187) (ICLR 2025). Frames from which an "
    "RGB-pose model crops a hand are framed in that hand's colour."
)


class DemoInputError(ValueError):
    """An input the demo cannot translate; its message is what the page shows."""


@dataclass
class DemoResult:
    """What one translation shows: the text, the drawn keypoints and the time each step took."""

    text: str
    num_frames: int
    frames_with_person: int
    video: Path | None = None  # the keypoints drawn over every frame of an uploaded video
    image: Path | None = None  # a contact sheet, for `.pose` input
    timings: dict[str, float] = field(default_factory=dict)  # step -> seconds

    def summary(self) -> str:
        """One line of Markdown: frames, and the seconds of each step."""
        steps = " · ".join(f"{step} **{seconds:.2f} s**" for step, seconds in self.timings.items())
        return f"{self.num_frames} frames, a person in {self.frames_with_person} · {steps}"


def _frames_with_person(sample: PoseSample) -> int:
    return int((np.asarray(sample.scores) > 0).any(-1).sum())


class DemoTranslator:
    """The model (loaded once) and what one request does with it: poses, checks, translation, drawing.

    Args:
        model (`str`): A Uni-Sign folder or Hub id, or a folder written by `unisign export-onnx`.
        device (`str`, *optional*): Torch device; the pipeline's default (first GPU, else CPU) when `None`.
        dtype (`str`, *optional*): `"auto"`, `"float32"`, `"bfloat16"` or `"float16"` (as `unisign translate
            --dtype`); as saved when `None`.
        workdir (`str` or `Path`, *optional*): Where the drawn keypoints are written; a new temporary folder when
            `None`.
        backend (`str`, *optional*, defaults to `"auto"`): `"torch"`, `"onnx"`, or `"auto"` (ONNX Runtime for an
            ONNX export), as `unisign translate --model-backend`.
        num_threads (`int`, *optional*): ONNX Runtime threads per session.
        verify (`bool`, *optional*, defaults to `False`): Read and check every byte of the model's files before
            loading them, as `unisign translate --verify`.
    """

    def __init__(
        self,
        model: str,
        device: str | None = None,
        dtype: str | None = None,
        workdir: str | Path | None = None,
        backend: str = "auto",
        num_threads: int | None = None,
        verify: bool = False,
    ):
        from .inference import load_translation_pipeline

        # the loader of `unisign translate`: the same dtype handling, checks and ONNX backend
        try:
            self.pipeline = load_translation_pipeline(model, backend, device, dtype, num_threads, verify)
        except OSError as error:
            raise InvalidInputError(f"Could not load a Uni-Sign model from `{model}`: {error}") from error
        self.workdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="unisign-demo-"))

    @property
    def prompts(self) -> dict[str, str]:
        """Prompt key (`"en"`, `"en/SLT"`, ...) -> prompt text, the processor's default language first."""
        prompts = self.pipeline.processor.prompts
        default = self.pipeline.processor.language
        return {default: prompts[default], **{key: text for key, text in prompts.items() if key != default}}

    @property
    def uses_rgb(self) -> bool:
        """Whether the model also reads RGB hand crops (then a video is needed, and hand-crop frames are marked)."""
        return bool(self.pipeline.model.config.use_rgb)

    def _output_folder(self) -> Path:
        """A fresh folder for one request's drawings; folders of requests older than `KEEP_OUTPUTS_S` go."""
        now = time.time()
        for old in self.workdir.glob("request-*"):
            if now - old.stat().st_mtime > KEEP_OUTPUTS_S:
                shutil.rmtree(old, ignore_errors=True)
        folder = self.workdir / f"request-{uuid.uuid4().hex}"
        folder.mkdir(parents=True)
        return folder

    def read_poses(self, path: str | Path, progress: bool = False) -> PoseSample:
        """Poses of an upload: extracted from a video (MediaPipe Holistic, as `unisign translate` does) or read.

        Raises:
            DemoInputError: for a file of another kind, one that is not a readable video or `.pose` file, a clip
                without a person or a clip shorter than `MIN_FRAMES`.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (*VIDEO_SUFFIXES, POSE_SUFFIX):
            raise DemoInputError(
                f"Unsupported file `{path.name}`: upload a video ({', '.join(VIDEO_SUFFIXES)}) or a `.pose` file."
            )
        if suffix == POSE_SUFFIX and self.uses_rgb:
            raise DemoInputError("This model also reads RGB hand crops: upload the video, not only its poses.")
        try:
            sample = load_poses(path) if suffix == POSE_SUFFIX else extract_poses(path, progress=progress)
        except (ValueError, FileNotFoundError) as error:
            raise DemoInputError(str(error).replace(str(path), path.name)) from error
        except (
            ImportError
        ) as error:  # a library this server lacks (one line naming its pip install), not a bare "Error"
            raise DemoInputError(f"This server cannot read `{path.name}`: {error}") from error
        seconds = f" ({sample.num_frames / sample.fps:.2f} s)" if sample.fps else ""
        if sample.num_frames < MIN_FRAMES:
            raise DemoInputError(
                f"The clip is too short: {sample.num_frames} frames{seconds}. A sign needs at least {MIN_FRAMES} "
                "frames; upload a longer clip."
            )
        if _frames_with_person(sample) == 0:
            raise DemoInputError(
                f"No person was found in any of the {sample.num_frames} frames{seconds}: film the signer from the "
                "front, with the upper body and both hands in view."
            )
        return sample

    def __call__(
        self,
        path: str | Path,
        prompt: str | None = None,
        num_beams: int = 4,
        max_new_tokens: int = 100,
        progress: bool = False,
    ) -> DemoResult:
        """Translate one upload and draw its keypoints.

        Args:
            path (`str` or `Path`): A video (`VIDEO_SUFFIXES`) or a `.pose` file.
            prompt (`str`, *optional*): A key of `prompts` (`"<language>"` or `"<language>/<task>"`); the
                processor's default language when `None`.
            num_beams, max_new_tokens (`int`): Decoding settings (the defaults are `unisign translate`'s).
            progress (`bool`, *optional*, defaults to `False`): A tqdm bar while extracting poses (the page shows it).

        Returns:
            `DemoResult`.
        """
        timings = {}
        started = time.perf_counter()
        sample = self.read_poses(path, progress)
        video = str(path) if Path(path).suffix.lower() in VIDEO_SUFFIXES else None
        timings["pose extraction" if video else "reading poses"] = time.perf_counter() - started

        language, _, task = (prompt or self.pipeline.processor.language).partition("/")
        started = time.perf_counter()
        text = self.pipeline(
            {"poses": sample, "video": video},
            language=language,
            task=task or None,
            num_beams=num_beams,
            max_new_tokens=max_new_tokens,
        )["translation_text"]
        timings["translation"] = time.perf_counter() - started

        started = time.perf_counter()
        folder = self._output_folder()
        highlight = None if self.uses_rgb else {}  # the hand-crop frames matter only to an RGB-pose model
        result = DemoResult(text, sample.num_frames, _frames_with_person(sample))
        if video is not None:
            result.video = folder / "keypoints.mp4"
            write_pose_video(sample, result.video, video, highlight=highlight, progress=False)
        else:
            canvas = None if sample.width > 0 and sample.height > 0 else (512, 512)
            result.image = folder / "keypoints.png"
            pose_contact_sheet(sample, canvas_size=canvas, highlight=highlight).save(result.image)
        timings["drawing"] = time.perf_counter() - started
        result.timings = timings
        return result


def _theme():
    """A calm theme with the system's fonts (the default theme fetches web fonts, which a sandboxed page lacks)."""
    import gradio as gr

    return gr.themes.Soft(
        primary_hue="indigo",
        font=["ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=["ui-monospace", "monospace"],
    )


CSS = """
#title { text-align: center; }
#timings { min-height: 1.5em; }
"""


def build_demo(
    translator: DemoTranslator,
    examples_dir: str | Path | None = None,
    num_beams: int = 4,
    max_new_tokens: int = 100,
):
    """The page: inputs (video upload or webcam, `.pose` file, prompt, decoding), outputs (text, keypoints, timings).

    Args:
        translator (`DemoTranslator`): The loaded model; every request uses it (Gradio's queue runs one at a time).
        examples_dir (`str` or `Path`, *optional*): Videos and `.pose` files offered as examples.
        num_beams, max_new_tokens (`int`): The decoding settings the page starts with (`unisign translate`'s).

    Returns:
        `gradio.Blocks`, queued; `launch()` it (with `theme=_theme(), css=CSS` for this look).
    """
    import gradio as gr

    def translate(path, prompt, num_beams, max_new_tokens, progress=gr.Progress(track_tqdm=True)):  # noqa: B008
        if not path:
            raise gr.Error("Upload or record a video (or upload a .pose file) first.", duration=None)
        progress(0, desc="Reading the clip")
        try:
            result = translator(path, prompt, int(num_beams), int(max_new_tokens), progress=True)
        except DemoInputError as error:
            raise gr.Error(str(error), duration=None, print_exception=False) from None
        return (
            result.text,
            gr.update(value=result.video and str(result.video), visible=result.video is not None),
            gr.update(value=result.image and str(result.image), visible=result.image is not None),
            result.summary(),
        )

    prompts = translator.prompts
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(KEEP_OUTPUTS_S, KEEP_OUTPUTS_S)) as demo:
        gr.Markdown(f"# {TITLE}", elem_id="title")
        gr.Markdown(DESCRIPTION)
        with gr.Row(equal_height=False):
            with gr.Column():
                with gr.Tab("Video"):
                    video = gr.Video(
                        sources=["upload", "webcam"],
                        include_audio=True,
                        label="Sign language video",
                        height=360,
                        elem_id="input-video",
                    )
                    video_button = gr.Button("Translate video", variant="primary", elem_id="translate-video")
                with gr.Tab(".pose file"):
                    pose_file = gr.File(file_types=[POSE_SUFFIX], label="Poses (pose-format .pose file)")
                    pose_button = gr.Button("Translate poses", variant="primary", elem_id="translate-pose")
                prompt = gr.Dropdown(
                    [(f"{key}: {text.strip()}", key) for key, text in prompts.items()],
                    value=next(iter(prompts)),
                    label="Task and language (the model's prompts)",
                    visible=len(prompts) > 1,
                )
                with gr.Accordion("Decoding", open=False):
                    beams = gr.Slider(1, 8, value=num_beams, step=1, label="Beams (1: greedy, fastest)")
                    tokens = gr.Slider(1, 200, value=max_new_tokens, step=1, label="Longest translation (tokens)")
            with gr.Column():
                text = gr.Textbox(label="Translation", lines=2, interactive=False, buttons=["copy"], elem_id="text")
                keypoints_video = gr.Video(
                    label="What the model sees: its 69 keypoints", interactive=False, height=360, elem_id="keypoints"
                )
                keypoints_image = gr.Image(
                    label="What the model sees: its 69 keypoints",
                    type="filepath",
                    interactive=False,
                    visible=False,
                    elem_id="keypoints-sheet",
                )
                timings = gr.Markdown(elem_id="timings")
        examples = sorted(Path(examples_dir).iterdir()) if examples_dir and Path(examples_dir).is_dir() else []
        videos = [str(path) for path in examples if path.suffix.lower() in VIDEO_SUFFIXES]
        poses = [str(path) for path in examples if path.suffix.lower() == POSE_SUFFIX]
        if videos:
            gr.Examples([[path] for path in videos], inputs=[video], label="Example videos")
        if poses:
            gr.Examples([[path] for path in poses], inputs=[pose_file], label="Example .pose files")
        gr.Markdown(f"Model: `{translator.pipeline.model.name_or_path}` · {_device_line(translator)}")

        outputs = [text, keypoints_video, keypoints_image, timings]
        settings = [prompt, beams, tokens]
        video_button.click(translate, [video, *settings], outputs, api_name="translate_video", concurrency_limit=1)
        pose_button.click(translate, [pose_file, *settings], outputs, api_name="translate_poses", concurrency_limit=1)
    return demo.queue(default_concurrency_limit=1, max_size=32)


def _device_line(translator: DemoTranslator) -> str:
    import torch

    device = translator.pipeline.device
    threads = f", {torch.get_num_threads()} threads" if device.type == "cpu" else ""
    return f"{device.type}{threads} · pose-only" if not translator.uses_rgb else f"{device.type}{threads} · RGB-pose"


def main(argv: list[str] | None = None, prog: str = "unisign demo", examples_dir: str | Path | None = None) -> None:
    """Command line: `unisign demo --model FOLDER_OR_HUB_ID [--port N] [--host ADDRESS]`.

    Args:
        argv (`list[str]`, *optional*): The arguments; defaults to `sys.argv[1:]`.
        prog (`str`, *optional*): The command's name in help and error messages.
        examples_dir (`str` or `Path`, *optional*): Default of `--examples` (the Space's `app.py` gives its own).
    """
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        default=os.environ.get("UNISIGN_MODEL"),
        help="Uni-Sign folder, Hub id or released name (default: $UNISIGN_MODEL)",
    )
    parser.add_argument("--port", type=int, help="port (default: $GRADIO_SERVER_PORT, else 7860)")
    parser.add_argument("--host", help="address to listen on (default: $GRADIO_SERVER_NAME, else 127.0.0.1)")
    parser.add_argument("--device", help="torch device (default: the first GPU, else CPU)")
    parser.add_argument("--dtype", choices=DTYPES, help="PyTorch precision (default: as saved)")
    parser.add_argument(
        "--model-backend",
        choices=BACKENDS,
        default="auto",
        help="torch or onnx (ONNX Runtime; default auto: onnx for a folder from `unisign export-onnx`)",
    )
    parser.add_argument("--threads", type=positive_int, help="torch (or ONNX Runtime) threads (default: torch's)")
    parser.add_argument(
        "--num-beams",
        type=whole_number_at_least(1, MAX_NUM_BEAMS),
        default=4,
        help="the page's beam width to start with (1: greedy)",
    )
    parser.add_argument(
        "--max-new-tokens",
        type=whole_number_at_least(1, MAX_NEW_TOKENS),
        default=100,
        help="the page's longest translation to start with",
    )
    default_examples = examples_dir or (SPACE_FOLDER / "examples" if (SPACE_FOLDER / "examples").is_dir() else None)
    parser.add_argument("--examples", default=default_examples, help="folder of example videos and .pose files")
    add_verify_argument(parser)
    args = parser.parse_args(argv)
    if not args.model:
        parser.error("give `--model FOLDER_OR_HUB_ID` (or set UNISIGN_MODEL).")
    try:
        import gradio  # noqa: F401
    except ImportError:
        parser.exit(2, f'{prog}: error: the demo needs Gradio: pip install "unisign[demo]"\n')
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    from ..hub.released import resolve_released_model

    try:
        model = resolve_released_model(args.model)  # a released name: its converted folder (converted once)
        translator = DemoTranslator(
            model, args.device, args.dtype, backend=args.model_backend, num_threads=args.threads, verify=args.verify
        )
    except ValueError as error:
        parser.exit(2, f"{prog}: error: {error}\n")
    build_demo(translator, args.examples, args.num_beams, args.max_new_tokens).launch(
        server_name=args.host, server_port=args.port, theme=_theme(), css=CSS, footer_links=["gradio"]
    )


__all__ = ["DemoInputError", "DemoResult", "DemoTranslator", "build_demo", "main"]
