"""class_weight="balanced" reaches every path: the recurrent loss (word vectors and ULMFiT), the n-gram path's
SVM, and the blend weight, chosen by macro F1."""

import numpy as np

from zoo.text_classifier import TextClassifier
from zoo.training.ngram_path import choose_blend_weight


def test_the_blend_is_chosen_by_macro_f1_when_asked():
    # 180 texts of "a", 20 of "b". The recurrent path calls every text "a"; the n-gram path gets every "b" right
    # but misses 30 "a" texts: accuracy prefers the recurrent path (0.90 against 0.85, beyond one standard
    # error), macro F1 the n-gram path.
    y = np.array([0] * 180 + [1] * 20)
    recurrent = np.tile([[0.9, 0.1]], (200, 1)).astype("float32")
    logits = np.tile([[3.0, -3.0]], (200, 1)).astype("float32")
    logits[list(range(30)) + list(range(180, 200))] = [-3.0, 3.0]
    by_accuracy, _ = choose_blend_weight(recurrent, logits, y)
    by_f1, scores = choose_blend_weight(recurrent, logits, y, by="macro_f1")
    assert by_f1 < by_accuracy and scores["hybrid_macro_f1"] > scores["recurrent_macro_f1"]


def test_balanced_weights_reach_the_ngram_path_and_choose_the_blend():
    texts = ["great fun film", "loved every minute", "fun and great", "boring and slow"] * 8
    labels = ["pos", "pos", "pos", "neg"] * 8
    clf = TextClassifier(init="none", units=4, embedding_dim=4, epochs=1, class_weight="balanced", verbose=0)
    clf.fit(texts, labels, validation_data=(texts[:8], labels[:8]))
    hybrid = clf.fit_record_.hybrid
    assert hybrid["class_weight"] == "balanced" and hybrid["blend_chosen_by"].startswith("macro F1")
    assert "hybrid_macro_f1" in hybrid["valid_accuracy"]
    # (the ULMFiT member's weights: tests/evaluation/test_explanations.py, with its one ULMFiT fit)
