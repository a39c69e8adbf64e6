"""The package's layout holds: every module is in docs/architecture.md, imports alone, takes part in no import cycle,
and no private name crosses a module boundary (issue "One fitted model ...": public boundaries)."""

import ast
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]


def _modules():
    """``{module name: path}`` of every module under ``zoo/``."""
    found = {}
    for path in sorted((REPO / "zoo").rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imported(module, node):
    """The zoo modules an import statement in ``module`` names: ``from zoo.data import cache`` is an edge to
    ``zoo.data.cache`` (a module) and ``from zoo.data import load_dataset`` one to ``zoo.data``."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: from the module's package
            package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
            base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
    targets = set()
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module:
            targets.add(name)
    return targets


def _import_graph():
    """Every zoo module's imports of zoo modules, at module level and inside functions alike."""
    graph = {}
    for module, path in MODULES.items():
        graph[module] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module] |= _imported(module, node)
    return graph


def _cycles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert _cycles(_import_graph()) == []


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_each_module_imports_alone():
    """Each module imported with no other zoo module loaded before it (one interpreter; zoo's modules are
    removed from ``sys.modules`` before each): an import that only works after another module is a hidden
    cycle or a missing import."""
    script = textwrap.dedent(f"""
        import importlib, sys
        failed = []
        for name in {sorted(set(MODULES) - {"zoo.__main__"})!r}:  # __main__ runs the command line
            for key in [k for k in sys.modules if k == "zoo" or k.startswith("zoo.")]:
                del sys.modules[key]
            try:
                importlib.import_module(name)
            except Exception as error:
                failed.append(f"{{name}}: {{type(error).__name__}}: {{error}}")
        print("\\n".join(failed) or "ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "ok", result.stdout


def _private_definitions():
    """``{private name: modules defining it}``: module-level functions, classes and constants and class members
    whose names start with one underscore."""
    defined = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = list(tree.body) + [n for c in tree.body if isinstance(c, ast.ClassDef) for n in c.body]
        for node in nodes:
            names = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
            for name in names:
                if name.startswith("_") and not name.startswith("__"):
                    defined.setdefault(name, set()).add(module)
    return defined


def _private_uses(path, defined, root=REPO):
    """The uses in ``path`` of a private name zoo defines elsewhere: imported by name, or read as an attribute
    of anything but ``self``, ``cls`` or ``super()``."""
    module = ".".join(path.relative_to(root).with_suffix("").parts)
    uses = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Attribute) and not (
                isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
                or isinstance(node.value, ast.Call) and getattr(node.value.func, "id", None) == "super"):
            names = [node.attr]
        else:
            continue
        uses += [f"{path.relative_to(root)}:{node.lineno}: {name}" for name in names
                 if name in defined and module not in defined[name]]
    return uses


@pytest.mark.parametrize("folder", ["zoo", "bench", "recipes"])
def test_no_private_name_crosses_a_module_boundary(folder):
    defined = _private_definitions()
    uses = [use for path in sorted((REPO / folder).rglob("*.py")) for use in _private_uses(path, defined)]
    assert uses == []


def test_the_private_name_check_finds_a_use(tmp_path):
    path = tmp_path / "bench" / "probe.py"
    path.parent.mkdir()
    path.write_text("from zoo.text_classifier import _labels\nimport zoo.text_classifier as t\nt._texts\n"
                    "self._texts\n", encoding="utf-8")
    defined = {"_texts": {"zoo.text_classifier"}, "_labels": {"zoo.text_classifier"}}
    assert _private_uses(path, defined, root=tmp_path) == ["bench/probe.py:1: _labels", "bench/probe.py:3: _texts"]
    assert _private_uses(path, {"_texts": {"bench.probe"}}, root=tmp_path) == []  # its own


def test_architecture_doc_lists_every_module_once():
    """docs/architecture.md's map has a line for each module, and no line for a module that is gone."""
    doc = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\s*(zoo/\S+\.py)\s", doc, flags=re.MULTILINE)
    on_disk = sorted(str(path.relative_to(REPO)) for path in MODULES.values())
    assert sorted(set(listed)) == on_disk
    assert len(listed) == len(set(listed))
