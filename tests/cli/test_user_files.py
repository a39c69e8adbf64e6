"""Issue "Never lose a user's files": the command line's side. Each test failed on 0.3 (e8bfbc5).

zoo deletes and replaces only folders it wrote (its ``.zoo`` marker): a user's folder given as ``--output-dir``
or ``--backup-dir`` is refused before anything runs, ``--overwrite`` included; a second ``zoo train`` on the same
output folder is refused while the first runs; a backup resumes only the run that made it; Ctrl-C and a closed
pipe end with one line (or none) and a documented exit code.
"""

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.cli.test_bad_input import _env, _one_error_line, _train
from tests.cli.test_train import RECIPE, _rows, _write_csv

pytestmark = pytest.mark.slow  # subprocesses


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    return {"train": _write_csv(d / "train.csv", _rows(8)), "test": _write_csv(d / "test.csv", _rows(2)), "dir": d}


def _args(data, *extra):
    return ["--train", data["train"], "--test", data["test"], "--init", "none", "--units", "8", "--embedding-dim",
            "8", "--batch-size", "8", "--no-baseline", *extra]


def _user_folder(path):
    (path / "logs").mkdir(parents=True)
    (path / "logs" / "a").write_text("my notes")
    (path / "export").mkdir()
    (path / "export" / "b").write_text("my export")
    return {str(p.relative_to(path)): p.read_text() for p in path.rglob("*") if p.is_file()}


def _same(path, before):
    return {str(p.relative_to(path)): p.read_text() for p in path.rglob("*") if p.is_file()} == before


def test_folders_zoo_did_not_write_are_refused_before_anything_runs(data, tmp_path):
    project = tmp_path / "project"
    before = _user_folder(project)
    for flags, expected in (
            (["--output-dir", str(project)], f"--output-dir {project}: not a folder zoo wrote"),
            (["--output-dir", str(project), "--overwrite"], f"--output-dir {project}: not a folder zoo wrote"),
            (["--output-dir", str(tmp_path / "run"), "--backup-dir", str(project)],
             f"--backup-dir {project}: not a folder zoo wrote"),
            (["--output-dir", str(tmp_path / "run"), "--backup-dir", str(data["train"])], "is a file"),
            (["--output-dir", str(tmp_path / "run"), "--log-dir", str(data["train"])], "is a file")):
        result = _train(*_args(data, "--epochs", "1", *flags))
        assert result.returncode == 4, result.stderr[-2000:]
        _one_error_line(result.stderr, expected)
    assert _same(project, before) and not (tmp_path / "run").exists()
    here = subprocess.run([sys.executable, RECIPE, *_args(data, "--epochs", "1", "--output-dir", str(tmp_path / "run"),
                                                           "--backup-dir", ".")],
                          capture_output=True, text=True, env=_env(), timeout=600, cwd=project)
    assert here.returncode == 4 and "--backup-dir .: not a folder zoo wrote" in here.stderr
    assert _same(project, before)


def test_one_writer_per_output_dir_ctrl_c_and_a_resume_with_other_settings(data, tmp_path):
    out, backup = tmp_path / "run", tmp_path / "backup"
    # Why 5,000 epochs: the run must still be training when the second process (a fresh interpreter importing
    # TensorFlow) and the Ctrl-C arrive; 60 epochs of this tiny data ended first on a loaded 2-core machine.
    command = [sys.executable, RECIPE, *_args(data, "--epochs", "5000", "--patience", "10000", "--backup-dir",
                                             str(backup), "--output-dir", str(out))]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        metadata = backup / "train" / "training_metadata.json"
        deadline = time.time() + 300
        while not metadata.exists() and first.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert metadata.exists(), "no backup after the first epoch"
        second = _train(*_args(data, "--epochs", "1", "--output-dir", str(out), "--overwrite"))
        assert second.returncode == 4, second.stderr[-2000:]
        _one_error_line(second.stderr, f"--output-dir {out}: another zoo process (pid {first.pid}) is writing there")
        first.send_signal(signal.SIGINT)
        _, stderr = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130, stderr[-2000:]
    _one_error_line(stderr, f"error: interrupted; rerun the same command to resume from the backup in {backup}")
    assert json.loads((backup / "run.json").read_text())["settings"]["epochs"] == 5000

    other = _train(*_args(data, "--epochs", "10", "--patience", "10000", "--backup-dir", str(backup), "--output-dir",
                          str(out), "--units", "16"))
    assert other.returncode == 2, other.stderr[-2000:]
    _one_error_line(other.stderr, f"--backup-dir {backup} holds the backup of a run with other settings or data: "
                                  "--epochs 5000 there, 10 here; --units 8 there, 16 here; rerun with the same settings "
                                  "to resume it, or give a fresh --backup-dir")
    assert metadata.exists()  # the backup is kept for the right rerun


def test_predict_into_a_closed_pipe_ends_quietly(tmp_path):
    script = ("import keras\n"
              "from zoo import build_bilstm\n"
              "from zoo.models.text_model import text_model\n"
              "from zoo.serving.export import export_text_classifier\n"
              "vectorizer = keras.layers.TextVectorization(vocabulary=['', '[UNK]', 'a'], ragged=True)\n"
              f"export_text_classifier(text_model(build_bilstm(3, 2, units=2), vectorizer, 8), ['x', 'y'], {str(tmp_path / 'e')!r})\n")
    made = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=_env(), timeout=600)
    assert made.returncode == 0, made.stderr[-2000:]
    (tmp_path / "lines.txt").write_text("a b a\n" * 20000)
    result = subprocess.run(f"{sys.executable} -m zoo predict {tmp_path / 'e'} < {tmp_path / 'lines.txt'} | head -1; "
                            "exit ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", capture_output=True,
                            text=True, env=_env(), timeout=600)
    assert result.stdout.count("\n") == 1 and result.returncode == 141, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
