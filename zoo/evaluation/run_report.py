"""A ``zoo train`` run's record and report: the metrics and config it writes, and its ``report.md``.

The CLI parses, calls the estimator and writes; what the run reports is
assembled here from the fitted classifier's fit record (``fit_record_``,
``history_``, ``companions_``) and :meth:`~zoo.text_classifier.TextClassifier.evaluate`'s
metrics, and rendered with :mod:`zoo.evaluation.report`.
"""

import os
import platform

import keras
import numpy as np
import sklearn
import tensorflow as tf

from zoo.evaluation import html_report, report
from zoo.log import logger
from zoo.models.hybrid import WEIGHTING_NAMES
from zoo.version import __version__

# What the fit record adds to the test metrics in metrics.json.
FIT_RECORD_KEYS = ("vector_coverage", "language_model", "hybrid", "auto", "thresholds", "transfer")


def run_metrics(clf, metrics, *, labels, evaluated_on):
    """``metrics.json``: the test metrics (:meth:`~zoo.text_classifier.TextClassifier.evaluate`) with what the
    training did (time, epochs, history, the hybrid, auto's choice, the thresholds...), the baseline last."""
    record = clf.fit_record_
    metrics = {**metrics, "train_seconds": record.train_seconds, "epochs_run": record.epochs_run,
               "truncated_train_texts": record.truncated_train_texts, "history": clf.history_, "labels": labels,
               "evaluated_on": evaluated_on}
    for key in FIT_RECORD_KEYS:
        if getattr(record, key) is not None:
            metrics[key] = getattr(record, key)
    if record.calibration is not None and "calibration" in metrics:  # the test's figures beside where it was chosen
        metrics["calibration"] = {**metrics["calibration"], "chosen_on": record.calibration["chosen_on"]}
    if record.thresholds is not None:  # multi-label: the values beside how they were chosen
        metrics["thresholds"] = {**record.thresholds, "values": metrics["thresholds"]["values"]}
    if "baseline" in metrics:  # keep the old key order of metrics.json: the baseline last
        metrics["baseline"] = metrics.pop("baseline")
    return metrics


def run_config(clf, *, recipe, command, data, run, classifier, dataset_summary, class_names):
    """``config.json``: what was asked (``data``, ``run``, ``classifier``: their dicts), what ran (the settings
    with every default filled in, the model, the vocabulary, the distribution) and the library versions."""
    record = clf.fit_record_
    return {
        "recipe": recipe, "command": command, "data": data, "run": run,
        "classifier": classifier, "settings": clf.settings_.to_dict(), "model": record.model,
        "procedure": record.procedure,
        "dataset_summary": dataset_summary, "class_names": class_names,
        "vocab_size": len(clf.vectorizer_.get_vocabulary()), "resolved_sequence_length": clf.sequence_length_,
        "precision": record.precision, "replicas": record.replicas, "global_batch_size": record.global_batch_size,
        "language_model": record.language_model_config, "versions": versions(),
        "companions": [{"settings": c.settings_.to_dict(), "model": c.fit_record_.model} for c in clf.companions_],
    }


def write_run_report(out, clf, config, metrics):
    """The run's plots (confusion matrix, learning curves), ``report.md`` and ``report.html`` in the folder ``out``.

    A plot that fails is one warning, not the run: these are written inside the run's folder before it is swapped
    in, so an error here would lose the training; the numbers are all in metrics.json."""
    drawn = False  # confusion_matrix.png: none for multi-label, none past report.CONFUSION_MATRIX_MAX_CLASSES classes
    if "confusion_matrix" in metrics:  # single-label
        drawn = _plot("confusion matrix", report.plot_confusion_matrix, metrics["confusion_matrix"],
                      config["class_names"], os.path.join(out, "confusion_matrix.png"))
    _plot("learning curves", report.plot_history, metrics["history"], os.path.join(out, "curves"))
    if metrics.get("calibration"):
        _plot("calibration", report.plot_calibration, metrics["calibration"], os.path.join(out, "calibration.png"))
    settings = config["settings"]
    coverage = metrics.get("vector_coverage")
    details = [
        f"{metrics.get('evaluated_on', 'test')} examples: {metrics['num_test_examples']}",
        f"training time: {metrics['train_seconds']:.0f} s; epochs run: {metrics['epochs_run']}",
        f"init: {settings['init']}" + _coverage_note(settings["init"], coverage)
        + _companion_notes(clf.companions_),
        (f"sequence length: {config['resolved_sequence_length']} tokens "
         f"({metrics.get('truncated_train_texts', 0)} training texts cut)"),
        f"seed: {settings['seed']}",
    ]
    hybrid = metrics.get("hybrid")
    if hybrid:
        how = ("chosen per label on the validation split" if hybrid.get("blend", {}).get("overall") is not None else
               "chosen on the validation split" if hybrid.get("valid_accuracy") else
               "chosen by init auto's comparison" if metrics.get("auto") else "fixed: no validation split")
        weighs = (f"{hybrid['blend_weight']:.2f}" if "blend_weights" not in hybrid else  # multi-label: per label
                  f"from {min(hybrid['blend_weights']):.2f} to {max(hybrid['blend_weights']):.2f} by label")
        details.append(f"hybrid: the recurrent path weighs {weighs} against the n-gram path "
                       f"({hybrid['features']} {_grams(hybrid)}{_bigrams(hybrid)}{_weighting(hybrid)}, temperature "
                       f"{hybrid['temperature']:.3g}{_self_training(hybrid)}; {how})" + _refit(hybrid))
    thresholds = metrics.get("thresholds")
    if thresholds:  # multi-label
        values = list(thresholds["values"].values())
        details.append(f"multi-label: {len(values)} labels, a threshold each (from {min(values):.2f} to "
                       f"{max(values):.2f}) chosen on {thresholds['chosen_on']}; test texts have "
                       f"{metrics['labels_per_text']:.2f} labels on average, the model predicts "
                       f"{metrics['predicted_labels_per_text']:.2f}")
        if "valid_micro_f1" in thresholds:
            micro, macro = thresholds["valid_micro_f1"], thresholds["valid_macro_f1"]
            details.append(f"validation micro F1 {micro['at_0.5']:.3f} at 0.5, {micro['chosen']:.3f} at the chosen "
                           f"thresholds; macro F1 {macro['at_0.5']:.3f} and {macro['chosen']:.3f}")
    transfer = metrics.get("transfer")
    if transfer:  # init model:RUN_DIR
        details.append(f"started from the {transfer['source_classes']}-class classifier in {transfer['source']}: "
                       f"{', '.join(transfer['copied_layers'])} copied (it knew {transfer['vocabulary_known']:.1%} "
                       "of this vocabulary), a new head")
    chosen = metrics.get("auto")
    if chosen:
        compared = "; ".join(f"{c['name']} {c['valid_accuracy']:.3f}" if "valid_accuracy" in c
                             else f"{c['name']} skipped ({c['skipped']})" for c in chosen["candidates"])
        both = " (both: their recurrent paths averaged)" if "+" in chosen["chose"] else ""
        details.append(f"init auto chose {chosen['chose']}{both}: {chosen['why']} on {chosen['validation']}; "
                       f"{compared}")
    dataset = config["data"]["dataset"] or config["data"]["train"]
    report.write_report(os.path.join(out, "report.md"), title=f"{config['recipe']}: {dataset} with {config['model']}",
                        metrics=metrics, details=details, cudnn=clf.fit_record_.cudnn, confusion_matrix=bool(drawn))
    html_report.write_html_report(out, metrics)  # the same, one self-contained page


