"""A Gradio demo of Uni-Sign: drop in a sign language video, see the keypoints the model reads, read the translation.

`unisign demo --model FOLDER_OR_HUB_ID` runs it on this machine; the Hugging Face Space in `spaces/unisign-demo`
runs the same `build_demo` (`unisign push --space user/name` uploads that folder with a copy of this package). The
translation is the `sign-language-translation` pipeline's, given the same poses as `unisign translate`, so the text is
the command's. Gradio is an optional dependency: `pip install "unisign[demo]"`.
"""

import argparse
import os
import shutil
import sys
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
from ..models.unisign.video_io import probe_video
from ..utils.arguments import add_decoding_arguments, add_verify_argument, positive_int, whole_number_at_least
from ..utils.errors import is_input_error, one_line_errors, pop_debug_flag
from ..utils.precision import DTYPES
from .inference import BACKENDS
from .visualization import pose_contact_sheet, write_pose_video


VIDEO_SUFFIXES = (".mp4", ".webm", ".mov")
POSE_SUFFIX = ".pose"
# A clip shorter than this (about a quarter of a second at 30 fps) holds no sign; the pose encoder's temporal
# convolutions would read mostly padding.
MIN_FRAMES = 8
# The most frames one request may process (`--max-frames`): 20 s at 30 fps. Pose extraction and drawing take time in
# proportion to the frames (a 9,000-frame video had no answer after 150 s); a longer clip is refused in one line, a
# video whose container declares its length before any work. The translation reads at most the feature extractor's
# `max_frames` (256) of them anyway.
DEFAULT_MAX_FRAMES = 600
# Requests translated at once (`--concurrency`); more wait in Gradio's queue. The pipeline is safe to share between
# threads (tests/test_journeys.py), each request extracts poses with its own MediaPipe graph and draws into its own
# folder; a long request no longer holds every other visitor.
DEFAULT_CONCURRENCY = 2
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
        max_frames (`int`, *optional*, defaults to `DEFAULT_MAX_FRAMES`): The longest clip a request may give, in
            frames; a longer one is refused (`DemoInputError`).
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
        max_frames: int = DEFAULT_MAX_FRAMES,
        verify: bool = False,
    ):
        from .inference import checked_model_folder, load_translation_pipeline, model_folder_errors

        # the checks and loader of `unisign translate`: refusals of a damaged folder, dtype handling, ONNX backend
        checked = checked_model_folder(model)
        with model_folder_errors(model):
            self.pipeline = load_translation_pipeline(checked, backend, device, dtype, num_threads, verify)
        self.workdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="unisign-demo-"))
        self.max_frames = max_frames

    @property
    def prompts(self) -> dict[str, str]:
        """Prompt key (`"en"`, `"en/SLT"`, ...) -> prompt text, the processor's default language first."""
        prompts = self.pipeline.processor.prompts
        default = self.pipeline.processor.language
        return {default: prompts[default], **{key: text for key, text in prompts.items() if key != default}}

    @property
    def generation_settings(self) -> tuple[int, int]:
        """`(num_beams, max_new_tokens)` of the model's saved generation settings, which `unisign translate` uses."""
        settings = self.pipeline.model.generation_config
        max_new_tokens = settings.max_new_tokens
        if max_new_tokens is None:  # a length limit counts the decoder's start token: one new token fewer
            max_new_tokens = settings.max_length - 1
        return settings.num_beams, max_new_tokens

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
                without a person, a clip shorter than `MIN_FRAMES` or longer than `max_frames` (a video that declares
                its length is refused before any pose extraction; others after `max_frames + 1` frames at most).
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
            if suffix == POSE_SUFFIX:
                sample = load_poses(path)
            else:
                info = probe_video(path)
                if info.num_frames is not None and info.num_frames > self.max_frames:
                    raise DemoInputError(self._too_long(f"{info.num_frames} frames", info.num_frames, info.fps))
                sample = extract_poses(path, progress=progress, max_frames=self.max_frames + 1)
        except DemoInputError:
            raise
        except (ValueError, FileNotFoundError) as error:
            raise DemoInputError(str(error).replace(str(path), path.name)) from error
        except (
            ImportError
        ) as error:  # a library this server lacks (one line naming its pip install), not a bare "Error"
            raise DemoInputError(f"This server cannot read `{path.name}`: {error}") from error
        seconds = f" ({sample.num_frames / sample.fps:.2f} s)" if sample.fps else ""
        if sample.num_frames > self.max_frames:  # extraction stopped one frame past the bound
            length = f"{sample.num_frames} frames" if suffix == POSE_SUFFIX else f"more than {self.max_frames} frames"
            raise DemoInputError(self._too_long(length, sample.num_frames, sample.fps))
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

    def _too_long(self, length: str, num_frames: int, fps: float | None) -> str:
        """The page's message for a clip of more than `max_frames` frames."""
        seconds = f" ({num_frames / fps:.1f} s)" if fps else ""
        return (
            f"The clip is too long: {length}{seconds}. This demo translates clips of at most {self.max_frames} "
            "frames; trim it, or run `unisign translate` on your own machine."
        )

    def __call__(
        self,
        path: str | Path,
        prompt: str | None = None,
        num_beams: int | None = None,
        max_new_tokens: int | None = None,
        progress: bool = False,
    ) -> DemoResult:
        """Translate one upload and draw its keypoints.

        Args:
            path (`str` or `Path`): A video (`VIDEO_SUFFIXES`) or a `.pose` file.
            prompt (`str`, *optional*): A key of `prompts` (`"<language>"` or `"<language>/<task>"`); the
                processor's default language when `None`.
            num_beams, max_new_tokens (`int`, *optional*): Decoding settings; the model's saved ones
                (`generation_settings`) where `None`, as for `unisign translate`.
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
        try:
            text = self.pipeline(
                {"poses": sample, "video": video},
                language=language,
                task=task or None,
                num_beams=num_beams,
                max_new_tokens=max_new_tokens,
            )["translation_text"]
        except ValueError as error:
            if not is_input_error(error):  # a bug: its traceback, in the server's log
                raise
            raise DemoInputError(str(error).replace(str(path), Path(path).name)) from error
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
    num_beams: int | None = None,
    max_new_tokens: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
):
    """The page: inputs (video upload or webcam, `.pose` file, prompt, decoding), outputs (text, keypoints, timings).

    Args:
        translator (`DemoTranslator`): The loaded model; every request uses it (shared between threads: safe).
        examples_dir (`str` or `Path`, *optional*): Videos and `.pose` files offered as examples.
        num_beams, max_new_tokens (`int`, *optional*): The decoding settings the page starts with; where `None`, the
            model's saved ones (`DemoTranslator.generation_settings`), which `unisign translate` uses.
        concurrency (`int`, *optional*, defaults to `DEFAULT_CONCURRENCY`): Requests translated at once (both
            buttons together); up to 32 more wait in the queue.

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
    saved_beams, saved_tokens = translator.generation_settings
    num_beams = saved_beams if num_beams is None else num_beams
    max_new_tokens = saved_tokens if max_new_tokens is None else max_new_tokens
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(KEEP_OUTPUTS_S, KEEP_OUTPUTS_S)) as demo:
        gr.Markdown(f"# {TITLE}", elem_id="title")
        gr.Markdown(DESCRIPTION)
        gr.Markdown(
            f"Clips of up to **{translator.max_frames} frames** (about {translator.max_frames / 30:.0f} s at 30 fps) "
            "are translated; trim longer ones.",
            elem_id="limits",
        )
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
                    beams = gr.Slider(
                        1, max(8, num_beams), value=num_beams, step=1, label="Beams (1: greedy, fastest)"
                    )
                    tokens = gr.Slider(
                        1, max(200, max_new_tokens), value=max_new_tokens, step=1, label="Longest translation (tokens)"
                    )
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
        few_shot_tab(DemoFewShot(translator))
        gr.Markdown(f"Model: `{translator.pipeline.model.name_or_path}` · {_device_line(translator)}")

        outputs = [text, keypoints_video, keypoints_image, timings]
        settings = [prompt, beams, tokens]
        # one limit for both buttons: `concurrency` translations at once in all
        limits = {"concurrency_limit": concurrency, "concurrency_id": "translate"}
        video_button.click(translate, [video, *settings], outputs, api_name="translate_video", **limits)
        pose_button.click(translate, [pose_file, *settings], outputs, api_name="translate_poses", **limits)
    return demo.queue(default_concurrency_limit=concurrency, max_size=32)


