"""Bad inputs of the run reports: malformed run folders for ``zoo report`` (one warning line each, the run left out,
as for a missing file), and the confusion matrix of a task with too many classes to draw."""

import json
import logging
import os
from types import SimpleNamespace

import numpy as np
import pytest

from zoo.cli import main as zoo_main
from zoo.evaluation import report, run_report


def _config(**changes):
    config = {"recipe": "r", "classifier": {}, "data": {"dataset": "sms_spam"}, "settings": {"init": "random",
              "frozen_epochs": 0}, "dataset_summary": {"train": 10}, "model": "bilstm", "class_names": ["ham", "spam"]}
    return {**config, **changes}


def _metrics(**changes):
    per_class = {"ham": {"f1": 0.9}, "spam": {"f1": 0.8}}
    metrics = {"accuracy": 0.9, "macro_f1": 0.85, "per_class": per_class, "epochs_run": 2, "train_seconds": 3.0,
               "baseline": {"accuracy": 0.8, "macro_f1": 0.75, "per_class": per_class, "short_name": "NBSVM"}}
    return {**metrics, **changes}


def _run(tmp_path, name, config, metrics):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return str(folder)


BAD_RUNS = {  # name: (config.json, metrics.json, the file and the field the warning names, what it got)
    "accuracy-a-string": (_config(), _metrics(accuracy="high"), "metrics.json: 'accuracy' must be a number",
                          'the string "high"'),
    "per-class-a-list": (_config(), _metrics(per_class=[0.9, 0.8]), "metrics.json: 'per_class' must be a JSON object",
                         "a list [0.9, 0.8]"),
    "data-a-list": (_config(data=["sms_spam"]), _metrics(), "config.json: 'data' must be a JSON object", "a list"),
    "data-a-string": (_config(data="sms_spam"), _metrics(), "config.json: 'data' must be a JSON object",
                      'the string "sms_spam"'),
    "settings-a-list": (_config(settings=[]), _metrics(), "config.json: 'settings' must be a JSON object",
                        "a list []"),
    "settings-a-string": (_config(settings="x"), _metrics(), "config.json: 'settings' must be a JSON object",
                          'the string "x"'),
    "config-a-list": ([_config()], _metrics(), "config.json: the file must be a JSON object", "a list"),
    "metrics-a-list": (_config(), [1], "metrics.json: the file must be a JSON object", "a list [1]"),
    "train-seconds-null": (_config(), _metrics(train_seconds=None), "metrics.json: 'train_seconds' must be a number",
                           "null"),
    "macro-f1-a-boolean": (_config(), _metrics(macro_f1=True), "metrics.json: 'macro_f1' must be a number",
                           "a boolean true"),
    "accuracy-nan": (_config(), _metrics(accuracy=float("nan")), "metrics.json: 'accuracy' must be a number", "NaN"),
    "class-1-f1-a-string": (_config(), _metrics(per_class={"ham": {"f1": 1}, "spam": {"f1": "n/a"}}),
                            "metrics.json: 'per_class.spam.f1' must be a number", 'the string "n/a"'),
    "class-1-missing": (_config(), _metrics(per_class={"ham": {"f1": 1}}),
                        "metrics.json: 'per_class.spam' must be a JSON object", "null"),
    "baseline-a-list": (_config(), _metrics(baseline=[1]), "metrics.json: 'baseline' must be a JSON object", "a list"),
    "baseline-accuracy-a-string": (_config(), _metrics(baseline={"accuracy": "x"}),
                                   "metrics.json: 'baseline.accuracy' must be a number", 'the string "x"'),
    "paths-a-string": (_config(), _metrics(paths="x"), "metrics.json: 'paths' must be a JSON object", "the string"),
    "class-names-a-string": (_config(class_names="hs"), _metrics(),
                             "config.json: 'class_names' must be a list of strings", 'the string "hs"'),
}


@pytest.mark.parametrize("name", BAD_RUNS)
def test_zoo_report_warns_once_and_leaves_out_a_malformed_run(tmp_path, capsys, name):
    config, metrics, field, got = BAD_RUNS[name]
    good = _run(tmp_path, "good", _config(), _metrics())
    bad = _run(tmp_path, name, config, metrics)
    zoo_main(["report", good, bad])  # the good run still makes the table: as for a missing file
    out, err = capsys.readouterr()
    file, problem = field.split(": ", 1)
    assert len(err.splitlines()) == 1 and err.startswith(f"warning: {os.path.join(bad, file)}: {problem}, got {got}")
    assert "| good |" in out and f"| {name} |" not in out