def _plot(what, plot, *args):
    """``plot(*args)``'s result, or False with one warning when it fails (out of memory for a huge figure, ...)."""
    try:
        return plot(*args)
    except Exception as error:  # noqa: BLE001 (a figure is never worth the run)
        first = (str(error).strip().splitlines() or [""])[0]  # one line, whatever the library wrote
        logger.warning(f"{what}: not drawn ({type(error).__name__}: {first}); the numbers are in metrics.json")
        return False


def _self_training(hybrid):
    done = hybrid.get("self_training")
    return (f", self-trained on the {done['added']} most confident of {done['unlabelled']} unlabelled texts"
            if done else "")


def _refit(hybrid):
    refit = hybrid.get("refit")  # (ngram_refit: zoo.training.fit_steps.FitSteps.refit_ngram_path)
    return (f", then fitted again on the {refit['texts']} training and validation texts ({refit['features']} "
            "n-grams)" if refit else "")


def _grams(hybrid):
    ngrams = hybrid.get("ngrams", 2)  # (absent before: word uni- and bigrams)
    return "uni- and bigrams" if ngrams == 2 else f"1-{ngrams} grams of characters"


def _bigrams(hybrid):
    weight = hybrid.get("bigram_weight")
    return "" if weight is None else f", bigrams normalised apart and weighing {weight:g} (a small training set)"


def _weighting(hybrid):
    """Which features the path weighs (``zoo.training.ngram_path.choose_weighting``), and why."""
    name = WEIGHTING_NAMES[hybrid.get("weighting", "tfidf")]  # (absent before: TF-IDF)
    compared = hybrid.get("weighting_cv") or {}
    return f", {name}" + (" ({folds}-fold CV accuracy TF-IDF {tfidf:.4f}, NBSVM {nb:.4f})".format(
        folds=compared["folds"], **compared["accuracy"]) if compared.get("folds") else "")


def versions():
    """The versions of zoo, Python and the libraries a run used."""
    return {"zoo": __version__, "python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "scikit-learn": sklearn.__version__, "numpy": np.__version__}


def _companion_notes(companions):
    """The init of each companion (init auto's pair), with the vectors it used where zoo replaced them.

    >>> from types import SimpleNamespace as Fitted
    >>> coverage = {"hit_rate": 0.558, "vectors": "zh-chars-pd1998-100d"}
    >>> note = _companion_notes([Fitted(settings_=Fitted(init="glove-6b-50d"),
    ...                                 fit_record_=Fitted(vector_coverage=coverage))])
    >>> note.split(", init ")[1]
    'glove-6b-50d (vectors zh-chars-pd1998-100d cover 55.8% of the vocabulary)'
    """
    return "".join(f"; with the recurrent path of a second model, init {c.settings_.init}"
                   + _coverage_note(c.settings_.init, c.fit_record_.vector_coverage) for c in companions)


def _coverage_note(init, coverage):
    """How much of the vocabulary the vectors covered, naming them where ``init`` does not: ``auto``, or the
    English default that zoo replaced with its Chinese character vectors for Chinese texts.

    >>> _coverage_note("glove-6b-50d", {"hit_rate": 0.558, "vectors": "zh-chars-pd1998-100d"})
    ' (vectors zh-chars-pd1998-100d cover 55.8% of the vocabulary)'
    """
    if not coverage:
        return ""
    used = coverage.get("vectors")
    which = f" {used}" if used and used != init else ""
    return f" (vectors{which} cover {coverage['hit_rate']:.1%} of the vocabulary)"
