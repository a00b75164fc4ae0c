"""Make a saved Uni-Sign folder work without this package: `from_pretrained(folder, trust_remote_code=True)`.

`add_remote_code(folder)` copies the modules of this folder (`unisign/models/unisign`: config, model, processor,
feature extractor, video processor, pipeline and what they import) into the folder, and writes `auto_map` (every Auto
class the documentation names) and
`custom_pipelines` (the `sign-language-translation` task) into its config files. `save_pretrained` of the model and
of the processor call it, and any folder made otherwise (a Trainer checkpoint, a merged LoRA model, an older save) gets
the same by calling it once. The shipped modules are the package's own modules, not copies kept elsewhere: they
import only each other (flat `from .x import y`) and libraries; optional libraries (pose-format, PyAV, Pillow,
torchvision) are imported inside `try` where used, so a bare environment (torch, transformers, safetensors,
sentencepiece, protobuf, numpy) loads them. This module is shipped too, so a model loaded as remote code saves the
same way.
"""

import ast
import json
import os
import shutil
from pathlib import Path

from .errors_unisign import UniSignInputError


# The modules a folder carries: every module of this folder (the unit that travels with the weights), except the
# converter of the authors' checkpoints, which is a tool beside the unit, as in transformers.
UNIT_FOLDER = Path(__file__).resolve().parent
NOT_SHIPPED = ("__init__.py", "convert_unisign_original_checkpoint.py")
SHIPPED_MODULES = tuple(sorted(path.name for path in UNIT_FOLDER.glob("*.py") if path.name not in NOT_SHIPPED))
FEATURE_EXTRACTOR_CLASS = "feature_extraction_unisign.UniSignPoseFeatureExtractor"
VIDEO_PROCESSOR_CLASS = "video_processing_unisign.UniSignVideoProcessor"
PROCESSOR_AUTO_MAP = {
    "AutoProcessor": "processing_unisign.UniSignProcessor",
    "AutoFeatureExtractor": FEATURE_EXTRACTOR_CLASS,
    "AutoVideoProcessor": VIDEO_PROCESSOR_CLASS,
}
MODEL_AUTO_MAP = {
    "AutoConfig": "configuration_unisign.UniSignConfig",
    "AutoModel": "modeling_unisign.UniSignForConditionalGeneration",
    "AutoModelForSeq2SeqLM": "modeling_unisign.UniSignForConditionalGeneration",
    **PROCESSOR_AUTO_MAP,
}
# What `Pipeline.save_pretrained` writes for a pipeline registered with `PIPELINE_REGISTRY.register_pipeline`.
CUSTOM_PIPELINES = {
    "sign-language-translation": {
        "impl": "pipeline_unisign.SignLanguageTranslationPipeline",
        "pt": ["AutoModelForSeq2SeqLM"],
        "type": "multimodal",
    }
}


def _update_json(path: Path, update) -> bool:
    """Apply `update(dict)` to a JSON file in place (written atomically); False when the file does not exist."""
    if not path.is_file():
        return False
    content = json.loads(path.read_text(encoding="utf-8"))
    update(content)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.replace(path)
    return True


def _in_repo(class_ref: str, code_repo: str | None) -> str:
    """`module.Class`, or `org/repo--module.Class`: transformers' reference to a class in another repository."""
    return f"{code_repo}--{class_ref}" if code_repo else class_ref


def _model_config_update(code_repo: str | None):
    def update(config: dict) -> None:
        if config.get("model_type") != "unisign":
            raise ValueError(f"config.json has model_type {config.get('model_type')!r}, not 'unisign'.")
        auto_map = {name: _in_repo(ref, code_repo) for name, ref in MODEL_AUTO_MAP.items()}
        pipelines = {
            task: {**entry, "impl": _in_repo(entry["impl"], code_repo)} for task, entry in CUSTOM_PIPELINES.items()
        }
        config["auto_map"] = {**config.get("auto_map", {}), **auto_map}
        config["custom_pipelines"] = {**config.get("custom_pipelines", {}), **pipelines}

    return update


def _processor_config_update(code_repo: str | None):
    def update(config: dict) -> None:
        auto_map = {name: _in_repo(ref, code_repo) for name, ref in PROCESSOR_AUTO_MAP.items()}
        config["auto_map"] = {**config.get("auto_map", {}), **auto_map}
        for entry, auto_class in (
            ("feature_extractor", "AutoFeatureExtractor"),
            ("video_processor", "AutoVideoProcessor"),
        ):
            if isinstance(config.get(entry), dict):
                config[entry]["auto_map"] = {**config[entry].get("auto_map", {}), auto_class: auto_map[auto_class]}

    return update


