"""Test metrics (scikit-learn), thresholds, and the plain TF-IDF + LinearSVC baseline.

The baseline printed beside a single-label zoo model is :func:`zoo.evaluation.baselines.fair_baseline` (the
stronger of this TF-IDF + LinearSVC and NBSVM, by cross-validation), and beside a multi-label one
:func:`zoo.evaluation.baselines.tfidf_svm_multi_label_baseline`; :func:`tfidf_svm_baseline` stays the plain
model of zoo 0.1-0.3.
"""

import time

import numpy as np
from sklearn import metrics as skm

from zoo.config import DEFAULT_THRESHOLD


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
        "num_test_examples": len(y_true),
        "per_class": {
            str(name): {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
            for i, name in enumerate(class_names)
        },
        "confusion_matrix": skm.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def tfidf_svm_baseline(train_texts, train_labels, test_texts, test_labels, class_names, C=1.0, seed=0):
    """TF-IDF (word 1-2 grams, sublinear tf) + LinearSVC, trained and tested on the given split.

    ``seed`` fixes liblinear's coordinate order, so the baseline does not
    depend on the global NumPy random state. (zoo's evaluation uses
    :func:`zoo.evaluation.baselines.fair_baseline`, of which this is one candidate.)
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


# === Multi-label ===

THRESHOLD_GRID = tuple(round(0.05 * k, 2) for k in range(1, 20))  # 0.05, 0.10, ..., 0.95


def choose_thresholds(y_true, probabilities, grid=THRESHOLD_GRID):
    """A threshold per label: the grid value with the best F1 of that label on ``(y_true, probabilities)``.

    ``y_true`` is a 0/1 matrix ``(texts, labels)`` (the validation split).
    Ties go to the value nearest 0.5; a label with no positive example there
    keeps :data:`DEFAULT_THRESHOLD` (its F1 is 0 at every threshold).

    Returns:
        ``(thresholds, f1)``: float arrays of one value per label (``f1``: the
        validation F1 at the chosen threshold, NaN where the label was absent).

    Example:

    >>> y = np.array([[1, 0], [1, 0], [0, 0]])
    >>> p = np.array([[0.3, 0.9], [0.35, 0.2], [0.1, 0.1]])
    >>> thresholds, f1 = choose_thresholds(y, p)
    >>> thresholds.tolist(), f1[0].item()
    ([0.3, 0.5], 1.0)
    """
    y_true, probabilities = np.asarray(y_true).astype(bool), np.asarray(probabilities)
    grid = np.asarray(grid, np.float64)
    thresholds = np.full(y_true.shape[1], DEFAULT_THRESHOLD)
    best_f1 = np.full(y_true.shape[1], np.nan)
    for j in range(y_true.shape[1]):
        positives = y_true[:, j].sum()
        if not positives:
            continue
        predicted = probabilities[:, j][None, :] >= grid[:, None]  # (grid, texts)
        tp = (predicted & y_true[:, j]).sum(1)
        f1 = 2 * tp / np.maximum(predicted.sum(1) + positives, 1)
        best = np.flatnonzero(f1 == f1.max())
        k = best[np.argmin(np.abs(grid[best] - DEFAULT_THRESHOLD))]
        thresholds[j], best_f1[j] = grid[k], f1[k]
    return thresholds, best_f1


# A label takes a threshold of its own only with this many positives in the validation split; the others share one.
# Why: per-label thresholds chosen on a few positives overfit. On debtags' validation split, cut in two halves
# (thresholds chosen on one, scored on the other), one shared threshold gave micro F1 0.624 and 0.618 where a
# threshold per label gave 0.592 and 0.598; own thresholds for labels with 20 or more positives in a half (about
# 40 in the whole split) kept the shared one's micro F1 and raised macro F1 a little (0.545 and 0.551).
MIN_POSITIVES_FOR_OWN_THRESHOLD = 40


def shared_thresholds(y_true, probabilities, grid=THRESHOLD_GRID, min_positives=MIN_POSITIVES_FOR_OWN_THRESHOLD):
    """Thresholds chosen on the validation split with little data in mind: one for all labels, the grid value of
    the best micro F1 (ties: nearest 0.5), and a label's own (:func:`choose_thresholds`) where it has at least
    ``min_positives`` positive texts there.

    Returns:
        ``(thresholds, f1, shared, own)``: the thresholds, each label's validation F1 at its own best threshold
        (NaN where absent), the shared threshold, and a bool array of the labels with their own.

    Example:

    >>> y = np.array([[1, 0]] * 3 + [[0, 1]] * 2)
    >>> p = np.array([[0.7, 0.1], [0.4, 0.2], [0.45, 0.1], [0.1, 0.35], [0.2, 0.6]])
    >>> thresholds, _, shared, own = shared_thresholds(y, p, min_positives=3)
    >>> thresholds.tolist(), shared, own.tolist()
    ([0.4, 0.35], 0.35, [True, False])
    """
    y_true, probabilities = np.asarray(y_true).astype(bool), np.asarray(probabilities)
    grid = np.asarray(grid, np.float64)
    own_thresholds, f1 = choose_thresholds(y_true, probabilities, grid)
    predicted = probabilities[None, :, :] >= grid[:, None, None]  # (grid, texts, labels)
    tp = (predicted & y_true[None]).sum(axis=(1, 2))
    micro = 2 * tp / np.maximum(predicted.sum(axis=(1, 2)) + y_true.sum(), 1)
    best = np.flatnonzero(micro == micro.max())
    shared = float(grid[best[np.argmin(np.abs(grid[best] - DEFAULT_THRESHOLD))]])
    own = y_true.sum(axis=0) >= min_positives
    return np.where(own, own_thresholds, shared), f1, shared, own


def multi_label_metrics(y_true, y_pred, class_names):
    """Micro/macro precision, recall and F1, subset accuracy and per-label figures of 0/1 matrices.

    ``accuracy`` is scikit-learn's ``accuracy_score`` of multi-label rows:
    the share of texts whose whole label set is right (subset accuracy).

    Example:

    >>> m = multi_label_metrics([[1, 0], [1, 1]], [[1, 0], [0, 1]], ["a", "b"])
    >>> m["micro_f1"], m["macro_f1"], m["accuracy"], m["per_class"]["a"]["recall"]
    (0.8, 0.8333333333333333, 0.5, 0.5)
    """
    y_true, y_pred = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)
    p, r, f, support = skm.precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    result = {"multi_label": True, "accuracy": float(skm.accuracy_score(y_true, y_pred))}
    for average in ("micro", "macro"):
        ap, ar, af, _ = skm.precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)
        result.update({f"{average}_precision": float(ap), f"{average}_recall": float(ar), f"{average}_f1": float(af)})
    result.update({
        "samples_f1": float(skm.f1_score(y_true, y_pred, average="samples", zero_division=0)),
        "hamming_loss": float(skm.hamming_loss(y_true, y_pred)),
        "labels_per_text": float(y_true.sum(1).mean()) if len(y_true) else 0.0,
        "predicted_labels_per_text": float(y_pred.sum(1).mean()) if len(y_pred) else 0.0,
        "num_test_examples": len(y_true),
        "per_class": {
            str(name): {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
            for i, name in enumerate(class_names)
        },
    })
    return result
