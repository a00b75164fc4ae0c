"""What a model folder needs to load without this package (`trust_remote_code=True`): the code files and `auto_map`.

Placeholder of the `unisign card` work (issue 13): it does what `save_pretrained` does today, for the configuration
and the model only. The remote-code work replaces it with the full set (processor, feature extractors, pipeline).
"""

import json
import os
import shutil
from pathlib import Path

from transformers.dynamic_module_utils import get_relative_import_files

from . import configuration_unisign, modeling_unisign


AUTO_MAP = {
    "AutoConfig": "configuration_unisign.UniSignConfig",
    "AutoModelForSeq2SeqLM": "modeling_unisign.UniSignForConditionalGeneration",
}


def add_remote_code(folder: str | Path) -> list[str]:
    """Copy the modelling code into a model folder and name it in `config.json`'s `auto_map`.

    Args:
        folder: A `save_pretrained` folder; an adapter folder (no `config.json`) is left as it is.

    Returns:
        `list[str]`: The names of the files written, `config.json` included when it changed.
    """
    folder = Path(folder)
    config_path = folder / "config.json"
    if not config_path.is_file():
        return []
    written = []
    for module in (configuration_unisign, modeling_unisign):
        for source in [module.__file__, *get_relative_import_files(module.__file__)]:
            shutil.copyfile(source, folder / Path(source).name)
            written.append(Path(source).name)
    config = json.loads(config_path.read_text())
    if config.get("auto_map") != {**config.get("auto_map", {}), **AUTO_MAP}:
        config["auto_map"] = {**config.get("auto_map", {}), **AUTO_MAP}
        tmp = config_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, config_path)
        written.append("config.json")
    return sorted(set(written))
