"""Multi-label: Debian package descriptions -> their debtags, GloVe vectors + BiLSTM, end to end.

The data is a dated snapshot that ships with zoo (``load_dataset("debtags")``,
offline): the 6,035 tagged packages of Debian 12 (bookworm) main that carry
at least one of the 33 common tags of the ``use::`` and ``works-with::``
facets, each text ``"PACKAGE: short description"``, e.g. ``"0ad: Real-time
strategy game of ancient warfare"`` -> ``use::gameplaying``. Its train,
valid and test splits are fixed and grouped by source package
(``docs/multi-label.md``).

What the run does, step by step:

1. a BiLSTM on GloVe 6B 50d vectors with one sigmoid output per tag,
   trained on binary cross-entropy, stopping early on the validation loss
   (texts are short: the sequence cap is the 99th percentile of their lengths);
2. a threshold per tag, each the one with that tag's best F1 on the
   validation split (0.05, 0.10, ..., 0.95; 0.5 for a tag absent there);
3. on the test split: micro and macro F1, precision and recall, and per tag,
   beside a one-vs-rest TF-IDF + LinearSVC trained on the same texts;
4. the run directory: the saved classifier (its thresholds included), an
   ``export/`` whose ``serving_default`` returns each tag's probability and
   the tags above their thresholds, ``metrics.json`` and ``report.md``.

    ZOO_OFFLINE=1 python recipes/debtags_multilabel.py --output-dir runs/debtags_multilabel

The same in Python:

    from zoo import TextClassifier
    from zoo.data.datasets import load_dataset

    ds = load_dataset("debtags")
    clf = TextClassifier(multi_label=True, model="bilstm", init="glove-6b-50d", sequence_length="p99")
    clf.fit(ds.train_texts, ds.label_lists("train"), validation_data=(ds.valid_texts, ds.label_lists("valid")))
    clf.predict(["vim: Vi IMproved - enhanced vi editor"])  # e.g. [['use::editing', 'works-with::text']]
    metrics = clf.evaluate(ds.test_texts, ds.label_lists("test"), baseline=True)
    metrics["micro_f1"], metrics["macro_f1"], metrics["baseline"]["micro_f1"]

Your own files train the same way with ``zoo train --train train.csv --test
test.csv --multi-label --label-separator "|"`` (a cell
``use::editing|works-with::text``), or JSON lines whose label field is a list.
"""

from zoo.cli import train

RECIPE = {"dataset": "debtags", "multi_label": True, "model": "bilstm", "init": "glove-6b-50d",
          "sequence_length": "p99", "output_dir": "runs/debtags_multilabel"}

if __name__ == "__main__":
    train.main(defaults=RECIPE, prog="recipes/debtags_multilabel.py", description=__doc__,
               recipe="debtags_multilabel")
