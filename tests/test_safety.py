"""Issue "Never lose a user's files": the estimator's side. Each test failed on 0.3 (e8bfbc5).

Wrong answers without an error (a string as the list of texts, None/NaN labels, repeated classes), damaged or
inconsistent saved folders, folders zoo did not write, and a save or export killed half-way.
"""

import json
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

from tests.test_text_classifier import LABELS, PROBE, TEXTS, TINY
from zoo import TextClassifier
from zoo.errors import ConfigError, DataError, ExportError


@pytest.fixture(scope="module")
def fitted():
    return TextClassifier(**TINY).fit(TEXTS, LABELS, validation_data=(TEXTS[:8], LABELS[:8]))


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "clf"
    fitted.save(path)
    return path


# === Wrong answers without an error ===


def test_inputs_that_gave_wrong_answers_are_one_line_errors(fitted):
    with pytest.raises(DataError, match=r"texts: expected a list of texts, got one str \('great fun film'\); wrap"):
        fitted.predict("great fun film")  # was: one prediction per character
    with pytest.raises(DataError, match="texts: expected a list of texts, got None"):
        fitted.predict(None)
    clf = TextClassifier(**{**TINY, "epochs": 1})
    for bad, item in ((None, "None"), (float("nan"), "NaN")):  # was: a class of its own
        with pytest.raises(DataError, match=f"labels: item 31 is {item}; every text needs a label"):
            clf.fit(TEXTS, LABELS[:-1] + [bad])
    with pytest.raises(DataError, match="classes: 'pos' appears more than once"):  # was: three outputs
        clf.fit(TEXTS, LABELS, classes=["pos", "neg", "pos"])
    with pytest.raises(DataError, match="labels: 1 and '1' are different labels that read the same"):
        clf.fit(TEXTS, [1 if label == "pos" else "1" for label in LABELS])  # was: two classes both named '1'
    with pytest.raises(DataError, match="validation_data: 3 texts and 4 labels"):
        clf.fit(TEXTS, LABELS, validation_data=(TEXTS[:3], LABELS[:4]))
    with pytest.raises(DataError, match="labels: 4 labels for 3 texts"):
        fitted.evaluate(TEXTS[:3], LABELS[:4])
    with pytest.raises(ConfigError, match="`batch_size` must be an integer >= 1, got 0"):
        fitted.predict(["x"], batch_size=0)


def test_empty_input_gives_an_empty_result(fitted):
    assert fitted.predict([]) == []
    assert fitted.predict_proba([]).shape == (0, 2)


def test_odd_labels_train(tmp_path):
    """One example per class, and labels that are 5,000-digit numbers, train instead of failing."""
    lone = TextClassifier(**{**TINY, "epochs": 1}).fit(["a good film", "a bad film", "a good cast"],
                                                       ["pos", "neg", "pos"])
    assert lone.classes_ == ["neg", "pos"]  # the one 'neg' text stayed in training
    big = "9" * 5000
    numbers = TextClassifier(**{**TINY, "epochs": 1}).fit(TEXTS, [big if y == "pos" else "7" for y in LABELS])
    assert numbers.classes_ == ["7", big]


# === Saved folders: checked before use ===


def _copy(saved, tmp_path, name="copy"):
    target = tmp_path / name
    shutil.copytree(saved, target)
    return target


def _edit(path, **changes):
    record = json.loads((path / "classifier.json").read_text())
    record.update(changes)
    (path / "classifier.json").write_text(json.dumps(record))


@pytest.mark.parametrize("change, message", [
    ({"classes": ["neg", "pos", "meh"]}, "'classes' names 3 classes, but model.keras has 2 outputs"),
    ({"classes": "neg,pos"}, "'classes': expected a list of class names"),
    ({"sequence_length": -3}, "'sequence_length': expected an integer >= 1, got -3"),
    ({"companions": ["../x"]}, "'companions': expected a list of folder names companion_1"),
    ({"settings": {"epochs": "ten"}}, "'settings': `epochs` must be an integer"),
    ({"hybrid": {"blend_weight": 2, "ngrams": 2}}, "'hybrid.blend_weight': expected a number in [0, 1], got 2"),
])
def test_an_inconsistent_saved_folder_is_one_line(saved, tmp_path, change, message):
    path = _copy(saved, tmp_path)
    _edit(path, **change)
    with pytest.raises(DataError) as info:
        TextClassifier.load(path)
    assert message in str(info.value) and "classifier.json" in str(info.value)


