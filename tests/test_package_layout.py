"""How the package's rooms depend on each other: what `import unisign` loads, and which imports may not exist."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest


SOURCE = Path(__file__).resolve().parents[1] / "src"


def module_imports() -> dict[str, set[str]]:
    """`{module: unisign modules it imports anywhere in its file (function-level imports included)}`."""
    graph = {}
    for path in (SOURCE / "unisign").rglob("*.py"):
        parts = path.relative_to(SOURCE).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        package = name if is_package else name.rpartition(".")[0]
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join([*base, *([node.module] if node.module else [])])
                imported.add(target)
                imported |= {f"{target}.{alias.name}" for alias in node.names}  # `from . import module`
        graph[name] = {module for module in imported if module.split(".")[0] == "unisign"}
    return graph


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module `start` can import, directly or through others (names that are not modules are kept as leaves)."""
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    return seen - {start}


def test_the_import_graph_sees_function_level_and_relative_imports():
    graph = module_imports()
    assert "unisign.data.dataset" in graph["unisign.training.loop"]  # `from ..data.dataset import ...`
    assert "unisign.synthetic" in graph["unisign.data.dataset"]  # inside `load_split`
    assert "unisign.evaluation.cli" in reachable(graph, "unisign.training.loop")


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


def test_import_unisign_loads_neither_the_synthetic_generator_nor_training():
    modules = "unisign, unisign.apps.cli, unisign.evaluation.cli, unisign.apps.visualization, unisign.data.dataset"
    code = (
        f"import json, sys\nimport {modules}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('unisign.synthetic', 'unisign.training')))))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(completed.stdout) == []
