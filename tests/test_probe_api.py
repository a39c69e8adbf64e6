"""Bad inputs and faults through the Python API: each is one ZooError line, and what zoo saves loads back."""

import copy
import decimal
import json
import pickle
import shutil

import numpy as np
import pytest

from zoo import TextClassifier
from zoo.errors import ConfigError, DataError

POSITIVE = ["great fun film", "loved every minute", "a wonderful cast", "great acting and story"]
NEGATIVE = ["boring and slow", "a dull mess", "awful plot", "slow boring acting"]
TEXTS = (POSITIVE + NEGATIVE) * 2
LABELS = (["pos"] * 4 + ["neg"] * 4) * 2
TINY = {"init": "none", "units": 4, "embedding_dim": 4, "epochs": 1, "batch_size": 8, "learning_rate": 0.02,
        "verbose": 0}


@pytest.fixture(scope="module")
def fitted():
    return TextClassifier(**TINY).fit(TEXTS, LABELS)


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "clf"
    fitted.save(path)
    return path


@pytest.mark.parametrize("labels", [[False, True], [0.5, 1.5]])
def test_bool_and_float_labels_save_load_and_pickle(labels, tmp_path):
    clf = TextClassifier(**TINY, hybrid=False).fit(TEXTS, labels * (len(TEXTS) // 2))
    assert clf.classes_ == labels
    clf.save(tmp_path / "clf")  # (saved, then refused on load: "expected ... strings or integers")
    loaded = TextClassifier.load(tmp_path / "clf")
    assert loaded.classes_ == labels and [type(c) for c in loaded.classes_] == [type(c) for c in labels]
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS[:3]), clf.predict_proba(TEXTS[:3]))
    assert pickle.loads(pickle.dumps(clf)).predict(TEXTS[:3]) == clf.predict(TEXTS[:3])


