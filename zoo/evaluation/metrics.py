"""Test metrics (scikit-learn) and the TF-IDF + LinearSVC baseline."""

import time

import numpy as np
from sklearn import metrics as skm


def classification_metrics(y_true, y_pred, class_names):
    """Accuracy, macro precision/recall/F1 and per-class figures.

    Example:

    >>> m = classification_metrics([0, 1, 1], [0, 1, 0], ["a", "b"])
    >>> round(m["accuracy"], 3), m["per_class"]["b"]["recall"]
    (0.667, 0.5)
    """
    labels = list(range(len(class_names)))
    p, r, f, support = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "macro_precision": float(np.mean(p)),
        "macro_recall": float(np.mean(r)),
        "macro_f1": float(np.mean(f)),
        "num_test_examples": int(len(y_true)),
        "per_class": {
            str(name): {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
            for i, name in enumerate(class_names)
        },
        "confusion_matrix": skm.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def tfidf_svm_baseline(train_texts, train_labels, test_texts, test_labels, class_names, C=1.0, seed=0):
    """TF-IDF (word 1-2 grams, sublinear tf) + LinearSVC, trained and tested on the given split.

    ``seed`` fixes liblinear's coordinate order, so the baseline does not
    depend on the global NumPy random state.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    start = time.time()
    pipeline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LinearSVC(C=C, random_state=seed))
    pipeline.fit(train_texts, train_labels)
    result = classification_metrics(test_labels, pipeline.predict(test_texts), class_names)
    result["model"] = "TF-IDF word 1-2 grams (sublinear tf) + LinearSVC"
    result["train_seconds"] = round(time.time() - start, 1)
    return result
