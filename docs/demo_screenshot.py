"""Make docs/demo_screenshot.png: the demo with the main job's model translating a test clip it gets right.

Run from the repository root after `make main` (which writes `outputs/default_synthetic/best` and the synthetic
dataset); needs Chromium at /usr/bin/chromium (`make browser`) and Playwright (the dev extra):

    python docs/demo_screenshot.py

The clip is `test-000013` of the main job's `test` split ("She wants the car today."), written as a `.pose` file
and uploaded in the page's `.pose` tab. The page runs as `unisign demo --model outputs/default_synthetic/best`, so
the model line shows that relative path and nothing of the machine. The script stops if the page's translation is
not the reference: the picture must show a clip the model gets right.
"""

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


MODEL = "outputs/default_synthetic/best"
TEST_SPLIT = "outputs/synthetic-data/data/test-*.parquet"
CLIP_INDEX = 13
PORT = 7871
OUT = Path("docs/demo_screenshot.png")


def write_clip(folder: Path) -> tuple[Path, str]:
    """The test clip as a `.pose` file, and its reference translation."""
    import datasets

    from unisign import write_pose_file
    from unisign.data.dataset import sample_from_row

    row = datasets.load_dataset("parquet", data_files=TEST_SPLIT, split="train")[CLIP_INDEX]
    path = folder / "she-wants-the-car-today.pose"
    write_pose_file(sample_from_row(row), path, fps=row["fps"])
    return path, row["text"]


def wait_until_up(url: str, server: subprocess.Popen, seconds: int = 180) -> None:
    """Return once the page answers; stop if the server exits or stays silent for `seconds`."""
    for _ in range(seconds):
        if server.poll() is not None:
            sys.exit(f"the demo stopped (exit {server.returncode})")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(1)
    sys.exit(f"the demo did not answer at {url} in {seconds} s")


def main() -> None:
    """Serve the demo, upload the clip in a headless Chromium, check the text and save the full page."""
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        clip, reference = write_clip(Path(folder))
        command = [sys.executable, "-m", "unisign.apps.cli", "demo", "--model", MODEL, "--port", str(PORT)]
        server = subprocess.Popen(command, env=dict(os.environ, HF_HUB_OFFLINE="1"), stdout=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{PORT}"
            wait_until_up(url, server)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url)
                page.get_by_role("tab", name=".pose file").click()
                # the page's file inputs, in order: video, .pose file, few-shot examples, few-shot clip
                page.locator("input[type=file]").nth(1).set_input_files(str(clip))
                page.locator("#translate-pose").click()
                text = page.locator("#text textarea")
                expect(text).not_to_have_value("", timeout=60_000)
                if text.input_value() != reference:
                    sys.exit(f"the page says {text.input_value()!r}, the reference is {reference!r}: no screenshot")
                page.locator("#keypoints-sheet img").wait_for(state="visible", timeout=30_000)
                page.screenshot(path=str(OUT), full_page=True)
                browser.close()
        finally:
            server.terminate()
    print(f"{OUT}: the page translating test-000013 as {reference!r}")


if __name__ == "__main__":
    main()
