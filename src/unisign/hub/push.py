"""Share exported models and generated datasets on the Hugging Face Hub, with a dry run that uploads nothing.

A model folder (from `train.py`, `unisign convert` or `Seq2SeqTrainer`) must hold everything `from_pretrained` needs:
the config, the weights, the processor, the tokenizer, the model card and the remote-code files (so that it also
loads with `trust_remote_code=True` without this package); a PEFT adapter folder needs its adapter config, weights
and card; an ONNX export (`unisign export-onnx`) holds its graphs and `onnx_config.json` instead of the weights and
the code. `unisign card FOLDER` writes the card and the remote code (`push_to_hub` does when the card is
missing). A dataset folder (from
`unisign.synthetic.generate_dataset` or `unisign.data.save_pose_dataset`) must hold its card and its Parquet files.
`upload_plan` checks that and lists the files; `push_to_hub` uploads exactly those.

    python -m unisign.hub.push outputs/default_synthetic/best user/uni-sign-synthetic --dry-run
    python -m unisign.hub.push outputs/synthetic-data user/unisign-synthetic-sign-language --repo-type dataset
    python -m unisign.hub.push --space user/unisign-demo --dry-run   # the demo Space, with a copy of this package

A Space folder (`spaces/unisign-demo`) must hold its card (`README.md` with the Space front matter), `app.py` and
`requirements.txt`; its upload also carries this package's source as `unisign/`, so that `app.py` imports it on a
Space where only `requirements.txt` is installed.
"""

import argparse
import ast
import fnmatch
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from transformers.utils import logging

from ..models.unisign.remote_code import check_remote_code as check_unit_code
from ..utils.errors import InvalidInputError, UsageError, one_line_errors, pop_debug_flag
from ..utils.validation import check_model_folder
from .model_card import check_repo_id


logger = logging.get_logger(__name__)

REPO_TYPES = ("model", "dataset", "space")
# Each kind of file a model folder needs, and the names that count as it (any one of them; globs allowed).
MODEL_FILE_KINDS = {
    "config": ("config.json", "adapter_config.json"),
    "weights": ("model.safetensors", "model-*-of-*.safetensors", "adapter_model.safetensors"),
    "processor": ("processor_config.json",),
    "tokenizer": ("tokenizer.json", "tokenizer_config.json", "spiece.model"),
    "model card": ("README.md",),
    "code": ("modeling_*.py", "configuration_*.py"),
}
# an adapter (PEFT) folder may leave these to its base model
ADAPTER_OPTIONAL_KINDS = ("processor", "tokenizer", "code")
# An ONNX export (`unisign export-onnx`) runs without the modelling code: graphs instead of weights and code.
ONNX_MODEL_FILE_KINDS = {
    "config": ("config.json",),
    "weights": ("*.onnx", "*.onnx.data"),
    "onnx config": ("onnx_config.json",),
    "processor": ("processor_config.json",),
    "tokenizer": ("tokenizer.json", "tokenizer_config.json", "spiece.model"),
    "model card": ("README.md",),
}
DATASET_FILE_KINDS = {"dataset card": ("README.md",), "data": ("data/*.parquet",)}
SPACE_FILE_KINDS = {"space card": ("README.md",), "app": ("app.py",), "requirements": ("requirements.txt",)}
# where a Space upload puts the copy of this package (next to app.py, so that `import unisign` finds it)
SPACE_PACKAGE_DIR = "unisign"
# the demo Space in a checkout of this repository (`unisign push --space`, the demo's example clips)
SPACE_FOLDER = Path(__file__).resolve().parents[3] / "spaces" / "unisign-demo"
# never uploaded: temporary folders of an interrupted export, caches, hidden files, training checkpoints
EXCLUDED = ("*.tmp/*", "*.old/*", "*/__pycache__/*", "__pycache__/*", ".*", "*/.*", "checkpoints/*", "*.lock")
# hidden files that are sent all the same: the scores in the Hub's benchmark-results format (`hub.eval_results`)
KEPT_HIDDEN = (".eval_results/*.yaml",)


@dataclass(frozen=True)
class UploadFile:
    """One file of an upload: its path in the repository, its size in bytes, its kind and where it is read from."""

    path_in_repo: str
    size: int
    kind: str
    local_path: Path | None = None  # `None`: the file `folder / path_in_repo` of the plan