def test_a_damaged_saved_folder_names_the_file(saved, tmp_path):
    cases = {
        "model.keras": lambda p: p.write_bytes(p.read_bytes()[:300]),
        "ngram.npz": lambda p: p.write_bytes(p.read_bytes()[:100]),
        "classifier.json": lambda p: p.write_text('{"format": 1, "classes": ['),
        "vocabulary.json": lambda p: p.write_text("[" * 100_000 + "]" * 100_000),
    }
    for name, damage in cases.items():
        path = _copy(saved, tmp_path, name)
        damage(path / name)
        with pytest.raises(DataError) as info:
            TextClassifier.load(path)
        assert str(path / name) in str(info.value) and "\n" not in str(info.value), (name, info.value)
        assert name != "model.keras" or "not a whole .keras archive" in str(info.value)


# === Folders zoo did not write ===


def test_save_and_export_never_replace_a_folder_zoo_did_not_write(fitted, saved, tmp_path):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print('mine')")
    for write in (fitted.save, fitted.export):
        with pytest.raises(ExportError, match="project: not a folder zoo wrote"):
            write(project, overwrite=True)
    assert (project / "src" / "main.py").read_text() == "print('mine')" and len(os.listdir(project)) == 1
    with pytest.raises(ExportError, match="a zoo folder of kind 'classifier', expected 'export'"):
        fitted.export(saved, overwrite=True)
    assert TextClassifier.load(saved).classes_ == ["neg", "pos"]


def test_save_overwrite_keeps_the_run_s_other_files(fitted, tmp_path):
    path = tmp_path / "clf"
    fitted.save(path)
    fitted.export(path / "export")
    (path / "notes.md").write_text("mine")
    fitted.save(path, overwrite=True)
    assert (path / "notes.md").read_text() == "mine" and (path / "export" / "saved_model.pb").exists()
    np.testing.assert_array_equal(TextClassifier.load(path).predict_proba(PROBE), fitted.predict_proba(PROBE))


_KILLED_WRITE = """
import sys, time
from zoo import TextClassifier, files
real = files._exchange
def paused(a, b):
    print("paused", flush=True)
    time.sleep(120)
files._exchange = paused
clf = TextClassifier.load(sys.argv[1])
clf.blend_weight_ = 0.123  # a visibly different "new" classifier
if sys.argv[3] == "save":
    clf.save(sys.argv[2], overwrite=True)
else:
    clf.export(sys.argv[2], overwrite=True)
"""


@pytest.mark.slow
def test_a_save_or_export_killed_before_the_swap_leaves_the_old_one_loadable(fitted, saved, tmp_path):
    import tensorflow as tf

    export = tmp_path / "export"
    fitted.export(export)
    target = _copy(saved, tmp_path, "target")
    for what, path in (("save", target), ("export", export)):
        writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITE, str(saved), str(path), what],
                                  stdout=subprocess.PIPE, text=True,
                                  env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        try:
            assert writer.stdout.readline().strip() == "paused", what
            os.kill(writer.pid, signal.SIGKILL)
        finally:
            writer.wait()
    loaded = TextClassifier.load(target)
    assert loaded.blend_weight_ == fitted.blend_weight_
    np.testing.assert_array_equal(loaded.predict_proba(PROBE), fitted.predict_proba(PROBE))
    served = tf.saved_model.load(str(export)).signatures["serving_default"](texts=tf.constant(PROBE))
    np.testing.assert_allclose(served["probabilities"].numpy(), fitted.predict_proba(PROBE), atol=1e-6)
    fitted.save(target, overwrite=True)  # the next writer clears what the killed one left
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".zoo-tmp-")]


def test_a_search_never_deletes_a_folder_zoo_did_not_write(tmp_path):
    """``zoo tune --overwrite`` has KerasTuner delete OUTPUT_DIR/search: only a search zoo wrote."""
    from zoo.files import write_marker
    from zoo.training import tuning

    out = tmp_path / "tune"
    (out / "search").mkdir(parents=True)
    (out / "search" / "mine.txt").write_text("keep")
    with pytest.raises(ExportError, match="`output_dir` .*tune: not a folder zoo wrote"):
        tuning._check_output_dir(str(out), str(out / "search"))
    write_marker(out, "tune")
    with pytest.raises(ExportError, match="search: not a folder zoo wrote"):
        tuning._check_output_dir(str(out), str(out / "search"))
    (out / "search" / "zoo_search.json").write_text("{}")  # a search of zoo 0.3: known by its own file
    tuning._check_output_dir(str(out), str(out / "search"))


def test_a_config_file_cannot_opt_in_to_pickles(tmp_path, capsys):
    from zoo.cli.train import parser
    from zoo.config import ClassifierConfig

    (tmp_path / "best.json").write_text(json.dumps({"allow_pickle": True}))
    with pytest.raises(SystemExit) as exit_:
        parser().parse(["--config", str(tmp_path / "best.json")])
    assert exit_.value.code == 2
    assert "`allow_pickle` is taken from the command line only" in capsys.readouterr().err
    assert parser().parse(["--allow-pickle"])[ClassifierConfig].allow_pickle
