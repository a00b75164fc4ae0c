"""How the package's rooms depend on each other: what `import unisign` loads, and which imports may not exist."""

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from unisign.models.unisign.remote_code import SHIPPED_MODULES


SOURCE = Path(__file__).resolve().parents[1] / "src"
UNIT = "unisign.models.unisign"
# What a bare install of the shipped unit has (`pip install transformers torch`, with the tokenizer's libraries).
BARE_INSTALL = {"torch", "transformers", "numpy", "safetensors", "huggingface_hub", "tokenizers", "sentencepiece"}
# Optional where the unit uses them: imported only under `try: ... except ImportError`, with a message naming the pip
# package. `unisign.extraction` is the package's pose extraction (videos, reference pickles), absent as remote code.
OPTIONAL = {"PIL", "torchvision", "av", "pose_format", "unisign.extraction"}


@dataclass(frozen=True)
class Import:
    """One import statement's target: `name` as written (made absolute), and where the statement stands."""

    name: str
    attributes: tuple[str, ...]  # the names of `from name import a, b` (empty for `import name`)
    level: int  # dots of a relative import
    in_function: bool
    guarded: bool  # inside a `try` whose handlers catch ImportError
    line: int


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return handler.type is None or any(
        isinstance(name, ast.Name) and name.id in ("ImportError", "ModuleNotFoundError", "Exception") for name in names
    )


def file_imports(path: Path) -> list[Import]:
    """Every import statement of a file under `src/` (function-level ones included), made absolute."""
    parts = path.relative_to(SOURCE).with_suffix("").parts
    package = parts[:-1]  # a module's own package; for `__init__.py`, the package itself
    found = []

    def visit(node: ast.AST, in_function: bool, guarded: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, (), 0, in_function, guarded, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            name = ".".join([*base, *([node.module] if node.module else [])])
            attributes = tuple(alias.name for alias in node.names)
            found.append(Import(name, attributes, node.level, in_function, guarded, node.lineno))
        in_function = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        if isinstance(node, ast.Try):
            body_guarded = guarded or any(_catches_import_error(handler) for handler in node.handlers)
            for child in node.body:
                visit(child, in_function, body_guarded)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(child, in_function, guarded)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, in_function, guarded)

    visit(ast.parse(path.read_text(encoding="utf-8")), False, False)
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


PATHS = {module_name(path): path for path in (SOURCE / "unisign").rglob("*.py")}


def imported_modules(found: Import) -> set[str]:
    """The package's files an import statement runs: `from a.b import c` runs `a.b.c` when that is a module, else
    `a.b` (a name defined there). The enclosing packages' `__init__` files are not counted: every module has them."""
    modules = {f"{found.name}.{attribute}" for attribute in found.attributes} & set(PATHS)
    if len(modules) < len(found.attributes) or not found.attributes:
        modules.add(found.name)
    return {module for module in modules if module in PATHS}


def module_imports() -> dict[str, set[str]]:
    """`{module: the package's modules its file imports anywhere (function-level imports included)}`."""
    return {
        name: set().union(*(imported_modules(found) for found in file_imports(path))) for name, path in PATHS.items()
    }


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module `start` can import, directly or through others."""
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    return seen - {start}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each module that lies on one (`a -> b -> a`), in a stable order."""
    cycles, reported = [], set()
    for start in sorted(graph):
        if start in reported:
            continue
        path, todo = {start: None}, [start]
        while todo:  # breadth first: the shortest way back to `start`
            module = todo.pop(0)
            for imported in sorted(graph[module]):
                if imported == start:
                    cycle = [module]
                    while path[cycle[-1]] is not None:
                        cycle.append(path[cycle[-1]])
                    cycles.append([*reversed(cycle), start])
                    reported |= set(cycle)
                    todo = []
                    break
                if imported not in path:
                    path[imported] = module
                    todo.append(imported)
    return cycles


