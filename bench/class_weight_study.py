"""Class weights where a class is much rarer: an imbalanced subsample of 20 Newsgroups, with and without
``--class-weight balanced``.

Five newsgroups far apart in topic; the first keeps all its training posts
and each next one half as many as the one before (16 : 8 : 4 : 2 : 1), so the
rarest has about 37. The test split is those five groups' whole test split
(about balanced), so macro F1 and the rarest class's F1 say what the
weighting buys. Both runs go through ``recipes/text_classifier.py`` at its
defaults (the same seed, the same validation split), the fair baseline beside.

    python bench/class_weight_study.py --output docs/results/class_weight-study/results.json

Each run's folder (``--runs``, default a temporary one) keeps its report.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common

_common.setup()

from zoo.data import load_dataset

GROUPS = ("rec.sport.hockey", "sci.med", "comp.graphics", "talk.politics.guns", "soc.religion.christian")
RECIPE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "recipes", "text_classifier.py")


def imbalanced_subsample(texts, labels, class_names, groups=GROUPS, seed=0):
    """``(texts, names)``: each of ``groups`` in turn keeps half as many of its texts as the one before."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    rows = []
    for k, group in enumerate(groups):
        ids = np.flatnonzero(labels == class_names.index(group))
        rows += [(texts[i], group) for i in rng.permutation(ids)[:max(1, len(ids) // 2 ** k)]]
    order = rng.permutation(len(rows))
    return [rows[i][0] for i in order], [rows[i][1] for i in order]


def write_csv(path, texts, names):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, names))


def run(train, test, out, extra):
    command = [sys.executable, RECIPE, "--train", train, "--test", test, "--output-dir", out, *extra]
    subprocess.run(command, check=True)
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    rarest = GROUPS[-1]

    def scores(m):
        return {"accuracy": round(m["accuracy"], 4), "macro_f1": round(m["macro_f1"], 4),
                f"f1 {rarest}": round(m["per_class"][rarest]["f1"], 4)}

    return {"command": ["python", "recipes/text_classifier.py", "--train", "TRAIN.csv", "--test", "TEST.csv",
                        *extra], "train_seconds": metrics["train_seconds"],
            "hybrid": scores(metrics), "recurrent": scores(metrics["paths"]["recurrent"]),
            "ngram": scores(metrics["paths"]["ngram"]), "baseline": scores(metrics["baseline"]),
            "blend_weight": metrics["hybrid"]["blend_weight"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", default=None, help="where the two runs' folders go (default: a temporary one)")
    _common.add_output_args(parser)
    args = parser.parse_args(argv)
    data = load_dataset("20newsgroups")
    names = data.class_names
    train_texts = data.train_texts + data.valid_texts
    train_labels = list(data.train_labels) + list(data.valid_labels)
    texts, labels = imbalanced_subsample(train_texts, train_labels, names)
    keep = [i for i, y in enumerate(data.test_labels) if names[y] in GROUPS]
    with tempfile.TemporaryDirectory() as scratch:
        runs = args.runs or scratch
        train, test = os.path.join(scratch, "train.csv"), os.path.join(scratch, "test.csv")
        write_csv(train, texts, labels)
        write_csv(test, [data.test_texts[i] for i in keep], [names[data.test_labels[i]] for i in keep])
        results = {name: run(train, test, os.path.join(runs, name), extra) for name, extra in (
            ("none", []), ("balanced", ["--class-weight", "balanced"]))}
    payload = {"groups": GROUPS, "train_counts": {g: labels.count(g) for g in GROUPS},
               "test_texts": len(keep), "runs": results, "machine": _common.machine_info()}
    _common.write_json(_common.output_path(args, "class_weight_study"), payload)
    rows = [{"class_weight": name, "path": path, **r[path]} for name, r in results.items()
            for path in ("hybrid", "recurrent", "ngram", "baseline")]
    print(_common.markdown_table(rows, [(k, k, "{:.3f}" if k not in ("class_weight", "path") else None)
                                        for k in ("class_weight", "path", "accuracy", "macro_f1",
                                                  f"f1 {GROUPS[-1]}")]))


if __name__ == "__main__":
    main()
