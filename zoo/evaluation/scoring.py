"""Scores of a fitted classifier's paths: the metrics :meth:`~zoo.text_classifier.TextClassifier.evaluate`
returns, and the per-label thresholds of a multi-label classifier, chosen on validation.

Each function takes the fitted classifier (its ``predict_paths``,
``classes_``, ``ngram_``, ``blend_weight_``, ``settings_``) and labels
already encoded by :mod:`zoo.data.inputs`; the baseline, when asked for, is
trained on ``baseline_data`` (texts and encoded labels).
"""

import numpy as np

from zoo.config import DEFAULT_THRESHOLD
from zoo.errors import DataError
from zoo.evaluation import explanations
from zoo.evaluation.baselines import fair_baseline, tfidf_svm_multi_label_baseline
from zoo.evaluation.calibration import (
    calibration_metrics,
    label_calibration_metrics,
    label_calibration_record,
    move_thresholds,
)
from zoo.evaluation.metrics import (
    MIN_POSITIVES_FOR_OWN_THRESHOLD,
    classification_metrics,
    multi_label_metrics,
    shared_thresholds,
)
from zoo.log import logger


def evaluate_single_label(clf, texts, y, baseline_data=None, explain_errors=False):
    """Accuracy, macro precision/recall/F1, per class and the confusion matrix; a hybrid's paths alone, an
    ensemble's members and smaller ensembles; with ``baseline_data``, the fair baseline beside; with
    ``explain_errors``, each top-loss text's explanation (:func:`explain_top_losses`)."""
    paths = clf.predict_paths(texts)
    member_probs = paths["members"]
    names = [str(c) for c in clf.classes_]
    metrics = classification_metrics(y, paths["model"].argmax(-1), names)
    if clf.ngram_ is not None:
        parts = {name: classification_metrics(y, paths[name].argmax(-1), names) for name in ("recurrent", "ngram")}
        for part in parts.values():
            part.pop("confusion_matrix")
        metrics["paths"] = {**parts, "blend_weight": clf.blend_weight_}
    if len(member_probs) > 1:
        seeds = [clf.settings_.seed + 1000 * k for k in range(len(member_probs))]
        scores = [classification_metrics(y, p.argmax(-1), names) for p in member_probs]
        metrics["members"] = [{"seed": seed, "accuracy": s["accuracy"], "macro_f1": s["macro_f1"]}
                              for seed, s in zip(seeds, scores)]
        metrics["accuracy_by_ensemble_size"] = [
            round(float(np.mean(np.mean(member_probs[:k], axis=0).argmax(-1) == y)), 4)
            for k in range(1, len(member_probs) + 1)]
    metrics["errors"] = error_analysis(texts, y, paths["model"], names)
    if explain_errors:
        explain_top_losses(clf, texts, metrics["errors"])
    metrics["calibration"] = calibration_metrics(paths["uncalibrated"], paths["model"], y,
                                                 getattr(clf, "calibration_", 1.0))
    if baseline_data is not None:
        train_texts, train_y = baseline_data
        logger.info(f"baseline: TF-IDF + LinearSVC or NBSVM, chosen by cross-validation on the {len(train_texts)} "
                    "labelled texts")
        weighed = clf.settings_.class_weight == "balanced"  # (a user weighing zoo's classes weighs the SVM's too)
        _add_baseline(metrics, lambda: fair_baseline(train_texts, train_y, texts, y, names, seed=clf.settings_.seed,
                                                     class_weight="balanced" if weighed else None))
    return metrics


def _add_baseline(metrics, fit):
    """``metrics["baseline"] = fit()``; where the baseline cannot be fitted (texts without a word it counts), one
    warning line and no baseline: the model is trained by now, and a run must not be lost for its comparison."""
    try:
        metrics["baseline"] = fit()
    except DataError as error:
        logger.warning(f"{error}: the report leaves the baseline out")