def test_zoo_report_with_only_malformed_runs_is_one_error(tmp_path, capsys):
    bad = _run(tmp_path, "bad", _config(settings="x"), _metrics())
    with pytest.raises(SystemExit) as exit_:
        zoo_main(["report", bad])
    err = capsys.readouterr().err
    assert exit_.value.code == 3 and "Traceback" not in err and err.splitlines() == [
        f"warning: {os.path.join(bad, 'config.json')}: 'settings' must be a JSON object, got the string \"x\"",
        "error: no finished run among the directories given"]


def test_a_well_formed_run_still_makes_its_row(tmp_path):
    table, problems = report.runs_table([_run(tmp_path, "ok", _config(), _metrics(paths={"recurrent": {
        "accuracy": 0.7}}))])
    assert not problems
    assert table.splitlines()[2] == ("| ok | sms_spam | 10 | bilstm | random | 0 | 2 | 3 | 0.900 | 0.850 | 0.800 | "
                                     "0.700 | 0.800 | 0.750 | 0.800 | NBSVM |")


def test_class_names_are_drawn_as_written_not_as_mathtext(tmp_path):
    path = tmp_path / "confusion_matrix.png"
    assert report.plot_confusion_matrix(np.eye(2, dtype=np.int64), ["$x^$", "a_b$"], path) is True
    assert path.stat().st_size > 0


def test_too_many_classes_skip_the_confusion_matrix_and_the_report_names_no_missing_figure(tmp_path, caplog):
    classes = report.CONFUSION_MATRIX_MAX_CLASSES + 1
    path = tmp_path / "confusion_matrix.png"
    with caplog.at_level(logging.INFO, logger="zoo"):
        drawn = report.plot_confusion_matrix(np.zeros((3000, 3000), np.int64), [f"c{i}" for i in range(3000)], path)
        assert report.plot_confusion_matrix(np.zeros((classes, classes), np.int64), [str(i) for i in range(classes)],
                                            path) is False
    assert drawn is False and not path.exists()
    assert [r.getMessage() for r in caplog.records] == [
        f"confusion matrix: not drawn for {n} classes (more than {classes - 1}: too large a figure to read or to "
        "render); it is in metrics.json" for n in (3000, classes)]
    metrics = {"accuracy": 0.5, "macro_precision": 0.5, "macro_recall": 0.5, "macro_f1": 0.5,
               "per_class": {f"c{i}": {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 1} for i in range(3)}}
    report.write_report(tmp_path / "report.md", title="t", metrics=metrics, details=[], confusion_matrix=False)
    assert "confusion_matrix.png" not in (tmp_path / "report.md").read_text()
    report.write_report(tmp_path / "drawn.md", title="t", metrics=metrics, details=[])
    assert "![confusion matrix](confusion_matrix.png)" in (tmp_path / "drawn.md").read_text()


def _write_run_report(out, classes):
    names = [f"c{i}" for i in range(classes)]
    metrics = {"accuracy": 0.5, "macro_precision": 0.5, "macro_recall": 0.5, "macro_f1": 0.5, "num_test_examples": 1,
               "train_seconds": 1.0, "epochs_run": 1, "history": [{"loss": 1.0, "accuracy": 0.5}],
               "per_class": {n: {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 1} for n in names},
               "confusion_matrix": np.zeros((classes, classes), np.int64).tolist()}
    config = {"recipe": "r", "model": "bilstm", "data": {"dataset": "d"}, "class_names": names,
              "settings": {"init": "random", "seed": 0}, "resolved_sequence_length": 8}
    clf = SimpleNamespace(companions_=[], fit_record_=SimpleNamespace(cudnn=None))
    run_report.write_run_report(str(out), clf, config, metrics)
    return (out / "report.md").read_text(), (out / "report.html").read_text()


def test_a_run_with_many_classes_is_written_without_the_figure_or_a_reference_to_it(tmp_path):
    md, page = _write_run_report(tmp_path, report.CONFUSION_MATRIX_MAX_CLASSES + 1)
    assert not (tmp_path / "confusion_matrix.png").exists() and (tmp_path / "curves_loss.png").exists()
    assert "confusion" not in md and "confusion" not in page


def test_a_plot_that_fails_is_one_warning_not_the_run(tmp_path, monkeypatch, caplog):
    def out_of_memory(*args):
        raise MemoryError("std::bad_alloc")

    monkeypatch.setattr(report, "plot_confusion_matrix", out_of_memory)
    with caplog.at_level(logging.WARNING, logger="zoo"):
        md, page = _write_run_report(tmp_path, 3)
    assert [r.getMessage() for r in caplog.records] == [
        "confusion matrix: not drawn (MemoryError: std::bad_alloc); the numbers are in metrics.json"]
    assert "confusion_matrix.png" not in md and "confusion_matrix.png" not in page and "| c2 |" in md