@dataclass(frozen=True)
class UploadPlan:
    """What `push_to_hub` uploads (or would, in a dry run)."""

    folder: Path
    repo_id: str
    repo_type: str
    files: tuple[UploadFile, ...]

    @property
    def total_size(self) -> int:
        """Bytes to upload."""
        return sum(file.size for file in self.files)

    def summary(self) -> str:
        """A table of the files: path, size and kind, then the total."""
        lines = [f"{self.repo_type} repository {self.repo_id} <- {self.folder}:"]
        lines += [f"  {file.path_in_repo:<48} {_human_size(file.size):>10}  {file.kind}" for file in self.files]
        lines.append(f"  {len(self.files)} files, {_human_size(self.total_size)}")
        return "\n".join(lines)


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    exponent = min(int(math.log(size, 1024)), 3)
    return f"{size / 1024**exponent:.1f} {('KB', 'MB', 'GB')[exponent - 1]}"


def detect_repo_type(folder: str | Path) -> str:
    """`model` for a folder with a `config.json` or `adapter_config.json`, `dataset` for one with Parquet data."""
    folder = Path(folder)
    if (folder / "config.json").is_file() or (folder / "adapter_config.json").is_file():
        return "model"
    if any(folder.glob("data/*.parquet")) or any(folder.glob("*.parquet")):
        return "dataset"
    if (folder / "app.py").is_file():
        return "space"
    raise InvalidInputError(
        f"`{folder}` is neither a model folder (no `config.json` or `adapter_config.json`), a dataset folder (no "
        "Parquet files) nor a Space folder (no `app.py`): give the folder written by `train.py`, `save_pretrained` "
        "or `generate_dataset`, or the Space folder."
    )


def _kind(path_in_repo: str, kinds: dict[str, tuple[str, ...]]) -> str:
    for kind, patterns in kinds.items():
        if any(fnmatch.fnmatch(path_in_repo, pattern) for pattern in patterns):
            return kind
    if "code" in kinds and path_in_repo.endswith(".py"):
        return "code"  # modules the modelling code imports (e.g. keypoints.py)
    return "other"


def _folder_files(folder: Path) -> list[str]:
    """Paths (relative, POSIX) of the files under `folder` that an upload sends, sorted."""
    return sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and _uploaded(path.relative_to(folder).as_posix())
    )


def _code_in_another_repo(folder: Path) -> bool:
    """Whether the model's `auto_map` points to a code repository (`unisign card --code-repo`), not the folder."""
    config = folder / "config.json"
    auto_map = json.loads(config.read_text()).get("auto_map", {}) if config.is_file() else {}
    return bool(auto_map) and all("--" in str(reference) for reference in auto_map.values())


def _uploaded(path_in_repo: str) -> bool:
    """Whether an upload sends the file: not `EXCLUDED`, or `KEPT_HIDDEN`."""
    excluded = any(fnmatch.fnmatch(path_in_repo, pattern) for pattern in EXCLUDED)
    return not excluded or any(fnmatch.fnmatch(path_in_repo, pattern) for pattern in KEPT_HIDDEN)


def _package_files() -> tuple[UploadFile, ...]:
    """This package's own files (source, bundled JSON/YAML/Markdown), as `unisign/...` of a Space upload."""
    package = Path(__file__).resolve().parents[1]
    return tuple(
        UploadFile(f"{SPACE_PACKAGE_DIR}/{path}", (package / path).stat().st_size, "package", package / path)
        for path in _folder_files(package)
        if not path.endswith((".pyc", ".pyo"))
    )


def upload_plan(folder: str | Path, repo_id: str, repo_type: str | None = None) -> UploadPlan:
    """Check `folder` and list the files an upload to `repo_id` would send.

    Args:
        folder: A model folder (`save_pretrained`, `train.py` export), a dataset folder or a Space folder.
        repo_id: The Hub repository, `user/name`.
        repo_type: `model`, `dataset` or `space`; detected from the folder when `None`.

    Returns:
        `UploadPlan` with every file to upload (sorted by path; for a Space, this package's files follow as
        `unisign/...`).

    Raises:
        ValueError: if the folder is missing, `repo_id` is malformed, or a kind of file the folder needs is absent.
    """
    plan = _unchecked_upload_plan(folder, repo_id, repo_type)
    if plan.repo_type == "model":  # weights complete and finite, tokenizer consistent: never upload a broken model
        check_model_folder(plan.folder, verify=True)  # every byte read (hashes, tensors): a start-up reads less
        check_remote_code(plan)
        if (plan.folder / "onnx_config.json").is_file():  # an ONNX export: its graphs are its weights
            from ..onnx.checks import check_onnx_folder

            check_onnx_folder(plan.folder)
    return plan


