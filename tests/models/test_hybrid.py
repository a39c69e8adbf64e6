import json
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from zoo import TextClassifier
from zoo.models.hybrid import HybridBlend, NgramLinear, blend
from zoo.training.ngram_path import choose_blend_weight, fit_ngram_path, ngram_logits

TEXTS = ["win cash now", "free prize win now", "see you at lunch", "call me later tonight",
         "cash prize for you", "lunch at noon then"] * 6
LABELS = np.array([1, 1, 0, 0, 1, 0] * 6)


def test_features_are_scikit_learns_sublinear_tfidf():
    texts = ["the cat sat on the mat", "the dog sat", "a cat and a dog and a cat"]
    reference = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+")
    expected = reference.fit_transform(texts)
    vocabulary = list(reference.get_feature_names_out())
    idf = reference.idf_
    layer = NgramLinear.from_arrays(vocabulary, idf, np.eye(len(vocabulary)), np.zeros(len(vocabulary)))
    got = ngram_logits(layer, texts)  # kernel = identity: the logits are the features
    np.testing.assert_allclose(got, expected.toarray(), atol=1e-6)


def test_bigram_weight_normalises_unigrams_and_bigrams_apart():
    from zoo.training.ngram_path import tfidf

    texts = ["the cat sat on the mat", "the dog sat", "a cat and a dog and a cat", "cat", ""]
    raw = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+", norm=None)
    x = raw.fit_transform(texts).toarray()
    vocabulary = list(raw.get_feature_names_out())
    longer = np.array([" " in v for v in vocabulary])
    unit = lambda a: a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)  # noqa: E731
    expected = unit(unit(x * ~longer) + 0.5 * unit(x * longer))
    assert np.isclose(np.linalg.norm(expected[0] * longer), np.linalg.norm(expected[0] * ~longer) / 2)
    layer = NgramLinear.from_arrays(vocabulary, raw.idf_, np.eye(len(vocabulary)), np.zeros(len(vocabulary)),
                                    bigram_weight=0.5)
    np.testing.assert_allclose(ngram_logits(layer, texts), expected, atol=1e-6)
    counts = TfidfVectorizer(ngram_range=(1, 2), use_idf=False, norm=None, token_pattern=r"\S+",
                             vocabulary=vocabulary).fit_transform(texts)  # raw counts
    np.testing.assert_allclose(tfidf(counts, raw.idf_, longer, 0.5).toarray(), expected, atol=1e-6)
    assert layer.get_config()["bigram_weight"] == 0.5


def test_small_training_sets_weigh_bigrams_apart_and_large_ones_keep_one_norm():
    from zoo.training.ngram_path import SMALL_TRAINING_SET, bigram_weight_for

    assert bigram_weight_for(SMALL_TRAINING_SET) == 0.5 and bigram_weight_for(SMALL_TRAINING_SET + 1) is None
    small, info = fit_ngram_path(TEXTS, LABELS, 2, max_tokens=1000, temperature=1.0)
    joint, _ = fit_ngram_path(TEXTS, LABELS, 2, max_tokens=1000, temperature=1.0, bigram_weight=None)
    assert small.bigram_weight == info["bigram_weight"] == 0.5 and joint.bigram_weight is None
    assert not np.allclose(ngram_logits(small, TEXTS[:4]), ngram_logits(joint, TEXTS[:4]))


def test_self_training_learns_words_only_the_unlabelled_texts_tie_to_a_class():
    texts = ["cash prize", "win cash", "lunch noon", "see lunch"] * 3
    y = np.array([1, 1, 0, 0] * 3)
    # "lottery" and "sandwich" never occur in a labelled text; each unlabelled text ties one to a class's words.
    unlabelled = ["cash prize lottery", "win cash lottery", "lunch noon sandwich", "see lunch sandwich"] * 3 + [
        "lottery", "sandwich"]
    plain, _ = fit_ngram_path(texts, y, 2, 1000, temperature=1.0)
    layer, info = fit_ngram_path(texts, y, 2, 1000, temperature=1.0, unlabelled_texts=unlabelled)
    assert info["self_training"] == {"unlabelled": 14, "added": 7, "share": 0.5}
    unseen = ngram_logits(plain, ["lottery", "sandwich"])
    np.testing.assert_allclose(unseen[0], unseen[1])  # without: both are all-unknown texts
    assert ngram_logits(layer, ["lottery", "sandwich"]).argmax(-1).tolist() == [1, 0]
    assert "self_training" not in fit_ngram_path(texts, y, 2, 1000, temperature=1.0, unlabelled_texts=[])[1]


