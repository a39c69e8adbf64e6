"""Should the multi-label n-gram path be fitted again on the training and validation texts once the validation split
has chosen everything? A study on validation data only (``zoo.training.fit_steps`` cites it).

debtags' validation split (585 packages) is cut in two halves by source
package, so binaries of one source never straddle them (as the dataset's own
splits are made). For each half A (the other is B), the n-gram path
(:func:`zoo.training.ngram_path.fit_multi_label_ngram_path`, unweighted and
with balanced class weights) is fitted on the training split and its
temperature chosen on A, then the thresholds on A (one shared, a label's own
with 20 or more positives in A: half of :data:`zoo.evaluation.metrics.MIN_POSITIVES_FOR_OWN_THRESHOLD`);
B scores that path and the same path fitted again on the training split and A, with the same temperature and
thresholds. The test split is not read.

``--single DATASET...`` asks the same of the single-label n-gram path
(:func:`zoo.training.ngram_path.fit_ngram_path`, alone): each built-in
dataset's validation split in two seeded stratified halves, the path fitted on
train (its temperature chosen on A) or on train and A, accuracy on B, both
ways. zoo does not refit the single-label path (``docs/hybrid.md`` says why);
this measures what it would gain.

    python bench/ngram_refit.py --output docs/results/ngram-refit/results.json
    python bench/ngram_refit.py --single sms_spam zh_reviews kjv_divisions shakespeare_genres 20newsgroups \
        --output docs/results/ngram-refit/single-label.json

(``--quick`` is accepted and changes nothing: the study takes under a minute.)
"""

import argparse
import gzip
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common

_common.setup()

import numpy as np
from sklearn.metrics import f1_score

from zoo.data import load_dataset
from zoo.data.datasets import split_indices
from zoo.data.debtags import SNAPSHOT
from zoo.evaluation.metrics import shared_thresholds
from zoo.training.ngram_path import (
    fit_multi_label_ngram_path,
    fit_ngram_path,
    ngram_logits,
)

MAX_TOKENS, MIN_POSITIVES_IN_HALF, SEED = 300000, 20, 0


def source_halves(valid_texts):
    """The validation texts' indices in two halves of their source packages (seeded)."""
    with gzip.open(SNAPSHOT) as f:
        rows = [row for row in map(json.loads, f) if row["split"] == "valid"]
    assert [row["text"] for row in rows] == list(valid_texts), "the snapshot's validation rows, in order"
    sources = sorted({row["source"] for row in rows})
    first = {sources[i] for i in np.random.default_rng(SEED).permutation(len(sources))[:len(sources) // 2]}
    return [np.array([i for i, row in enumerate(rows) if (row["source"] in first) == keep]) for keep in (True, False)]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def scores(y, probabilities, thresholds):
    predicted = probabilities >= thresholds
    return {"micro_f1": float(f1_score(y, predicted, average="micro")),
            "macro_f1": float(f1_score(y, predicted, average="macro", zero_division=0))}


def single_label(names):
    """The ``--single`` study (the module docstring): one row per dataset."""
    rows = []
    for name in names:
        data = load_dataset(name)
        texts, y = list(data.train_texts), np.asarray(data.train_labels)
        valid_texts, valid_y = list(data.valid_texts), np.asarray(data.valid_labels)
        first, second = split_indices(valid_y, SEED, test_size=0.5)
        accuracy = {"train": [], "train + A": []}
        for a, b in ((first, second), (second, first)):
            a_texts, b_texts = [valid_texts[i] for i in a], [valid_texts[i] for i in b]
            layer, info = fit_ngram_path(texts, y, len(data.class_names), MAX_TOKENS, a_texts, valid_y[a], seed=SEED)
            refit, _ = fit_ngram_path(texts + a_texts, np.concatenate([y, valid_y[a]]), len(data.class_names),
                                      MAX_TOKENS, seed=SEED, temperature=info["temperature"],
                                      bigram_weight=info["bigram_weight"], ngrams=info["ngrams"])
            for key, path in (("train", layer), ("train + A", refit)):
                accuracy[key].append(float(np.mean(ngram_logits(path, b_texts).argmax(-1) == valid_y[b])))
        row = {"dataset": name, "train_texts": len(texts), "valid_texts": len(valid_texts),
               **{f"accuracy, fitted on {k}": round(float(np.mean(v)), 4) for k, v in accuracy.items()},
               "both_ways": accuracy}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(_common.markdown_table(rows, [(k, k, None) for k in rows[0] if k != "both_ways"]))
    return {"rows": rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--single", nargs="+", metavar="DATASET", help="the single-label study on these datasets")
    _common.add_output_args(parser)
    args = parser.parse_args()
    if args.single:
        _common.write_json(_common.output_path(args, "ngram_refit_single"), {
            "command": "python " + " ".join(sys.argv), **single_label(args.single), "machine": _common.machine_info()})
        return
    data = load_dataset("debtags")
    texts, y = list(data.train_texts), np.asarray(data.train_labels)
    valid_texts, valid_y = list(data.valid_texts), np.asarray(data.valid_labels)
    halves = source_halves(valid_texts)
    rows = []
    for first in (0, 1):
        a, b = halves[first], halves[1 - first]
        a_texts, b_texts = [valid_texts[i] for i in a], [valid_texts[i] for i in b]
        for class_weight in (None, "balanced"):
            layer, info = fit_multi_label_ngram_path(texts, y, MAX_TOKENS, a_texts, valid_y[a], seed=SEED,
                                                     class_weight=class_weight)
            thresholds = shared_thresholds(valid_y[a], sigmoid(ngram_logits(layer, a_texts)),
                                           min_positives=MIN_POSITIVES_IN_HALF)[0]
            refit, _ = fit_multi_label_ngram_path(texts + a_texts, np.concatenate([y, valid_y[a]]), MAX_TOKENS,
                                                  seed=SEED, class_weight=class_weight,
                                                  temperature=info["temperature"], ngrams=info["ngrams"],
                                                  bigram_weight=info["bigram_weight"])
            for name, path in (("train", layer), ("train + A", refit)):
                row = {"chosen_on": f"half {first + 1}", "scored_on": f"half {2 - first}", "fitted_on": name,
                       "class_weight": class_weight or "none", "a_texts": len(a), "b_texts": len(b),
                       **scores(valid_y[b], sigmoid(ngram_logits(path, b_texts)), thresholds)}
                rows.append(row)
                print(json.dumps(row), flush=True)
    summary = {}
    for class_weight in ("none", "balanced"):
        for name in ("train", "train + A"):
            picked = [r for r in rows if r["class_weight"] == class_weight and r["fitted_on"] == name]
            summary[f"{class_weight}, {name}"] = {k: round(float(np.mean([r[k] for r in picked])), 4)
                                                  for k in ("micro_f1", "macro_f1")}
    print("\n| class weight | fitted on | micro F1 (mean of both ways) | macro F1 |\n|---|---|---|---|")
    for key, value in summary.items():
        print(f"| {key.split(', ')[0]} | {key.split(', ')[1]} | {value['micro_f1']:.4f} | {value['macro_f1']:.4f} |")
    _common.write_json(_common.output_path(args, "ngram_refit"), {
        "command": "python " + " ".join(sys.argv), "rows": rows, "summary": summary,
        "machine": _common.machine_info()})

if __name__ == "__main__":
    main()
