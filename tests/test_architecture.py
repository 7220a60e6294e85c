"""The package's layout holds what doc/user_guide/architecture.rst says of it.

Layers, lowest first: a module may import its own layer and those below it,
never one above (so data flows one way: points -> factors -> problem ->
solvers -> models -> front ends -> separation -> applications). Modules stay
under 600 lines and classes under 300 lines of code (their numpydoc docstring
not counted).
"""

import ast
import os

import pytest

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sklearn_innmf")

#: top-level module or subpackage -> layer
LAYERS = {
    "_device": 0, "_threads": 0, "_moved": 0, "_docstrings": 0, "points": 0, "divergences": 0,
    "factors": 1,
    "problem": 2,
    "solvers": 3,
    "models": 4,
    "representations": 5, "metrics": 5, "plotting": 5, "datasets": 5,
    "separation": 6,
    "experiments": 7,
    "cli": 8, "__main__": 8, "__init__": 8,
}


def _modules():
    for root, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                parts = os.path.relpath(path, PACKAGE)[:-3].split(os.sep)
                yield path, parts


MODULES = sorted(_modules())


def _imports(path, parts):
    """Top-level names of the package that a module imports (anywhere in it)."""
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    tree = ast.parse(open(path).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = package[: len(package) - (node.level - 1)]
            target = base + (node.module.split(".") if node.module else [])
            if target:
                yield target[0], node.lineno
            else:  # "from .. import name": the package root or its submodules
                for alias in node.names:
                    yield (alias.name if alias.name in LAYERS else "__init__"), node.lineno
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for name in names:
                if name and name.split(".")[0] == "sklearn_innmf":
                    rest = name.split(".")[1:]
                    yield (rest[0] if rest else "__init__"), node.lineno


@pytest.mark.parametrize("path,parts", MODULES, ids=lambda v: "/".join(v) if isinstance(v, list) else "")
def test_no_module_imports_a_higher_layer(path, parts):
    own = parts[0]
    assert own in LAYERS, f"{own} is not in the architecture's layers: add it to the page and here"
    for target, line in _imports(path, parts):
        assert LAYERS[target] <= LAYERS[own], (
            f"{'/'.join(parts)}.py:{line} imports {target} (layer {LAYERS[target]}) "
            f"from layer {LAYERS[own]}"
        )


@pytest.mark.parametrize("path,parts", MODULES, ids=lambda v: "/".join(v) if isinstance(v, list) else "")
def test_modules_and_classes_stay_small(path, parts):
    source = open(path).read()
    assert len(source.splitlines()) <= 600
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            lines = node.end_lineno - node.lineno + 1
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                lines -= first.end_lineno - first.lineno + 1
            assert lines <= 300, f"{node.name}: {lines} lines of code"


def test_the_layers_catch_an_upward_import(tmp_path):
    """The check itself can fail: a solver importing an estimator is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from ..models import MatrixNMF\n")
    (target, _), = _imports(str(bad), ["solvers", "bad"])
    assert LAYERS[target] > LAYERS["solvers"]


def test_old_module_paths_warn_and_give_the_new_module():
    import importlib
    import sys

    from sklearn_innmf._moved import MOVED

    for old, new in MOVED.items():
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match=f"{old} is deprecated.*{new}"):
            module = importlib.import_module(old)
        assert module is importlib.import_module(new)
    with pytest.warns(DeprecationWarning):
        sys.modules.pop("sklearn_innmf.grouping", None)
        from sklearn_innmf.grouping import ComponentGroupSeparator
    from sklearn_innmf import ComponentGroupSeparator as current

    assert ComponentGroupSeparator is current
