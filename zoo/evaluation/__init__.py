"""Evaluation: scikit-learn metrics, the fair baseline (TF-IDF or NBSVM + LinearSVC), and run reports.

* :mod:`zoo.evaluation.metrics`: ``classification_metrics``, ``tfidf_svm_baseline``;
* :mod:`zoo.evaluation.report`: the metrics table, ``report.md``, plots, and the table of several runs.
"""

from zoo.evaluation.metrics import classification_metrics, tfidf_svm_baseline

__all__ = ["classification_metrics", "tfidf_svm_baseline"]
