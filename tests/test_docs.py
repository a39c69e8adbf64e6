"""README.md and docs/: short enough, links that exist, and every command and example that runs as written.

Commands of ``bash`` blocks run with ``--dry-run`` (their settings are parsed and checked; nothing is
trained), except ``zoo report``, which runs. The README's Python examples run for real.
"""

import glob
import os
import re
import shlex
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["README.md", *sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))]
# Commands whose flags zoo checks without running them (a run or an export they need is not there).
DRY = ("zoo train", "zoo tune", "zoo pretrain-lm", "python recipes/")
NOT_CHECKED = ("zoo predict", "echo ", "saved_model_cli", "python bench/", ".venv/bin/python -m pytest",
               "python3 -m venv")


def _blocks(page, language):
    text = open(os.path.join(ROOT, page), encoding="utf-8").read()
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def _commands(page):
    for block in _blocks(page, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip() if not line.startswith("#") else ""
            if line:
                yield line


def test_readme_is_short():
    assert os.path.getsize(os.path.join(ROOT, "README.md")) <= 12 * 1024


@pytest.mark.parametrize("page", PAGES)
def test_links_to_files_exist(page):
    text = open(os.path.join(ROOT, page), encoding="utf-8").read()
    for path in re.findall(r"`((?:docs|recipes|bench|zoo|tests|pretrained)/[\w./-]*?\.(?:md|py|json))`", text):
        assert os.path.exists(os.path.join(ROOT, path)), f"{page} names {path}, which does not exist"


def _run_command(line, tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "ZOO_OFFLINE": "1"}
    words = shlex.split(line)
    while words and re.match(r"^[A-Z_]+=", words[0]):  # VAR=value prefixes
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    dry = " ".join(words).startswith(DRY)
    words = [match for word in words for match in (sorted(glob.glob(os.path.join(ROOT, word))) if "*" in word
                                                   else [word])]
    if words[0] == "zoo":
        words = [sys.executable, "-m", "zoo", *words[1:]]
    elif words[0] == "python":
        words = [sys.executable, *words[1:]]
    return subprocess.run(words + (["--dry-run"] if dry else []), cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_command_runs_as_written(page, tmp_path):
    for line in _commands(page):
        if line.startswith(NOT_CHECKED) or "| zoo predict" in line:
            continue
        config = re.search(r"--config (\S+)", line)
        if config and config.group(1).startswith("runs/") and not os.path.exists(os.path.join(ROOT, config.group(1))):
            continue  # reads what the command before it writes (a dry run writes nothing)
        result = _run_command(line, tmp_path)
        assert result.returncode == 0, f"{page}: {line}\n{result.stderr[-2000:]}"



# Runs each block, in order, in a namespace of its own, in one interpreter (one TensorFlow import for all); the
# first that raises ends the run with exit code 1, its traceback and then the block on stderr.
_BLOCKS_DRIVER = """
import json, sys, traceback
for i, block in enumerate(json.loads(sys.stdin.read())):
    try:
        exec(compile(block, f"<README.md python block {i + 1}>", "exec"), {"__name__": "__main__"})
    except SystemExit as stop:
        if stop.code not in (None, 0):
            print(block, file=sys.stderr)
            raise
    except BaseException:
        traceback.print_exc()
        print(block, file=sys.stderr)
        sys.exit(1)
"""


@pytest.mark.slow
def test_readme_python_examples_run(tmp_path):
    import json

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "ZOO_OFFLINE": "1"}
    blocks = _blocks("README.md", "python")
    assert blocks
    result = subprocess.run([sys.executable, "-c", _BLOCKS_DRIVER], input=json.dumps(blocks), cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("page", ["docs/models.md", "docs/pretrained.md"])
def test_docs_python_examples_run(page, tmp_path):
    import importlib.util

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for block in _blocks(page, "python"):
        backend = re.search(r'KERAS_BACKEND"\] = "(\w+)"', block)
        if backend and importlib.util.find_spec(backend.group(1)) is None:
            continue  # an example for another Keras backend, not installed here (the `backends` extra)
        result = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, env=env, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, f"{block}\n{result.stderr[-3000:]}"
