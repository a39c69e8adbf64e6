"""Multi-label classification: thresholds chosen on validation, metrics against scikit-learn, the estimator
(fit, predict, evaluate beside the one-vs-rest baseline, save/load), the export, and the settings' checks."""

import json
import re

import numpy as np
import pytest
from sklearn import metrics as skm

from zoo import TextClassifier
from zoo.errors import ConfigError, DataError
from zoo.evaluation.baselines import tfidf_svm_multi_label_baseline
from zoo.evaluation.metrics import choose_thresholds, multi_label_metrics
from zoo.evaluation.report import metrics_table, per_label_table
from zoo.training.ngram_path import fit_multi_label_ngram_path
from zoo.training.stages import default_monitor

ROWS = [("red apple fruit", ["red", "fruit"]), ("green apple pie", ["fruit"]), ("red fast car", ["red", "car"]),
        ("blue car road", ["car"]), ("red evening sky", ["red"]), ("blue sky sea", ["sky"]),
        ("apple on a red car", ["fruit", "car", "red"]), ("sea and sky blue", ["sky"])]
TEXTS = [t for t, _ in ROWS] * 6
LABELS = [labels for _, labels in ROWS] * 6
TINY = dict(multi_label=True, init="none", units=8, embedding_dim=8, epochs=4, batch_size=8, learning_rate=0.05,
            verbose=0)


@pytest.fixture(scope="module")
def fitted():
    return TextClassifier(**TINY).fit(TEXTS, LABELS, validation_data=(TEXTS[:16], LABELS[:16]))


def test_thresholds_maximise_each_labels_validation_f1():
    y = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]])
    p = np.array([[0.3, 0.6, 0.2], [0.32, 0.75, 0.9], [0.1, 0.72, 0.1], [0.2, 0.1, 0.3]])
    thresholds, f1 = choose_thresholds(y, p)
    # label 0: 0.25 and 0.30 both give F1 1.0, the nearer to 0.5 wins; label 1: 0.65 and 0.70 keep both
    # positives and drop text 0 (F1 1.0; at 0.5, 0.8); label 2 has no positive: 0.5, its F1 NaN
    assert thresholds.tolist() == [0.3, 0.65, 0.5] and f1[:2].tolist() == [1.0, 1.0] and np.isnan(f1[2])
    for j in range(2):  # no grid value does better than the chosen one
        best = max(skm.f1_score(y[:, j], p[:, j] >= t) for t in np.arange(0.05, 0.96, 0.05))
        assert skm.f1_score(y[:, j], p[:, j] >= thresholds[j]) == pytest.approx(best)


