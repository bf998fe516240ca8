"""The package's shape: no import circles, counting every import, and built-in
plugins on the public API alone (docs/architecture.md).

``lint-imports`` checks the layers (pyproject.toml, ``[tool.importlinter]``);
these tests check what import-linter does not: a cycle anywhere, including
imports under ``TYPE_CHECKING``, inside functions, and the package ``__init__``
modules that importing a submodule runs first; and private names crossing
module boundaries inside the built-in plugins.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import promokit

SRC = Path(promokit.__file__).parent
ROOT = "promokit"


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


MODULES = _modules()


def _imports(module: str) -> Iterator[tuple[str, str | None]]:
    """``(module imported, name imported from it or None)`` for every import of the
    package in ``module``: at the top, under ``TYPE_CHECKING``, inside functions."""
    path, is_package = MODULES[module]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[:len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                if candidate in MODULES:
                    yield candidate, None
                else:
                    yield source, alias.name


def _known(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _graph() -> dict[str, set[str]]:
    """Module → modules it makes Python run: what it imports, and the ``__init__`` of
    every package of those that it is not inside itself (the root's aside: it is
    always running first)."""
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for module in MODULES:
        own = {module.rsplit(".", i)[0] for i in range(module.count(".") + 1)}
        for imported, _ in _imports(module):
            target = _known(imported)
            if target is None or not target.startswith(ROOT) or target == module:
                continue
            graph[module].add(target)
            parent = target.rpartition(".")[0]
            while parent and parent != ROOT and parent not in own:
                graph[module].add(parent)
                parent = parent.rpartition(".")[0]
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back_by_any_path() -> None:
    graph = _graph()
    assert sum(len(targets) for targets in graph.values()) > 500  # the walk sees imports
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_of_the_package_is_hidden_in_a_function_or_behind_type_checking() -> None:
    hidden = []
    for module, (path, _) in sorted(MODULES.items()):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {id(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))}
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in top:
                continue
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            if (isinstance(node, ast.ImportFrom) and node.level) or any(
                    name.split(".")[0] == ROOT for name in names):
                hidden.append(f"{module}:{node.lineno}")
    assert hidden == []


def test_built_in_plugins_import_no_private_name() -> None:
    private = []
    for module in sorted(m for m in MODULES if m.startswith(f"{ROOT}.plugins")):
        for imported, name in _imports(module):
            target = _known(imported) or imported
            if not target.startswith(ROOT):
                continue
            if any(part.startswith("_") for part in target.split(".")) or (
                    name is not None and name.startswith("_")):
                private.append(f"{module} imports {target}{'.' + name if name else ''}")
    assert private == []


def test_built_in_plugins_import_only_what_a_module_exports() -> None:
    """What a built-in imports from the kernel is in that module's ``__all__``: the
    public API a third party has too."""
    unexported = []
    for module in sorted(m for m in MODULES if m.startswith(f"{ROOT}.plugins")):
        for imported, name in _imports(module):
            target = _known(imported)
            if target is None or target.startswith(f"{ROOT}.plugins") or name is None:
                continue
            exported = getattr(importlib.import_module(target), "__all__", ())
            if name not in exported:
                unexported.append(f"{module} imports {name} from {target}")
    assert unexported == []
