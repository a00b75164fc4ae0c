"""The demo Space: its folder, `unisign push --space`, the demo's checks and results, and the page in a real browser.

The browser tests start `spaces/unisign-demo/app.py` on a free local port and drive Debian's Chromium
(`/usr/bin/chromium`, installed by `.ci/run`) with Playwright, which downloads no browser of its own. With
`UNISIGN_DEMO_SCREENSHOT=docs/demo_screenshot.png` the page's screenshot is also copied there (see docs/demo.md).
"""

import contextlib
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.parse
import urllib.request
from pathlib import Path

import huggingface_hub
import numpy as np
import pytest

from unisign.hub.push import main as hub_main
from unisign.hub.push import push_to_hub, upload_plan

from .conftest import REPO_ROOT
from .test_hub import no_network  # noqa: F401  (fixture: `HfApi` replaced by a recorder that sends nothing)
from .test_pipeline import model_dir  # noqa: F401  (fixture: a tiny pose-only model folder)
from .training_helpers import write_video


SPACE = REPO_ROOT / "spaces" / "unisign-demo"
CHROMIUM = Path("/usr/bin/chromium")
# decoding of every translation here, on the page (`app.py` options) and by `unisign translate` alike
SETTINGS = ["--num-beams", "1", "--max-new-tokens", "20"]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require(available: bool, message: str) -> None:
    """Skip the test when something it needs is missing, or fail it when `UNISIGN_REQUIRE_SHARED=1` (CI)."""
    if available:
        return
    if os.environ.get("UNISIGN_REQUIRE_SHARED") == "1":
        pytest.fail(f"UNISIGN_REQUIRE_SHARED=1 but {message}")
    pytest.skip(message)


