"""How the n-gram path's bigram weight was chosen: validation accuracy of each weight on finished runs.

For each finished run (its saved recurrent model), this rebuilds the run's own
split, fits the n-gram path again on its training texts with each feature
normalisation, and scores on the validation split (the test split is not read):

* ``one norm``: each row of uni- and bigram TF-IDF L2-normalised as a whole
  (scikit-learn's ``TfidfVectorizer``, and zoo's n-gram path before);
* ``0.5``, ``0.7``, ``1.0``: unigrams and bigrams normalised apart, the
  bigrams scaled by the weight, the row normalised again.

Each variant goes through zoo's own code: ``fit_ngram_path`` (its temperature
chosen on the split) and ``choose_blend_weight`` with the run's recurrent
probabilities. ``zoo.training.ngram_path.bigram_weight_for`` is the rule these
rows chose.

    python bench/bigram_weight.py --run-dir runs/study/ng200-d0 runs/study/ng1000-d0 runs/shakespeare_v2 \\
        runs/study/kjv1000-d0 runs/sms_v2 runs/ng_v1 runs/kjv_v2
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common  # noqa: E402

_common.setup()

VARIANTS = (None, 0.5, 0.7, 1.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", nargs="+", required=True, help="output folders of `zoo train` runs")
    parser.add_argument("--max-tokens", type=int, default=None, help="the n-gram vocabulary (default: the run's)")
    _common.add_output_args(parser)
    args = parser.parse_args(argv)

    import numpy as np

    from zoo.training.ngram_path import choose_blend_weight, fit_ngram_path, ngram_logits

    rows = []
    for run in args.run_dir:
        clf, dataset, encode = _common.finished_run(run, "bench/bigram_weight.py")
        if not len(dataset.valid_texts):
            print(f"{run}: no validation split, skipped")
            continue
        y, train_y = encode(dataset, "valid"), encode(dataset, "train")
        recurrent = clf.predict_paths(dataset.valid_texts)["recurrent"]
        max_tokens = args.max_tokens or clf.settings_.ngram_max_tokens
        row = {"run": run, "train_texts": len(train_y), "valid_texts": len(y),
               "recurrent_alone": float(np.mean(recurrent.argmax(-1) == y)), "variants": {}}
        for weight in VARIANTS[:2] if args.quick else VARIANTS:
            start = time.time()
            layer, info = fit_ngram_path(dataset.train_texts, train_y, len(clf.classes_), max_tokens,
                                         dataset.valid_texts, y, seed=clf.settings_.seed, bigram_weight=weight)
            blend_weight, scores = choose_blend_weight(recurrent, ngram_logits(layer, dataset.valid_texts), y)
            row["variants"][_name(weight)] = {"ngram_alone": scores["ngram"], "hybrid": scores["hybrid"],
                                             "blend_weight": blend_weight, "temperature": info["temperature"],
                                             "seconds": round(time.time() - start, 1)}
        rows.append(row)
        print(f"{run}: {len(train_y)} training, {len(y)} validation texts; hybrid " + ", ".join(
            f"{name} {v['hybrid']:.4f}" for name, v in row["variants"].items()), flush=True)
    columns = [_name(w) for w in (VARIANTS[:2] if args.quick else VARIANTS)]
    table = ["| run | training texts | validation texts | recurrent alone | "
             + " | ".join(f"hybrid, {c}" for c in columns) + " | " + " | ".join(f"n-gram, {c}" for c in columns) + " |",
             "|---" * (4 + 2 * len(columns)) + "|"]
    table += [f"| `{r['run']}` | {r['train_texts']} | {r['valid_texts']} | {r['recurrent_alone']:.3f} | "
              + " | ".join(f"{r['variants'][c]['hybrid']:.3f}" for c in columns) + " | "
              + " | ".join(f"{r['variants'][c]['ngram_alone']:.3f}" for c in columns) + " |" for r in rows]
    print("\n".join(table))
    _common.write_json(_common.output_path(args, "bigram_weight"), {
        "what": "validation accuracy of the n-gram path and the hybrid per feature normalisation (never test)",
        "machine": _common.machine_info(), "command": "python bench/bigram_weight.py " + " ".join(argv or sys.argv[1:]),
        "rows": rows, "table": table})
    return rows


def _name(weight):
    return "one norm" if weight is None else f"bigrams {weight:g}"


if __name__ == "__main__":
    main()