def test_the_classifier_self_trains_on_unlabelled_texts_it_was_not_trained_on():
    clf = TextClassifier(init="none", units=2, embedding_dim=2, epochs=1, verbose=0)
    unlabelled = TEXTS[:6] + ["win big cash", "lunch at two", "free cash", "noon lunch"]
    clf.fit(TEXTS[12:], LABELS[12:], validation_data=(TEXTS[:12], LABELS[:12]), unlabelled_texts=unlabelled)
    assert clf.fit_info_["hybrid"]["self_training"]["unlabelled"] == 4  # the labelled ones left out
    off = TextClassifier(init="none", units=2, embedding_dim=2, epochs=1, self_training=False, verbose=0)
    off.fit(TEXTS[12:], LABELS[12:], validation_data=(TEXTS[:12], LABELS[:12]), unlabelled_texts=unlabelled)
    assert "self_training" not in off.fit_info_["hybrid"]


def test_the_ngram_path_is_fitted_again_on_the_validation_texts_unless_ngram_refit_is_off():
    validation = (["jackpot win now", "jackpot cash"], [1, 1])  # "jackpot" only here
    on = TextClassifier(init="none", units=2, embedding_dim=2, epochs=1, verbose=0).fit(TEXTS, LABELS, validation)
    assert on.fit_info_["hybrid"]["refit"] == {"texts": len(TEXTS) + 2, "features": len(on.ngram_.vocabulary),
                                               "seconds": on.fit_info_["hybrid"]["refit"]["seconds"]}
    jackpot = on.ngram_.vocabulary.index("jackpot") + 1  # (row 0: out of vocabulary)
    kernel = on.ngram_.kernel.numpy()
    assert kernel[jackpot, 1] > kernel[jackpot, 0]  # learnt from the validation labels: it speaks for class 1
    off = TextClassifier(init="none", units=2, embedding_dim=2, epochs=1, ngram_refit=False, verbose=0)
    off.fit(TEXTS, LABELS, validation)
    assert "refit" not in off.fit_info_["hybrid"] and "jackpot" not in off.ngram_.vocabulary


def test_fit_chooses_a_temperature_and_binary_logits_are_two_columns():
    layer, info = fit_ngram_path(TEXTS, LABELS, 2, max_tokens=1000, valid_texts=TEXTS[:12], valid_y=LABELS[:12])
    logits = ngram_logits(layer, ["free cash", "lunch later"])
    assert logits.shape == (2, 2) and np.all(logits[:, 0] == 0)
    assert logits[0, 1] > 0 > logits[1, 1]
    assert info["temperature"] >= 1 and info["features"] == len(layer.vocabulary)
    compared = info["weighting_cv"]  # TF-IDF against NBSVM by cross-validation on the training texts
    assert compared["folds"] == 5 and set(compared["accuracy"]) == {"tfidf", "nb"}
    assert info["weighting"] == layer.weighting == (
        "nb" if compared["accuracy"]["nb"] > compared["accuracy"]["tfidf"] else "tfidf")  # a tie keeps TF-IDF


def test_cross_validation_picks_nbsvm_where_it_is_more_accurate():
    import scipy.sparse as sp

    from zoo.training.ngram_path import choose_weighting

    # Each text has its class's word once (the other class's in one text of ten) and a word of no class thirty
    # times: TF-IDF's counts let that word fill each row's norm; NBSVM binarises, and its ratios weigh it ~0.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 120)
    rows = np.zeros((120, 62))
    for i in range(120):
        rows[i, y[i] if rng.random() < 0.9 else 1 - y[i]] = 1
        rows[i, 2 + rng.choice(60)] = 30
    choice, compared = choose_weighting(sp.csr_matrix(rows), y, np.zeros(62, bool), None)
    assert choice == "nb" and compared["folds"] == 5
    assert compared["accuracy"]["nb"] > compared["accuracy"]["tfidf"] + 0.1
    one = choose_weighting(sp.csr_matrix(rows[:3]), np.array([0, 0, 1]), np.zeros(62, bool), None)
    assert one == ("tfidf", {"accuracy": {}, "folds": 0})  # a class of one text: no cross-validation