def test_metrics_match_scikit_learn_on_a_hand_example():
    y_true = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]])
    y_pred = np.array([[1, 0, 0], [0, 1, 1], [1, 0, 0], [0, 0, 1]])
    m = multi_label_metrics(y_true, y_pred, ["a", "b", "c"])
    # by hand: tp 4, fp 1, fn 2 -> micro precision 4/5, recall 4/6, F1 8/11
    assert m["micro_precision"] == pytest.approx(0.8) and m["micro_recall"] == pytest.approx(4 / 6)
    assert m["micro_f1"] == pytest.approx(8 / 11) == skm.f1_score(y_true, y_pred, average="micro")
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
    assert m["accuracy"] == 0.25 and m["hamming_loss"] == pytest.approx(3 / 12)
    assert m["per_class"]["b"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert m["labels_per_text"] == 1.5 and m["predicted_labels_per_text"] == 1.25 and m["multi_label"]


def test_the_one_vs_rest_baseline_handles_labels_always_or_never_present():
    train_y = np.array([[1, 0, 1], [0, 0, 1], [1, 0, 1], [0, 0, 1]])  # b never, c always
    result = tfidf_svm_multi_label_baseline(["red apple", "blue sky", "red cherry", "blue sea"], train_y,
                                            ["red apple", "blue sky"], np.array([[1, 0, 1], [0, 0, 1]]),
                                            ["a", "b", "c"])
    assert result["micro_f1"] == 1.0 and result["model"].startswith("one-vs-rest")


def test_fit_predict_evaluate(fitted):
    assert fitted.classes_ == ["car", "fruit", "red", "sky"] and fitted.ngram_ is not None
    assert fitted.settings_.hybrid and fitted.settings_.multi_label  # a hybrid of one linear model per label
    assert fitted.blend_weight_.shape == (4,) and fitted.ngram_.num_classes == 4
    probs = fitted.predict_proba(["red apple", ""])
    assert probs.shape == (2, 4) and probs.dtype == np.float32 and ((probs >= 0) & (probs <= 1)).all()
    assert fitted.thresholds_.shape == (4,) and fitted.fit_info_["thresholds"]["chosen_on"].startswith("the valid")
    predicted = fitted.predict(TEXTS[:8])
    assert all(isinstance(row, list) and set(row) <= set(fitted.classes_) for row in predicted)
    expected = [[c for c, p, t in zip(fitted.classes_, row, fitted.thresholds_) if p >= t]
                for row in fitted.predict_proba(TEXTS[:8])]
    assert predicted == expected
    exact = np.mean([set(row) == set(truth) for row, truth in zip(predicted, LABELS[:8])])
    assert fitted.score(TEXTS[:8], LABELS[:8]) == pytest.approx(exact)  # subset accuracy, as scikit-learn's
    metrics = fitted.evaluate(TEXTS, LABELS, baseline=True)
    assert metrics["num_test_examples"] == len(TEXTS) and set(metrics["per_class"]) == set(fitted.classes_)
    assert metrics["micro_f1"] > 0.5 and metrics["baseline"]["micro_f1"] > 0.9
    assert set(metrics["paths"]) == {"recurrent", "ngram", "blend_weight"}  # each path alone, at its thresholds
    assert metrics["paths"]["ngram"]["micro_f1"] > 0.9
    assert "| zoo hybrid |" in metrics_table(metrics) and "| n-gram path alone |" in metrics_table(metrics)
    assert "one-vs-rest" in metrics_table(metrics)
    assert per_label_table(metrics).count("\n") == 5
    assert default_monitor(fitted.model_) == "val_loss"
    with pytest.raises(DataError, match="texts: no texts to evaluate on"):  # (scikit-learn's own error before)
        fitted.evaluate([], [])


def test_the_ngram_path_is_fitted_again_on_the_validation_texts_after_the_choices(fitted):
    valid_texts, valid_labels = ["violet sky", "violet sea sky"], [["sky"], ["sky"]]  # "violet" only here
    clf = TextClassifier(**{**TINY, "epochs": 1}).fit(TEXTS, LABELS, validation_data=(valid_texts, valid_labels))
    refit = clf.fit_info_["hybrid"]["refit"]
    assert refit["texts"] == len(TEXTS) + 2 and "violet" in clf.ngram_.vocabulary
    assert refit["features"] == len(clf.ngram_.vocabulary)
    assert "violet" not in fitted.ngram_.vocabulary  # (the fixture's validation texts are training texts)
    column = clf.classes_.index("sky")  # the SVM learnt from it: "violet" counts towards sky
    assert clf.ngram_.kernel.numpy()[clf.ngram_.vocabulary.index("violet") + 1, column] > 0


def test_a_refit_keeps_the_features_its_temperature_was_chosen_for():
    y = np.array([[int(c in labels) for c in ("car", "fruit", "red", "sky")] for labels in LABELS])
    auto = fit_multi_label_ngram_path(TEXTS, y, 1000, temperature=1.0)[1]  # 48 texts: bigrams weighed apart
    kept = fit_multi_label_ngram_path(TEXTS, y, 1000, temperature=1.0, bigram_weight=None, ngrams=2)[1]
    assert (auto["bigram_weight"], kept["bigram_weight"], kept["temperature"]) == (0.5, None, 1.0)


def test_save_and_load_keep_the_thresholds(fitted, tmp_path):
    fitted.save(tmp_path / "clf")
    saved = json.loads((tmp_path / "clf" / "classifier.json").read_text())
    assert saved["thresholds"] == [float(t) for t in fitted.thresholds_]
    loaded = TextClassifier.load(tmp_path / "clf")
    np.testing.assert_array_equal(loaded.thresholds_, fitted.thresholds_)
    assert loaded.predict(TEXTS[:8]) == fitted.predict(TEXTS[:8])
    np.testing.assert_allclose(loaded.predict_proba(TEXTS[:8]), fitted.predict_proba(TEXTS[:8]), atol=1e-6)
    saved["thresholds"] = [0.5]
    (tmp_path / "clf" / "classifier.json").write_text(json.dumps(saved))
    with pytest.raises(DataError, match="classifier.json: 'thresholds': expected one per label \\(4\\)"):
        TextClassifier.load(tmp_path / "clf")


def test_the_export_returns_probabilities_and_the_labels_above_threshold(fitted, tmp_path):
    import tensorflow as tf

    from zoo.serving.predict import classify

    fitted.export(tmp_path / "export")
    loaded = tf.saved_model.load(str(tmp_path / "export"))
    texts = TEXTS[:8] + [""]
    out = {k: v.numpy() for k, v in loaded.signatures["serving_default"](texts=tf.constant(texts)).items()}
    probs = fitted.predict_proba(texts)
    np.testing.assert_allclose(out["probabilities"], probs, atol=1e-5)
    np.testing.assert_array_equal(out["predicted"], probs >= fitted.thresholds_)
    assert out["labels"].shape == (9, 4) and out["num_labels"].tolist() == out["predicted"].sum(1).tolist()
    for row, n, expected, p in zip(out["labels"], out["num_labels"], fitted.predict(texts), probs):
        names = [x.decode() for x in row]
        assert sorted(names[:n]) == sorted(expected) and names[n:] == [""] * (4 - n)
        assert [p[fitted.classes_.index(x)] for x in names[:n]] == sorted(p[[fitted.classes_.index(x)
                                                                            for x in names[:n]]], reverse=True)
    meta = {k: v.numpy() for k, v in loaded.signatures["label_names"]().items()}
    assert [x.decode() for x in meta["label_names"]] == fitted.classes_
    np.testing.assert_array_equal(meta["thresholds"], fitted.thresholds_)
    assert classify(loaded.signatures["serving_default"], ["red apple"])[0][0] == "|".join(
        sorted(fitted.predict(["red apple"])[0], key=lambda c: -fitted.predict_proba(["red apple"])[0][
            fitted.classes_.index(c)]))


def test_without_validation_every_threshold_is_one_half():
    clf = TextClassifier(**{**TINY, "epochs": 1, "validation_split": 0.0}).fit(TEXTS[:16], LABELS[:16])
    assert clf.thresholds_.tolist() == [0.5] * 4 and clf.fit_info_["thresholds"]["chosen_on"].startswith("none")


@pytest.mark.parametrize("labels, message", [
    (["red"] * 48, "labels: item 0 is of type str, expected a list of labels (multi_label=True)"),
    ([["red"]] * 47 + [["violet"]], None),
])
def test_bad_label_lists(labels, message):
    clf = TextClassifier(**TINY)
    if message is None:  # a label the given classes lack
        with pytest.raises(DataError, match="labels: 1 label\\(s\\) not among the classes: 'violet'"):
            clf.fit(TEXTS, labels, classes=["car", "fruit", "red", "sky"])
    else:
        with pytest.raises(DataError, match=re.escape(message)):
            clf.fit(TEXTS, labels)


@pytest.mark.parametrize("params, parameter", [
    ({"init": "lm:wiki-books-lstm-lm-v2"}, "multi_label"), ({"init": "auto"}, "multi_label"),
])
def test_settings_multi_label_cannot_take(params, parameter):
    with pytest.raises(ConfigError) as info:
        TextClassifier(multi_label=True, **params)
    assert info.value.parameter == parameter and "multi_label" in str(info.value)


def test_platt_scaling_per_label_calibrates_and_changes_no_predicted_label_set(fitted, tmp_path):
    from zoo.evaluation.calibration import binary_log_loss, move_thresholds
    from zoo.evaluation.report import calibration_section

    paths = fitted.predict_paths(TEXTS)
    assert fitted.calibration_.shape == (2, 4) and (fitted.calibration_[0] > 0).all()  # slopes, biases
    cuts = move_thresholds(fitted.thresholds_, [[1.0] * 4, [0.0] * 4], before=fitted.calibration_)  # uncalibrated
    np.testing.assert_array_equal(paths["model"] >= fitted.thresholds_, paths["uncalibrated"] >= cuts)
    record = fitted.fit_info_["calibration"]
    assert list(record["slopes"]) == fitted.classes_ and record["chosen_on"] == "the validation split"
    valid = fitted.predict_paths(TEXTS[:16])  # fitted there: the log loss does not rise (the identity is a choice)
    y = np.array([[c in labels for c in fitted.classes_] for labels in LABELS[:16]])
    assert binary_log_loss(valid["model"], y).sum() <= binary_log_loss(valid["uncalibrated"], y).sum() + 1e-5
    calibration = fitted.evaluate(TEXTS, LABELS)["calibration"]
    assert calibration["multi_label"] and len(calibration["reliability"]["after"]["count"]) == 15
    assert calibration_section(calibration)[2].startswith("Platt scaling per label")
    fitted.save(tmp_path / "clf")
    loaded = TextClassifier.load(tmp_path / "clf")
    np.testing.assert_allclose(loaded.calibration_, fitted.calibration_)
    loaded.calibrate(TEXTS[8:24], LABELS[8:24])  # refitted elsewhere: maybe other scaling, the same label sets
    assert loaded.fit_info_["calibration"]["chosen_on"] == "16 given texts"
    assert loaded.predict(TEXTS[:16]) == fitted.predict(TEXTS[:16])


def test_balanced_class_weights_weigh_each_labels_positives_in_the_loss_and_the_svms(tmp_path):
    from zoo.training.losses import LabelWeightedBinaryCrossentropy
    from zoo.training.stages import class_weights

    clf = TextClassifier(**{**TINY, "epochs": 1}, class_weight="balanced").fit(
        TEXTS, LABELS, validation_data=(TEXTS[:16], LABELS[:16]))
    y = np.array([[c in labels for c in clf.classes_] for labels in LABELS])  # the training rows (all of them)
    expected = class_weights(y, "balanced")
    assert isinstance(clf.model_.loss, LabelWeightedBinaryCrossentropy)
    assert clf.model_.loss.positive == expected.positive and expected.positive[2] < expected.positive[3]
    assert clf.fit_info_["hybrid"]["class_weight"] == "balanced"  # each label's SVM weighs them too
    clf.save(tmp_path / "clf")  # the loss is a registered class: a saved model loads again
    assert TextClassifier.load(tmp_path / "clf").predict(TEXTS[:4]) == clf.predict(TEXTS[:4])


def test_the_baseline_weighs_labels_where_cross_validation_says_it_is_stronger():
    # "red" is rare and its cue word is shared with common texts: unweighted SVMs never predict it.
    texts = [f"apple pie n{i}" + (" shiny" if i % 5 == 0 else "") for i in range(40)] + [f"shiny red r{i}"
                                                                                        for i in range(8)]
    y = np.array([[1, 0]] * 40 + [[0, 1]] * 8)
    test_texts, test_y = ["shiny red new", "apple pie new"], np.array([[0, 1], [1, 0]])
    chosen = tfidf_svm_multi_label_baseline(texts, y, test_texts, test_y, ["pie", "red"])
    cv = chosen["chosen_by"]["cv_micro_f1"]
    assert set(cv) == {"unweighted", "balanced"} and chosen["chosen_by"]["folds"] == 3
    assert chosen["short_name"].endswith("classes balanced") == (cv["balanced"] > cv["unweighted"])
    plain = tfidf_svm_multi_label_baseline(texts, y, test_texts, test_y, ["pie", "red"], class_weight=None)
    assert "chosen_by" not in plain and not plain["short_name"].endswith("balanced")
