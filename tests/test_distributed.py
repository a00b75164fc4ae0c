"""Distributed training on CPU through the shipped Accelerate configs: DDP and DeepSpeed equal one process
accumulating the same batches (across a checkpoint and `--resume`), FSDP refuses where Accelerate cannot shard, a
launch that Accelerate sees as one process is refused, and evaluation generates in the training precision."""

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from accelerate.state import AcceleratorState
from accelerate.utils import DistributedType

from unisign.training import load_config, train
from unisign.training.setup import accelerator_placement, check_launch, fsdp_wrapping_units, shards_parameters

from .conftest import require_deepspeed
from .training_helpers import (
    REPO,
    TINY_POSE,
    assert_same_trained_parameters,
    make_run_assets,
    run_train_script,
    write_run_config,
)


ACCELERATE_CONFIGS = REPO / "configs" / "accelerate"


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    return make_run_assets(tmp_path_factory.mktemp("assets"))


def write_config(path: Path, assets, output_dir: Path, **training) -> Path:
    """2 optimizer steps of the tiny model, batches of 2, evaluated (with generation) after each, on 1 thread.

    One thread per process wherever the test runs: the processes sum in the same order as on this machine, so the
    rounding that Adam amplifies stays within the tolerance of `assert_same_trained_parameters`.
    """
    return write_run_config(
        path,
        model={"language_model": str(assets.language_model), "tokenizer": str(assets.tokenizer), "config": TINY_POSE},
        data={"path": str(assets.data)},
        training={
            "output_dir": str(output_dir),
            "batch_size": 2,
            "max_steps": 2,
            "eval_every": 1,
            "num_threads": 1,
            "eval_batch_size": 2,
            **training,
        },
    )


@pytest.fixture(scope="module")
def single_process(assets, tmp_path_factory):
    """The reference: one process, accumulating two batches of 2 per step."""
    folder = tmp_path_factory.mktemp("single")
    config = write_config(folder / "run.yaml", assets, folder / "run", gradient_accumulation_steps=2)
    threads = torch.get_num_threads()
    train(load_config(config))
    torch.set_num_threads(threads)  # as the other tests expect
    return folder / "run"


def accelerate_launch(config_name: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(ACCELERATE_CONFIGS / config_name),
        "--num_processes",
        "2",
        "--main_process_port",
        "0",
    ]


def train_killed_and_resumed(config: Path, launcher: list[str]) -> str:
    """Train with `launcher` until the checkpoint at step 1, die there (SIGKILL), resume to step 2; the output."""
    killed = run_train_script(config, "training.debug_kill_at_step=1", launcher=launcher)
    assert killed.returncode != 0, killed.stderr[-3000:]
    resumed = run_train_script(config, "--resume", launcher=launcher)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    return resumed.stdout + resumed.stderr


def logged_evaluations(output_dir: Path) -> list[int]:
    lines = (output_dir / "logs" / "train_log.jsonl").read_text().splitlines()
    return [record["step"] for record in map(json.loads, lines) if "eval/bleu4" in record]


@pytest.mark.parametrize(
    "accelerate_config",
    [
        "ddp_cpu.yaml",
        "deepspeed_zero3.yaml",  # DeepSpeed's CPU accelerator over gloo
        "deepspeed_zero2.yaml",
    ],
)
def test_two_processes_with_resume_equal_one_process_accumulating(accelerate_config, single_process, assets, tmp_path):
    """2 CPU processes (gloo) x batch 2 == 1 process x batch 2 x accumulation 2, across a SIGKILL and `--resume`.

    Accelerate gives process p the batches p, p + 2, ...; one process accumulating two batches per step sees the same
    pairs. Evaluation generates on both processes after each step (`synced_gpus` under ZeRO-3).
    """
    if accelerate_config.startswith("deepspeed"):
        require_deepspeed()
    config = write_config(tmp_path / "run.yaml", assets, tmp_path / "run", save_every=1)
    output = train_killed_and_resumed(config, accelerate_launch(accelerate_config))
    assert "Resumed from" in output and "step-00000001" in output
    assert_same_trained_parameters(single_process / "last", tmp_path / "run" / "last")
    assert logged_evaluations(tmp_path / "run") == [1, 2]


def test_fsdp_on_cpu_is_refused_with_the_reason(assets, tmp_path):
    """Accelerate applies FSDP only on GPUs: on CPU it would silently train with DDP, so train.py refuses."""
    config = write_config(tmp_path / "run.yaml", assets, tmp_path / "run")
    completed = run_train_script(config, launcher=accelerate_launch("fsdp.yaml"))
    assert completed.returncode != 0
    assert "train.py: error: The launch asked for FSDP but Accelerate" in completed.stderr
    assert not (tmp_path / "run").exists()


def test_processes_that_accelerate_sets_up_alone_are_refused(assets, tmp_path):
    """2 processes under torchrun with Accelerate not told to use the CPU (as train.py was before): Accelerate makes
    each rank 0 of 1, and train.py stops both before writing anything, with one line each."""
    config = write_config(tmp_path / "run.yaml", assets, tmp_path / "run")
    script = tmp_path / "train_without_placement.py"
    script.write_text(
        "import runpy, sys\n"
        "import unisign.training.loop as loop\n"
        "loop.accelerator_placement = lambda: {}\n"
        "sys.argv = sys.argv[1:]  # train.py and its arguments\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
    )
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script)]
    completed = run_train_script(config, launcher=torchrun)
    assert completed.returncode != 0
    refusal = "train.py: error: The launcher started 2 processes but Accelerate set this one up alone (rank 0 of 1"
    assert completed.stderr.count(refusal) == 2, completed.stderr[-3000:]
    assert "in train\n" not in completed.stderr  # a one-line error, not a traceback from train.py
    assert not (tmp_path / "run").exists()


