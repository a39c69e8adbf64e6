"""TF-IDF or NBSVM in the n-gram path? The built-in single-label datasets, the path alone, test split unread.

For each dataset, the n-gram path (:func:`zoo.training.ngram_path.fit_ngram_path`) is fitted on the recipe's
training split with ``weighting="tfidf"`` and with ``weighting="nb"``, each scored on the validation split
(accuracy), and once more with ``weighting="auto"``: the cross-validation on the training texts that every fit
makes (``choose_weighting``), its accuracies, its choice and the fit's time with it (``auto_seconds``: the
cross-validation and the chosen path's fit).

    python bench/ngram_weighting.py --datasets 20newsgroups sms_spam shakespeare_genres kjv_divisions zh_reviews \
        --output bench/results/ngram_weighting.json
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common

_common.setup()

import numpy as np

from zoo.data import load_dataset
from zoo.models.hybrid import WEIGHTINGS
from zoo.training.ngram_path import fit_ngram_path, ngram_logits

MAX_TOKENS, SEED = 300000, 0


def compare(name, quick=False):
    data = load_dataset(name)
    texts, y = list(data.train_texts), np.asarray(data.train_labels)
    valid_texts, valid_y = list(data.valid_texts), np.asarray(data.valid_labels)
    if quick:
        texts, y, valid_texts, valid_y = texts[:300], y[:300], valid_texts[:100], valid_y[:100]
    row = {"dataset": name, "train_texts": len(texts), "valid_texts": len(valid_texts)}
    for weighting in WEIGHTINGS:
        start = time.time()
        layer, _ = fit_ngram_path(texts, y, len(data.class_names), MAX_TOKENS, valid_texts, valid_y, seed=SEED,
                                  weighting=weighting)
        row[f"{weighting}_valid_accuracy"] = round(float(np.mean(ngram_logits(layer, valid_texts).argmax(-1)
                                                                 == valid_y)), 4)
        row[f"{weighting}_seconds"] = round(time.time() - start, 1)
    start = time.time()
    _, info = fit_ngram_path(texts, y, len(data.class_names), MAX_TOKENS, valid_texts, valid_y, seed=SEED)
    cv = info["weighting_cv"]
    row.update({f"{k}_cv_accuracy": v for k, v in cv["accuracy"].items()}, cv_folds=cv["folds"],
               chosen=info["weighting"], auto_seconds=round(time.time() - start, 1))
    print(json.dumps(row), flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["sms_spam"])
    _common.add_output_args(parser)
    args = parser.parse_args()
    print("machine:", json.dumps(_common.machine_info()))
    rows = [compare(name, args.quick) for name in args.datasets]
    columns = [(k, k, None) for k in rows[0]]
    print(_common.markdown_table(rows, columns))
    _common.write_json(_common.output_path(args, "ngram_weighting"), {
        "command": "python " + " ".join(sys.argv), "rows": rows, "machine": _common.machine_info()})


if __name__ == "__main__":
    main()