def _device_line(translator: DemoTranslator) -> str:
    import torch

    device = translator.pipeline.device
    threads = f", {torch.get_num_threads()} threads" if device.type == "cpu" else ""
    return f"{device.type}{threads} · pose-only" if not translator.uses_rgb else f"{device.type}{threads} · RGB-pose"


# The few-shot tab: teach the model new signs from a few uploads (apps/few_shot.py), then recognise a clip.

MAX_FEW_SHOT_SIGNS = 20  # signs per session: each costs a forward pass per example and lives in the session's memory
MAX_FEW_SHOT_EXAMPLES = 10  # example files per sign (enrollment is nearly as good from 5, docs/few_shot.md)
MAX_FEW_SHOT_FRAMES = 900  # frames per clip (30 s at 30 fps): an example shows one sign
FEW_SHOT_TOP_K = 5
FEW_SHOT_DESCRIPTION = (
    "Teach the model signs it never saw: give a sign a name, upload a few examples of it (videos or `.pose` files, "
    "ideally from different signers), press **Add sign**; repeat for each sign, then upload a clip to recognise. "
    "Nothing is trained: each example is embedded by the model and a clip is matched to the nearest sign "
    f"(`docs/few_shot.md`). At most {MAX_FEW_SHOT_SIGNS} signs, "
    f"{MAX_FEW_SHOT_EXAMPLES} examples per sign and {MAX_FEW_SHOT_FRAMES} frames per clip; the signs last as long "
    "as this page is open."
)


