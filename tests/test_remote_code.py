"""A saved folder loads with `trust_remote_code=True` in a fresh virtual environment that has no `unisign`."""

import os
import subprocess
import sys
import sysconfig
import textwrap

import torch

from unisign import UniSignForConditionalGeneration

from .modeling_helpers import random_inputs, tiny_config


FRESH_ENV_SCRIPT = textwrap.dedent(
    """
    import importlib.util, sys
    import torch
    from transformers import AutoModelForSeq2SeqLM

    assert importlib.util.find_spec("unisign") is None, "unisign must not be importable here"
    folder, expected_path = sys.argv[1], sys.argv[2]
    expected = torch.load(expected_path, weights_only=True)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder, trust_remote_code=True).eval()
    assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
    inputs = expected["inputs"]
    with torch.no_grad():
        logits = model(**inputs, labels=expected["labels"]).logits
    torch.testing.assert_close(logits, expected["logits"], rtol=0, atol=0)
    assert torch.equal(model.generate(**inputs, max_new_tokens=6), expected["generated"])
    print("remote code OK")
    """
)


def make_fresh_venv(path) -> str:
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


def test_remote_code_in_a_fresh_environment_gives_the_same_outputs(tmp_path):
    config = tiny_config(use_rgb=True)
    torch.manual_seed(0)
    model = UniSignForConditionalGeneration(config).eval()
    with torch.no_grad():  # open the zero-initialised gate so the RGB code path matters
        model.prior_guided_fusion.gate[0].weight.normal_(std=0.1)
        model.prior_guided_fusion.gate[2].weight.normal_(std=0.1)
        model.prior_guided_fusion.gate[2].bias.fill_(1.0)
    inputs = random_inputs(config, with_hands=True)
    labels = torch.tensor([[5, 6, 1], [7, 1, -100]])
    with torch.no_grad():
        expected = {
            "inputs": inputs,
            "labels": labels,
            "logits": model(**inputs, labels=labels).logits,
            "generated": model.generate(**inputs, max_new_tokens=6),
        }
    folder = tmp_path / "model"
    model.save_pretrained(folder)
    torch.save(expected, tmp_path / "expected.pt")
    (tmp_path / "check.py").write_text(FRESH_ENV_SCRIPT)

    python = make_fresh_venv(tmp_path / "venv")
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    environment.update(HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"))
    completed = subprocess.run(
        [python, str(tmp_path / "check.py"), str(folder), str(tmp_path / "expected.pt")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "remote code OK" in completed.stdout
