"""zoo.TextClassifier: the estimator on raw texts (fit, predict, evaluate, save/load, export)."""

import inspect
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from zoo import TextClassifier
from zoo.errors import ConfigError, DataError, ExportError

POSITIVE = ["great fun film", "loved every minute", "a wonderful cast", "great acting and story"]
NEGATIVE = ["boring and slow", "a dull mess", "awful plot", "slow boring acting"]
TEXTS = (POSITIVE + NEGATIVE) * 4
LABELS = (["pos"] * 4 + ["neg"] * 4) * 4
PROBE = ["what a great cast", "so boring", "", "unknown words only"]
TINY = dict(init="none", units=8, embedding_dim=8, epochs=3, batch_size=8, learning_rate=0.02, verbose=0)


@pytest.fixture(scope="module")
def fitted():
    return TextClassifier(**TINY).fit(TEXTS, LABELS, validation_data=(TEXTS[:8], LABELS[:8]))


def test_constructor_arguments_are_the_settings():
    clf = TextClassifier(model="gru", epochs=3)
    params = clf.get_params()
    assert params["model"] == "gru" and params["epochs"] == 3 and params["init"] == "glove-6b-50d"
    assert repr(clf) == "TextClassifier(model='gru', epochs=3)"
    signature = inspect.signature(TextClassifier)
    assert signature.parameters["epochs"].default is None and "learning_rate" in signature.parameters
    assert clf.set_params(epochs=5).get_params()["epochs"] == 5


@pytest.mark.parametrize("params, message", [
    ({"epochs": 0}, "`epochs` must be an integer >= 1 or None, got 0"),
    ({"dropout": 1.5}, "`dropout` must be a number in [0, 1)"),
    ({"epoch": 3}, "unknown argument(s) 'epoch'"),
    ({"pooling": "median"}, "`pooling` must be one of"),
])
def test_bad_values_raise_value_error_naming_the_argument(params, message):
    with pytest.raises(ValueError) as info:
        TextClassifier(**params)
    assert message in str(info.value)


def test_fit_predict_evaluate(fitted):
    assert fitted.classes_ == ["neg", "pos"]
    probs = fitted.predict_proba(PROBE)
    assert probs.shape == (4, 2) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    assert set(fitted.predict(PROBE)) <= {"neg", "pos"}
    metrics = fitted.evaluate(TEXTS, LABELS, baseline=True)
    halves = LABELS[:8] + ["pos" if label == "neg" else "neg" for label in LABELS[8:16]]  # half of them flipped
    assert fitted.score(TEXTS[:16], halves) == pytest.approx(accuracy_score(halves, fitted.predict(TEXTS[:16])))
    assert metrics["num_test_examples"] == len(TEXTS) and metrics["accuracy"] > 0.9
    assert metrics["baseline"]["model"].startswith(("TF-IDF + LinearSVC, word", "NBSVM, word"))  # the CV's pick
    assert metrics["baseline"]["train_texts"] == len(TEXTS) + 8  # the training and the validation texts
    assert "baseline" not in fitted.evaluate(TEXTS, LABELS)
    assert [h["stage"] for h in fitted.history_] == ["train"] * len(fitted.history_)
    assert fitted.settings_.learning_rate == 0.02 and fitted.settings_.lr_schedule == "cosine"  # resolved


def test_validation_split_and_classes():
    clf = TextClassifier(**{**TINY, "epochs": 1, "validation_split": 0.25})
    clf.fit(TEXTS, LABELS)
    assert "val_accuracy" in clf.history_[0]
    clf = TextClassifier(**{**TINY, "epochs": 1, "validation_split": 0.0}).fit(TEXTS, LABELS, classes=["pos", "neg"])
    assert clf.classes_ == ["pos", "neg"] and "val_accuracy" not in clf.history_[0]
    numbers = TextClassifier(**{**TINY, "epochs": 1}).fit(TEXTS, [10 if y == "pos" else 9 for y in LABELS])
    assert numbers.classes_ == [9, 10] and set(numbers.predict(PROBE)) <= {9, 10}


def test_bad_data_is_one_line():
    clf = TextClassifier(**TINY)
    with pytest.raises(DataError, match="labels: 31 labels for 32 texts; expected one label per text"):
        clf.fit(TEXTS, LABELS[:-1])
    with pytest.raises(DataError, match="validation labels: 1 label.s. not among the classes: 'meh'"):
        clf.fit(TEXTS, LABELS, validation_data=(["x"], ["meh"]))
    with pytest.raises(DataError, match="texts: item 0 is of type int, expected str"):
        clf.fit([1] + TEXTS[1:], LABELS)
    with pytest.raises(ConfigError, match="not fitted yet"):
        clf.predict(["x"])


