"""The package's layout holds: every module is in docs/architecture.md, imports alone, takes part in no import cycle,
imports zoo's modules at its top only (or through zoo.lazy, the one lazy import point), and no private name crosses a
module boundary (issue "One fitted model ...": public boundaries)."""

import ast
import json
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


def _lazy_target(node):
    """The name a ``lazy_module("zoo.x")`` call (:mod:`zoo.lazy`) declares, None for any other node; ``""`` where the
    call's argument is not one string literal (which the checks here could not follow)."""
    if not (isinstance(node, ast.Call) and "lazy_module" in (getattr(node.func, "id", None),
                                                             getattr(node.func, "attr", None))):
        return None
    if len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Constant) \
            and isinstance(node.args[0].value, str):
        return node.args[0].value
    return ""


def _import_graph():
    """Every zoo module's imports of zoo modules, at module level and inside functions alike, and its
    ``lazy_module("zoo.x")`` declarations: a module imported later is still a dependency, and a cycle through it is
    still a cycle."""
    graph = {}
    for module, path in MODULES.items():
        graph[module] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module] |= _imported(module, node)
            elif _lazy_target(node):
                graph[module] |= {_lazy_target(node)} - {module}
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


def test_the_import_graph_counts_lazy_declarations():
    graph = _import_graph()
    assert "zoo.text_classifier" in graph["zoo.cli.train"]  # text_classifier = lazy_module("zoo.text_classifier")
    assert "zoo.training.language_model" in graph["zoo.transfer.lm_ids"]
    assert _lazy_target(ast.parse('x = lazy_module("zoo.data.tokenize")').body[0].value) == "zoo.data.tokenize"
    assert _lazy_target(ast.parse("x = lazy.lazy_module(name)").body[0].value) == ""
    assert _lazy_target(ast.parse("x = import_module('zoo.data')").body[0].value) is None


# === Imports of zoo's modules: at the top, or declared with zoo.lazy.lazy_module ===

def _function_level(tree):
    """``(node, inside a function)`` for every node of a module's tree."""
    found = []

    def visit(node, inside):
        found.append((node, inside))
        nested = inside or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, nested)

    visit(tree, False)
    return found


def _function_level_zoo_imports(module, path, root=REPO):
    """``(file, zoo module)`` for each import statement of a zoo module inside a function of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sorted({(str(path.relative_to(root)), target) for node, inside in _function_level(tree)
                   if inside and isinstance(node, (ast.Import, ast.ImportFrom)) for target in _imported(module, node)})


def test_no_function_imports_a_zoo_module():
    """zoo's modules import each other at their top, or declare a module imported on first use with
    ``zoo.lazy.lazy_module`` (the one lazy import point: why, in its docstring); never inside a function, where an
    import hides from a reader what a module depends on. Imports of other packages (tensorflow, gensim, matplotlib)
    may stay in the functions that need them."""
    found = [hit for module, path in MODULES.items() for hit in _function_level_zoo_imports(module, path)]
    assert found == []


def test_the_function_import_check_finds_one(tmp_path):
    path = tmp_path / "zoo" / "probe.py"
    path.parent.mkdir()
    path.write_text("import os\nfrom zoo.errors import DataError\n\n\nclass A:\n    def f(self):\n        import json\n\n"
                    "        import zoo\n        from zoo.data import corpus\n\n        def g():\n"
                    "            from . import log\n", encoding="utf-8")
    assert _function_level_zoo_imports("zoo.files", path, root=tmp_path) == [  # (zoo.files: the relative import's)
        ("zoo/probe.py", "zoo"), ("zoo/probe.py", "zoo.data.corpus"), ("zoo/probe.py", "zoo.log")]


def test_lazy_modules_are_declared_at_module_level():
    """Each ``lazy_module`` call is a module-level declaration naming, in one string, a zoo module that exists: what
    the import graph and a reader can follow (zoo.lazy itself only defines it)."""
    bad = []
    for module, path in MODULES.items():
        if module == "zoo.lazy":
            continue
        for node, inside in _function_level(ast.parse(path.read_text(encoding="utf-8"))):
            target = _lazy_target(node)
            if target is not None and (inside or target not in MODULES or target == module):
                bad.append(f"{path.relative_to(REPO)}:{node.lineno}: lazy_module({target!r})"
                           + (" inside a function" if inside else ""))
    assert bad == []


def test_a_lazy_module_imports_on_first_use():
    script = textwrap.dedent("""
        import sys
        from zoo.lazy import load, lazy_module
        try:
            lazy_module("json")
            raise AssertionError("lazy_module('json') was taken")
        except ValueError as error:
            assert "zoo's own modules" in str(error)
        version = lazy_module("zoo.version")
        interrupts = lazy_module("zoo.interrupts")
        assert "zoo.interrupts" not in sys.modules and "not imported yet" in repr(interrupts)
        assert interrupts.__name__ == "zoo.interrupts" and load(interrupts) is sys.modules["zoo.interrupts"]
        real = sys.modules["zoo.interrupts"]
        real.probe = 1
        assert interrupts.probe == 1  # the module's attribute at each read: a patched attribute is seen
        interrupts.probe = 2
        assert real.probe == 2 and "watch" in dir(interrupts) and version.__version__ and load(real) is real
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.stdout.strip() == "ok", result.stderr[-2000:]