def error_analysis(texts, y, probabilities, names, *, thresholds=None, k=10, width=300):
    """Where the model is wrong: the ``k`` texts of highest loss and, single-label, the most confused pairs.

    Args:
        texts, y: the evaluation texts and their encoded labels (class ids;
            with ``thresholds``, a 0/1 matrix: multi-label).
        probabilities: the model's, ``(len(texts), len(names))``.
        names: the class names.
        thresholds: a multi-label classifier's, one per label.
        k: how many texts and pairs.
        width: texts longer than this many characters are cut (``...``).

    Returns:
        ``{"top_losses": [...], "most_confused": [...]}``: each top loss with
        its text, labels, prediction and loss (cross-entropy of the true
        label; multi-label: the mean binary cross-entropy over the labels);
        each confused pair as ``{"true", "predicted", "count"}``, most
        frequent first (single-label only).

    Example:

    >>> p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> errors = error_analysis(["a", "b", "c"], np.array([0, 0, 1]), p, ["x", "y"], k=2)
    >>> [(e["text"], e["label"], e["predicted"]) for e in errors["top_losses"]]
    [('b', 'x', 'y'), ('c', 'y', 'x')]
    >>> errors["most_confused"]
    [{'true': 'x', 'predicted': 'y', 'count': 1}, {'true': 'y', 'predicted': 'x', 'count': 1}]
    """
    p = np.clip(np.asarray(probabilities, np.float64), 1e-7, 1 - 1e-7)
    y = np.asarray(y)
    if thresholds is not None:  # multi-label
        losses = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=1)
        predicted = p >= np.asarray(thresholds)
        labels = [[names[j] for j in np.flatnonzero(row)] for row in y]
        guesses = [[names[j] for j in np.flatnonzero(row)] for row in predicted]
    else:
        losses = -np.log(p[np.arange(len(y)), y])
        labels, guesses = [names[i] for i in y], [names[i] for i in p.argmax(-1)]
    worst = np.argsort(-losses, kind="stable")[:k]
    top = [{"text": _cut(texts[i], width), "label": labels[i], "predicted": guesses[i],
            "loss": round(float(losses[i]), 4), "index": int(i)} for i in worst]
    if thresholds is None:
        for entry, i in zip(top, worst):
            entry["probability_of_label"] = round(float(p[i, y[i]]), 4)
    confused = []
    if thresholds is None:
        counts = np.zeros((len(names), len(names)), np.int64)
        np.add.at(counts, (y, p.argmax(-1)), 1)
        np.fill_diagonal(counts, 0)
        order = np.argsort(-counts, axis=None, kind="stable")[:k]
        confused = [{"true": names[a], "predicted": names[b], "count": int(counts[a, b])}
                    for a, b in zip(*np.unravel_index(order, counts.shape)) if counts[a, b] > 0]
    return {"top_losses": top, "most_confused": confused}


def explain_top_losses(clf, texts, errors, k=6, width=120):
    """Adds to each top loss of ``errors`` the ``k`` tokens that counted most for its (most probable)
    prediction (:mod:`zoo.evaluation.explanations`): ``"explanation": [[token, contribution], ...]``, and its
    first ``width`` tokens in order, each with its contribution (``"attributions"``: the HTML report's
    highlighting)."""
    worst = errors["top_losses"]
    if not worst:
        return
    for entry, e in zip(worst, explanations.explain(clf, [texts[entry["index"]] for entry in worst])):
        entry["explanation"] = [[token, round(value, 4)] for token, value in e.top(k)]
        entry["attributions"] = [[token, round(float(value), 4)]
                                 for token, value in zip(e.tokens[:width], e.contributions[:width])]


def _cut(text, width):
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def evaluate_multi_label(clf, texts, y, baseline_data=None, explain_errors=False):
    """Micro/macro figures and per label at the chosen thresholds; a hybrid's paths alone (each at its own
    thresholds); with ``baseline_data``, the one-vs-rest baseline beside; with ``explain_errors``, each
    top-loss text's explanation of its most probable label."""
    names = [str(c) for c in clf.classes_]
    paths = clf.predict_paths(texts)
    metrics = multi_label_metrics(y, paths["model"] >= clf.thresholds_, names)
    metrics["thresholds"] = dict(zip(names, [round(float(t), 2) for t in clf.thresholds_]))
    alone = (clf.fit_record_.thresholds or {}).get("paths")
    if clf.ngram_ is not None and alone:  # each path alone, at the thresholds chosen for it on validation
        metrics["paths"] = {name: multi_label_metrics(y, paths[name] >= np.asarray(alone[name]), names)
                            for name in ("recurrent", "ngram")}
        for part in metrics["paths"].values():
            part.pop("per_class", None)
        metrics["paths"]["blend_weight"] = [float(w) for w in np.atleast_1d(clf.blend_weight_)]
    metrics["errors"] = error_analysis(texts, y, paths["model"], names, thresholds=clf.thresholds_)
    if explain_errors:
        explain_top_losses(clf, texts, metrics["errors"])
    metrics["calibration"] = label_calibration_metrics(paths["uncalibrated"], paths["model"], y,
                                                       getattr(clf, "calibration_", 1.0))
    if baseline_data is not None:
        train_texts, train_y = baseline_data
        logger.info(f"one-vs-rest TF-IDF + LinearSVC baseline on the {len(train_texts)} labelled texts")
        _add_baseline(metrics, lambda: tfidf_svm_multi_label_baseline(
            train_texts, train_y, texts, y, names, seed=clf.settings_.seed,
            class_weight="balanced" if clf.settings_.class_weight == "balanced" else "auto"))
    return metrics