def test_save_then_load_in_a_fresh_process_predicts_exactly_the_same(fitted, tmp_path):
    path = tmp_path / "clf"
    fitted.save(path)
    with pytest.raises(ExportError, match="already exists"):
        fitted.save(path)
    expected = fitted.predict_proba(PROBE)
    script = ("import json, sys, numpy as np\n"
              "from zoo import TextClassifier\n"
              f"clf = TextClassifier.load({str(path)!r})\n"
              f"print(json.dumps({{'p': clf.predict_proba({PROBE!r}).tolist(), 'c': clf.classes_, "
              f"'y': clf.predict({PROBE!r})}}))\n")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_array_equal(np.array(out["p"], dtype=np.float32), expected)  # exactly, not approximately
    assert out["c"] == fitted.classes_ and out["y"] == fitted.predict(PROBE)
    again = TextClassifier.load(path)  # and in this process
    np.testing.assert_array_equal(again.predict_proba(PROBE), expected)
    assert again.get_params() == fitted.get_params() and again.history_ == fitted.history_


def test_load_names_what_is_missing(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="not a saved TextClassifier .no classifier.json."):
        TextClassifier.load(tmp_path / "empty")


def test_export_serves_the_same_probabilities(fitted, tmp_path, caplog, capsys):
    import logging

    import tensorflow as tf

    from zoo.cli.predict import main as zoo_predict

    path = tmp_path / "export"
    fitted.export(path)
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    out = serve(texts=tf.constant(PROBE))
    zoo_logger = logging.getLogger("zoo")
    zoo_logger.addHandler(caplog.handler)  # (zoo's logger does not propagate)
    try:
        # The export pads every text to the sequence length; masking makes that padding irrelevant (float32 noise).
        np.testing.assert_allclose(out["probabilities"].numpy(), fitted.predict_proba(PROBE), atol=1e-6)
        assert "texts: 2 of 4 hold no token the model knows (first: item 2)" in caplog.text
        assert [s.decode() for s in out["label"].numpy()] == fitted.predict(PROBE)
        with pytest.raises(DataError, match="texts: item 1 is not valid text: .* lone surrogate .the byte 0xe9"):
            fitted.predict(["fine", "caf\udce9"])  # (bytes that were not UTF-8, as Python decodes a command line)
        with pytest.raises(SystemExit) as stop:
            zoo_predict([str(path), "caf\udce9"])
        assert stop.value.code == 3
        caplog.clear()
        zoo_predict([str(path), "so boring", "zzz qqq"])
        assert "texts: 1 of 2 hold no token the model knows (first: text 2)" in caplog.text
    finally:
        zoo_logger.removeHandler(caplog.handler)
    assert out["known_tokens"].numpy().tolist() == [3, 1, 0, 0]  # "what" is not in the training texts
    assert len(capsys.readouterr().out.splitlines()) == 2
    with pytest.raises(ExportError, match="already exists"):
        fitted.export(path)


def test_a_loaded_classifier_needs_train_texts_for_the_baseline(fitted, tmp_path):
    fitted.save(tmp_path / "clf")
    loaded = TextClassifier.load(tmp_path / "clf")
    with pytest.raises(ConfigError, match="`baseline=True` needs the training texts"):
        loaded.evaluate(TEXTS, LABELS, baseline=True)
    assert "baseline" in loaded.evaluate(TEXTS, LABELS, baseline=(TEXTS, LABELS))


def test_calibration_changes_no_prediction_and_min_confidence_abstains(fitted):
    paths = fitted.predict_paths(PROBE)
    assert (paths["model"].argmax(-1) == paths["uncalibrated"].argmax(-1)).all()
    assert fitted.fit_info_["calibration"]["temperature"] == fitted.calibration_ > 0
    confidence = paths["model"].max(-1)
    cut = float(np.median(confidence))
    assert [label is None for label in fitted.predict(PROBE, min_confidence=cut)] == list(confidence < cut)
    with pytest.raises(ConfigError, match="`min_confidence` must be a number in \\[0, 1\\], got 1.5"):
        fitted.predict(PROBE, min_confidence=1.5)


def test_calibrate_refits_the_temperature_and_a_damaged_one_is_refused(fitted, tmp_path):
    fitted.save(tmp_path / "clf")
    clf = TextClassifier.load(tmp_path / "clf").calibrate(TEXTS[:8], LABELS[:8])
    assert clf.fit_info_["calibration"]["chosen_on"] == "8 given texts" and 0.5 <= clf.calibration_ <= 16
    saved = json.loads((tmp_path / "clf" / "classifier.json").read_text())
    assert saved["calibration"] == {"temperature": fitted.calibration_}
    saved["calibration"] = {"temperature": -1}
    (tmp_path / "clf" / "classifier.json").write_text(json.dumps(saved))
    with pytest.raises(DataError, match="classifier.json: 'calibration': expected an object"):
        TextClassifier.load(tmp_path / "clf")


