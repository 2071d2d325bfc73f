"""A fingerprint of the code a component runs, for TFX's cache key.

TFX keys its cache on a component's inputs and execution properties. Transform
and Trainer name their functions by dotted path (`trainer_module.run.run_fn`),
so an edit of `trainer_module/` changes neither, and an edited trainer would be
served from cache. Putting this fingerprint into a component's properties makes
its cache key change exactly when the code it runs changes.

The fingerprint covers the named module and, transitively, every module of our
own packages it imports (found by parsing `import` statements, without
importing anything: computing it must not cost a TensorFlow import). An edit of
`trainer_module/training.py` therefore changes the Trainer's fingerprint
(`run` imports `training`) and not Transform's (`preprocessing` does not).
Third-party code is covered by the lock file, not here.
"""

from __future__ import annotations

import ast
import hashlib
import os

# The packages of this project whose sources are fingerprinted.
OWN_PACKAGES = ("core", "components", "trainer_module")
# The execution property (or custom_config key) that carries a component's fingerprint.
CODE_FINGERPRINT_KEY = "code_fingerprint"


def code_fingerprint(module: str, root: str | None = None) -> str:
    """SHA-256 over the sources of `module` and of every own module it imports, transitively.

    Args:
        module: dotted name, e.g. "trainer_module.run".
        root: the directory holding the packages (default: the one this file's
            package lives in); tests point it at an edited copy.

    Returns:
        A hex digest that changes when any of those source files changes.

    Raises:
        FileNotFoundError: `module` is not a module of our packages under `root`.
    """
    root = root or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digest = hashlib.sha256()
    for name, path in sorted(_closure(module, root).items()):
        with open(path, "rb") as f:
            digest.update(f"{name}\0".encode() + f.read() + b"\0")
    return digest.hexdigest()


def _closure(module: str, root: str) -> dict[str, str]:
    """Module name -> source path for `module` and the own modules it reaches."""
    found: dict[str, str] = {}
    parts = module.split(".")
    pending = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        path = _source_path(name, root)
        if path is None:
            if name == module:  # a missing package is caught here too: it is a prefix
                raise FileNotFoundError(f"no source for module {module} under {root}")
            continue  # e.g. `from core import features` names a module, not a package member
        found[name] = path
        pending += _own_imports(name, path)
    return found


def _source_path(name: str, root: str) -> str | None:
    base = os.path.join(root, *name.split("."))
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            return candidate
    return None


def _own_imports(name: str, path: str) -> list[str]:
    """The own modules `path` imports, including each importing package's `__init__`."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names.append(base)
            names += [f"{base}.{alias.name}" for alias in node.names]
    parents = [".".join(n.split(".")[:i]) for n in names for i in range(1, n.count(".") + 1)]
    return [n for n in names + parents if n.split(".")[0] in OWN_PACKAGES]