class DemoFewShot:
    """What the few-shot tab does: enroll uploaded examples into a session's vocabulary, and recognise a clip.

    A session's vocabulary (a `SignVocabulary`, or `None` before its first sign) is kept by the page (`gr.State`)
    and passed in; the methods return a new one and never change it, so sessions share nothing but the model.

    Args:
        translator (`DemoTranslator`): The demo's loaded model (a PyTorch, float32, pose-only one for this tab).
    """

    def __init__(self, translator: DemoTranslator):
        self.translator = translator
        self._embedder = None

    @property
    def unavailable(self) -> str | None:
        """Why this model cannot enroll signs (the tab says so), or `None` when it can."""
        import torch

        model = self.translator.pipeline.model
        if not isinstance(model, torch.nn.Module):
            return "Few-shot enrollment needs the PyTorch model (this demo runs an ONNX export)."
        if self.translator.uses_rgb:
            return "Few-shot enrollment uses pose-only models; this one also reads RGB hand crops."
        if next(model.parameters()).dtype != torch.float32:
            return "Few-shot enrollment needs the model in float32 (start the demo with `--dtype float32`)."
        return None

    @property
    def embedder(self):
        """The `SignEmbedder` of the demo's model (made on first use)."""
        from .few_shot import SignEmbedder

        if self.unavailable:
            raise DemoInputError(self.unavailable)
        if self._embedder is None:
            pipeline = self.translator.pipeline
            self._embedder = SignEmbedder(pipeline.model, pipeline.processor, name=pipeline.model.name_or_path)
        return self._embedder

    def _read(self, path: str | Path) -> PoseSample:
        sample = self.translator.read_poses(path)
        if sample.num_frames > MAX_FEW_SHOT_FRAMES:
            raise DemoInputError(
                f"`{Path(path).name}` has {sample.num_frames} frames; an example or clip may have at most "
                f"{MAX_FEW_SHOT_FRAMES}: trim it to the sign."
            )
        return sample

    def add_sign(self, vocabulary, name: str | None, paths: list[str | Path] | None):
        """Enroll one sign from its example files into a copy of `vocabulary` (`None`: a new one).

        Raises:
            DemoInputError: for a missing name or examples, too many signs or examples, an unreadable or too short
                clip, or a name already enrolled.
        """
        from ..utils.errors import UniSignError
        from .few_shot import enroll

        name = (name or "").strip()
        paths = list(paths or [])
        if not name:
            raise DemoInputError("Give the sign a name first.")
        if not paths:
            raise DemoInputError(f"Upload at least one example of {name!r} (a video or a .pose file).")
        if len(paths) > MAX_FEW_SHOT_EXAMPLES:
            raise DemoInputError(f"{len(paths)} examples of {name!r}: at most {MAX_FEW_SHOT_EXAMPLES} per sign.")
        if vocabulary is not None and len(vocabulary) >= MAX_FEW_SHOT_SIGNS:
            raise DemoInputError(f"This page holds at most {MAX_FEW_SHOT_SIGNS} signs: clear them to start again.")
        try:
            return enroll(self.embedder, {name: [self._read(path) for path in paths]}, vocabulary)
        except UniSignError as error:  # a name already enrolled, a clip too short for the embedder
            raise DemoInputError(str(error)) from None

    def recognize(self, vocabulary, path: str | Path | None, top_k: int = FEW_SHOT_TOP_K) -> dict[str, float]:
        """The `top_k` enrolled signs most similar to a clip, best first: sign -> cosine similarity.

        Raises:
            DemoInputError: when no sign is enrolled, no clip given, or the clip cannot be read.
        """
        from ..utils.errors import UniSignError
        from .few_shot import recognize

        if vocabulary is None or not len(vocabulary):
            raise DemoInputError("Add at least one sign first: a name and a few examples of it.")
        if not path:
            raise DemoInputError("Upload a clip to recognise (a video or a .pose file).")
        try:
            return dict(recognize(self.embedder, vocabulary, self._read(path), top_k))
        except UniSignError as error:
            raise DemoInputError(str(error)) from None


