"""The fair baseline (zoo.evaluation.baselines): what it trains on, how it chooses, its features, its report."""

import json
import random

import numpy as np
import pytest

from zoo import TextClassifier
from zoo.errors import DataError
from zoo.evaluation import baselines
from zoo.evaluation.baselines import (
    NBSVM_NAME,
    TFIDF_SVM,
    cv_folds,
    fair_baseline,
    tfidf_svm_multi_label_baseline,
)
from zoo.evaluation.report import metrics_table, runs_table, write_report

TINY = dict(init="none", units=4, embedding_dim=4, epochs=1, batch_size=8, hybrid=False, verbose=0)
POSITIVE = ["great fun film", "loved every minute", "a wonderful cast", "great acting and story"]
NEGATIVE = ["boring and slow", "a dull mess", "awful plot", "slow boring acting"]
MIXED = ["okay middling film meh", "meh average cast", "middling meh plot", "so so meh story"]


def _how_often(n=40):
    """The class is how often "xx" occurs (once or 4 times); each text's other words occur in it alone, so
    binarised counts (NBSVM) see the same features in both classes and TF-IDF's term frequency tells them apart."""
    texts = [" ".join(f"xx u{i}n{j}" for j in range(1 + 3 * (i % 2))) + f" yy u{i}end" for i in range(n)]
    return texts, [i % 2 for i in range(n)]


def _which_rare_word(n=60, seed=0):
    """The class is which of 2 x 3 rare words a text holds, among 30 words of a 300-word noise vocabulary: the
    naive-Bayes ratios single the rare words out (NBSVM); TF-IDF + LinearSVC spreads weight over the noise."""
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        words = [f"w{rng.randrange(300)}" for _ in range(30)] + [f"s{i % 2}n{rng.randrange(3)}"]
        rng.shuffle(words)
        texts.append(" ".join(words))
    return texts, [i % 2 for i in range(n)]


@pytest.mark.parametrize("make, winner", [(_how_often, TFIDF_SVM), (_which_rare_word, NBSVM_NAME)])
def test_cross_validation_picks_the_candidate_that_wins(make, winner):
    texts, labels = make()
    result = fair_baseline(texts, labels, texts[:10], labels[:10], ["a", "b"], features="word")
    scores = result["chosen_by"]["cv_accuracy"]
    loser = (set(scores) - {winner}).pop()
    assert scores[winner] >= scores[loser] + 0.15, scores  # clearly, on data built for it
    assert result["model"] == f"{winner}, word 1-2 grams (chosen by 5-fold CV over {loser})"
    assert result["short_name"] == f"{winner} word 1-2 grams" and result["chosen_by"]["folds"] == 5


def test_a_small_class_takes_fewer_folds_and_none_falls_back_to_the_svm():
    texts, labels = (POSITIVE + NEGATIVE) * 3 + MIXED[:2], ([1] * 4 + [0] * 4) * 3 + [2] * 2
    result = fair_baseline(texts, labels, POSITIVE, [1] * 4, ["neg", "pos", "meh"], features="word")
    assert result["chosen_by"]["folds"] == 2 and len(result["chosen_by"]["cv_accuracy"]) == 2
    alone = fair_baseline(texts[:-1], labels[:-1], POSITIVE, [1] * 4, ["neg", "pos", "meh"], features="word")
    assert alone["chosen_by"]["folds"] == 0 and alone["chosen_by"]["cv_accuracy"] == {}
    assert alone["model"] == "TF-IDF + LinearSVC, word 1-2 grams (no cross-validation: the smallest class has 1 text)"
    assert cv_folds([0, 1] * 3000) == 3  # many texts: 3 folds (their cost; see MANY_TEXTS)
    with pytest.raises(DataError, match="hold one class"):
        fair_baseline(POSITIVE, [1] * 4, POSITIVE, [1] * 4, ["neg", "pos"])


def test_the_choice_is_seeded():
    texts, labels = _which_rare_word(seed=3)
    first, second = (fair_baseline(texts, labels, texts[:5], labels[:5], ["a", "b"], seed=7) for _ in range(2))
    assert first["chosen_by"]["cv_accuracy"] == second["chosen_by"]["cv_accuracy"]


