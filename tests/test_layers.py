"""The folders are layers that point one way, and one module talks to ML Metadata.

Reads the import graph of the project's packages with `ast` (imports inside
functions count too) and fails when a folder imports one above it, when two
folders import each other, or when `ml_metadata` is imported outside the one
ML Metadata layer (`core/metadata`). The checks run on the real tree and, to
show they can fail, on small trees written for the purpose.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

# Each folder may import only the folders listed for it (and itself).
ALLOWED_IMPORTS: dict[str, set[str]] = {
    "core": set(),
    "components": {"core"},
    "trainer_module": {"core"},
    "pipeline": {"core", "components", "trainer_module"},
    "kubeflow": {"core", "components", "trainer_module", "pipeline"},
}
METADATA_LAYER = "core/metadata"
METADATA_MODULES = ("ml_metadata",)


def imported_modules(source: str) -> set[str]:
    """Every absolute module name a file imports, at any depth of its code."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def folder_graph(root: Path) -> dict[str, dict[str, set[str]]]:
    """folder -> imported folder -> the files that import it."""
    graph: dict[str, dict[str, set[str]]] = {folder: {} for folder in ALLOWED_IMPORTS}
    for folder in ALLOWED_IMPORTS:
        for path in sorted((root / folder).rglob("*.py")):
            for module in imported_modules(path.read_text()):
                target = module.split(".")[0]
                if target in ALLOWED_IMPORTS and target != folder:
                    graph[folder].setdefault(target, set()).add(str(path.relative_to(root)))
    return graph


def layer_violations(root: Path) -> list[str]:
    """Imports against ALLOWED_IMPORTS, and pairs of folders that import each other."""
    graph = folder_graph(root)
    problems = [
        f"{folder} imports {target} ({', '.join(sorted(files))})"
        for folder, targets in graph.items()
        for target, files in targets.items()
        if target not in ALLOWED_IMPORTS[folder]
    ]
    problems += [
        f"{a} and {b} import each other"
        for a in graph
        for b in graph[a]
        if a < b and a in graph.get(b, {})
    ]
    return problems


def metadata_outside_layer(root: Path) -> list[str]:
    """Files outside `core/metadata` that import ML Metadata."""
    return [
        str(path.relative_to(root))
        for folder in ALLOWED_IMPORTS
        for path in sorted((root / folder).rglob("*.py"))
        if not str(path.relative_to(root)).startswith(METADATA_LAYER)
        and any(m.split(".")[0] in METADATA_MODULES for m in imported_modules(path.read_text()))
    ]


def test_folders_import_only_the_layers_below_them():
    assert layer_violations(REPO_ROOT) == []


def test_ml_metadata_is_opened_only_by_the_metadata_layer():
    assert metadata_outside_layer(REPO_ROOT) == []


def test_every_package_folder_is_listed():
    """A new top-level package must be placed in the layers before it is used."""
    packages = {p.parent.name for p in REPO_ROOT.glob("*/__init__.py")} - {"tests", "benchmarks"}
    assert packages == set(ALLOWED_IMPORTS)


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for folder in ALLOWED_IMPORTS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(source)
    return root


@pytest.mark.parametrize(
    "files, expected",
    [
        (
            {"trainer_module/run.py": "def f():\n    from pipeline import config\n"},
            ["trainer_module imports pipeline (trainer_module/run.py)"],
        ),
        (
            {
                "components/a.py": "import trainer_module.model\n",
                "trainer_module/b.py": "from components import a\n",
            },
            [
                "components imports trainer_module (components/a.py)",
                "trainer_module imports components (trainer_module/b.py)",
                "components and trainer_module import each other",
            ],
        ),
        ({"core/config.py": "import kubeflow.cli\n"}, ["core imports kubeflow (core/config.py)"]),
        ({"pipeline/create.py": "from components import x\nimport core.config\n"}, []),
    ],
)
def test_the_layer_check_catches_back_imports(tmp_path, files, expected):
    assert layer_violations(write_tree(tmp_path, files)) == expected


def test_the_metadata_check_catches_a_second_layer(tmp_path):
    root = write_tree(
        tmp_path,
        {
            "core/metadata/store.py": "from ml_metadata.metadata_store import metadata_store\n",
            "pipeline/run_summary.py": "from ml_metadata.proto import metadata_store_pb2\n",
        },
    )
    assert metadata_outside_layer(root) == ["pipeline/run_summary.py"]