def test_labels_json_cannot_keep_or_that_read_as_one_class_are_one_line():
    import datetime

    import pandas as pd

    clf = TextClassifier(**TINY)
    n = len(TEXTS)
    for labels, message in [
        (pd.Series(LABELS[:-1] + [None], dtype="string"), "item 15 is missing .pandas' <NA>.; every text needs a label"),
        ([pd.NaT] + LABELS[1:], "item 0 is missing .pandas' NaT."),
        ([datetime.date(2020, 1, 1), datetime.date(2021, 1, 1)] * (n // 2),
         "item 0 is of type date .* expected a label that is a str, int, float or bool"),
        ([decimal.Decimal(1), decimal.Decimal(2)] * (n // 2), "item 0 is of type Decimal"),
        ([b"pos", b"neg"] * (n // 2), "item 0 is of type bytes"),
        ([1.0, float("inf")] * (n // 2), "item 1 is inf; expected a finite number"),
        ([1, True] * (n // 2), "item 1 is True, a bool, and item 0 is the number 1; Python counts True as 1"),
    ]:
        with pytest.raises(DataError, match=f"^labels: {message}"):
            clf.fit(TEXTS, labels)
    with pytest.raises(DataError, match="^classes: item 1 is True, a bool"):
        clf.fit(TEXTS, [0, 1] * (n // 2), classes=[0, True])
    multi = TextClassifier(**TINY, multi_label=True)
    one_hot = np.array([[1, 0] if label == "pos" else [0, 1] for label in LABELS])
    with pytest.raises(DataError, match=r"^labels: a 0/1 matrix of shape \(16, 2\), whose rows would be read as label "
                                        "names"):
        multi.fit(TEXTS, one_hot)  # (trained on the classes 0 and 1, every text holding both)
    with pytest.raises(DataError, match="^labels: item 1 holds True, a bool, and item 0 holds the number 1"):
        multi.fit(TEXTS, [[1], [True]] * (n // 2))


def test_numpy_scalars_as_settings_are_plain_values():
    clf = TextClassifier(**{**TINY, "verbose": np.int64(0), "hybrid": np.bool_(False), "model": np.str_("gru")})
    params = clf.get_params()
    assert [type(params[k]) for k in ("verbose", "hybrid", "model")] == [int, bool, str]
    assert json.loads(json.dumps(params, default=str))["verbose"] == 0  # (was saved as "0", which load refused)


def test_a_strategy_object_survives_set_params_clone_and_deepcopy():
    import tensorflow as tf
    from sklearn.base import clone

    strategy = tf.distribute.get_strategy()
    clf = TextClassifier(**TINY, strategy=strategy)
    with pytest.raises(ConfigError, match="`epochs` must be an integer >= 1"):
        clf.set_params(epochs=0)
    with pytest.raises(ConfigError, match="`strategy` must be a name"):
        clf.set_params(strategy=5)
    assert clf.get_params()["strategy"] is strategy and clf.get_params()["epochs"] == 1  # (unchanged)
    for twin in (clone(clf), copy.deepcopy(clf)):
        assert twin.get_params()["strategy"] is strategy and twin is not clf
    with pytest.raises(ConfigError, match="does not pickle .* pass `strategy` by name"):
        pickle.dumps(clf)


def test_a_multi_label_classifier_refitted_single_label_keeps_no_thresholds(tmp_path):
    clf = TextClassifier(**TINY, multi_label=True, hybrid=False).fit(TEXTS, [[label] for label in LABELS])
    assert clf.thresholds_ is not None
    clf.set_params(multi_label=False).fit(TEXTS, LABELS)
    assert clf.thresholds_ is None
    clf.save(tmp_path / "clf")
    assert json.loads((tmp_path / "clf" / "classifier.json").read_text())["thresholds"] is None


def test_flags_counts_and_fixed_blend_are_checked(fitted, saved):
    before = (saved / "classifier.json").read_bytes()
    with pytest.raises(ConfigError, match="^`overwrite` must be True or False, got str 'no'$"):
        fitted.save(saved, overwrite="no")  # (a truthy string replaced the saved classifier)
    assert (saved / "classifier.json").read_bytes() == before
    with pytest.raises(ConfigError, match="^`fixed_length` must be True or False"):
        fitted.export(saved.parent / "export", fixed_length="yes")
    assert not (saved.parent / "export").exists()
    for steps in ("3", 2.5, 0, True):
        with pytest.raises(ConfigError, match="^`steps` must be an integer >= 1"):
            fitted.explain(["great film"], steps=steps)
    for kwargs, message in (({"start_lr": "1e-5"}, "`start_lr` must be a finite number > 0, got '1e-5'"),
                            ({"end_lr": float("nan")}, "`end_lr` must be a finite number > 0, got nan"),
                            ({"steps": 50.0}, "`steps` must be an integer >= 1, got 50.0")):
        with pytest.raises(ConfigError, match=f"^{message}$"):
            TextClassifier(**TINY).lr_find(TEXTS, LABELS, **kwargs)  # (before the model is built)
    for blend in (5, (1.0, 2.0), (8.0, 0.3, None, "svm")):
        with pytest.raises(ConfigError, match="^`fixed_blend` must be None or"):
            TextClassifier(**TINY).fit(TEXTS, LABELS, fixed_blend=blend)


def _tampered(saved, tmp_path, change=None, **files):
    folder = tmp_path / "t"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(saved, folder)
    if change:
        data = json.loads((folder / "classifier.json").read_text())
        change(data)
        (folder / "classifier.json").write_text(json.dumps(data))
    for name, write in files.items():
        write(folder / f"{name}.json" if name.endswith("vocabulary") else folder / f"{name}.npz")
    return folder


def test_a_tampered_saved_classifier_is_one_line_naming_the_file(saved, tmp_path):
    words = json.loads((saved / "vocabulary.json").read_text())
    ngrams = json.loads((saved / "ngram_vocabulary.json").read_text())
    with np.load(saved / "ngram.npz") as npz:
        arrays = dict(npz)
    cases = [
        ({"change": lambda d: d.update(classes=[1, "1"])},
         "classifier.json: 'classes': 1 and '1' are different labels that read the same"),
        ({"change": lambda d: d.update(classes=["pos", "pos "])}, "'classes': 'pos' and 'pos ' differ only in"),
        ({"change": lambda d: d.update(classes=[1, True])}, "'classes': expected booleans or numbers, not both"),
        ({"change": lambda d: d["params"].update(strategy=5)}, "classifier.json: 'params': `strategy` must be one"),
        ({"change": lambda d: d["hybrid"].update(standardize="bogus")}, "'hybrid.standardize': expected 'zoo'"),
        ({"vocabulary": lambda f: f.write_text(json.dumps(words[:2] + ["a"] * (len(words) - 2)))},
         "vocabulary.json: the word 'a' appears more than once"),
        ({"ngram_vocabulary": lambda f: f.write_text(json.dumps([ngrams[0], *ngrams[:-1]]))},
         "ngram_vocabulary.json: the word .* appears more than once"),
        ({"ngram": lambda f: np.savez(f, **{**arrays, "kernel": np.full_like(arrays["kernel"], np.nan)})},
         "ngram.npz: 'kernel' holds NaN or infinite values"),
    ]
    for tamper, message in cases:
        with pytest.raises(DataError, match=message):
            TextClassifier.load(_tampered(saved, tmp_path, **tamper))


def test_serving_helpers_check_their_inputs_and_serve_an_empty_batch(fitted, tmp_path):
    import tensorflow as tf

    from zoo.serving import predict

    fitted.export(tmp_path / "export")
    serve = predict.load(tmp_path / "export")  # (a pathlib.Path too)
    empty = serve(texts=tf.constant([], tf.string))  # (the n-gram path's count op refused a batch of none)
    assert empty["probabilities"].shape == (0, 2) and empty["label"].shape == (0,)
    assert predict.classify(serve, []) == []
    assert len(predict.classify(serve, np.array(["great film", "so dull"]))) == 2
    with pytest.raises(DataError, match="^texts: expected a list of texts, got one str"):
        predict.classify(serve, "great film")  # (was classified letter by letter)
    with pytest.raises(DataError, match="^texts: item 1 is of type NoneType, expected str"):
        predict.classify(serve, ["great", None])
    with pytest.raises(DataError, match="^texts: item 0 is not valid text"):
        predict.classify(serve, ["\ud800"])
    with pytest.raises(ConfigError, match="^`export_dir` must be a folder path"):
        predict.load(None)
    with pytest.raises(ConfigError, match="^`batch_size` must be an integer >= 1, got 0"):
        list(predict.batches(["a"], 0))


def test_a_refit_that_fails_while_training_leaves_the_fitted_classifier_as_it_was(fitted, monkeypatch):
    from zoo.training import from_vectors

    expected, baseline = fitted.predict_proba(TEXTS[:2]), fitted._baseline_data

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(from_vectors, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fitted.fit(["other words entirely", "and more of them"] * 4, ["x", "y"] * 4)
    assert fitted.classes_ == ["neg", "pos"] and fitted._baseline_data is baseline
    np.testing.assert_array_equal(fitted.predict_proba(TEXTS[:2]), expected)


def test_lm_texts_given_to_a_run_without_a_language_model_are_named_as_ignored(monkeypatch, caplog):
    import logging

    from zoo.training import from_vectors

    def stop(*args, **kwargs):  # (the warning comes before training: nothing needs to train here)
        raise KeyboardInterrupt

    monkeypatch.setattr(from_vectors, "train", stop)
    logging.getLogger("zoo").addHandler(caplog.handler)  # (zoo's logger does not propagate)
    try:
        with pytest.raises(KeyboardInterrupt):
            TextClassifier(**TINY).fit(TEXTS, LABELS, lm_texts=["more text to fine-tune on"])
    finally:
        logging.getLogger("zoo").removeHandler(caplog.handler)
    assert "lm_texts: ignored, init='none' fine-tunes no language model; pass init='lm:NAME' to use them" in \
        caplog.messages