def test_nbsvm_is_one_vs_rest_beyond_two_classes():
    texts = (POSITIVE + NEGATIVE + MIXED) * 3
    labels = ([1] * 4 + [0] * 4 + [2] * 4) * 3
    vectorizer = baselines.count_vectorizer("word")
    model = baselines.NBSVM().fit(vectorizer.fit_transform(texts), labels)
    assert len(model.svms_) == 3 and model.decision_function(vectorizer.transform(MIXED)).shape == (4, 3)
    assert model.predict(vectorizer.transform(["great cast", "dull slow", "meh middling"])).tolist() == [1, 0, 2]


ZH_POS = ["这本书很好看", "质量很好，很喜欢", "非常好看的书", "内容很好，推荐"]
ZH_NEG = ["质量太差了", "很差，不推荐", "内容太差", "差评，不好看"]


@pytest.mark.parametrize("unspaced, features", [(True, "char"), (False, "word")])
def test_word_or_char_features_follow_is_unspaced(monkeypatch, unspaced, features):
    import zoo.data.tokenize

    seen = []
    monkeypatch.setattr(zoo.data.tokenize, "is_unspaced", lambda texts: seen.append(len(texts)) or unspaced)
    texts, labels = (ZH_POS + ZH_NEG) * 3, ([1] * 4 + [0] * 4) * 3
    result = fair_baseline(texts, labels, ["很好看", "太差了"], [1, 0], ["neg", "pos"])
    assert seen == [len(texts)] and result["chosen_by"]["features"] == features  # decided on the training texts
    assert result["short_name"].endswith("char 1-3 grams" if unspaced else "word 1-2 grams")
    multi = tfidf_svm_multi_label_baseline(texts, np.array([[y, 1 - y] for y in labels]), ["很好看"], [[1, 0]],
                                           ["pos", "neg"])
    assert multi["features"] == features and multi["short_name"].startswith("one-vs-rest TF-IDF + LinearSVC")
    if unspaced:  # characters: the two test reviews share no whole "word" (clause) with the training texts
        assert result["accuracy"] == 1.0


def test_the_real_rule_reads_chinese_as_characters():
    assert baselines.feature_kind(ZH_POS) == "char" and baselines.feature_kind(POSITIVE) == "word"


# === What it trains on ===


def test_the_baseline_trains_on_the_validation_texts_too():
    train_texts, train_labels = (POSITIVE + NEGATIVE) * 3, (["pos"] * 4 + ["neg"] * 4) * 3
    # "meh" occurs in the validation texts only: a baseline trained without them could never predict it.
    valid_texts, valid_labels = MIXED * 2 + POSITIVE[:2], ["meh"] * 8 + ["pos"] * 2
    clf = TextClassifier(**TINY).fit(train_texts, train_labels, validation_data=(valid_texts, valid_labels),
                                     classes=["neg", "pos", "meh"])
    assert len(clf._baseline_data[0]) == len(clf._baseline_data[1]) == 24 + 10
    metrics = clf.evaluate(MIXED + POSITIVE, ["meh"] * 4 + ["pos"] * 4, baseline=True)
    base = metrics["baseline"]
    assert base["train_texts"] == 34 and base["per_class"]["meh"]["recall"] == 1.0
    assert base["chosen_by"]["folds"] == 5 and set(base["chosen_by"]["cv_accuracy"]) == {TFIDF_SVM, NBSVM_NAME}


def test_a_validation_split_held_out_by_zoo_is_in_the_baseline_data():
    texts, labels = (POSITIVE + NEGATIVE) * 5, (["pos"] * 4 + ["neg"] * 4) * 5
    clf = TextClassifier(**TINY, validation_split=0.25).fit(texts, labels)
    baseline_texts, baseline_y = clf._baseline_data
    assert sorted(baseline_texts) == sorted(texts) and len(baseline_y) == len(texts)
    assert sorted(np.asarray(clf.classes_)[baseline_y].tolist()) == sorted(labels)  # each text with its label