# The command line's paths that run before TensorFlow starts: help, the version, --dry-run, and the checks of the
# output folder. zoo.lazy keeps the commands' TensorFlow modules (and scikit-learn's, matplotlib's) out of them.
_CLI_BEFORE_TENSORFLOW = """
import contextlib, io, json, sys
from zoo.cli import main

codes = {}
for argv in ([], ["--help"], ["--version"], ["train", "--help"], ["tune", "--help"], ["pretrain-lm", "--help"],
             ["predict", "--help"], ["report", "--help"], ["train", "--dataset", "sms_spam", "--dry-run"],
             ["tune", "--dataset", "sms_spam", "--output-dir", "runs/x", "--dry-run"],
             ["train", "--dataset", "sms_spam", "--output-dir", sys.argv[1]]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code
    codes[" ".join(argv)] = [code, "usage" in out.getvalue() or err.getvalue()]
heavy = ("tensorflow", "keras", "sklearn", "matplotlib", "gensim")
print(json.dumps({"codes": codes, "imported": sorted(m for m in heavy if m in sys.modules)}))
"""


def test_the_command_line_checks_and_helps_before_tensorflow(tmp_path):
    (tmp_path / "a_file").write_text("")
    result = subprocess.run([sys.executable, "-c", _CLI_BEFORE_TENSORFLOW, str(tmp_path / "a_file")], cwd=REPO,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["imported"] == []
    codes = report["codes"]
    assert codes[""][0] == 2 and all(codes[k] == [0, True] for k in codes if k.endswith("--help"))
    assert codes["--version"][0] == 0 and codes["train --dataset sms_spam --dry-run"][0] == 0
    assert codes["tune --dataset sms_spam --output-dir runs/x --dry-run"][0] == 0
    assert codes[f"train --dataset sms_spam --output-dir {tmp_path / 'a_file'}"] == [
        4, f"error: --output-dir {tmp_path / 'a_file'}: is a file, not a directory\n"]


# zoo pretrain-lm --from-ids where neither TensorFlow nor scikit-learn is installed (.venv-backends, Keras on JAX;
# TensorFlow blocked besides): its modules import, and the command reads an id file and checks its settings.
_FROM_IDS_WITHOUT_TENSORFLOW = """
import dataclasses, json, os, sys
sys.modules["tensorflow"] = None  # an import of it fails
from zoo.cli import main
from zoo.config import PretrainConfig
from zoo.transfer import lm_ids, pretrained, pretraining

path = os.path.join(sys.argv[1], "ids.npz")
lm_ids.write_ids(path, [2, 3, 4] * 50, [2, 3], ["", "[UNK]", "xxbos", "a", "b"],
                 {"settings": dataclasses.asdict(PretrainConfig())})
main(["pretrain-lm", "--from-ids", path, "--output-dir", os.path.join(sys.argv[1], "lm"), "--dry-run"])
assert callable(pretraining.register) and callable(pretrained.load)
print(json.dumps(sorted(m for m in ("tensorflow", "sklearn") if sys.modules.get(m) is not None)))
"""


def test_pretraining_from_ids_imports_without_tensorflow(tmp_path):
    python = REPO / ".venv-backends" / "bin" / "python"
    if not python.exists():
        pytest.skip("no .venv-backends (Keras on JAX and PyTorch, no TensorFlow): make it as .ci/run does")
    result = subprocess.run([str(python), "-c", _FROM_IDS_WITHOUT_TENSORFLOW, str(tmp_path)], cwd=REPO,
                            capture_output=True, text=True, timeout=300, check=False,
                            env={**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


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