def test_the_import_graph_sees_function_level_and_relative_imports():
    graph = module_imports()
    assert "unisign.data.dataset" in graph["unisign.training.loop"]  # `from ..data.dataset import ...`
    assert "unisign.synthetic" in graph["unisign.data.dataset"]  # inside `load_split`
    assert "unisign.evaluation.cli" in reachable(graph, "unisign.training.loop")
    assert "unisign.models.unisign.pose_sample" in graph["unisign"]  # `from .models.unisign.pose_sample import ...`


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert import_cycles(graph) == [["a", "b", "c", "a"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_files():
    assert import_cycles(module_imports()) == []


@pytest.mark.parametrize(
    "room, forbidden",
    [
        ("unisign.evaluation.cli", "unisign.training"),  # training scores with evaluation, never the reverse
        ("unisign.data.dataset", "unisign.training"),
        ("unisign.apps.visualization", "unisign.synthetic"),
    ],
)
def test_rooms_do_not_import_what_they_must_not_depend_on(room, forbidden):
    imported = reachable(module_imports(), room)
    assert not [module for module in imported if module == forbidden or module.startswith(forbidden + ".")]


# The converter of the authors' checkpoints (not shipped) names the released files by the catalogue in `hub/`: the
# language and frame count of a released file come from there. The one import of `hub/` that `models/` may have.
CONVERTER_CATALOGUE = (
    "unisign.models.unisign.convert_unisign_original_checkpoint",
    "unisign.hub.released_checkpoints",
)


def test_models_import_neither_apps_hub_training_nor_evaluation():
    forbidden = ("unisign.apps", "unisign.hub", "unisign.training", "unisign.evaluation")
    wrong = [
        (name, imported)
        for name, imports in module_imports().items()
        if name.startswith("unisign.models")
        for imported in imports
        if imported.startswith(forbidden) and (name, imported) != CONVERTER_CATALOGUE
    ]
    assert wrong == []


def test_utils_import_nothing_of_the_package():
    wrong = [
        (name, found.name, found.line)
        for name, path in PATHS.items()
        if name.startswith("unisign.utils")
        for found in file_imports(path)
        if (found.name == "unisign" or found.name.startswith("unisign."))
        and not found.name.startswith("unisign.utils")
    ]
    assert wrong == []


def test_the_shipped_unit_imports_only_itself_and_what_a_bare_install_has():
    """Remote code runs where only the unit's files and a bare install are: a relative import must name a shipped
    file of the folder, and an optional library (or the package's extraction) may be imported only under
    `except ImportError` (a function body that raises a one-line error naming the pip package)."""
    shipped = {f"{UNIT}.{file_name.removesuffix('.py')}" for file_name in SHIPPED_MODULES}
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    wrong = []
    for module in sorted(shipped):
        for found in file_imports(PATHS[module]):
            if found.level:  # `from .x import y` or `from . import x`: files of the folder that are shipped
                targets = [f"{UNIT}.{name}" for name in found.attributes] if found.name == UNIT else [found.name]
                allowed = found.level == 1 and all(target in shipped for target in targets)
            else:
                targets = [f"{found.name}.{name}" for name in found.attributes] or [found.name]
                optional = [t for t in targets if any(t == name or t.startswith(name + ".") for name in OPTIONAL)]
                plain = [t.split(".")[0] for t in targets if t not in optional]
                allowed = (found.guarded or not optional) and all(top in BARE_INSTALL | stdlib for top in plain)
            if not allowed:
                wrong.append(f"{module}:{found.line} {'.' * found.level}{found.name} {found.attributes}")
    assert wrong == []


def test_import_unisign_loads_neither_the_synthetic_generator_nor_training():
    modules = "unisign, unisign.apps.cli, unisign.evaluation.cli, unisign.apps.visualization, unisign.data.dataset"
    code = (
        f"import json, sys\nimport {modules}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('unisign.synthetic', 'unisign.training')))))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(completed.stdout) == []