def test_the_weighting_cross_validation_reads_a_bounded_share_of_a_large_training_set(monkeypatch):
    import scipy.sparse as sp

    from zoo.training import ngram_path

    monkeypatch.setattr(ngram_path, "WEIGHTING_CV_TEXTS", 30)
    rows = sp.csr_matrix(np.eye(4)[np.arange(60) % 4])
    _, compared = ngram_path.choose_weighting(rows, np.arange(60) % 2, np.zeros(4, bool), None)
    assert compared["texts"] == 30 and compared["folds"] == 5


def test_nbsvm_weighting_is_the_baselines_nbsvm_in_tensorflow_ops():
    from zoo.evaluation.baselines import NBSVM
    from zoo.training.ngram_path import ngram_counts

    three = TEXTS + ["the match was won", "a late goal won it", "the team lost at home"] * 4
    for texts, y, k in ((TEXTS, LABELS, 2), (three, np.concatenate([LABELS, [2] * 12]), 3)):
        layer, info = fit_ngram_path(texts, y, k, 1000, temperature=1.0, weighting="nb")
        assert info["weighting"] == "nb" and layer.bigram_weight is None and info["model"].startswith("NBSVM")
        probe = texts[:6] + ["win the match now", "", "words never seen"]
        train, held = (ngram_counts(layer.vectorizer, t)[:, 1:] for t in (texts, probe))  # (0: out of vocabulary)
        expected = NBSVM().fit(train, y).decision_function(held)
        logits = ngram_logits(layer, probe)
        if k == 2:  # one SVM, for the second class
            assert np.all(logits[:, 0] == 0)
        np.testing.assert_allclose(logits[:, 1] if k == 2 else logits, expected, atol=1e-5)
        columns, shares = layer.contributions(probe[-3])  # what explanations read: it adds up to the logits
        assert len(columns) > 1
        np.testing.assert_allclose(shares.sum(axis=0), logits[-3] - layer.bias.numpy(), atol=1e-5)


def test_an_nbsvm_path_is_saved_loaded_and_exported(hybrid, tmp_path):
    import copy

    import tensorflow as tf

    from zoo.errors import DataError

    nb = copy.copy(hybrid)
    nb.ngram_, _ = fit_ngram_path(TEXTS, LABELS, 2, 1000, temperature=2.0, weighting="nb")
    probe = ["win a free prize now", "lunch later?", "", "unknown words only here"]
    assert not np.allclose(nb.predict_proba(probe), hybrid.predict_proba(probe), atol=1e-4)
    nb.save(tmp_path / "c")
    loaded = TextClassifier.load(tmp_path / "c")
    assert loaded.ngram_.weighting == "nb"
    np.testing.assert_array_equal(loaded.predict_proba(probe), nb.predict_proba(probe))
    nb.export(tmp_path / "export")
    serve = tf.saved_model.load(str(tmp_path / "export")).signatures["serving_default"]
    np.testing.assert_allclose(serve(texts=tf.constant(probe))["probabilities"].numpy(), nb.predict_proba(probe),
                               atol=1e-6)
    saved = json.loads((tmp_path / "c" / "classifier.json").read_text())
    saved["hybrid"]["weighting"] = "bm25"
    (tmp_path / "c" / "classifier.json").write_text(json.dumps(saved))
    with pytest.raises(DataError, match="hybrid.weighting"):
        TextClassifier.load(tmp_path / "c")


def test_blend_weight_is_chosen_on_the_given_labels():
    p = np.array([[0.9, 0.1], [0.55, 0.45], [0.2, 0.8]], "float32")  # the recurrent path: right, wrong, right
    z = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]], "float32")  # the n-gram path: always class 1
    # All three are right for 0.31 < w < 0.83: w log(0.9 / 0.1) > 1 - w and w log(0.55 / 0.45) < 1 - w.
    # Thirty copies of the three texts: one text's difference would be within the noise of three.
    weight, scores = choose_blend_weight(np.tile(p, (30, 1)), np.tile(z, (30, 1)), np.tile([0, 1, 1], 30))
    assert scores["recurrent"] == pytest.approx(2 / 3) and scores["ngram"] == pytest.approx(2 / 3)
    assert scores["hybrid"] == 1.0 and 0.31 < weight < 0.83
    np.testing.assert_allclose(blend(p, z, 1.0), p, atol=1e-6)
    layer = HybridBlend(weight)
    np.testing.assert_allclose(np.asarray(layer([p, z])), blend(p, z, weight), atol=1e-6)
    assert HybridBlend.from_config(layer.get_config()).weight == weight


