"""A run's output folder: one run per folder, resumed only with its own settings, from a checkpoint known intact.

- A new run refuses a folder that holds another run's state (checkpoints, exports, logs, saved settings) unless
  `overwrite` is set, which first removes that state: checkpoints and logs of two runs never mix (pruning would
  delete the wrong checkpoints, `--resume` would continue the other run, the log would interleave both).
- A run marks what it writes as its own, before writing it (`.unisign-run.json`: the names of `RUN_STATE` its
  settings produce), and `overwrite` removes only those: a `test/`, `logs/` or `tokenizer/` that a user keeps in the
  folder is never deleted (`overwrite` refuses while such unmarked names are there).
- One process at a time: a run holds a lock on its folder (`.unisign-run.lock`) from its checks to its end, and a
  second run in the same folder stops in one line.
- `--resume` compares the settings with the run's saved `train_config.yaml` and refuses a change (unless
  `allow_changed_settings`) outside `RESUMABLE_SETTINGS`, which do not change what is computed.
- Every checkpoint records the size and SHA-256 of its files (`checksums.json`) and is flushed to the disk before the
  rename that publishes it; `--resume` takes the newest checkpoint that matches its checksums and warns about each
  damaged newer one, and cuts `logs/train_log.jsonl` back to the resumed step (the re-run steps are logged again).
"""

import contextlib
import json
import logging
import pickle
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from accelerate.utils import broadcast_object_list
from accelerate.utils import load as restricted_load
from filelock import FileLock, Timeout

from ..utils.checksums import fsync_directory, fsync_folder, verify_checksums, write_checksums, write_text_atomic
from ..utils.errors import MissingInputError, RunFolderError, UsageError
from .arguments import TrainConfig, config_to_dict


logger = logging.getLogger(__name__)

SETTINGS_FILE = "train_config.yaml"
LOG_FILE = Path("logs") / "train_log.jsonl"
# what a run writes into its folder (the main job's tokenizer too: it is retrained by a new run)
RUN_STATE = ("checkpoints", "best", "best-merged", "last", "last-merged", "base_model", "logs", "test", "tokenizer")
RUN_STATE += (SETTINGS_FILE, "learning_curves.png")
# the names of `RUN_STATE` a run marked as its own (the only ones `overwrite` removes), and the lock of a running run
OWN_FILE, LOCK_FILE = ".unisign-run.json", ".unisign-run.lock"
# settings that may change on `--resume`: where the run lives, how fast it loads data, what it logs to, the crash test
RESUMABLE_SETTINGS = frozenset(
    {
        "training.output_dir",
        "training.num_threads",
        "training.log_with",
        "training.debug_kill_at_step",
        "data.num_workers",
        "data.in_memory",
        "data.test_split",
        "data.extra_test_splits",
    }
)


def _flat(settings: dict) -> dict:
    """`{"training": {"seed": 1}}` -> `{"training.seed": 1}` (the sections' settings; `stage` stays as it is)."""
    flat = {}
    for key, value in settings.items():
        if isinstance(value, dict) and key in ("model", "data", "training", "lora"):
            flat.update({f"{key}.{name}": setting for name, setting in value.items()})
        else:
            flat[key] = value
    return flat


def changed_settings(saved: dict, config: TrainConfig) -> list[str]:
    """`section.key: saved -> now` for every setting that differs from the run's saved ones (resumable ones aside)."""
    current = _flat(yaml.safe_load(yaml.safe_dump(config_to_dict(config), allow_unicode=True)))
    saved = _flat(saved)
    names = sorted((set(saved) | set(current)) - RESUMABLE_SETTINGS)
    return [
        f"{name}: {saved.get(name)!r} -> {current.get(name)!r}"
        for name in names
        if saved.get(name) != current.get(name)
    ]


def run_state(output_dir: Path) -> list[str]:
    """The names of the run state that `output_dir` holds (empty for a new or empty folder)."""
    return [name for name in RUN_STATE if (output_dir / name).exists()]