def test_multi_label_baseline_data_holds_train_and_validation():
    texts = ["red apple", "blue sky", "red car", "blue sea", "red cherry", "green apple"] * 2
    labels = [["red", "fruit"], ["sky"], ["red", "car"], [], ["red", "fruit"], ["fruit"]] * 2
    clf = TextClassifier(**TINY, multi_label=True).fit(texts, labels, validation_data=(texts[:4], labels[:4]))
    baseline_texts, baseline_y = clf._baseline_data
    assert baseline_texts == texts + texts[:4] and baseline_y.shape == (16, len(clf.classes_))
    assert clf.evaluate(texts, labels, baseline=True)["baseline"]["train_texts"] == 16


# === The report names it ===


def _metrics(baseline):
    per_class = {"neg": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2},
                 "pos": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2}}
    m = {"accuracy": 1.0, "macro_precision": 1.0, "macro_recall": 1.0, "macro_f1": 1.0, "per_class": per_class,
         "epochs_run": 1, "train_seconds": 3.0}
    return {**m, "baseline": {**m, **baseline}}


def test_the_tables_name_the_chosen_model_and_old_runs_still_render(tmp_path):
    new = _metrics({"model": "NBSVM, word 1-2 grams (chosen by 5-fold CV over TF-IDF + LinearSVC)",
                    "short_name": "NBSVM word 1-2 grams",
                    "chosen_by": {"cv_accuracy": {TFIDF_SVM: 0.9, NBSVM_NAME: 0.95}, "folds": 5, "features": "word"}})
    old = _metrics({"model": "TF-IDF word 1-2 grams (sublinear tf) + LinearSVC"})  # zoo 0.3's metrics.json
    assert "| baseline: NBSVM word 1-2 grams | 1.000 |" in metrics_table(new)
    assert "| TF-IDF + LinearSVC | 1.000 |" in metrics_table(old)
    write_report(tmp_path / "report.md", title="t", metrics=new, details=["trained"])
    report = (tmp_path / "report.md").read_text()
    assert "| baseline: NBSVM word 1-2 grams |" in report
    assert "- baseline: NBSVM, word 1-2 grams (chosen by 5-fold CV over TF-IDF + LinearSVC); CV accuracy: " \
           "TF-IDF + LinearSVC 0.900, NBSVM 0.950" in report
    write_report(tmp_path / "old.md", title="t", metrics=old, details=["trained"])
    assert "- baseline" not in (tmp_path / "old.md").read_text()
    runs = []
    for name, metrics in (("new", new), ("old", old)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps(metrics))
        (tmp_path / name / "config.json").write_text(json.dumps({"dataset": "d", "model": "bilstm"}))
        runs.append(str(tmp_path / name))
    table, problems = runs_table(runs)
    assert not problems and table.splitlines()[0].endswith("| baseline |")
    assert table.splitlines()[2].endswith("| NBSVM word 1-2 grams |")
    assert table.splitlines()[3].endswith("| TF-IDF + LinearSVC |")


def test_zoo_report_renders_the_committed_runs_of_0_3():
    import glob
    import os

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    runs = sorted(glob.glob(os.path.join(root, "docs", "results", "*-0.3")))
    table, problems = runs_table(runs)
    rows = [line for line in table.splitlines()[2:] if line.endswith("| TF-IDF + LinearSVC |")]
    assert runs and len(rows) >= 10 and any(line.endswith("| one-vs-rest TF-IDF + LinearSVC |")
                                            for line in table.splitlines())


def test_class_weight_balanced_reaches_every_candidate_and_names_itself():
    # A rare class whose cue word also occurs in a few texts of the common class.
    common = [f"plain text number n{i}" + (" cue" if i < 6 else "") for i in range(60)]
    rare = [f"cue text r{i}" for i in range(6)]
    texts, y = common + rare, np.array([0] * 60 + [1] * 6)
    test = ["cue text new", "plain text new"]
    weighed = fair_baseline(texts, y, test, np.array([1, 0]), ["common", "rare"], class_weight="balanced")
    assert weighed["short_name"].endswith(", classes balanced") and weighed["per_class"]["rare"]["recall"] == 1.0
    assert fair_baseline(texts, y, test, np.array([1, 0]), ["common", "rare"])["short_name"].endswith("grams")
    nbsvm = baselines.NBSVM(class_weight="balanced").fit(baselines.count_vectorizer("word").fit_transform(texts), y)
    assert all(svm.class_weight == "balanced" for svm in nbsvm.svms_)
