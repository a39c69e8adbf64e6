"""Bad input to the recipe scripts gets what zoo's commands give it (docs/bad-input.md): one ``error: ...`` line, the
exit code of its kind (2 a flag, 3 what is read, 4 what is written; 130/143 Ctrl-C/SIGTERM), no traceback, and the
user's files untouched. Most cases stop before anything loads, so they run the recipe's ``main`` in this process."""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import types

import numpy as np
import pytest

RECIPES = os.path.join(os.path.dirname(__file__), "..", "recipes")


def _recipe(name):
    spec = importlib.util.spec_from_file_location(f"{name}_recipe", os.path.join(RECIPES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _snapshot(folder):
    """Every file under ``folder`` with its bytes: to show a refused command changed nothing."""
    return {os.path.relpath(os.path.join(root, name), folder): open(os.path.join(root, name), "rb").read()
            for root, _, names in os.walk(folder) for name in names}


def _fails(capsys, main, argv, code):
    """Runs ``main(argv)``; the one stderr line it ended with (asserting the exit code and that it is one line)."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def _zoo_folder(path, kind, files):
    path.mkdir(parents=True)
    (path / ".zoo").write_text(json.dumps({"written_by": "zoo", "kind": kind}))
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def _kill_self(sig):
    """A stand-in for a step of the run that is interrupted: the signal comes as from the terminal or `kill`."""
    def interrupted(*args, **kwargs):
        os.kill(os.getpid(), sig)
        raise AssertionError("the signal's handler did not stop the command")
    return interrupted


# === recipes/time_series.py ===

TINY_SERIES = ["--max-points", "300", "--window", "10", "--epochs", "1", "--units", "2"]


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_time_series_refuses_a_text_classifier_run_even_with_overwrite(tmp_path, capsys, overwrite):
    # A finished `zoo train` run: the recipe's files mixed into it would corrupt it, so --overwrite is no way in.
    run = _zoo_folder(tmp_path / "victim", "run", {"classifier.json": "{}", "metrics.json": "{}",
                                                   "config.json": "{}", "report.md": "# old"})
    before = _snapshot(run)
    line = _fails(capsys, _recipe("time_series").main, TINY_SERIES + ["--output-dir", str(run), *overwrite], 4)
    assert line.startswith(f"error: --output-dir {run}: a zoo folder of kind 'run', expected 'time_series'")
    assert _snapshot(run) == before


def test_time_series_refuses_its_own_finished_run_without_overwrite(tmp_path, capsys):
    run = _zoo_folder(tmp_path / "ts", "time_series", {"metrics.json": "{}", "report.md": "# mine"})
    before = _snapshot(run)
    line = _fails(capsys, _recipe("time_series").main, TINY_SERIES + ["--output-dir", str(run)], 4)
    assert line == f"error: {run}: a finished run already exists here; pass --overwrite to replace it, or choose " \
                   "another --output-dir"
    assert _snapshot(run) == before


def test_time_series_refuses_a_folder_zoo_did_not_write(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    line = _fails(capsys, _recipe("time_series").main, TINY_SERIES + ["--output-dir", str(mine), "--overwrite"], 4)
    assert "not a folder zoo wrote" in line and _snapshot(mine) == {"notes.txt": b"mine"}


@pytest.mark.slow
def test_time_series_overwrite_replaces_its_older_run_and_resumes_from_a_backup_inside_it(tmp_path):
    # A run the recipe wrote before it had a marker kind of its own ("run", no classifier.json, its command) is its
    # own to replace; the docs' resumable command keeps the backup inside the run folder.
    run = _zoo_folder(tmp_path / "ts", "run", {"metrics.json": "{}", "notes.txt": "mine", "config.json": json.dumps(
        {"command": "python recipes/time_series.py --output-dir ts"})})
    recipe = _recipe("time_series")
    args = TINY_SERIES + ["--output-dir", str(run), "--backup-dir", str(run / "backup"), "--overwrite"]
    recipe.main(args)
    assert json.loads((run / ".zoo").read_text())["kind"] == "time_series"
    assert (run / "notes.txt").read_text() == "mine" and (run / "backup" / "run.json").exists()
    assert "test" in json.loads((run / "metrics.json").read_text())
    rows = (run / "backup" / "train.csv").read_text()
    recipe.main(args)  # finished training: restored from the backup, not trained again
    assert (run / "backup" / "train.csv").read_text() == rows


@pytest.mark.parametrize("sig,code,word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
@pytest.mark.parametrize("backup", [True, False])
def test_time_series_ctrl_c_and_sigterm_end_with_one_line(tmp_path, capsys, monkeypatch, sig, code, word, backup):
    import zoo.log

    monkeypatch.setattr(zoo.log, "start_tensorflow", _kill_self(sig))  # the first step after the checks
    flags = ["--backup-dir", str(tmp_path / "backup")] if backup else []
    line = _fails(capsys, _recipe("time_series").main, TINY_SERIES + ["--output-dir", str(tmp_path / "run"), *flags],
                  code)
    assert line == f"error: {word}; " + (f"rerun the same command to resume from the backup in {tmp_path / 'backup'}"
                                         if backup else "nothing was saved (pass --backup-dir to make a run resumable)")
    assert os.listdir(tmp_path) == []


# === recipes/cross_domain_transfer.py ===


@pytest.fixture
def source(tmp_path):
    return _zoo_folder(tmp_path / "source", "run", {"classifier.json": "{}"})


@pytest.mark.parametrize("flags,code,message", [
    (["--target", "nope"], 3, "error: unknown dataset 'nope'"),
    (["--epochs", "0", "--target", "nope"], 2, "error: --epochs must be an integer >= 1, got 0"),  # settings first
    (["--seed", "-5"], 2, "error: --seed must be an integer in [0, 4294967295], got -5"),
    (["--seed", str(2 ** 32)], 2, "error: --seed must be an integer in [0, 4294967295], got 4294967296"),
    (["--labels", "5"], 2, "error: --labels must be an integer >= 20, got 5"),
    (["--source", "nowhere"], 3, "error: --source nowhere: not a zoo run (no classifier.json)"),
])
def test_cross_domain_bad_flags_are_one_line(tmp_path, capsys, source, flags, code, message):
    out = tmp_path / "out"
    line = _fails(capsys, _recipe("cross_domain_transfer").main, ["--source", str(source), "--output-dir", str(out),
                                                                  *flags], code)
    assert line.startswith(message) and not out.exists()


def test_cross_domain_refuses_a_folder_zoo_did_not_write(tmp_path, capsys, source):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "transfer.md").write_text("my notes")
    line = _fails(capsys, _recipe("cross_domain_transfer").main, ["--source", str(source), "--output-dir", str(mine),
                                                                  "--overwrite", "--target", "nope"], 4)
    assert "not a folder zoo wrote" in line and _snapshot(mine) == {"transfer.md": b"my notes"}


def _fake_training(monkeypatch):
    """A target dataset of 40 texts and a classifier that does not train: what the recipe writes, in a second."""
    import zoo
    import zoo.data
    import zoo.log

    labels = np.array([0, 1] * 20)
    data = types.SimpleNamespace(class_names=["ham", "spam"], train_texts=[f"text {i}" for i in range(36)],
                                 valid_texts=[f"valid {i}" for i in range(4)], train_labels=labels[:36],
                                 valid_labels=labels[36:], test_texts=["a", "b"], test_labels=np.array([0, 1]))

    class Classifier:
        def __init__(self, **settings):
            self.fit_record_ = types.SimpleNamespace(train_seconds=0.0, transfer=None)

        def fit(self, texts, labels):
            pass

        def evaluate(self, texts, labels, baseline):
            return {"accuracy": 0.5, "macro_f1": 0.5, "baseline": {"accuracy": 0.5, "macro_f1": 0.5}}

    monkeypatch.setattr(zoo.data, "load_dataset", lambda name, seed: data, raising=False)
    monkeypatch.setattr(zoo, "TextClassifier", Classifier, raising=False)
    monkeypatch.setattr(zoo.log, "start_tensorflow", lambda: None)


def test_cross_domain_replaces_its_result_only_with_overwrite(tmp_path, capsys, monkeypatch, source):
    _fake_training(monkeypatch)
    recipe, out = _recipe("cross_domain_transfer"), tmp_path / "out"
    argv = ["--source", str(source), "--output-dir", str(out), "--labels", "20"]
    recipe.main(argv)
    assert sorted(os.listdir(out)) == [".zoo", "transfer.json", "transfer.md"]
    assert json.loads((out / ".zoo").read_text())["kind"] == "transfer"
    (out / "notes.txt").write_text("mine")
    before = _snapshot(out)
    capsys.readouterr()
    line = _fails(capsys, recipe.main, argv, 4)
    assert line == f"error: {out}: holds a transfer result already; pass --overwrite to replace it, or choose " \
                   "another --output-dir"
    assert _snapshot(out) == before
    recipe.main([*argv, "--seed", "1", "--overwrite"])
    assert json.loads((out / "transfer.json").read_text())["seed"] == 1 and (out / "notes.txt").read_text() == "mine"


def test_cross_domain_sigterm_ends_with_one_line_and_143(tmp_path, capsys, monkeypatch, source):
    import zoo.data

    monkeypatch.setattr(zoo.data, "load_dataset", _kill_self(signal.SIGTERM), raising=False)
    line = _fails(capsys, _recipe("cross_domain_transfer").main, ["--source", str(source), "--output-dir",
                                                                  str(tmp_path / "out")], 143)
    assert line == "error: terminated" and not (tmp_path / "out").exists()


# === recipes/ulmfit_lm_curve.py ===


@pytest.mark.parametrize("flags,message", [
    (["--lm-learning-rate", "nan"], "error: --lm-learning-rate must be a number > 0, got nan"),
    (["--lm-learning-rate", "inf"], "error: --lm-learning-rate must be a number > 0, got inf"),
    (["--lm-learning-rate", "0"], "error: --lm-learning-rate must be a number > 0, got 0.0"),
    (["--lm-epochs", "0"], "error: --lm-epochs must be an integer >= 1, got 0"),
])
def test_lm_curve_bad_flags_are_one_line_exit_2(tmp_path, capsys, flags, message):
    cache = tmp_path / "lm"
    line = _fails(capsys, _recipe("ulmfit_lm_curve").main, [*flags, "--lm-cache-dir", str(cache)], 2)
    assert line == message and not cache.exists()


# === recipes/ulmfit_study.py ===


@pytest.mark.slow
def test_study_failed_row_ends_with_the_rows_line_and_exit_code(tmp_path):
    # The row runs in its own process (about five seconds to start TensorFlow and refuse the dataset).
    out = tmp_path / "new" / "out"
    done = subprocess.run([sys.executable, os.path.join(RECIPES, "ulmfit_study.py"), "--only", "probe-200",
                           "--dataset", "tfds:no_such_ds_xyz", "--output-dir", str(out),
                           "--results-dir", str(tmp_path / "results")], capture_output=True, text=True, timeout=120,
                          check=False, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "ZOO_OFFLINE": "1"})
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("error:")] == [(
        "error: tfds:no_such_ds_xyz: no such TensorFlow Datasets dataset "
        "(see https://www.tensorflow.org/datasets/catalog)")]
    assert os.listdir(tmp_path) == []  # neither the output folder nor the one above it, which the run made


def test_study_failed_row_keeps_a_folder_the_user_made(tmp_path, capfd, monkeypatch):
    recipe = _recipe("ulmfit_study")
    monkeypatch.setattr(recipe, "row_command", lambda *args: [
        sys.executable, "-c", "import sys; print('error: a bad row', file=sys.stderr); sys.exit(3)"])
    (tmp_path / "out").mkdir()
    with pytest.raises(SystemExit) as stop:
        recipe.main(["--only", "probe-200", "--output-dir", str(tmp_path / "out")])
    assert stop.value.code == 3 and (tmp_path / "out").is_dir()
    assert [line for line in capfd.readouterr().err.splitlines() if line.strip()] == ["error: a bad row"]


def test_study_sigterm_is_passed_on_to_the_row_and_ends_with_its_code(tmp_path, capfd, monkeypatch):
    # The row (a stand-in) ends on SIGTERM with its own line and 143; the study passes the signal on and takes both.
    recipe = _recipe("ulmfit_study")
    row = ("import signal, sys, time\n"
           "def stop(*args):\n"
           "    print('error: terminated; the row', file=sys.stderr)\n"
           "    sys.exit(143)\n"
           "signal.signal(signal.SIGTERM, stop)\n"
           "print('ready', flush=True)\n"
           "time.sleep(60)\n")
    ready = tmp_path / "ready"
    monkeypatch.setattr(recipe, "row_command", lambda *args: [sys.executable, "-c", row.replace(
        "print('ready', flush=True)", f"open({str(ready)!r}, 'w').close()")])

    def send_when_ready():
        for _ in range(200):
            if ready.exists():
                break
            threading.Event().wait(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=send_when_ready, daemon=True).start()
    with pytest.raises(SystemExit) as stop:
        recipe.main(["--only", "probe-200", "--output-dir", str(tmp_path / "out")])
    assert stop.value.code == 143
    assert [line for line in capfd.readouterr().err.splitlines() if line.strip()] == ["error: terminated; the row"]
    assert sorted(os.listdir(tmp_path)) == ["ready"]  # no output folder left behind
