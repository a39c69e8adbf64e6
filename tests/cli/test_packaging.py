"""A plain (non-editable) ``pip install .`` in a fresh venv: the ``zoo`` command works from any directory.

The committed language models install with the package (``zoo/_pretrained``, copied in by setup.py), so
``--init lm:wiki-books-lstm-lm-v2`` finds them without the source tree.

The fresh venv sees this venv's third-party packages (every one but zoo, through a ``.pth`` line), so pip finds
zoo's requirements satisfied, or installs what does not satisfy them, instead of unpacking TensorFlow and the rest
again: zoo itself is built from the copied checkout and installed as a plain wheel.
"""

import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

from tests.cli.test_train import _rows, _write_csv

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = pytest.mark.slow


def _share_dependencies(venv, target):
    """Links every package of this venv but zoo into ``target`` and names it in a ``.pth`` file of ``venv``."""
    target.mkdir()
    for folder in dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]):
        for name in os.listdir(folder):
            if name.startswith(("zoo", "__editable__", "_distutils_hack", "pip", "setuptools")) or name.endswith(
                    ".pth") or (target / name).exists():
                continue
            (target / name).symlink_to(os.path.join(folder, name))
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
                              "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(purelib, "zoo-test-shared-dependencies.pth"), "w") as f:
        f.write(f"{target}\n")


def _copy_checkout(target):
    """The files git tracks or would track (what a clean clone has), copied to ``target``."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.splitlines()
    for name in listed:
        source = os.path.join(ROOT, name)
        if os.path.isfile(source):
            os.makedirs(os.path.dirname(os.path.join(target, name)), exist_ok=True)
            shutil.copy2(source, os.path.join(target, name))


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.skip("needs git to list the checkout's files")
    base = tmp_path_factory.mktemp("packaging")
    _copy_checkout(base / "clone")
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True, timeout=300)
    _share_dependencies(base / "venv", base / "dependencies")
    pip = subprocess.run([str(base / "venv" / "bin" / "python"), "-m", "pip", "install", "-q",
                          "--disable-pip-version-check", str(base / "clone")], capture_output=True, text=True,
                         timeout=1500)
    assert pip.returncode == 0, pip.stderr[-3000:]
    work = base / "elsewhere"
    work.mkdir()
    _write_csv(work / "a.csv", _rows(6))
    _write_csv(work / "b.csv", _rows(2))
    return base / "venv" / "bin", work


def _run(bin_dir, work, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ZOO_PRETRAINED_DIR")}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", ZOO_OFFLINE="1")
    return subprocess.run([str(bin_dir / "zoo"), *args], cwd=work, capture_output=True, text=True, env=env,
                          timeout=900)


def test_zoo_train_and_predict_after_a_plain_install(installed):
    bin_dir, work = installed
    trained = _run(bin_dir, work, "train", "--train", "a.csv", "--test", "b.csv", "--output-dir", "out",
                   "--epochs", "1")
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert (work / "out" / "export" / "saved_model.pb").exists() and (work / "out" / "classifier.json").exists()
    predicted = _run(bin_dir, work, "predict", "out/export", "some text")
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    label, probability, text = predicted.stdout.strip().split("\t")
    assert label in ("neg", "pos") and 0.5 <= float(probability) <= 1 and text == "some text"


def test_the_committed_language_model_installs_with_the_package(installed):
    bin_dir, work = installed
    code = ("from zoo.transfer import pretrained\n"
            "art = pretrained.load('wiki-books-lstm-lm-v2')\n"  # verifies every file's sha256
            "print(pretrained.pretrained_dir(), len(art.vocab))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ZOO_PRETRAINED_DIR")}
    result = subprocess.run([str(bin_dir / "python"), "-c", code], cwd=work, capture_output=True, text=True,
                            env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    directory, vocab = result.stdout.split()
    assert "site-packages" in directory and directory.endswith(os.path.join("zoo", "_pretrained"))
    assert vocab == "20000"


def test_the_debtags_snapshot_installs_with_the_package(installed):
    bin_dir, work = installed
    code = ("from zoo.data import debtags, load_dataset\n"
            "data = load_dataset('debtags')\n"
            "print(debtags.SNAPSHOT, len(data.train_texts), len(data.class_names))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([str(bin_dir / "python"), "-c", code], cwd=work, capture_output=True, text=True,
                            env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    path, train, labels = result.stdout.split()[-3:]
    assert "site-packages" in path and int(train) > 1000 and int(labels) > 10
