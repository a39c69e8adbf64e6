"""Which blend weight each rule picks on a finished run's validation split (the test split is not read).

zoo 0.3 first chose the hybrid's blend weight by the best validation
accuracy; it now takes, of the weights within one paired standard error of
that accuracy, the one with the lowest log loss (``choose_blend_weight``). This
script loads finished runs (their saved classifiers), scores both paths on
the run's own validation split, and prints what each rule picks. Where the
two agree, the run's committed test numbers are what the new rule gives too.

    python bench/blend_rule.py --run-dir runs/ng_v1 runs/sms_v2 --output bench/results/blend_rule.json
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common  # noqa: E402

_common.setup()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", nargs="+", required=True, help="output folders of `zoo train` runs")
    parser.add_argument("--output", help="write the rows as JSON here")
    args = parser.parse_args(argv)

    import numpy as np

    from zoo.models.hybrid import blend
    from zoo.training.ngram_path import WEIGHTS, choose_blend_weight, ngram_logits

    rows = []
    for run in args.run_dir:
        clf, dataset, encode = _common.finished_run(run, "bench/blend_rule.py")
        if clf.ngram_ is None:
            print(f"{run}: not a hybrid, skipped")
            continue
        if not len(dataset.valid_texts):
            print(f"{run}: no validation split (the fixed weight {clf.blend_weight_}), skipped")
            continue
        if (clf.fit_record_.hybrid or {}).get("refit"):  # (ngram_refit: the validation split is not held out)
            print(f"{run}: its n-gram path was fitted on the validation split too (train with --no-ngram-refit), "
                  "skipped")
            continue
        y = encode(dataset, "valid")
        paths = clf.predict_paths(dataset.valid_texts)
        logits = ngram_logits(clf.ngram_, dataset.valid_texts)
        scored = [(float(np.mean(blend(paths["recurrent"], logits, w).argmax(-1) == y)), float(w)) for w in WEIGHTS]
        new_weight, scores = choose_blend_weight(paths["recurrent"], logits, y)
        row = {"run": run, "valid_texts": len(y), "committed_weight": clf.blend_weight_,
               "best_accuracy_weights": [w for a, w in scored if a == max(scored)[0]],
               "best_valid_accuracy": max(scored)[0], "new_weight": new_weight,
               "new_valid_accuracy": scores["hybrid"], "same": abs(new_weight - clf.blend_weight_) < 1e-9}
        rows.append(row)
        print(f"{run}: {len(y)} validation texts; committed weight {clf.blend_weight_} "
              f"(accuracy {row['best_valid_accuracy']:.4f}), new rule {new_weight} ({scores['hybrid']:.4f})")
    if args.output:
        with open(args.output, "w") as f:
            json.dump({"machine": _common.machine_info(), "command": sys.argv, "rows": rows}, f, indent=2)
    return rows


if __name__ == "__main__":
    main()