def test_scikit_learn_cross_validates_searches_and_checks_it():
    from sklearn.exceptions import NotFittedError
    from sklearn.model_selection import cross_val_score
    from sklearn.utils.validation import check_is_fitted

    tiny = {**TINY, "epochs": 1, "units": 2, "embedding_dim": 2}
    scores = cross_val_score(TextClassifier(**tiny), TEXTS, LABELS, cv=2)  # (it asks for the estimator's tags)
    assert scores.shape == (2,) and ((0 <= scores) & (scores <= 1)).all()
    with pytest.raises(NotFittedError):
        check_is_fitted(TextClassifier(**tiny))
    with pytest.raises(ConfigError, match="`strategy` must be a name .* or a tf.distribute.Strategy, got int 123"):
        TextClassifier(strategy=123)


def test_misused_calibrate_explain_save_export_and_load_are_one_line(fitted, tmp_path, caplog):
    with pytest.raises(DataError, match="calibrate: no texts"):
        fitted.calibrate([], [])
    with pytest.raises(DataError, match="labels: 1 labels for 2 texts"):
        fitted.explain(["great cast", "so boring"], ["pos"])
    (tmp_path / "afile").write_text("mine")
    with pytest.raises(ExportError, match="cannot make the folder .*afile it goes in"):
        fitted.save(tmp_path / "afile" / "sub")
    (tmp_path / "empty").mkdir()
    fitted.export(tmp_path / "empty")  # an empty folder is used as a new one, as save() does
    assert (tmp_path / "empty" / "saved_model.pb").exists()
    fitted.save(tmp_path / "clf")
    saved = json.loads((tmp_path / "clf" / "classifier.json").read_text())
    saved["vectorizer"]["lowercase"] = True
    (tmp_path / "clf" / "classifier.json").write_text(json.dumps(saved))
    with pytest.raises(DataError, match="'vectorizer': expected max_tokens, standardize and split only, got"):
        TextClassifier.load(tmp_path / "clf")
    del saved["vectorizer"]["lowercase"]
    saved["settings"]["bogus_setting"] = 1
    (tmp_path / "clf" / "classifier.json").write_text(json.dumps(saved))
    with pytest.raises(DataError, match="'settings': unknown setting.s. 'bogus_setting'"):
        TextClassifier.load(tmp_path / "clf")
    for call in (fitted.save, fitted.export, TextClassifier.load):
        with pytest.raises(ConfigError, match="`path` must be a folder path .a str or os.PathLike., got NoneType"):
            call(None)
    with pytest.raises(ConfigError, match="`path` must be a folder path .*, got an empty string"):
        fitted.save("")


def test_a_baseline_that_cannot_be_fitted_is_left_out_not_the_run(fitted, caplog):
    import logging

    zoo_logger = logging.getLogger("zoo")
    zoo_logger.addHandler(caplog.handler)  # (zoo's logger does not propagate)
    try:
        metrics = fitted.evaluate(TEXTS[:4], LABELS[:4], baseline=(["...", "!!"] * 4, ["pos", "neg"] * 4))
    finally:
        zoo_logger.removeHandler(caplog.handler)
    assert "baseline" not in metrics and metrics["num_test_examples"] == 4
    assert "baseline: no word 1-2 grams in the 8 training texts" in caplog.text
    assert "the report leaves the baseline out" in caplog.text


def test_a_vocabulary_that_is_not_the_models_is_one_line(fitted, tmp_path):
    fitted.save(tmp_path / "clf")
    file = tmp_path / "clf" / "vocabulary.json"
    words = json.loads(file.read_text())
    for vocabulary, message in ((words + ["extra"], (f"{len(words) + 1} words, but the embedding in model.keras has "
                                                     f"{len(words)} rows")),
                                (["a"] + words[1:], r"starts \['a', '\[UNK\]'\], expected \['', '\[UNK\]'\]")):
        file.write_text(json.dumps(vocabulary))
        with pytest.raises(DataError, match=message):
            TextClassifier.load(tmp_path / "clf")


def test_a_fitted_classifier_pickles_and_deep_copies_as_its_saved_files(fitted):
    import copy
    import pickle

    expected = fitted.predict_proba(PROBE)
    for twin in (pickle.loads(pickle.dumps(fitted)), copy.deepcopy(fitted)):
        np.testing.assert_allclose(twin.predict_proba(PROBE), expected, atol=1e-6)
        assert twin.classes_ == fitted.classes_ and twin.get_params() == fitted.get_params()
        assert "baseline" in twin.evaluate(TEXTS[:8], LABELS[:8], baseline=True)  # (its training texts go along)


@pytest.mark.parametrize("texts, got", [({"a": "great film"}, "a dict"), ({"great film", "so boring"}, "a set")])
def test_containers_that_would_classify_the_wrong_texts_are_one_line(fitted, texts, got):
    with pytest.raises(DataError, match=f"texts: expected a list of texts, got {got}"):
        fitted.predict(texts)