def check_remote_code(plan: UploadPlan) -> None:
    """Refuse an upload with a Python file that does not parse, or a module of the unit cut at a line that parses.

    The unit's modules must end with their `__all__` (the unit's `check_remote_code`). Cut short by a full disk,
    the remote code would fail with a traceback wherever the model is loaded with `trust_remote_code=True`, or miss
    what was cut.
    """
    check_unit_code(plan.folder)
    for file in plan.files:
        if file.kind != "code" or not file.path_in_repo.endswith(".py"):
            continue
        path = plan.folder / file.path_in_repo
        try:
            ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError) as error:  # ValueError: null bytes
            raise InvalidInputError(
                f"`{path}` is damaged (cut short?): {error.msg if isinstance(error, SyntaxError) else error}"
                f"{f' at line {error.lineno}' if isinstance(error, SyntaxError) else ''}. Write it again with "
                f"`unisign card {plan.folder}`."
            ) from None


def _unchecked_upload_plan(
    folder: str | Path, repo_id: str, repo_type: str | None, planned: dict[str, int] | None = None
) -> UploadPlan:
    """`upload_plan` without the model check: for a folder `make_shareable` has checked (it reads each weight).

    `planned` (`{name: bytes}`) lists files a dry run counts as written (`shareable_files`), in place of those there.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidInputError(f"Nothing to upload: `{folder}` is not a folder.")
    check_repo_id(repo_id, "`repo_id`")
    repo_type = repo_type or detect_repo_type(folder)
    if repo_type not in REPO_TYPES:
        raise UsageError(f"Unknown `repo_type` {repo_type!r}. Available types: {list(REPO_TYPES)}.")
    kinds = {"model": MODEL_FILE_KINDS, "dataset": DATASET_FILE_KINDS, "space": SPACE_FILE_KINDS}[repo_type]
    if repo_type == "model" and (folder / "onnx_config.json").is_file():
        kinds = ONNX_MODEL_FILE_KINDS
    paths = _folder_files(folder)
    if repo_type == "space" and any(path.startswith(f"{SPACE_PACKAGE_DIR}/") for path in paths):
        raise InvalidInputError(
            f"`{folder}` has a `{SPACE_PACKAGE_DIR}/` folder: the upload adds this package there itself."
        )
    sizes = {path: (folder / path).stat().st_size for path in paths} | (planned or {})
    files = tuple(UploadFile(path, size, _kind(path, kinds)) for path, size in sorted(sizes.items()))
    is_adapter = repo_type == "model" and not (folder / "config.json").is_file()
    optional = ADAPTER_OPTIONAL_KINDS if is_adapter else ("code",) if _code_in_another_repo(folder) else ()
    required = [kind for kind in kinds if kind not in optional]
    if repo_type == "space":
        files += _package_files()
    missing = [kind for kind in required if not any(file.kind == kind for file in files)]
    if is_adapter and (folder / "adapter_config.json").is_file():
        from .model_card import is_hub_id

        base = json.loads((folder / "adapter_config.json").read_text()).get("base_model_name_or_path")
        if not is_hub_id(base):
            logger.warning(
                f"The adapter's base model `{base}` is a local path: who downloads the adapter needs that base too "
                "(push it, then set `base_model_name_or_path` in adapter_config.json to its Hub id)."
            )
    if missing:
        raise InvalidInputError(
            f"`{folder}` lacks the {', '.join(missing)} file(s) a {repo_type} repository needs (looked for "
            f"{', '.join(pattern for kind in missing for pattern in kinds[kind])})."
        )
    return UploadPlan(folder, repo_id, repo_type, files)


def push_to_hub(
    folder: str | Path,
    repo_id: str,
    *,
    repo_type: str | None = None,
    dry_run: bool = False,
    private: bool | None = None,
    token: str | None = None,
    revision: str | None = None,
    commit_message: str | None = None,
) -> UploadPlan:
    """Upload a model, dataset or Space folder to the Hub (creating the repository if needed), or only list it.

    Args:
        folder: The folder to share (see `upload_plan`). A model folder without a card, or whose card is still a
            placeholder (`unisign.hub.model_card.needs_card`), first gets its card and remote-code files
            (`unisign.hub.model_card.make_shareable`).
        repo_id: The Hub repository, `user/name`.
        repo_type: `model`, `dataset` or `space`; detected from the folder when `None`.
        dry_run: List the files (`UploadPlan.summary()`) and upload nothing: no network access at all.
        private: Create the repository private (an existing repository keeps its visibility).
        token: Hub token; the logged-in user's by default.
        revision: Branch to push to.
        commit_message: Message of the upload commit.

    Returns:
        The `UploadPlan`: exactly the files uploaded (or, in a dry run, those that would be).
    """
    plan = None
    if Path(folder).is_dir() and (repo_type or detect_repo_type(folder)) == "model":
        from .model_card import make_shareable, needs_card, shareable_files

        if needs_card(folder) and dry_run:  # list what the upload would write and send; write nothing
            planned = shareable_files(folder, repo_id)
            logger.warning(f"The upload would first write {', '.join(planned)} in {folder} for {repo_id}.")
            plan = _unchecked_upload_plan(folder, repo_id, repo_type, planned)
        elif needs_card(folder):
            written = make_shareable(folder, repo_id)
            logger.warning(f"Wrote {', '.join(written)} in {folder} for {repo_id}.")
            plan = _unchecked_upload_plan(folder, repo_id, repo_type)  # `make_shareable` checked the folder first
    if plan is None:
        plan = upload_plan(folder, repo_id, repo_type)
    if dry_run:
        return plan
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(token=token)
    message = commit_message or f"Upload {plan.repo_type} with unisign"
    if plan.repo_type == "space":
        # the files come from two folders (the Space's and this package's): one commit of explicit additions
        api.create_repo(repo_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
        operations = [
            CommitOperationAdd(
                path_in_repo=file.path_in_repo,
                path_or_fileobj=str(file.local_path or plan.folder / file.path_in_repo),
            )
            for file in plan.files
        ]
        api.create_commit(repo_id, operations, commit_message=message, repo_type="space", revision=revision)
        logger.info(f"Uploaded {len(plan.files)} files to space repository {repo_id}.")
        return plan
    api.create_repo(repo_id, repo_type=plan.repo_type, private=private, exist_ok=True)
    api.upload_folder(
        repo_id=repo_id,
        folder_path=str(plan.folder),
        repo_type=plan.repo_type,
        revision=revision,
        allow_patterns=[file.path_in_repo for file in plan.files],
        commit_message=message,
    )
    logger.info(f"Uploaded {len(plan.files)} files to {plan.repo_type} repository {repo_id}.")
    return plan


def main(argv: list[str] | None = None, prog: str = "python -m unisign.hub.push") -> None:
    """Command line: `python -m unisign.hub.push FOLDER REPO_ID [--repo-type dataset] [--dry-run] [--private]`.

    `--space USER/NAME [FOLDER]` uploads the demo Space instead (FOLDER: the checkout's `spaces/unisign-demo`).

    Args:
        argv (`list[str]`, *optional*): the arguments; defaults to `sys.argv[1:]`.
        prog (`str`, *optional*): the command's name in help and error messages (`unisign push` runs this too).
    """
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument(
        "folder",
        nargs="?",
        help="model folder (save_pretrained / train.py export) or dataset folder; with --space, the Space folder "
        "(default: spaces/unisign-demo of this checkout)",
    )
    parser.add_argument("repo_id", nargs="?", help="Hub repository, user/name")
    parser.add_argument("--repo-type", choices=REPO_TYPES, help="detected from the folder by default")
    parser.add_argument(
        "--space", metavar="USER/NAME", help="upload the demo Space (with a copy of this package) to this Space"
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be uploaded; upload nothing")
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.add_argument("--revision", help="branch to push to")
    argv, debug = pop_debug_flag(sys.argv[1:] if argv is None else list(argv))
    args = parser.parse_args(argv)
    folder, repo_id, repo_type = args.folder, args.repo_id, args.repo_type
    if args.space:
        if repo_id is not None or repo_type not in (None, "space"):
            parser.error("with --space USER/NAME, give at most the Space folder (no REPO_ID, no other --repo-type).")
        folder, repo_id, repo_type = folder or SPACE_FOLDER, args.space, "space"
    elif folder is None or repo_id is None:
        parser.error("give FOLDER and REPO_ID (or --space USER/NAME).")
    with one_line_errors(prog, debug):
        plan = push_to_hub(
            folder,
            repo_id,
            repo_type=repo_type,
            dry_run=args.dry_run,
            private=args.private or None,
            revision=args.revision,
        )
    print(
        ("Dry run: nothing was uploaded. Would upload to the " if args.dry_run else "Uploaded to the ")
        + plan.summary()
    )


if __name__ == "__main__":
    main()
