"""recipes/tune.py on tiny local files: outputs, best.json re-runs, resuming, one-line errors."""

import csv
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TUNE = os.path.join(ROOT, "recipes", "tune.py")
CLASSIFIER = os.path.join(ROOT, "recipes", "text_classifier.py")
POSITIVE = ["great fun film", "loved every minute", "a wonderful cast", "great acting and story"]
NEGATIVE = ["boring and slow", "a dull mess", "awful plot", "slow boring acting"]
pytestmark = pytest.mark.slow  # every test runs the command in a subprocess

TINY_SPACE = json.dumps({"units": [4, 8], "num_layers": 1, "model": ["lstm", "gru"]})


def _write_csv(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("text", "label"))
        writer.writerows(rows)
    return str(path)


def _rows(n):
    return [(t, "pos") for t in POSITIVE] * n + [(t, "neg") for t in NEGATIVE] * n


def _run(script, *args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "ZOO_OFFLINE": "1"}
    return subprocess.run([sys.executable, script, *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("tune_data")
    return {"train": _write_csv(d / "train.csv", _rows(5)), "test": _write_csv(d / "test.csv", _rows(1)), "dir": d}


def _search_args(files, out):
    return ["--train", files["train"], "--test", files["test"], "--init", "none", "--tuner", "random",
            "--max-trials", "2", "--epochs", "1", "--batch-size", "16", "--space", TINY_SPACE,
            "--output-dir", str(out)]


@pytest.fixture(scope="module")
def search(files):
    out = files["dir"] / "search"
    result = _run(TUNE, *_search_args(files, out))
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def test_search_writes_leaderboard_best_and_summary(search):
    out, result = search
    for name in ("leaderboard.csv", "leaderboard.md", "best.json", "summary.json"):
        assert (out / name).exists(), name
    with open(out / "leaderboard.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and {r["status"] for r in rows} == {"COMPLETED"}
    scores = [float(r["val_accuracy"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert {r["units"] for r in rows} <= {"4", "8"} and {r["model"] for r in rows} <= {"lstm", "gru"}
    assert "| rank | trial | val_accuracy |" in (out / "leaderboard.md").read_text()

    summary = json.loads((out / "summary.json").read_text())
    assert summary["best_val_accuracy"] == pytest.approx(scores[0])
    assert summary["completed"] == 2 and summary["tuner"] == "random"

    from zoo.config import ClassifierConfig, DataConfig

    best = json.loads((out / "best.json").read_text())
    assert set(best) <= set(ClassifierConfig.names()) | set(DataConfig.names())
    assert best["units"] == int(rows[0]["units"]) and best["model"] == rows[0]["model"]
    assert best["epochs"] == 1 and best["init"] == "none" and best["train"] == os.path.abspath(best["train"])
    # One line per finished trial, with its settings and score.
    assert sum("[zoo] trial " in line and "val_accuracy=" in line for line in result.stderr.splitlines()) == 2


def test_best_json_reruns_with_the_recipe(search, files, tmp_path):
    out, _ = search
    result = _run(CLASSIFIER, "--config", str(out / "best.json"), "--train", files["train"], "--test", files["test"],
                  "--epochs", "1", "--output-dir", str(tmp_path / "rerun"), "--no-baseline")
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((tmp_path / "rerun" / "config.json").read_text())["classifier"]
    best = json.loads((out / "best.json").read_text())
    assert {k: config[k] for k in ("model", "units", "optimizer", "learning_rate")} == \
        {k: best[k] for k in ("model", "units", "optimizer", "learning_rate")}


def test_same_command_resumes_without_rerunning_trials(search, files):
    out, _ = search
    before = (out / "leaderboard.csv").read_text()
    result = _run(TUNE, *_search_args(files, out))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resuming the search" in result.stderr and "2 trial(s) finished" in result.stderr
    assert "Running Trial" not in result.stdout  # nothing trained again
    assert (out / "leaderboard.csv").read_text() == before
    assert json.loads((out / "summary.json").read_text())["resumed"] is True


def test_resuming_with_other_settings_is_refused(search, files):
    out, _ = search
    args = _search_args(files, out)
    args[args.index("--epochs") + 1] = "3"
    result = _run(TUNE, *args)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "epochs" in last and "--overwrite" in last


@pytest.mark.parametrize("case, expected, code", [
    ("missing_file", "nope.csv", 3),
    ("bad_space", "cannot search over", 2),
    ("bad_model", "not one of", 2),
    ("no_data", "--dataset", 2),
    ("bad_units", "--units", 2),
    ("missing_space", "nope.json: no such file", 2),  # with --dry-run: checked with the settings
])
def test_bad_input_gives_one_line_error(files, tmp_path, case, expected, code):
    base = ["--init", "none", "--max-trials", "1", "--epochs", "1", "--output-dir", str(tmp_path / "out")]
    data = ["--train", files["train"], "--test", files["test"]]
    args = {
        "missing_file": ["--train", str(tmp_path / "nope.csv"), "--test", files["test"]],
        "bad_space": data + ["--space", '{"max_tokens": [10, 20]}'],
        "bad_model": data + ["--space", '{"model": ["transformer"]}'],
        "no_data": [],
        "bad_units": data + ["--space", '{"units": [0, 8]}'],
        "missing_space": data + ["--space", str(tmp_path / "nope.json"), "--dry-run"],
    }[case]
    result = _run(TUNE, *args, *base)
    assert result.returncode == code, result.stderr[-2000:]
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith(("[zoo", "WARNING", "I0000",
                                                                                        "E0000", "W0000"))]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr[-2000:]
    assert not (tmp_path / "out" / "best.json").exists()


@pytest.mark.parametrize("space, expected", [
    ({"dropout": {"min": 0, "max": 2}},
     "--space 'dropout': the range's max: --dropout must be a number in [0, 1), got 2"),
    ({"dropout": {"min": -0.1, "max": 0.5}}, "the range's min: --dropout must be a number in [0, 1), got -0.1"),
    ({"dropout": {"min": 0, "max": 0.5, "step": 0}}, "--space 'dropout': step must be a number > 0, got 0"),
    ({"dropout": {"min": 0, "max": 0.5, "step": 0.6}}, "step 0.6 is larger than max - min (0.5)"),
    ({"units": {"min": 4.5, "max": 8}}, "the range's min: --units must be an integer >= 1, got 4.5"),
    ({"units": {"min": 4, "max": 8, "step": 0.5}}, "step must be an integer >= 1 for an integer setting, got 0.5"),
    ({"learning_rate": {"min": 0.01, "max": 0.1, "sampling": "log", "step": 0.5}}, "it must be > 1, got 0.5"),
    ({"dropout": [0.1, 1.5]}, "--space 'dropout': the value 1.5: --dropout must be a number in [0, 1)"),
    ({"pooling": ["max", None]}, "--space 'pooling': None is not one of"),
    ({"model": {"min": 1, "max": 2}}, "a range needs a number setting"),
])
def test_every_value_of_the_space_is_checked_with_the_settings(space, expected):
    """Each value a range or list can give passes the setting's own check, when the settings are made (so --dry-run
    sees it): no trial fails on it, and nothing is written."""
    from zoo.config import TuneConfig
    from zoo.errors import ConfigError, SearchError
    from zoo.training.tuning import resolve_space

    with pytest.raises(ConfigError) as error:
        TuneConfig(space=json.dumps(space))
    assert error.value.parameter == "space" and expected in error.value.for_cli()
    with pytest.raises(SearchError):  # the same check for Python callers of the search
        resolve_space(space)
    # A valid range, and ints among floats of a number setting (declared as floats), stay accepted.
    assert resolve_space({"dropout": [0, 0.5], "units": {"min": 4, "max": 64, "step": 4}})["dropout"] == [0, 0.5]


@pytest.mark.parametrize("space, dry_run", [('{"dropout": {"min": 0, "max": 2}}', False),
                                            ('{"dropout": {"min": 0, "max": 0.5, "step": 0}}', False),
                                            ('{"dropout": {"min": 0, "max": 2}}', True)])
def test_a_bad_range_is_one_line_before_anything_is_written(files, tmp_path, space, dry_run):
    out = tmp_path / "out"
    args = ["--train", files["train"], "--test", files["test"], "--init", "none", "--max-trials", "1", "--epochs",
            "1", "--space", space, "--output-dir", str(out)] + (["--dry-run"] if dry_run else [])
    result = _run(TUNE, *args)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("error") or "Traceback" in line]
    assert len(lines) == 1 and lines[0].startswith("error: --space 'dropout': "), result.stderr[-2000:]
    assert not out.exists()
