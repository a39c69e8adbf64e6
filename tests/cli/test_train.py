"""``zoo train`` through the recipes' command line on tiny local files: outputs, and one-line errors that write nothing."""

import csv
import json
import os
import subprocess
import sys

import pytest

from tests.helpers import parse_html_report

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPE = os.path.join(ROOT, "recipes", "text_classifier.py")
POSITIVE = ["great fun film", "loved every minute", "a wonderful cast", "great acting and story"]
NEGATIVE = ["boring and slow", "a dull mess", "awful plot", "slow boring acting"]


def _write_csv(path, rows, header=("text", "label")):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def _rows(n):
    return [(t, "pos") for t in POSITIVE] * n + [(t, "neg") for t in NEGATIVE] * n


def _glove(path):
    words = sorted({w for t in POSITIVE + NEGATIVE for w in t.split()})
    with open(path, "w") as f:
        for i, w in enumerate(words):
            f.write(w + " " + " ".join(f"{((i * 7 + j) % 11) / 10 - 0.5:.2f}" for j in range(6)) + "\n")
    return str(path)


def _run(*args, env_extra=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "ZOO_OFFLINE": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, RECIPE, *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    return {
        "train": _write_csv(d / "train.csv", _rows(6)),
        "test": _write_csv(d / "test.csv", _rows(2)),
        "vectors": _glove(d / "vectors.txt"),
        "dir": d,
    }


@pytest.mark.slow
def test_text_classifier_end_to_end(files, tmp_path):
    out = tmp_path / "run"
    result = _run("--train", files["train"], "--test", files["test"], "--init", files["vectors"],
                  "--output-dir", str(out), "--epochs", "3", "--frozen-epochs", "1", "--units", "8",
                  "--batch-size", "8", "--learning-rate", "0.01")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| zoo hybrid |" in result.stdout
    assert "| recurrent path alone |" in result.stdout and "| n-gram path alone |" in result.stdout
    for name in ("config.json", "metrics.json", "report.md", "confusion_matrix.png", "curves_loss.png",
                 "model.keras", "classifier.json", "vocabulary.json", "export/saved_model.pb", "logs"):
        assert (out / name).exists(), name
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("accuracy", "macro_precision", "macro_recall", "macro_f1", "num_test_examples", "train_seconds"):
        assert key in metrics
    assert metrics["num_test_examples"] == 16 and set(metrics["per_class"]) == {"neg", "pos"}
    assert [h["stage"] for h in metrics["history"]][:1] == ["frozen_embedding"]
    assert metrics["baseline"]["num_test_examples"] == 16
    # The baseline: the model the cross-validation chose, named in the printed table and in report.md, trained on
    # every labelled text (48 rows: the training texts and the validation split zoo held out).
    row = f"| baseline: {metrics['baseline']['short_name']} |"
    assert row in result.stdout and row in (out / "report.md").read_text()
    page = parse_html_report(out / "report.html")  # report.md as one self-contained page, plots inlined
    assert not page.outside and page.names.count("table") >= 3 and row.split("|")[1].strip() in page.text
    images = [attrs["src"] for tag, attrs in page.tags if tag == "img"]
    assert len(images) >= 3 and all(src.startswith("data:image/png;base64,") for src in images)
    tokens = [attrs for tag, attrs in page.tags if tag == "span" and attrs.get("class") == "token"]
    assert tokens and all(float(t["title"]) == float(t["title"]) for t in tokens)  # each with its contribution
    assert metrics["baseline"]["short_name"] in ("TF-IDF + LinearSVC word 1-2 grams", "NBSVM word 1-2 grams")
    assert metrics["baseline"]["train_texts"] == 48 and metrics["baseline"]["chosen_by"]["folds"] == 5
    config = json.loads((out / "config.json").read_text())
    assert config["settings"]["seed"] == 0 and config["class_names"] == ["neg", "pos"]
    assert config["settings"]["learning_rate"] == 0.01 and config["settings"]["init"] == files["vectors"]

    # A second run into the same directory refuses to replace the finished run.
    again = _run("--train", files["train"], "--test", files["test"], "--init", "none",
                 "--output-dir", str(out), "--epochs", "1")
    assert again.returncode == 4  # an output in the way (docs/bad-input.md)
    assert again.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "already exists" in again.stderr and "--overwrite" in again.stderr


@pytest.mark.slow
def test_init_lm_runs_ulmfit_through_the_cli(tmp_path):
    """``--init lm:ARTIFACT`` runs ULMFiT (a missing artifact, a one-line error that writes nothing: in
    test_bad_input.py's matrix)."""
    from zoo.data.token_stream import lm_vectorizer
    from zoo.models.language_model import build_lstm_lm
    from zoo.transfer import pretrained

    texts = POSITIVE + NEGATIVE
    vectorizer = lm_vectorizer(texts, max_tokens=50)
    lm = build_lstm_lm(len(vectorizer.get_vocabulary()), embedding_dim=8, num_layers=1, num_sampled=4)
    artifact = pretrained.save_artifact(lm, vectorizer.get_vocabulary(), {}, tmp_path / "tiny_lm")
    train = _write_csv(tmp_path / "train.csv", _rows(6))
    test = _write_csv(tmp_path / "test.csv", _rows(1))
    common = ["--train", train, "--test", test, "--lm-epochs", "1", "--lm-batch-size", "2", "--bptt", "4",
              "--epochs", "1", "--batch-size", "8", "--no-baseline"]

    out = tmp_path / "run"
    done = _run("--init", f"lm:{artifact}", *common, "--output-dir", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    config = json.loads((out / "config.json").read_text())
    assert config["settings"]["init"] == f"lm:{artifact}" and config["recipe"] == "text_classifier"
    assert config["model"] == "ulmfit_stacked_lstm" and config["settings"]["learning_rate"] == 0.02
    assert (out / "export" / "saved_model.pb").exists()


@pytest.mark.slow
@pytest.mark.parametrize("args, expected", [
    (["--only", "ulmfit-200", "ulmfit-2000"], "--only: no row named ulmfit-2000"),
    (["--lm-epochz", "3"], "unrecognized arguments: --lm-epochz"),
])
def test_ulmfit_study_rejects_bad_rows_and_flags_before_running(tmp_path, args, expected):
    """A typo in a row name or a pass-through flag is one usage line; no row runs, no table is written."""
    out, results = tmp_path / "study", tmp_path / "results"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "ZOO_OFFLINE": "1"}
    result = subprocess.run([sys.executable, os.path.join(ROOT, "recipes", "ulmfit_study.py"), "--output-dir",
                             str(out), "--results-dir", str(results), *args],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 2
    assert expected in result.stderr.strip().splitlines()[-1], result.stderr[-2000:]
    assert not out.exists() and not results.exists()


def test_ulmfit_study_reruns_a_row_left_by_another_command(tmp_path, monkeypatch):
    """A finished row is kept only if it ran with the same command (same LM, seed, flags)."""
    import importlib.util
    import types

    spec = importlib.util.spec_from_file_location("ulmfit_study", os.path.join(ROOT, "recipes", "ulmfit_study.py"))
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    ran = []
    monkeypatch.setattr(study, "run_command", lambda cmd: ran.append(cmd) or 0)
    args = types.SimpleNamespace(output_dir=str(tmp_path), seed=0, row_flags=["--init", "lm:lm-b"])
    row = tmp_path / "probe-200"
    row.mkdir()
    (row / "metrics.json").write_text("{}")

    def recorded(lm):
        cmd = [os.path.join(ROOT, "recipes", "newsgroups_ulmfit.py"), "--output-dir", str(row), "--overwrite",
               "--lm-cache-dir", str(tmp_path / "lm"), "--seed", "0", "--init", lm, "--probe", "--labels", "200"]
        (row / "config.json").write_text(json.dumps({"command": cmd}))

    recorded("lm:lm-b")
    study.run_row("probe-200", 200, ["--probe"], args)
    assert ran == []
    recorded("lm:lm-a")  # the same row, left by a run on another language model
    study.run_row("probe-200", 200, ["--probe"], args)
    assert len(ran) == 1 and ran[0][ran[0].index("--init") + 1] == "lm:lm-b"


def test_only_a_labels_budget_leaves_unlabelled_texts_and_never_the_dev_split():
    import types

    from zoo.cli.train import _unlabelled

    data = lambda labels, dev: types.SimpleNamespace(labels=labels, dev=dev)  # noqa: E731
    dataset = types.SimpleNamespace(test_texts=["d1", "d2"])  # with --dev: the held-out train texts
    every = ["a", "b", "d1", "c", "d2"]
    assert _unlabelled(data(None, None), dataset, every) is None  # all train texts are labelled
    assert _unlabelled(data(2, None), dataset, every) == every  # (fit leaves out the labelled ones)
    assert _unlabelled(data(2, 2), dataset, every) == ["a", "b", "c"]
