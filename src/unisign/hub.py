"""Share exported models and generated datasets on the Hugging Face Hub, with a dry run that uploads nothing.

A model folder (from `train.py` or `unisign convert`) must hold everything `from_pretrained` needs: the config, the
weights, the processor, the tokenizer, the model card and the remote-code files that `save_pretrained` copies (so
that it also loads with `trust_remote_code=True` without this package); an ONNX export (`unisign export-onnx`) holds
its graphs and `onnx_config.json` instead of the weights and the code. A dataset folder (from
`unisign.synthetic.generate_dataset` or `unisign.data.save_pose_dataset`) must hold its card and its Parquet files.
`upload_plan` checks that and lists the files; `push_to_hub` uploads exactly those.

    python -m unisign.hub outputs/default_synthetic/best user/uni-sign-synthetic --dry-run
    python -m unisign.hub outputs/synthetic-data user/unisign-synthetic-sign-language --repo-type dataset
"""

import argparse
import fnmatch
import math
from dataclasses import dataclass
from pathlib import Path

from transformers.utils import logging


logger = logging.get_logger(__name__)

REPO_TYPES = ("model", "dataset")
# Each kind of file a model folder needs, and the names that count as it (any one of them; globs allowed).
MODEL_FILE_KINDS = {
    "config": ("config.json", "adapter_config.json"),
    "weights": ("model.safetensors", "model-*-of-*.safetensors", "adapter_model.safetensors"),
    "processor": ("processor_config.json",),
    "tokenizer": ("tokenizer.json", "tokenizer_config.json", "spiece.model"),
    "model card": ("README.md",),
    "code": ("modeling_*.py", "configuration_*.py"),
}
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
# never uploaded: temporary folders of an interrupted export, caches, hidden files, training checkpoints
EXCLUDED = ("*.tmp/*", "*.old/*", "*/__pycache__/*", "__pycache__/*", ".*", "*/.*", "checkpoints/*", "*.lock")


@dataclass(frozen=True)
class UploadFile:
    """One file of an upload: its path in the repository, its size in bytes and its kind."""

    path_in_repo: str
    size: int
    kind: str


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
    raise ValueError(
        f"`{folder}` is neither a model folder (no `config.json` or `adapter_config.json`) nor a dataset folder (no "
        "Parquet files): give the folder written by `train.py`, `save_pretrained` or `generate_dataset`."
    )


def _kind(path_in_repo: str, kinds: dict[str, tuple[str, ...]]) -> str:
    for kind, patterns in kinds.items():
        if any(fnmatch.fnmatch(path_in_repo, pattern) for pattern in patterns):
            return kind
    if "code" in kinds and path_in_repo.endswith(".py"):
        return "code"  # modules the modelling code imports (e.g. keypoints.py)
    return "other"


def upload_plan(folder: str | Path, repo_id: str, repo_type: str | None = None) -> UploadPlan:
    """Check `folder` and list the files an upload to `repo_id` would send.

    Args:
        folder: A model folder (`save_pretrained`, `train.py` export) or a dataset folder.
        repo_id: The Hub repository, `user/name`.
        repo_type: `model` or `dataset`; detected from the folder when `None`.

    Returns:
        `UploadPlan` with every file to upload (sorted by path).

    Raises:
        ValueError: if the folder is missing, `repo_id` is malformed, or a kind of file the folder needs is absent.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"Nothing to upload: `{folder}` is not a folder.")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ValueError(f"`repo_id` must look like `user/name`, got {repo_id!r}.")
    repo_type = repo_type or detect_repo_type(folder)
    if repo_type not in REPO_TYPES:
        raise ValueError(f"Unknown `repo_type` {repo_type!r}. Available types: {list(REPO_TYPES)}.")
    kinds = MODEL_FILE_KINDS if repo_type == "model" else DATASET_FILE_KINDS
    if repo_type == "model" and (folder / "onnx_config.json").is_file():
        kinds = ONNX_MODEL_FILE_KINDS
    paths = sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and not any(fnmatch.fnmatch(path.relative_to(folder).as_posix(), p) for p in EXCLUDED)
    )
    files = tuple(UploadFile(path, (folder / path).stat().st_size, _kind(path, kinds)) for path in paths)
    missing = [kind for kind in kinds if not any(file.kind == kind for file in files)]
    if missing:
        raise ValueError(
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
    """Upload a model or dataset folder to the Hub (creating the repository if needed), or only list it.

    Args:
        folder: The folder to share (see `upload_plan`).
        repo_id: The Hub repository, `user/name`.
        repo_type: `model` or `dataset`; detected from the folder when `None`.
        dry_run: List the files (`UploadPlan.summary()`) and upload nothing: no network access at all.
        private: Create the repository private (an existing repository keeps its visibility).
        token: Hub token; the logged-in user's by default.
        revision: Branch to push to.
        commit_message: Message of the upload commit.

    Returns:
        The `UploadPlan`: exactly the files uploaded (or, in a dry run, those that would be).
    """
    plan = upload_plan(folder, repo_id, repo_type)
    if dry_run:
        return plan
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type=plan.repo_type, private=private, exist_ok=True)
    api.upload_folder(
        repo_id=repo_id,
        folder_path=str(plan.folder),
        repo_type=plan.repo_type,
        revision=revision,
        allow_patterns=[file.path_in_repo for file in plan.files],
        commit_message=commit_message or f"Upload {plan.repo_type} with unisign",
    )
    logger.info(f"Uploaded {len(plan.files)} files to {plan.repo_type} repository {repo_id}.")
    return plan


def main(argv: list[str] | None = None, prog: str = "python -m unisign.hub") -> None:
    """Command line: `python -m unisign.hub FOLDER REPO_ID [--repo-type dataset] [--dry-run] [--private]`.

    Args:
        argv (`list[str]`, *optional*): the arguments; defaults to `sys.argv[1:]`.
        prog (`str`, *optional*): the command's name in help and error messages (`unisign push` runs this too).
    """
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="model folder (save_pretrained / train.py export) or dataset folder")
    parser.add_argument("repo_id", help="Hub repository, user/name")
    parser.add_argument("--repo-type", choices=REPO_TYPES, help="detected from the folder by default")
    parser.add_argument("--dry-run", action="store_true", help="list what would be uploaded; upload nothing")
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.add_argument("--revision", help="branch to push to")
    args = parser.parse_args(argv)
    try:
        plan = push_to_hub(
            args.folder,
            args.repo_id,
            repo_type=args.repo_type,
            dry_run=args.dry_run,
            private=args.private or None,
            revision=args.revision,
        )
    except ValueError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    print(
        ("Dry run: nothing was uploaded. Would upload to the " if args.dry_run else "Uploaded to the ")
        + plan.summary()
    )


if __name__ == "__main__":
    main()