def test_blend_weight_is_the_lowest_log_loss_within_one_paired_standard_error_of_the_best_accuracy():
    from zoo.training.ngram_path import WEIGHTS

    rng = np.random.default_rng(0)
    for n in (40, 400, 4000):
        y = rng.integers(0, 3, n)
        onehot = np.eye(3)[y]
        logits = rng.normal(size=(n, 3)) + 1.2 * onehot
        p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        z = rng.normal(size=(n, 3)) + 1.0 * onehot
        weight, scores = choose_blend_weight(p.astype("float32"), z.astype("float32"), y)
        q = {float(w): blend(p, z, w) for w in WEIGHTS}
        right = {w: (v.argmax(-1) == y).astype(float) for w, v in q.items()}
        log_loss = {w: float(-np.mean(np.log(np.clip(v[np.arange(n), y], 1e-7, 1)))) for w, v in q.items()}
        best = max(q, key=lambda w: right[w].mean())
        band = [w for w in q if right[best].mean() - right[w].mean()
                <= (right[best] - right[w]).std(ddof=1) / np.sqrt(n) + 1e-9]
        assert weight in band and scores["hybrid"] == right[weight].mean()
        assert log_loss[weight] <= min(log_loss[w] for w in band) + 1e-6
        assert 0 < weight < 1  # both paths carry information here
    # A weight far worse than the best on many texts is outside the band even with a lower log loss.
    y = np.zeros(1000, int)
    p = np.tile([[0.45, 0.55]], (1000, 1)).astype("float32")  # the recurrent path: wrong, with little confidence
    z = np.tile([[0.5, 0.0]], (1000, 1)).astype("float32")  # the n-gram path: right, with little confidence
    assert choose_blend_weight(p, z, y)[1]["hybrid"] == 1.0


@pytest.fixture(scope="module")
def hybrid():
    clf = TextClassifier(init="none", units=4, embedding_dim=4, epochs=2, learning_rate=0.02, verbose=0)
    return clf.fit(TEXTS, LABELS, validation_data=(TEXTS[:12], LABELS[:12]))


def test_hybrid_reports_both_paths_and_saves(hybrid, tmp_path):
    assert hybrid.ngram_ is not None and 0 <= hybrid.blend_weight_ <= 1
    metrics = hybrid.evaluate(TEXTS, LABELS, baseline=True)
    assert set(metrics["paths"]) == {"recurrent", "ngram", "blend_weight"}
    assert 0 <= metrics["paths"]["ngram"]["accuracy"] <= 1
    hybrid.save(tmp_path / "c")
    loaded = TextClassifier.load(tmp_path / "c")
    probe = ["win a prize", "lunch?", "", "unknown words"]
    np.testing.assert_array_equal(loaded.predict_proba(probe), hybrid.predict_proba(probe))
    assert loaded.ngram_.bigram_weight == hybrid.ngram_.bigram_weight == 0.5  # 36 texts: a small set
    # A classifier saved before the bigram weight existed had one norm per row, and loads so.
    saved = json.loads((tmp_path / "c" / "classifier.json").read_text())
    del saved["hybrid"]["bigram_weight"]
    (tmp_path / "c" / "classifier.json").write_text(json.dumps(saved))
    assert TextClassifier.load(tmp_path / "c").ngram_.bigram_weight is None


def test_hybrid_off_is_the_recurrent_model():
    clf = TextClassifier(init="none", units=4, embedding_dim=4, epochs=1, hybrid=False, verbose=0)
    clf.fit(TEXTS, LABELS, validation_data=(TEXTS[:12], LABELS[:12]))
    assert clf.ngram_ is None and "paths" not in clf.evaluate(TEXTS, LABELS)