def enrolled_signs_line(vocabulary) -> str:
    """One line of Markdown naming a session's signs and their examples."""
    if vocabulary is None or not len(vocabulary):
        return "No sign yet."
    signs = ", ".join(f"**{name}** ({len(vectors)})" for name, vectors in vocabulary.signs.items())
    return f"{len(vocabulary)} of at most {MAX_FEW_SHOT_SIGNS} signs (examples): {signs}"


def few_shot_tab(few_shot: DemoFewShot) -> None:
    """The "Teach new signs" tab, built inside the page's `gr.Blocks`; its events use `few_shot`."""
    import gradio as gr

    def on_error(error: DemoInputError):
        return gr.Error(str(error), duration=None, print_exception=False)

    def add(vocabulary, name, files):
        try:
            vocabulary = few_shot.add_sign(vocabulary, name, files)
        except DemoInputError as error:
            raise on_error(error) from None
        return vocabulary, enrolled_signs_line(vocabulary), None, ""

    def recognize(vocabulary, path):
        try:
            return few_shot.recognize(vocabulary, path)
        except DemoInputError as error:
            raise on_error(error) from None

    def clear():
        return None, enrolled_signs_line(None), None

    with gr.Tab("Teach new signs (few-shot)", elem_id="few-shot"):
        gr.Markdown(FEW_SHOT_DESCRIPTION)
        if few_shot.unavailable:
            gr.Markdown(f"**{few_shot.unavailable}**")
            return
        vocabulary = gr.State(None)  # this session's `SignVocabulary`
        with gr.Row(equal_height=False):
            with gr.Column():
                name = gr.Textbox(label="Sign name", max_lines=1, elem_id="few-shot-name")
                examples = gr.File(
                    file_count="multiple",
                    file_types=[*VIDEO_SUFFIXES, POSE_SUFFIX],
                    label=f"Examples of this sign (1 to {MAX_FEW_SHOT_EXAMPLES} videos or .pose files)",
                    elem_id="few-shot-examples",
                )
                with gr.Row():
                    add_button = gr.Button("Add sign", variant="primary", elem_id="few-shot-add")
                    clear_button = gr.Button("Clear signs", elem_id="few-shot-clear")
                signs = gr.Markdown(enrolled_signs_line(None), elem_id="few-shot-signs")
            with gr.Column():
                clip = gr.File(
                    file_types=[*VIDEO_SUFFIXES, POSE_SUFFIX],
                    label="Clip to recognise (a video or a .pose file)",
                    elem_id="few-shot-clip",
                )
                recognize_button = gr.Button("Recognise", variant="primary", elem_id="few-shot-recognize")
                scores = gr.Label(
                    num_top_classes=FEW_SHOT_TOP_K, label="Nearest signs (cosine similarity)", elem_id="few-shot-top"
                )
        add_button.click(add, [vocabulary, name, examples], [vocabulary, signs, examples, name], concurrency_limit=1)
        clear_button.click(clear, None, [vocabulary, signs, scores])
        recognize_button.click(recognize, [vocabulary, clip], scores, api_name="recognize_sign", concurrency_limit=1)


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
    add_decoding_arguments(parser, MAX_NUM_BEAMS, MAX_NEW_TOKENS, "the page's starting ")
    parser.add_argument(
        "--max-frames",
        type=whole_number_at_least(MIN_FRAMES),
        default=DEFAULT_MAX_FRAMES,
        help=f"the longest clip a request may give, in frames; longer ones are refused (default {DEFAULT_MAX_FRAMES})",
    )
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=DEFAULT_CONCURRENCY,
        help=f"requests translated at once; more wait in the queue (default {DEFAULT_CONCURRENCY})",
    )
    default_examples = examples_dir or (SPACE_FOLDER / "examples" if (SPACE_FOLDER / "examples").is_dir() else None)
    parser.add_argument("--examples", default=default_examples, help="folder of example videos and .pose files")
    add_verify_argument(parser)
    argv, debug = pop_debug_flag(sys.argv[1:] if argv is None else list(argv))
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

    # the package's own errors in one line (a usage error exits 2, a damaged folder 1); a bug keeps its traceback
    with one_line_errors(prog, debug):
        model = resolve_released_model(args.model)  # a released name: its converted folder (converted once)
        translator = DemoTranslator(
            model,
            args.device,
            args.dtype,
            backend=args.model_backend,
            num_threads=args.threads,
            max_frames=args.max_frames,
            verify=args.verify,
        )
    build_demo(translator, args.examples, args.num_beams, args.max_new_tokens, args.concurrency).launch(
        server_name=args.host, server_port=args.port, theme=_theme(), css=CSS, footer_links=["gradio"]
    )


__all__ = ["DemoFewShot", "DemoInputError", "DemoResult", "DemoTranslator", "build_demo", "few_shot_tab", "main"]
