"""Loading-time checks of an `unisign export-onnx` folder: one clear error per damaged file, before ONNX Runtime.

ONNX Runtime reports a truncated graph, a missing external-data file or a config that does not fit its graphs with
exceptions of its own (or, for a missing tokenizer, not at all: every translation decodes to an empty line).
`check_onnx_folder` reads what the runtime will read and raises `InvalidInputError` naming the file and the problem:
`onnx_config.json` (valid JSON, this export format, file names inside the folder, layer and head counts that match
`config.json`), each graph (an ONNX model, not empty, with its external data present and long enough) and the
tokenizer. Graphs are parsed without their external weights, so the check reads the small graph files only.
"""

from pathlib import Path

from ..utils.errors import InvalidInputError, one_line
from ..utils.validation import check_tokenizer_folder, read_json_object
from .constants import FORMAT_NAME, ONNX_CONFIG_FILE


# the entries of `onnx_config.json` the runtime reads, with their types
ONNX_CONFIG_TYPES = {"encoder": str, "decoder": str, "num_decoder_layers": int, "num_heads": int, "d_kv": int}
# `onnx_config.json` entry -> the mT5 config field it must equal
TEXT_CONFIG_FIELDS = {"num_decoder_layers": "num_decoder_layers", "num_heads": "num_heads", "d_kv": "d_kv"}


def check_onnx_graph(path: Path) -> None:
    """Raise `InvalidInputError` when `path` is not a complete ONNX graph, or its external data is missing or short."""
    import onnx
    from onnx.external_data_helper import _get_all_tensors, uses_external_data

    if not path.is_file():
        raise InvalidInputError(f"`{path}` is missing or not a file: the ONNX export is incomplete.")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as error:  # protobuf's DecodeError, ...: bytes that are not a graph
        raise InvalidInputError(
            f"`{path}` is not a readable ONNX graph (truncated, damaged or another kind of file): {one_line(error)}"
        ) from None
    if not model.graph.node or not model.graph.output:
        raise InvalidInputError(f"`{path}` holds an empty ONNX graph (truncated or damaged).")
    for tensor in _get_all_tensors(model):
        if not uses_external_data(tensor):
            continue
        entries = {entry.key: entry.value for entry in tensor.external_data}
        data = path.parent / entries.get("location", "")
        end = int(entries.get("offset") or 0) + int(entries.get("length") or 0)
        location = Path(entries.get("location", ""))
        if not location.parts or location.is_absolute() or ".." in location.parts:
            raise InvalidInputError(f"`{path}` names external data outside its folder: {entries.get('location')!r}.")
        if not data.is_file():
            raise InvalidInputError(f"`{path}` needs its external data `{data.name}`, which is missing.")
        if data.stat().st_size < end:
            raise InvalidInputError(
                f"`{data}` is truncated: {data.stat().st_size:,} bytes, but `{path.name}` reads up to byte {end:,}."
            )
    try:
        onnx.checker.check_model(str(path))  # by path: the external data is looked for beside the graph
    except Exception as error:  # onnx's ValidationError: a graph cut or damaged where protobuf still parses it
        raise InvalidInputError(f"`{path}` is a damaged ONNX graph: {one_line(error)}") from None


def check_onnx_folder(folder: str | Path, tokenizer: bool = True, load_tokenizer: bool = True) -> dict:
    """Check an ONNX export folder before ONNX Runtime opens it; returns its `onnx_config.json`.

    Args:
        folder: The folder written by `unisign export-onnx`.
        tokenizer: Also check the tokenizer (the processor decodes the graphs' token ids with it).
        load_tokenizer: Load the tokenizer to check its size (seconds for mT5's), or only that its vocabulary file is
            there: a loader that loads it anyway checks the size itself (`check_tokenizer_size`).

    Raises:
        InvalidInputError: naming the damaged or missing file (see the module docstring).
    """
    folder = Path(folder)
    if not (folder / ONNX_CONFIG_FILE).is_file():
        raise InvalidInputError(
            f"`{folder}` is not an ONNX export of a Uni-Sign model (no {ONNX_CONFIG_FILE}): make one with "
            "`unisign export-onnx MODEL_FOLDER --out DIR`."
        )
    onnx_config = read_json_object(folder / ONNX_CONFIG_FILE)
    if onnx_config.get("format") != FORMAT_NAME:
        raise InvalidInputError(f"`{folder / ONNX_CONFIG_FILE}` does not describe a `{FORMAT_NAME}` export.")
    for key, kind in ONNX_CONFIG_TYPES.items():
        value = onnx_config.get(key)
        if not isinstance(value, kind) or isinstance(value, bool) or (kind is int and value < 1):
            raise InvalidInputError(
                f"`{folder / ONNX_CONFIG_FILE}` is damaged: `{key}` must be a {kind.__name__}"
                f"{' >= 1' if kind is int else ''}, got {value!r}."
            )
    if not (folder / "config.json").is_file():
        raise InvalidInputError(f"`{folder}` lacks the config.json of its ONNX export.")
    config = read_json_object(folder / "config.json")
    text_config = config.get("text_config") if isinstance(config.get("text_config"), dict) else {}
    for key, field in TEXT_CONFIG_FIELDS.items():
        expected = text_config.get(field, text_config.get("num_layers") if field == "num_decoder_layers" else None)
        if expected is not None and onnx_config[key] != expected:
            raise InvalidInputError(
                f"`{folder / ONNX_CONFIG_FILE}` gives {key}={onnx_config[key]} but config.json's language model has "
                f"{expected}: they come from different models."
            )
    for key in ("encoder", "decoder"):
        name = onnx_config[key]
        if Path(name).name != name:
            raise InvalidInputError(f"`{folder / ONNX_CONFIG_FILE}` names a {key} outside the folder: {name!r}.")
        check_onnx_graph(folder / name)
    if tokenizer:
        vocab_size = text_config.get("vocab_size")
        kept = config.get("kept_token_ids")  # a trimmed vocabulary: rows of these tokenizer ids
        check_tokenizer_folder(folder, vocab_size if isinstance(vocab_size, int) else None, kept, load=load_tokenizer)
    return onnx_config


__all__ = ["check_onnx_folder", "check_onnx_graph"]