def add_remote_code(folder: str | Path, code_repo: str | None = None) -> list[str]:
    """Make a saved Uni-Sign folder self-contained: it then loads with `trust_remote_code=True` and no `unisign`.

    Copies `SHIPPED_MODULES` into the folder and writes `auto_map` (`AutoConfig`, `AutoModel`,
    `AutoModelForSeq2SeqLM`, `AutoProcessor`, `AutoFeatureExtractor`, `AutoVideoProcessor`) and `custom_pipelines`
    into `config.json`, and `auto_map` into `processor_config.json` (and its component entries) when the folder has
    one. Existing entries of other classes are kept; running it twice gives the same folder.

    With `code_repo`, the entries point to the modules of that one Hub repository instead (`org/repo--module.Class`,
    which transformers downloads with their relative imports), and the folder keeps no copy of them: many weight
    repositories then share one copy of the code.

    Args:
        folder (`str` or `Path`): A folder written by `save_pretrained` (model, processor or both), `unisign
            convert`, `train.py` or a `Trainer`.
        code_repo (`str`, *optional*): A Hub repository (`org/repo`) holding `SHIPPED_MODULES` at its root.

    Returns:
        `list[str]`: Names of the files written, in the folder.

    Raises:
        FileNotFoundError: `folder` is not a directory.
        ValueError: It has neither `config.json` nor `processor_config.json`, or its config is not a Uni-Sign one.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"`{folder}` is not a directory.")
    if not (folder / "config.json").is_file() and not (folder / "processor_config.json").is_file():
        raise ValueError(f"`{folder}` has neither config.json nor processor_config.json: not a saved Uni-Sign folder.")
    if code_repo is not None and (code_repo.count("/") != 1 or not all(code_repo.split("/"))):
        raise ValueError(f"The code repository must be a Hub id `org/repo`, got {code_repo!r}.")
    source = UNIT_FOLDER
    written = []
    for name in SHIPPED_MODULES:
        target = folder / name
        if code_repo is not None:
            target.unlink(missing_ok=True)  # the code is the code repository's: no second copy to drift
            continue
        if not (target.exists() and target.resolve() == (source / name)):
            # written whole or not at all: a full disk leaves the old copy, never one cut short
            temporary = target.with_name(f".{name}.{os.getpid()}.tmp")
            try:
                shutil.copyfile(source / name, temporary)
                os.replace(temporary, target)
            finally:
                temporary.unlink(missing_ok=True)
        written.append(name)
    if _update_json(folder / "config.json", _model_config_update(code_repo)):
        written.append("config.json")
    if _update_json(folder / "processor_config.json", _processor_config_update(code_repo)):
        written.append("processor_config.json")
    return written


def _ends_with_all(tree: ast.Module) -> bool:
    """Whether a module's last statement assigns `__all__` (every module of the unit ends so)."""
    last = tree.body[-1] if tree.body else None
    return isinstance(last, ast.Assign) and any(getattr(target, "id", None) == "__all__" for target in last.targets)


def check_remote_code(folder: str | Path) -> None:
    """Refuse a folder whose copy of a module of the unit is cut short or damaged, naming the file.

    Every module of the unit ends with its `__all__`, so a copy cut anywhere (a full disk while an older version wrote
    it in place) lacks it or does not parse: loaded with `trust_remote_code=True`, it would fail with a traceback, or
    miss what was cut. Modules the folder does not hold are not asked for (a folder may point to a code repository).

    Raises:
        UniSignInputError: naming the damaged file.
    """
    for name in SHIPPED_MODULES:
        path = Path(folder) / name
        if not path.is_file():
            continue
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except SyntaxError as error:
            problem = f"{error.msg} at line {error.lineno}"
        except ValueError as error:  # null bytes
            problem = str(error)
        else:
            problem = None if _ends_with_all(tree) else "no `__all__` at its end"
        if problem is not None:
            raise UniSignInputError(
                f"`{path}` is damaged (cut short?): {problem}. Write it again with `unisign card {folder}`."
            )


__all__ = ["CUSTOM_PIPELINES", "MODEL_AUTO_MAP", "SHIPPED_MODULES", "add_remote_code", "check_remote_code"]
