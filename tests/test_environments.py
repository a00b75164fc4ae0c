"""The package where users install it: the core install (`pip install <repository>`, no extra), built for real.

`core_python` (tests/conftest.py) is a virtual environment in `.venv-envs/` with the package and its core
`dependencies` only (no Pillow, torchvision or mediapipe; PyAV comes with pose-format): `import unisign`,
`unisign --help` and `unisign translate` on a `.pose` file must work there and give the text the development
environment gives; an optional piece that is missing (the RGB hand crops, pose extraction from a video) gives one
line naming its `pip install`. The bare remote-code install is checked by tests/test_remote_code.py.
"""

import subprocess
import textwrap

from transformers import pipeline

from .conftest import DATA_DIR, require_shared
from .environment_helpers import isolated_env
from .test_remote_code import build_folder


POSE_FILE = DATA_DIR / "pose-format" / "6fb01565da31c5500d1ef2cd2906b06b.pose"
GENERATION = {"max_new_tokens": 6, "num_beams": 2}

# Runs in the core install: the package imports without the optional libraries, and a missing one is one line.
CORE_SCRIPT = textwrap.dedent(
    """
    import importlib.util
    import numpy as np
    extras = [name for name in ("PIL", "torchvision", "mediapipe") if importlib.util.find_spec(name)]
    assert not extras, f"not a core install: {extras} importable"
    import unisign
    assert "site-packages" in unisign.__file__, unisign.__file__
    processor = unisign.UniSignProcessor.from_pretrained(__import__("sys").argv[1])
    poses = np.random.default_rng(0).uniform(0.3, 0.7, (8, 133, 3)).astype(np.float32)
    try:
        processor(poses=[poses], frames=[np.zeros((8, 48, 64, 3), np.uint8)])
    except ImportError as error:
        print(error)
    """
)


def run_core(tmp_path, *arguments) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(argument) for argument in arguments],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=isolated_env(tmp_path),
        stdin=subprocess.DEVNULL,
        timeout=600,
    )


def test_core_install_imports_and_translates_a_pose_file(tmp_path, core_python):
    pose_file = require_shared(POSE_FILE)
    folder = tmp_path / "model"
    build_folder(folder, use_rgb=False)
    expected = pipeline("sign-language-translation", model=folder)(str(pose_file), **GENERATION)["translation_text"]

    (tmp_path / "check.py").write_text(CORE_SCRIPT)
    completed = run_core(tmp_path, core_python, tmp_path / "check.py", folder)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip() == "Cropping hands for the RGB branch needs Pillow: `pip install Pillow`."

    unisign = core_python.parent / "unisign"
    completed = run_core(tmp_path, unisign, "--help")
    assert completed.returncode == 0 and "translate" in completed.stdout, completed.stderr[-3000:]

    options = [f"--{name.replace('_', '-')}={value}" for name, value in GENERATION.items()]
    completed = run_core(tmp_path, unisign, "translate", pose_file, "--model", folder, *options)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip() == expected


def test_core_install_names_the_pip_install_for_videos(tmp_path, core_python):
    """A video needs pose extraction (mediapipe): one line naming its pip install, no traceback."""
    video = require_shared(DATA_DIR / "pose-format" / "test_video.mp4")
    folder = tmp_path / "model"
    build_folder(folder, use_rgb=False)
    completed = run_core(tmp_path, core_python.parent / "unisign", "translate", video, "--model", folder)
    assert completed.returncode != 0 and "Traceback" not in completed.stderr, completed.stderr[-3000:]
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith("unisign translate: error: ") and "`pip install --no-deps mediapipe==0.10.14`" in last