def fake_accelerator(distributed_type: DistributedType, num_processes: int = 2, zero_stage: int | None = None):
    plugin = SimpleNamespace(zero_stage=zero_stage)
    return SimpleNamespace(
        distributed_type=distributed_type,
        num_processes=num_processes,
        device=torch.device("cpu"),
        state=SimpleNamespace(deepspeed_plugin=plugin),
    )


def test_launch_checks_and_placement_without_an_accelerator(monkeypatch):
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: False)
    assert accelerator_placement({}) == {"cpu": True}
    placement = accelerator_placement({"ACCELERATE_USE_DEEPSPEED": "true"})  # cpu=True would turn DeepSpeed off
    assert "cpu" not in placement and placement["kwargs_handlers"][0].backend == "gloo"
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: True)
    assert accelerator_placement({}) == {}

    check_launch(fake_accelerator(DistributedType.MULTI_CPU), {"WORLD_SIZE": "2"})
    check_launch(fake_accelerator(DistributedType.FSDP), {"WORLD_SIZE": "2", "ACCELERATE_USE_FSDP": "true"})
    with pytest.raises(ValueError, match="started 4 processes"):
        check_launch(fake_accelerator(DistributedType.NO, num_processes=1), {"OMPI_COMM_WORLD_SIZE": "4"})
    with pytest.raises(ValueError, match="asked for DEEPSPEED"):
        check_launch(fake_accelerator(DistributedType.MULTI_CPU), {"ACCELERATE_USE_DEEPSPEED": "true"})

    assert shards_parameters(fake_accelerator(DistributedType.FSDP))
    assert shards_parameters(fake_accelerator(DistributedType.DEEPSPEED, zero_stage=3))
    assert not shards_parameters(fake_accelerator(DistributedType.DEEPSPEED, zero_stage=2))
    assert not shards_parameters(fake_accelerator(DistributedType.MULTI_CPU))
    assert not shards_parameters(fake_accelerator(DistributedType.FSDP, num_processes=1))


@pytest.fixture
def fresh_accelerator_state():
    """Accelerate keeps one state per process, fixed at the first `Accelerator`: this test needs bf16."""
    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


def test_evaluation_generates_in_the_training_precision(assets, tmp_path, monkeypatch, fresh_accelerator_state):
    """Under bf16 mixed precision the LM head computes in bf16 during evaluation's `generate` too."""
    from unisign.models.unisign.modeling_unisign import UniSignForConditionalGeneration

    head_dtypes = []
    generate = UniSignForConditionalGeneration.generate

    def generate_watching_the_head(self, *args, **kwargs):
        head = self.language_model.lm_head
        hook = head.register_forward_hook(lambda module, inputs, output: head_dtypes.append(output.dtype))
        try:
            return generate(self, *args, **kwargs)
        finally:
            hook.remove()

    monkeypatch.setattr(UniSignForConditionalGeneration, "generate", generate_watching_the_head)
    config = write_config(tmp_path / "run.yaml", assets, tmp_path / "run", max_steps=1, mixed_precision="bf16")
    train(load_config(config))
    assert head_dtypes and set(head_dtypes) == {torch.bfloat16}


def test_fsdp_wraps_only_the_units_the_model_has():
    from unisign.models.unisign.modeling_unisign import UniSignForConditionalGeneration

    from .modeling_helpers import tiny_config

    pose_only = UniSignForConditionalGeneration(tiny_config())
    assert fsdp_wrapping_units(pose_only, None) == ["MT5Block", "UniSignPoseEncoder"]
    configured = ["MT5Block", "UniSignPoseEncoder", "UniSignHandImageEncoder"]  # configs/accelerate/fsdp.yaml
    assert fsdp_wrapping_units(pose_only, configured) == ["MT5Block", "UniSignPoseEncoder"]
    with_hands = UniSignForConditionalGeneration(tiny_config(use_rgb=True))
    assert fsdp_wrapping_units(with_hands, configured) == sorted(configured)


def test_a_locked_run_folder_stops_every_process_with_the_same_line(assets, tmp_path):
    """Another run holds the folder's lock: the main process was refused in one line and the others went on to wait
    for it at their first barrier; now each of the 2 processes prints the refusal and nothing is trained."""
    import os
    import signal
    import subprocess

    from filelock import FileLock

    from unisign.training.run_folder import LOCK_FILE

    config = write_config(tmp_path / "run.yaml", assets, tmp_path / "run")
    (tmp_path / "run").mkdir()
    with FileLock(tmp_path / "run" / LOCK_FILE):  # the other run, training in that folder
        command = [*accelerate_launch("ddp_cpu.yaml"), str(REPO / "train.py"), "--config", str(config)]
        environment = {**os.environ, "HF_HUB_OFFLINE": "1"}
        launch = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
            cwd=REPO,
            start_new_session=True,  # its process group: every rank is stopped if the launch hangs
        )
        try:
            _, stderr = launch.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(launch.pid, signal.SIGKILL)
            launch.communicate()
            pytest.fail("a process waited for the refused main process")
    assert launch.returncode != 0
    refusal = f"train.py: error: Another run is training in `{tmp_path / 'run'}` (it holds {LOCK_FILE})"
    assert stderr.count(refusal) == 2, stderr[-3000:]
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == [LOCK_FILE]