@pytest.mark.slow
def test_hybrid_export_loads_with_tensorflow_alone(hybrid, tmp_path):
    path = str(tmp_path / "export")
    hybrid.export(path)
    probe = ["win a free prize", "lunch later?", "", "unknown words only here"]
    expected = hybrid.predict_proba(probe)
    script = (
        "import json, sys, tensorflow as tf\n"
        f"f = tf.saved_model.load({path!r}).signatures['serving_default']\n"
        f"print(json.dumps(f(texts=tf.constant({probe!r}))['probabilities'].numpy().tolist()))\n"
        "assert 'zoo' not in sys.modules\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    np.testing.assert_allclose(json.loads(result.stdout.strip().splitlines()[-1]), expected, atol=1e-6)


def test_head_tail_export_serves_the_in_process_probabilities(tmp_path):
    import tensorflow as tf

    texts = [("great fun film " * k) + "the end" for k in range(1, 7)] + [("boring slow " * k) + "a mess"
                                                                           for k in range(1, 7)]
    labels = ["pos"] * 6 + ["neg"] * 6
    clf = TextClassifier(init="none", units=4, embedding_dim=4, epochs=1, sequence_length=5, truncation="head_tail",
                         verbose=0).fit(texts * 3, labels * 3, validation_data=(texts, labels))
    probe = ["great fun film great fun film a mess", "so dull", "", "boring"]
    clf.export(tmp_path / "export")
    serve = tf.saved_model.load(str(tmp_path / "export")).signatures["serving_default"]
    for batch in (probe, probe[:1], probe[2:3]):  # batches of other widths
        got = serve(texts=tf.constant(batch))["probabilities"].numpy()
        np.testing.assert_allclose(got, clf.predict_proba(batch), atol=1e-6)


def test_a_companion_is_averaged_before_the_blend_saved_and_exported(hybrid, tmp_path):
    import copy

    import tensorflow as tf

    # Another tokenizer (a shorter cut, lower vocabulary cap) and another model: init auto's pair.
    other = TextClassifier(init="none", model="lstm", units=3, embedding_dim=5, epochs=1, sequence_length=3,
                           max_tokens=12, hybrid=False, seed=1, verbose=0)
    other.fit(TEXTS, LABELS, validation_data=(TEXTS[:12], LABELS[:12]))
    pair = copy.copy(hybrid)
    pair.companions_ = [other]
    probe = ["win a free prize now", "lunch later?", "", "unknown words only here"]
    own, theirs = hybrid.predict_paths(probe)["recurrent"], other.predict_paths(probe)["recurrent"]
    paths = pair.predict_paths(probe)
    np.testing.assert_allclose(paths["recurrent"], (own + theirs) / 2, atol=1e-6)
    np.testing.assert_allclose(paths["uncalibrated"], blend((own + theirs) / 2, ngram_logits(hybrid.ngram_, probe),
                                                            hybrid.blend_weight_), atol=1e-6)
    assert not np.allclose(paths["uncalibrated"], hybrid.predict_paths(probe)["uncalibrated"], atol=1e-4)  # it counts

    pair.save(tmp_path / "c")
    assert (tmp_path / "c" / "companion_1" / "classifier.json").exists()
    loaded = TextClassifier.load(tmp_path / "c")
    assert len(loaded.companions_) == 1 and loaded.companions_[0].sequence_length_ == 3
    np.testing.assert_array_equal(loaded.predict_proba(probe), pair.predict_proba(probe))
    hybrid.save(tmp_path / "c", overwrite=True)  # without a companion: the earlier one goes
    assert not (tmp_path / "c" / "companion_1").exists() and TextClassifier.load(tmp_path / "c").companions_ == []

    pair.export(tmp_path / "export")
    serve = tf.saved_model.load(str(tmp_path / "export")).signatures["serving_default"]
    for batch in (probe, probe[:1], probe[2:3]):  # batches of other widths
        got = serve(texts=tf.constant(batch))["probabilities"].numpy()
        np.testing.assert_allclose(got, pair.predict_proba(batch), atol=1e-6)


def test_a_class_without_training_texts_gets_a_column_it_never_wins():
    y = np.where(LABELS == 1, 2, 0)  # class 1 of 3 only in the (absent) validation split
    layer, _ = fit_ngram_path(TEXTS, y, 3, max_tokens=1000)
    logits = ngram_logits(layer, ["free cash", "lunch later"])
    assert logits.shape == (2, 3) and (logits.argmax(-1) != 1).all()
    assert logits[0].argmax() != logits[1].argmax()


def test_one_raw_text_keras_model_is_predicted_served_and_rebuilt_when_the_blend_changes(hybrid):
    import copy

    import tensorflow as tf

    probe = ["win a free prize now", "lunch later?", "", "unknown words only here"]
    model = hybrid.keras_model()
    assert hybrid.keras_model() is model  # built once
    out = model.predict_on_batch(tf.constant(probe))
    np.testing.assert_allclose(out["model"], hybrid.predict_proba(probe), atol=1e-6)
    np.testing.assert_allclose(out["ngram"], hybrid.predict_paths(probe)["ngram"], atol=1e-6)
    recurrent_only = copy.copy(hybrid)
    recurrent_only.blend_weight_ = 1.0  # the fitted state changed: another model
    assert recurrent_only.keras_model() is not model
    np.testing.assert_allclose(recurrent_only.predict_paths(probe)["uncalibrated"], out["recurrent"], atol=1e-6)