def _installed(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def signer_video(data_dir) -> Path:
    require(_installed("mediapipe"), "mediapipe is not installed (pip install --no-deps mediapipe==0.10.14)")
    return data_dir / "pose-format" / "test_video.mp4"


@pytest.fixture(scope="module")
def demo_model(model_dir) -> str:  # noqa: F811
    """The tiny model, or `UNISIGN_DEMO_MODEL` (a trained model, for the docs' screenshot)."""
    return os.environ.get("UNISIGN_DEMO_MODEL", str(model_dir))


@pytest.fixture(scope="module")
def demo_translator(demo_model, tmp_path_factory):
    require(_installed("gradio"), 'gradio is not installed (pip install -e ".[demo]")')
    from unisign.apps.demo import DemoTranslator

    return DemoTranslator(demo_model, device="cpu", workdir=tmp_path_factory.mktemp("demo-outputs"))


@pytest.fixture(scope="module")
def cli_text(demo_model, signer_video) -> str:
    """What `unisign translate VIDEO --model MODEL` prints with `SETTINGS`."""
    from unisign.apps import cli

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        cli.main(["translate", str(signer_video), "--model", demo_model, "--device=cpu", *SETTINGS, "--no-progress"])
    return printed.getvalue().strip()


# The Space folder and its upload


def test_the_space_folder_is_a_gradio_space_with_the_signer_video_and_its_licence(data_dir):
    card = huggingface_hub.SpaceCard.load(SPACE / "README.md").data
    assert card.sdk == "gradio" and (SPACE / card.app_file).is_file()
    assert not card.models  # no placeholder: the Space's model is its variable UNISIGN_MODEL
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    requirements = (SPACE / "requirements.txt").read_text().splitlines()
    gradio_pin = next(line for line in requirements if line.startswith("gradio=="))
    assert f'demo = ["{gradio_pin}"]' in pyproject and card.sdk_version == gradio_pin.split("==")[1]
    # the example is the shared signer video, byte for byte, and ships with the licence it came under
    example = SPACE / "examples" / "signer.mp4"
    assert example.read_bytes() == (data_dir / "pose-format" / "test_video.mp4").read_bytes()
    licence = (SPACE / "examples" / "LICENSE-pose-format.txt").read_text()
    assert licence == (data_dir / "pose-format" / "LICENSE.txt").read_text() and "MIT License" in licence


def test_the_space_installs_the_package_dependencies_and_mediapipe_without_its_own():
    """requirements.txt = pyproject's core, `video` and `demo` requirements; app.py installs mediapipe, `--no-deps`."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = {*project["dependencies"], *extras["video"], *extras["demo"]}
    lines = (SPACE / "requirements.txt").read_text().splitlines()
    requirements = {line.split("#")[0].strip() for line in lines} - {""}
    assert requirements == wanted  # the same floors (torch's included), pose-format among them, and no mediapipe
    makefile = (REPO_ROOT / "Makefile").read_text()
    pin = re.search(r'MEDIAPIPE_REQUIREMENT = "(mediapipe==[\d.]+)"', (SPACE / "app.py").read_text()).group(1)
    assert f"pip install --quiet --no-deps {pin}" in makefile


def test_the_space_dry_run_lists_the_folder_and_the_package_and_sends_nothing(no_network, capsys):  # noqa: F811
    import unisign

    hub_main(["--space", "someone/unisign-demo", "--dry-run"], prog="unisign push")
    printed = capsys.readouterr().out
    assert printed.startswith("Dry run: nothing was uploaded. Would upload to the space repository someone/unisign-")
    assert no_network == []  # not even an `HfApi` was made
    plan = upload_plan(SPACE, "someone/unisign-demo", "space")
    package = Path(unisign.__file__).parent
    space_files, package_files = (
        sorted(
            prefix + path.relative_to(folder).as_posix()
            for path in folder.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        )
        for folder, prefix in ((SPACE, ""), (package, "unisign/"))
    )
    assert "unisign/apps/demo.py" in package_files and "app.py" in space_files
    assert [file.path_in_repo for file in plan.files] == space_files + package_files
    for path in space_files + package_files:
        assert f"  {path} " in printed


def test_a_space_upload_creates_a_gradio_space_and_commits_exactly_the_planned_files(no_network):  # noqa: F811
    plan = push_to_hub(SPACE, "someone/unisign-demo", repo_type="space", private=True)
    assert no_network[1] == (
        "create_repo",
        "someone/unisign-demo",
        {"repo_type": "space", "space_sdk": "gradio", "private": True, "exist_ok": True},
    )
    _, repo_id, operations, options = no_network[2]
    assert repo_id == "someone/unisign-demo" and options["repo_type"] == "space"
    assert [operation.path_in_repo for operation in operations] == [file.path_in_repo for file in plan.files]
    demo_source = next(operation for operation in operations if operation.path_in_repo == "unisign/apps/demo.py")
    assert Path(demo_source.path_or_fileobj).read_text() == (REPO_ROOT / "src/unisign/apps/demo.py").read_text()


def test_a_space_folder_without_its_app_or_with_a_package_of_its_own_is_refused(tmp_path, no_network):  # noqa: F811
    shutil.copytree(SPACE, tmp_path / "space")
    (tmp_path / "space" / "app.py").unlink()
    with pytest.raises(ValueError, match="lacks the app file"):
        upload_plan(tmp_path / "space", "someone/demo", "space")
    (tmp_path / "space" / "app.py").write_text("")
    (tmp_path / "space" / "unisign").mkdir()
    (tmp_path / "space" / "unisign" / "__init__.py").write_text("")
    with pytest.raises(ValueError, match="has a `unisign/` folder"):
        upload_plan(tmp_path / "space", "someone/demo", "space")
    with pytest.raises(SystemExit):
        hub_main(["--space", "someone/demo", "someone/other"])  # a Space repository twice
    assert no_network == []


def test_unisign_demo_without_a_model_is_a_one_line_error(monkeypatch, capsys):
    from unisign.apps import cli

    monkeypatch.delenv("UNISIGN_MODEL", raising=False)
    with pytest.raises(SystemExit):
        cli.main(["demo"])
    assert "give `--model FOLDER_OR_HUB_ID`" in capsys.readouterr().err


@pytest.mark.parametrize("variable", [None, "someone/uni-sign-model"])
def test_the_space_app_takes_its_model_from_unisign_model_and_without_it_stops_in_one_line(
    variable, monkeypatch, capsys
):
    import runpy

    import unisign.apps.demo

    started = []
    monkeypatch.setattr(unisign.apps.demo, "main", lambda arguments, **_: started.append(arguments))
    monkeypatch.setattr(sys, "argv", ["app.py", "--port", "7861"])
    monkeypatch.delenv("UNISIGN_DEMO_ARGS", raising=False)
    if variable is None:
        monkeypatch.delenv("UNISIGN_MODEL", raising=False)
        with pytest.raises(SystemExit) as stopped:
            runpy.run_path(str(SPACE / "app.py"), run_name="__main__")
        assert "set the Space variable UNISIGN_MODEL" in stopped.value.code and "\n" not in stopped.value.code
        assert not started
    else:
        monkeypatch.setenv("UNISIGN_MODEL", variable)
        runpy.run_path(str(SPACE / "app.py"), run_name="__main__")
        assert started == [["--model", variable, "--port", "7861"]]


@pytest.mark.parametrize("option", ["--num-beams", "--max-new-tokens", "--threads"])
def test_unisign_demo_refuses_counts_below_one_before_loading_anything(option, capsys):
    from unisign.apps import demo

    with pytest.raises(SystemExit) as exit_info:  # `--threads 0` was raised to 1 silently, beams 0 failed per request
        demo.main(["--model", "/nowhere/model", option, "0"])
    assert exit_info.value.code == 2
    assert f"argument {option}: must be at least 1, got 0" in capsys.readouterr().err


def test_unisign_demo_reports_a_bad_folder_in_one_line_and_a_loader_bug_with_its_traceback(
    model_dir,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    """Through `one_line_errors`: a config the model refuses is exit 1 (not 2, not a traceback); a `ValueError` bug in
    the loader keeps its traceback (it was `error: <message>`, exit 2)."""
    require(_installed("gradio"), 'gradio is not installed (pip install -e ".[demo]")')
    import json

    from unisign.apps import demo, inference

    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "pose_temporal_kernel_size": 2}))
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--model", str(folder), "--device", "cpu"])
    assert "unisign demo: error: Could not load" in str(exit_info.value.code)
    assert "pose_temporal_kernel_size" in str(exit_info.value.code)

    def buggy(*args, **kwargs):
        raise ValueError("a bug in the loader")

    monkeypatch.setattr(inference, "pipeline", buggy)
    with pytest.raises(ValueError, match="a bug in the loader"):
        demo.main(["--model", str(model_dir), "--device", "cpu"])


# What one request does


def test_the_page_starts_with_the_saved_decoding_settings_that_unisign_translate_uses(
    model_dir,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    """`unisign demo` without `--num-beams` / `--max-new-tokens` starts the page at the model's generation_config.json,
    as `unisign translate` without them decodes; a request without settings decodes with them too."""
    require(_installed("gradio"), 'gradio is not installed (pip install -e ".[demo]")')
    import gradio as gr
    from transformers import GenerationConfig

    from unisign.apps import cli, demo

    translate = cli.build_parser().parse_args(["translate", "clip.mp4", "--model", "m"])
    assert (translate.num_beams, translate.max_new_tokens) == (None, None)
    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    saved = GenerationConfig.from_pretrained(folder)
    assert (saved.num_beams, saved.max_new_tokens) != (3, 7)
    saved.update(num_beams=3, max_new_tokens=7)  # a model's own settings, other than the package's defaults
    saved.save_pretrained(folder)

    pages, build_demo = [], demo.build_demo

    def page(translator, examples, num_beams, max_new_tokens, *others):
        assert (num_beams, max_new_tokens) == (None, None)  # no flags: the model's own settings, as in translate
        pages.append(build_demo(translator, examples, num_beams, max_new_tokens, *others))
        return pages[-1]

    monkeypatch.setattr(demo, "build_demo", page)
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **options: None)
    demo.main(["--model", str(folder), "--device", "cpu"])
    sliders = sorted(block.value for block in pages[0].blocks.values() if isinstance(block, gr.Slider))
    assert sliders == [3, 7]

    translator = demo.DemoTranslator(str(folder), device="cpu", workdir=tmp_path / "outputs")
    pose_file = SPACE / "examples" / "mediapipe.pose"
    from unisign.extraction import load_poses

    expected = translator.pipeline(load_poses(pose_file), num_beams=3, max_new_tokens=7)["translation_text"]
    assert translator(pose_file).text == expected


def test_a_pose_file_gives_a_contact_sheet_and_the_prompt_choice_reaches_the_model(demo_translator):
    from unisign.extraction import load_poses

    pose_file = SPACE / "examples" / "mediapipe.pose"
    result = demo_translator(pose_file, num_beams=1, max_new_tokens=8)
    sample = load_poses(pose_file)
    expected = demo_translator.pipeline(sample, num_beams=1, max_new_tokens=8)["translation_text"]
    assert result.text == expected and result.video is None and result.image.suffix == ".png"
    assert list(result.timings) == ["reading poses", "translation", "drawing"]
    assert list(demo_translator.prompts) == ["en", "zh"]  # the processor's default language first
    chinese = demo_translator(pose_file, "zh", num_beams=1, max_new_tokens=8)
    assert (
        chinese.text
        == demo_translator.pipeline(sample, language="zh", num_beams=1, max_new_tokens=8)["translation_text"]
    )


def test_the_demo_loads_its_model_as_translate_does(demo_translator, model_dir, tmp_path):  # noqa: F811
    """Through `load_translation_pipeline`: `--dtype auto`, float16 with mT5's `wo` in float32, and ONNX exports."""
    import torch

    from unisign.apps.demo import DemoTranslator
    from unisign.extraction import load_poses
    from unisign.utils.precision import resolve_inference_dtype

    sample = load_poses(SPACE / "examples" / "mediapipe.pose")
    settings = {"num_beams": 1, "max_new_tokens": 8}
    expected = demo_translator.pipeline(sample, **settings)["translation_text"]
    automatic = DemoTranslator(str(model_dir), "cpu", "auto", tmp_path).pipeline
    assert automatic.model.dtype == resolve_inference_dtype("auto", "cpu")
    assert isinstance(automatic(sample, **settings)["translation_text"], str)
    half = DemoTranslator(str(model_dir), "cpu", "float16", tmp_path).pipeline.model
    assert {p.dtype for name, p in half.named_parameters() if name.endswith(".wo.weight")} == {torch.float32}
    pytest.importorskip("onnxruntime")
    from unisign.onnx import UniSignOnnxModel, export_onnx

    onnx_translator = DemoTranslator(str(export_onnx(model_dir, tmp_path / "onnx")), workdir=tmp_path)
    assert isinstance(onnx_translator.pipeline.model, UniSignOnnxModel)
    assert onnx_translator.pipeline(sample, **settings)["translation_text"] == expected


def test_a_converted_reference_folder_translates_with_hand_crops_and_marks_their_frames(
    golden_dir, signer_video, tmp_path
):
    from safetensors.torch import load_file
    from transformers import AutoConfig

    from unisign import convert_reference_checkpoint
    from unisign.apps.demo import DemoInputError, DemoTranslator
    from unisign.apps.visualization import hand_sampled_frames
    from unisign.models.unisign.keypoints import PART_COLOURS
    from unisign.models.unisign.video_io import read_video_frames

    require(_installed("gradio"), 'gradio is not installed (pip install -e ".[demo]")')
    # the authors' (tiny) RGB-pose checkpoint, converted with its tokenizer as `unisign convert --tokenizer` does
    state_dict = load_file(golden_dir / "official_state_dict.safetensors")
    text_config = AutoConfig.from_pretrained(golden_dir / "tiny-mt5")
    model, processor = convert_reference_checkpoint(
        state_dict, text_config, tokenizer=golden_dir / "tiny-mt5", language="zh"
    )
    model.save_pretrained(tmp_path / "converted")
    processor.save_pretrained(tmp_path / "converted")
    clip = tmp_path / "clip.mp4"
    write_video(clip, read_video_frames(signer_video, np.arange(24)), fps=30)  # the first 0.8 s

    translator = DemoTranslator(str(tmp_path / "converted"), device="cpu", workdir=tmp_path / "outputs")
    assert translator.uses_rgb and list(translator.prompts) == ["zh", "en"]
    result = translator(clip, num_beams=1, max_new_tokens=12)
    expected = translator.pipeline(str(clip), num_beams=1, max_new_tokens=12, return_poses=True)  # its own reading
    assert result.text == expected["translation_text"]
    with pytest.raises(DemoInputError, match="also reads RGB hand crops: upload the video"):
        translator(SPACE / "examples" / "mediapipe.pose")

    # frames the hand crops come from are framed in the hand's colour (the first hand's frame is the outer one)
    marked = hand_sampled_frames(expected["poses"])
    assert sum(len(frames) for frames in marked.values()) > 0
    drawn = read_video_frames(result.video, np.arange(24)).astype(np.int16)  # (24, H, W, 3)
    outer_side = {int(frame): side for side in ("right_hand", "left_hand") for frame in marked[side]}
    for frame in range(24):
        edge = drawn[frame, :, :2].reshape(-1, 3).mean(0)  # the two leftmost columns
        distances = {side: np.abs(edge - PART_COLOURS[side]).max() for side in ("left_hand", "right_hand")}
        if frame in outer_side:
            assert distances[outer_side[frame]] < 40, (frame, edge)
        else:
            assert min(distances.values()) > 40, (frame, edge)


def test_unreadable_short_and_empty_clips_get_clear_messages(demo_translator, signer_video, tmp_path):
    from unisign.apps.demo import MIN_FRAMES, DemoInputError
    from unisign.models.unisign.video_io import read_video_frames

    fake = tmp_path / "notes.mp4"
    fake.write_text("a text file renamed .mp4\n")
    requests = len(list(demo_translator.workdir.glob("request-*")))
    with pytest.raises(DemoInputError, match=r"Could not open `notes.mp4` as a video: it is corrupt or not a video"):
        demo_translator(fake)
    with pytest.raises(DemoInputError, match=r"Unsupported file `notes.txt`: upload a video \(.mp4, .webm, .mov\)"):
        demo_translator(fake.with_suffix(".txt"))
    short = tmp_path / "short.mp4"
    write_video(short, read_video_frames(signer_video, np.arange(MIN_FRAMES - 3)))  # a person, but 5 frames
    with pytest.raises(DemoInputError, match=f"too short: {MIN_FRAMES - 3} frames .* at least {MIN_FRAMES}"):
        demo_translator(short)
    empty_room = tmp_path / "empty_room.mp4"
    write_video(empty_room, np.full((MIN_FRAMES + 2, 96, 128, 3), 128, dtype=np.uint8))
    with pytest.raises(DemoInputError, match=f"No person was found in any of the {MIN_FRAMES + 2} frames"):
        demo_translator(empty_room)
    assert len(list(demo_translator.workdir.glob("request-*"))) == requests  # nothing drawn for a refused clip


def test_a_request_the_model_unit_refuses_gets_its_message_on_the_page(demo_translator):
    """The unit's refusal (`UniSignInputError`: no prompt for the language) is a `DemoInputError`, which the page
    shows; it was an exception that Gradio shows as a bare "Error"."""
    from unisign.apps.demo import DemoInputError

    with pytest.raises(DemoInputError, match="No prompt for language 'de'"):
        demo_translator(SPACE / "examples" / "mediapipe.pose", "de", num_beams=1, max_new_tokens=4)


def test_clips_longer_than_the_bound_are_refused_on_the_page_before_the_work(demo_model, tmp_path, monkeypatch):
    """A 9,000-frame video held the page for minutes: a request of more than `max_frames` frames is refused in one
    line (a video that declares its length before any pose extraction), through the page's own handler."""
    require(_installed("gradio"), 'gradio is not installed (pip install -e ".[demo]")')
    import gradio as gr

    from unisign.apps import demo
    from unisign.extraction import load_poses
    from unisign.models.unisign.video_io import VideoInfo

    pose_file = SPACE / "examples" / "mediapipe.pose"
    frames = load_poses(pose_file).num_frames
    translator = demo.DemoTranslator(demo_model, device="cpu", workdir=tmp_path / "out", max_frames=frames - 1)
    page = demo.build_demo(translator)
    assert f"up to **{frames - 1} frames**" in page.blocks[next(iter(page.blocks))].value or any(
        f"up to **{frames - 1} frames**" in str(getattr(block, "value", "")) for block in page.blocks.values()
    )
    handlers = {function.api_name: function.fn for function in page.fns.values()}
    with pytest.raises(gr.Error, match=f"too long: {frames} frames .* at most {frames - 1} frames"):
        handlers["translate_poses"](str(pose_file), "en", 1, 4)
    translator.max_frames = frames  # at the bound: translated
    expected = translator.pipeline(load_poses(pose_file), num_beams=1, max_new_tokens=4)["translation_text"]
    assert handlers["translate_poses"](str(pose_file), "en", 1, 4)[0] == expected

    translator.max_frames = 10
    video = tmp_path / "long.mp4"
    write_video(video, np.full((12, 64, 64, 3), 128, dtype=np.uint8))
    extracted = []

    def extraction(path, progress=False, max_frames=None):
        extracted.append(max_frames)
        return load_poses(pose_file)  # more frames than the bound, as a video without a declared length gives

    monkeypatch.setattr(demo, "extract_poses", extraction)
    with pytest.raises(gr.Error, match="too long: 12 frames .* at most 10 frames"):
        handlers["translate_video"](str(video), "en", 1, 4)
    assert extracted == []  # refused from the container's frame count, before any pose extraction
    monkeypatch.setattr(demo, "probe_video", lambda path: VideoInfo(64, 64, 25.0, None))  # no declared length
    with pytest.raises(gr.Error, match="too long: more than 10 frames"):
        handlers["translate_video"](str(video), "en", 1, 4)
    assert extracted == [11]  # extraction stopped one frame past the bound


def test_requests_translated_at_once_each_get_their_own_text(demo_translator, tmp_path):
    """The page serves `DEFAULT_CONCURRENCY` requests at once: the translator shared by threads gives each request the
    text it gives alone (two clips of different lengths, each twice)."""
    from concurrent.futures import ThreadPoolExecutor

    from unisign.apps.demo import DEFAULT_CONCURRENCY
    from unisign.extraction import load_poses
    from unisign.models.unisign.pose_file import write_pose_file

    sample = load_poses(SPACE / "examples" / "mediapipe.pose")
    short = tmp_path / "short.pose"
    sample.keypoints, sample.scores = (
        sample.keypoints[: sample.num_frames // 2],
        sample.scores[: sample.num_frames // 2],
    )
    write_pose_file(sample, short, fps=sample.fps or 25)
    clips = [SPACE / "examples" / "mediapipe.pose", short] * 2
    alone = [demo_translator(clip, num_beams=2, max_new_tokens=8).text for clip in clips]
    assert DEFAULT_CONCURRENCY > 1
    with ThreadPoolExecutor(max_workers=DEFAULT_CONCURRENCY) as pool:
        at_once = list(pool.map(lambda clip: demo_translator(clip, num_beams=2, max_new_tokens=8).text, clips))
    assert at_once == alone


def test_a_pose_file_without_pose_format_names_its_pip_install(demo_translator, monkeypatch):
    """The page shows this message (a `DemoInputError`) rather than a bare "Error" for the `ImportError`."""
    from unisign.apps.demo import DemoInputError

    monkeypatch.setitem(sys.modules, "pose_format", None)  # as on a Space whose requirements lack pose-format
    message = (
        "This server cannot read `mediapipe.pose`: Reading or writing `.pose` files needs pose-format: "
        "`pip install pose-format`."
    )
    with pytest.raises(DemoInputError) as error:
        demo_translator(SPACE / "examples" / "mediapipe.pose")
    assert str(error.value) == message


# The page in a browser


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _app_server(python: Path, app: Path, arguments: list[str], environment: dict, log: Path):
    """`python app.py ARGUMENTS --port N ...` running (`_wait_until_up` waits until it answers)."""
    port = _free_port()
    command = [str(python), str(app), *arguments, "--port", str(port), *SETTINGS]
    with log.open("w") as output:
        server = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--device", "cpu"],
            env={**environment, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"},
            cwd=app.parent,
            stdout=output,
            stderr=output,
        )
    try:
        yield server, f"http://127.0.0.1:{port}/", log
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def demo_server(demo_model, tmp_path_factory):
    """`python spaces/unisign-demo/app.py ...` in the development environment (`page` waits until it answers)."""
    require(_installed("gradio"), 'gradio is not installed (pip install -e ".[demo]")')
    path = os.pathsep.join([str(REPO_ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    log = tmp_path_factory.mktemp("demo-server") / "server.log"
    environment = {**os.environ, "PYTHONPATH": path}
    with _app_server(Path(sys.executable), SPACE / "app.py", ["--model", demo_model], environment, log) as up:
        yield up


def _wait_until_up(server: subprocess.Popen, url: str, log: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"The demo did not start (exit code {server.poll()}):\n{log.read_text()[-3000:]}")
        time.sleep(0.5)


@contextlib.contextmanager
def _browser_page(url: str, profile: Path):
    """A page of Debian's Chromium (driven by Playwright) open at `url`."""
    require(CHROMIUM.is_file(), f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    require(_installed("playwright"), 'playwright is not installed (pip install -e ".[dev]")')
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.new_page()
            page.goto(url)
            yield page
        finally:
            context.close()


@pytest.fixture
def page(demo_server, tmp_path):
    server, url, log = demo_server
    _wait_until_up(server, url, log)
    with _browser_page(url, tmp_path / "chromium-profile") as opened:
        yield opened


def test_concurrent_visitors_are_queued_and_each_gets_the_translation(demo_server, demo_translator):
    from gradio_client import Client, handle_file

    server, url, log = demo_server
    _wait_until_up(server, url, log)
    pose_file = SPACE / "examples" / "mediapipe.pose"
    client = Client(url, verbose=False)
    jobs = [
        client.submit(handle_file(str(pose_file)), "en", 1, 8, api_name="/translate_poses") for _ in range(3)
    ]  # all three in the queue at once
    texts = [job.result(timeout=120)[0] for job in jobs]
    assert texts == [demo_translator(pose_file, num_beams=1, max_new_tokens=8).text] * 3


def _upload_video(page, path: Path) -> None:
    page.locator("#input-video input[type=file]").set_input_files(str(path))
    page.locator("#input-video video").wait_for(state="attached", timeout=15_000)
    page.locator("#translate-video").click()


def test_the_page_translates_the_signer_video_as_unisign_translate_does(
    demo_server, cli_text, page, signer_video, tmp_path
):
    """The server starts while `unisign translate` runs (fixtures in this order), then the browser opens the page."""
    from playwright.sync_api import expect

    from unisign.models.unisign.video_io import probe_video

    _upload_video(page, signer_video)
    expect(page.get_by_text("Extracting poses").first).to_be_visible(timeout=20_000)  # the progress indicator
    translation = page.locator("#text textarea")
    expect(translation).not_to_have_value("", timeout=45_000)
    assert translation.input_value() == cli_text
    drawn = page.locator("#keypoints video")
    expect(drawn).to_be_visible()
    page.wait_for_function("document.querySelector('#keypoints video').readyState >= 2", timeout=10_000)  # decoded
    source = drawn.get_attribute("src")
    assert source.endswith("keypoints.mp4")
    # the served video: the keypoints drawn over every frame of the upload
    with urllib.request.urlopen(urllib.parse.urljoin(page.url, source), timeout=10) as response:
        (tmp_path / "keypoints.mp4").write_bytes(response.read())
    drawn_info, video_info = probe_video(tmp_path / "keypoints.mp4"), probe_video(signer_video)
    assert (drawn_info.num_frames, drawn_info.width, drawn_info.height) == (58, video_info.width, video_info.height)
    timings = page.locator("#timings")
    expect(timings).to_contain_text("58 frames, a person in 58 · pose extraction")
    assert re.search(
        r"pose extraction \d+\.\d\d s · translation \d+\.\d\d s · drawing \d+\.\d\d s", timings.inner_text()
    )
    screenshot = tmp_path / "demo_screenshot.png"  # the test's artefact
    page.screenshot(path=str(screenshot), full_page=True)
    if os.environ.get("UNISIGN_DEMO_SCREENSHOT"):  # docs/demo.md: how docs/demo_screenshot.png is made
        shutil.copyfile(screenshot, os.environ["UNISIGN_DEMO_SCREENSHOT"])


def test_the_page_shows_the_error_for_a_text_file_renamed_mp4(page, tmp_path):
    from playwright.sync_api import expect

    fake = tmp_path / "notes.mp4"
    fake.write_text("a text file renamed .mp4\n")
    _upload_video(page, fake)
    message = page.get_by_text("Could not open `notes.mp4` as a video: it is corrupt or not a video")
    expect(message).to_be_visible(timeout=20_000)  # in the page's error toast
    assert page.locator("#text textarea").input_value() == ""


# The Space in its own environment: its requirements.txt, the package beside app.py, mediapipe installed by app.py


@pytest.fixture(scope="module")
def space_server(space_python, demo_model, tmp_path_factory):
    """app.py of a Space upload (this folder, the package as `unisign/` beside it) in the Space's own environment."""
    from .environment_helpers import isolated_env

    upload = tmp_path_factory.mktemp("space-upload")
    for file in upload_plan(SPACE, "user/unisign-demo", "space").files:
        (upload / file.path_in_repo).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file.local_path or SPACE / file.path_in_repo, upload / file.path_in_repo)
    log = upload.parent / "space-server.log"
    environment = isolated_env(upload) | {"UNISIGN_MODEL": demo_model}  # as a Space is given its model
    with _app_server(space_python, upload / "app.py", [], environment, log) as up:
        yield up


def test_the_space_environment_starts_and_translates_a_video_in_the_browser_and_a_pose_file(
    space_server, cli_text, demo_translator, signer_video, space_python, tmp_path
):
    """The page served from the Space's environment gives the development environment's texts."""
    from gradio_client import Client, handle_file
    from playwright.sync_api import expect

    server, url, log = space_server
    _wait_until_up(server, url, log, timeout_s=600)  # a first start installs mediapipe (pip's cache keeps it cheap)
    with _browser_page(url, tmp_path / "chromium-profile") as opened:
        _upload_video(opened, signer_video)
        translation = opened.locator("#text textarea")
        expect(translation).not_to_have_value("", timeout=90_000)
        assert translation.input_value() == cli_text
    pose_file = SPACE / "examples" / "mediapipe.pose"
    text = Client(url, verbose=False).predict(handle_file(str(pose_file)), "en", 1, 20, api_name="/translate_poses")[0]
    assert text == demo_translator(pose_file, num_beams=1, max_new_tokens=20).text
    server_log = log.read_text()
    assert "Traceback" not in server_log, server_log[-3000:]
    imported = subprocess.run([str(space_python), "-c", "import mediapipe"], capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr[-2000:]  # app.py installed it at its first start