def own_state(output_dir: Path) -> list[str]:
    """The names of `RUN_STATE` that a run marked as its own in `output_dir` (whether they exist or not)."""
    try:
        names = json.loads((output_dir / OWN_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):  # no run marked anything (or a mark cut short: nothing is known own)
        return []
    return [name for name in RUN_STATE if isinstance(names, list) and name in names]


def run_outputs(config: TrainConfig) -> list[str]:
    """The names of `RUN_STATE` that a run with these settings writes into its folder."""
    data, training = config.data, config.training
    names = [SETTINGS_FILE, "logs", "last", "learning_curves.png"]
    names += ["checkpoints"] * bool(training.save_every) + ["best"] * bool(data.eval_split)
    names += ["test"] * bool(data.test_split) + ["tokenizer"] * (config.model.new_tokenizer_vocab_size is not None)
    if config.lora.enabled:
        names += ["base_model", "last-merged"] + ["best-merged"] * bool(data.eval_split)
    return names


def claim(output_dir: Path, names: list[str]) -> None:
    """Mark `names` as the run's own (added to those marked before), before the run writes them."""
    output_dir.mkdir(parents=True, exist_ok=True)
    marked = set(own_state(output_dir)) | set(names)
    tmp = output_dir / (OWN_FILE + ".tmp")
    tmp.write_text(json.dumps([name for name in RUN_STATE if name in marked]), encoding="utf-8")
    tmp.replace(output_dir / OWN_FILE)


@contextmanager
def lock_run_folder(output_dir: Path) -> Iterator[None]:
    """Hold the lock of the run's folder while the `with` block runs (the operating system drops it if killed).

    Raises:
        RunFolderError: another process holds it, i.e. another run is training in that folder.
    """
    if output_dir.exists() and not output_dir.is_dir():
        raise RunFolderError(f"`training.output_dir` {output_dir} is a file, not a folder.")
    output_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(output_dir / LOCK_FILE)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunFolderError(
            f"Another run is training in `{output_dir}` (it holds {LOCK_FILE}): wait for it to end, or choose another "
            "`training.output_dir`."
        ) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def lock_run_folder_on_every_process(output_dir: Path, accelerator) -> Iterator[None]:
    """`lock_run_folder` in the main process, its refusal raised in every process (the same one line).

    The main process holds the lock; the others learn whether it got it (`broadcast_object_list`) before any of them
    goes on. Refused on the main process alone, the others would wait for it at their first barrier (in a launcher
    that does not stop them: for the collective timeout) or be killed without a word.

    Raises:
        RunFolderError: in every process, when the main process could not take the lock.
    """
    with contextlib.ExitStack() as held:
        refusal = None
        if accelerator.is_main_process:
            try:
                held.enter_context(lock_run_folder(output_dir))
            except RunFolderError as error:
                refusal = str(error)
        if accelerator.num_processes > 1:
            refusal = broadcast_object_list([refusal])[0]
        if refusal is not None:
            raise RunFolderError(refusal)
        yield


def prepare_run_folder(
    config: TrainConfig, resume: bool, overwrite: bool, allow_changed_settings: bool, is_main_process: bool
) -> tuple[Path | None, list[str]]:
    """Check (and for `overwrite`, empty) the run's folder before any compute.

    Returns:
        The checkpoint to resume (`None` for a new run), and the settings changed since it (allowed ones).

    Raises:
        UsageError: `resume` with `overwrite`.
        RunFolderError: a new run in a folder with another run's state (without `overwrite`), or a resume whose
            settings differ from the saved ones (without `allow_changed_settings`).
        FileNotFoundError: `resume` without an intact checkpoint.
    """
    output_dir = Path(config.training.output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise RunFolderError(f"`training.output_dir` {output_dir} is a file, not a folder.")
    if resume and overwrite:
        raise UsageError("`--resume` continues the run in the folder and `--overwrite` replaces it: give one.")
    if not resume:
        state, own = run_state(output_dir), own_state(output_dir)
        if state and not overwrite:
            raise RunFolderError(
                f"`{output_dir}` holds another run's state ({', '.join(state)}): add `--resume` to continue it, "
                "`--overwrite` to replace it, or choose another `training.output_dir`."
            )
        unmarked = [name for name in state if name not in own]
        if unmarked:  # a user's files, or a run from before runs marked their own: never deleted
            raise RunFolderError(
                f"`--overwrite` removes only what a run marked as its own ({OWN_FILE}), and `{output_dir}` also "
                f"holds {', '.join(unmarked)}, which no run marked: move them away, or choose another "
                "`training.output_dir`."
            )
        if is_main_process:
            for name in state:
                path = output_dir / name
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
            (output_dir / OWN_FILE).unlink(missing_ok=True)
            claim(output_dir, run_outputs(config))
        return None, []
    saved_file = output_dir / SETTINGS_FILE
    if not saved_file.is_file():
        raise MissingInputError(f"`--resume`: {saved_file} is missing, so {output_dir} holds no run to continue.")
    saved = yaml.safe_load(saved_file.read_text(encoding="utf-8")) or {}
    changes = changed_settings(saved, config)
    if changes and not allow_changed_settings:
        raise RunFolderError(
            f"`--resume` with settings that differ from the run's ({'; '.join(changes[:5])}"
            f"{'; ...' if len(changes) > 5 else ''}): a resumed run must compute what the interrupted one would. "
            "Resume with the same settings, or add `--allow-changed-settings` to continue with the new ones."
        )
    if changes:
        logger.warning(f"Resuming with changed settings (--allow-changed-settings): {'; '.join(changes)}.")
    checkpoint = intact_checkpoint(output_dir)
    if checkpoint is None:
        raise MissingInputError(f"`--resume`: no intact checkpoint in {output_dir / 'checkpoints'}.")
    check_pickles(checkpoint)
    if is_main_process:
        claim(output_dir, run_outputs(config))  # changed settings may write more (e.g. a test split added)
    if changes and is_main_process:
        save_settings(config)
    return checkpoint, changes


def save_settings(config: TrainConfig) -> None:
    """Write the run's settings to `<output_dir>/train_config.yaml` (what `--resume` compares against)."""
    output_dir = Path(config.training.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(output_dir / SETTINGS_FILE, yaml.safe_dump(config_to_dict(config), allow_unicode=True))


def intact_checkpoint(output_dir: Path) -> Path | None:
    """The newest checkpoint whose files match their recorded checksums; a warning names each damaged newer one."""
    for checkpoint in sorted((output_dir / "checkpoints").glob("step-????????"), reverse=True):
        problem = verify_checksums(checkpoint, required=True)
        if problem is None:
            return checkpoint
        logger.warning(f"Checkpoint {checkpoint} is damaged ({problem}); trying the one before it.")
    return None


def check_pickles(checkpoint: Path) -> None:
    """Refuse a checkpoint whose small states are more than data (a pickle that would run code when resumed).

    `Accelerator.load_state` reads the weights from safetensors and the optimizer, scheduler, sampler and RNG states
    with torch's restricted unpickler (`weights_only=True`, plus numpy's arrays), but unpickles the registered objects'
    states (`custom_checkpoint_<i>.pkl`: the run's `Progress`) in full, and skips RNG states it cannot read without a
    word (the resumed run would then differ). A run folder downloaded to continue someone's training may hold crafted
    ones, with their checksums rewritten: each is first read here with the restricted unpickler.

    Raises:
        RunFolderError: a custom or RNG state that the restricted unpickler refuses.
    """
    for path in sorted([*checkpoint.glob("custom_checkpoint_*.pkl"), *checkpoint.glob("random_states_*.pkl")]):
        try:
            restricted_load(path, map_location="cpu")  # `weights_only=True`, with the numpy globals RNG states hold
        except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
            raise unsafe_state(path, error) from None


def unsafe_state(path: Path, error: Exception) -> RunFolderError:
    """The one-line error for a checkpoint file that the restricted unpickler refuses."""
    # torch's message is many lines that end with how to load the file in full; the reason is one of them
    found = re.search(r"WeightsUnpickler error: (.*?)(?:\. |\n|$)", str(error))
    reason = found.group(1) if found else (str(error).strip().splitlines() or [type(error).__name__])[0]
    return RunFolderError(
        f"`--resume`: {path} holds more than training state ({reason}), so it is not loaded: a pickle may run code. "
        "Resume only a run folder you trust, from an intact checkpoint this package wrote."
    )


# how a failed write shows besides an `OSError` (a full disk, a quota): torch.save's and safetensors' messages
WRITE_FAILURES = ("No space left", "os error 28", "file write failed", "Disk quota exceeded", "os error 122")


@contextmanager
def written_whole(tmp: Path, what: str) -> Iterator[None]:
    """Remove `tmp`, the temporary folder of a checkpoint or export being written, if writing it fails.

    A failed write (a full disk, a quota) then stops the run with one line, and the run folder holds only whole
    checkpoints and exports: `--resume` continues from the newest checkpoint. Other errors keep their traceback.

    Raises:
        RunFolderError: the write failed.
    """
    try:
        yield
    except BaseException as error:
        shutil.rmtree(tmp, ignore_errors=True)
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if isinstance(error, OSError) or any(text in str(error) for text in WRITE_FAILURES):
            raise RunFolderError(
                f"Could not write {what} ({message}); nothing half-written was left. Free some space and continue "
                "the run with `--resume` (from its newest checkpoint)."
            ) from error
        raise


def seal_checkpoint(folder: Path) -> None:
    """Record the checkpoint's checksums and flush its files to the disk (before the rename that publishes it)."""
    write_checksums(folder)
    fsync_folder(folder)


def published(checkpoints: Path) -> None:
    """Flush the rename of a checkpoint into `checkpoints` to the disk."""
    fsync_directory(checkpoints)


def cut_log(output_dir: Path, step: int) -> None:
    """Drop the log lines after `step` (and a line cut short by the crash): the resumed steps are logged again."""
    log = output_dir / LOG_FILE
    if not log.is_file():
        return
    kept = []
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("step"), int) and record["step"] <= step:
            kept.append(line + "\n")
    tmp = log.with_name(log.name + ".tmp")
    tmp.write_text("".join(kept), encoding="utf-8")
    tmp.replace(log)


__all__ = [
    "RESUMABLE_SETTINGS",
    "changed_settings",
    "check_pickles",
    "claim",
    "cut_log",
    "intact_checkpoint",
    "lock_run_folder",
    "lock_run_folder_on_every_process",
    "own_state",
    "prepare_run_folder",
    "published",
    "run_outputs",
    "run_state",
    "save_settings",
    "unsafe_state",
    "seal_checkpoint",
]
