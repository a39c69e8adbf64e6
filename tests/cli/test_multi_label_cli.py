"""Multi-label through the command line on tiny files: the run's outputs, and bad label cells as one line
naming file and line (exit code 3, nothing written)."""

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import parse_html_report
from zoo.cli import explain

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROWS = [("red apple fruit", "red|fruit"), ("green apple pie", "fruit"), ("red fast car", "red|car"),
        ("blue car road", "car"), ("red evening sky", "red"), ("blue sky sea", "sky"),
        ("apple on a red car", "fruit|car|red"), ("sea and sky blue", "sky")]


def _run(*args, script=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "ZOO_OFFLINE": "1"}
    command = [sys.executable, script] if script else [sys.executable, "-m", "zoo", "train"]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("multi_label")
    (d / "train.csv").write_text("text,label\n" + "".join(f"{t},{labels}\n" for t, labels in ROWS * 5))
    (d / "test.jsonl").write_text("".join(json.dumps({"text": t, "label": labels.split("|")}) + "\n"
                                          for t, labels in ROWS))
    (d / "bad.jsonl").write_text('{"text": "a", "label": ["red"]}\n{"text": "b", "label": ["red", 7]}\n')
    return d


@pytest.mark.slow
def test_zoo_train_multi_label_end_to_end(files, tmp_path, capsys):
    out = tmp_path / "run"
    result = _run("--train", str(files / "train.csv"), "--test", str(files / "test.jsonl"), "--multi-label",
                  "--label-separator", "|", "--init", "none", "--embedding-dim", "8", "--units", "8", "--epochs", "2",
                  "--batch-size", "8", "--output-dir", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| zoo hybrid |" in result.stdout and "| n-gram path alone |" in result.stdout  # a multi-label hybrid
    assert "| baseline: one-vs-rest TF-IDF + LinearSVC word 1-2 grams |" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["baseline"]["train_texts"] == len(ROWS) * 5  # the training texts and the validation split
    assert metrics["multi_label"] and metrics["num_test_examples"] == 8
    assert {"micro_f1", "macro_f1", "micro_precision", "macro_recall"} <= set(metrics)
    assert set(metrics["per_class"]) == {"car", "fruit", "red", "sky"} and "micro_f1" in metrics["baseline"]
    assert set(metrics["thresholds"]["values"]) == {"car", "fruit", "red", "sky"}
    assert len(metrics["hybrid"]["blend_weights"]) == 4 and set(metrics["thresholds"]["paths"]) == {"recurrent",
                                                                                                   "ngram"}
    report = (out / "report.md").read_text()
    assert "## Per label" in report and "| threshold |" in report and "chosen on the validation split" in report
    assert "Platt scaling per label" in report and (out / "calibration.png").exists()
    assert set(metrics["calibration"]["ece"]) == {"before", "after"}
    page = parse_html_report(out / "report.html")
    assert not page.outside and "Per label" in page.text and "img" in page.names
    assert (out / "export" / "saved_model.pb").exists() and not (out / "confusion_matrix.png").exists()
    predicted = subprocess.run([sys.executable, "-m", "zoo", "predict", str(out / "export"), "red apple"],
                               capture_output=True, text=True, timeout=120, cwd=ROOT,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert predicted.returncode == 0 and predicted.stdout.strip().endswith("\tred apple"), predicted.stderr[-2000:]
    explain.main([str(out / "export"), "--label", "red", "--top", "2", "red apple"])  # (options, then the text)
    label, probability, text = capsys.readouterr().out.splitlines()[0].split("\t")
    assert label == "red" and 0 <= float(probability) <= 1 and text == "red apple"


@pytest.mark.slow
@pytest.mark.parametrize("args, code, message", [
    (["--test", "{d}/bad.jsonl", "--multi-label", "--label-separator", "|"], 3,
     "error: {d}/bad.jsonl:2: field 'label': item 1 of the label list is number 7; expected a string label"),
    (["--test", "{d}/test.jsonl", "--label-separator", "|"], 2,
     "error: --label-separator '|' reads several labels per row: pass --multi-label too"),
    (None, 2, "error: debtags is a multi-label dataset: pass --multi-label"),
])
def test_bad_multi_label_input_is_one_line(files, tmp_path, args, code, message):
    out = tmp_path / "run"
    data = ["--train", str(files / "train.csv"), *[a.format(d=files) for a in args]] if args else ["--dataset",
                                                                                                   "debtags"]
    result = _run(*data, "--init", "none", "--output-dir", str(out))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code and lines[-1].startswith(message.format(d=files)), result.stderr[-2000:]
    assert "Traceback" not in result.stderr and not out.exists()


def test_the_recipe_checks_its_settings():
    result = _run("--dry-run", script=os.path.join(ROOT, "recipes", "debtags_multilabel.py"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "dataset='debtags'" in result.stdout and "multi_label=True" in result.stdout