def label_thresholds(clf, valid_texts, valid_y):
    """Each label's threshold, chosen on the validation split (:func:`zoo.evaluation.metrics.shared_thresholds`: one
    shared, a label's own where it has enough positives; of a hybrid, after the blend, and of each path alone for
    the report); ``(thresholds, what to report)``."""
    names = [str(c) for c in clf.classes_]
    if not len(valid_y):
        logger.warning(f"multi-label: no validation split: every label's threshold is {DEFAULT_THRESHOLD}")
        thresholds = np.full(len(names), DEFAULT_THRESHOLD)
        return thresholds.astype(np.float32), {"chosen_on": "none: no validation split",
                                               "values": dict(zip(names, thresholds.tolist()))}
    paths = clf.predict_paths(valid_texts)
    probabilities = paths["model"]
    thresholds, f1, shared, own = shared_thresholds(valid_y, probabilities)
    alone = {name: [round(float(t), 2) for t in shared_thresholds(valid_y, paths[name])[0]]
             for name in ("recurrent", "ngram") if clf.ngram_ is not None}
    absent = [name for name, value in zip(names, f1) if np.isnan(value)]
    logger.info(f"multi-label: thresholds chosen on the {len(valid_y)} validation texts: {shared:.2f} shared, "
                f"{int(own.sum())} of {len(names)} labels their own (those with {MIN_POSITIVES_FOR_OWN_THRESHOLD} or "
                f"more positives there)" + (f"; {len(absent)} label(s) absent there: {', '.join(absent[:5])}"
                                            + (", ..." if len(absent) > 5 else "") if absent else ""))
    at_half = multi_label_metrics(valid_y, probabilities >= DEFAULT_THRESHOLD, names)
    chosen = multi_label_metrics(valid_y, probabilities >= thresholds, names)
    return thresholds.astype(np.float32), {
        "chosen_on": (f"the validation split ({len(valid_y)} texts): the best micro F1 over 0.05, ..., 0.95 shared, "
                      f"each label's best F1 where it has {MIN_POSITIVES_FOR_OWN_THRESHOLD} or more positives"),
        "shared": shared, "own": [name for name, mine in zip(names, own) if mine],
        "values": dict(zip(names, [round(float(t), 2) for t in thresholds])),
        "absent_from_validation": absent,
        "valid_micro_f1": {"at_0.5": at_half["micro_f1"], "chosen": chosen["micro_f1"]},
        "valid_macro_f1": {"at_0.5": at_half["macro_f1"], "chosen": chosen["macro_f1"]},
        **({"paths": alone} if alone else {})}


def calibrate_labels(clf, probabilities, y, where):
    """A multi-label classifier's calibration on ``(probabilities, y)`` (its uncalibrated probabilities of texts
    labelled ``y``): ``(scaling, thresholds, what to report)``: Platt scaling per label
    (:func:`zoo.evaluation.calibration.fit_label_scaling`) and the thresholds moved to the same cuts on the
    calibrated probabilities (no predicted label set changes)."""
    scaling, record = label_calibration_record(probabilities, y, where, [str(c) for c in clf.classes_])
    thresholds = move_thresholds(clf.thresholds_, scaling, before=clf.calibration_)
    if clf.fit_record_.thresholds:  # the values as the classifier uses them: on the calibrated probabilities
        clf.fit_record_.thresholds["values"] = {str(name): round(t, 4) for name, t in
                                                zip(clf.classes_, thresholds.tolist())}
    return scaling, thresholds, record
