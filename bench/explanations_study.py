"""How faithful are zoo's explanations? ERASER's comprehensiveness on a test split, beside random deletion.

For a seeded sample of the test texts of a finished run, this explains each
text's predicted class (:meth:`zoo.TextClassifier.explain`), deletes its
top-k attributed tokens, and measures how much the predicted class's
probability drops; then the same with k random tokens (k: ``--fraction`` of
each text's tokens, at least one). Faithful attributions make the first drop
larger. Reports each mean, their paired difference with a 95% bootstrap
interval over texts, and the share of texts where the top-k drop is larger.

    python recipes/newsgroups_glove_bilstm.py --output-dir runs/newsgroups
    python bench/explanations_study.py --run runs/newsgroups --dataset 20newsgroups \\
        --output docs/results/explanations-study/newsgroups.json
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common  # noqa: E402

_common.setup()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="a finished zoo train run (its saved classifier)")
    parser.add_argument("--dataset", required=True, help="the run's built-in dataset (its test split is sampled)")
    parser.add_argument("--sample", type=int, default=300, help="test texts explained (seeded draw)")
    parser.add_argument("--fraction", type=float, nargs="+", default=[0.1, 0.2], help="k as a share of tokens")
    parser.add_argument("--steps", type=int, default=32, help="integrated gradients' path points")
    parser.add_argument("--seed", type=int, default=0)
    _common.add_output_args(parser)
    args = parser.parse_args(argv)

    import numpy as np

    from zoo.data.datasets import load_dataset
    from zoo.evaluation.explanations import comprehensiveness
    from zoo.text_classifier import TextClassifier

    clf = TextClassifier.load(args.run)
    dataset = load_dataset(args.dataset)
    rng = np.random.default_rng(args.seed)
    size = min(10 if args.quick else args.sample, len(dataset.test_texts))
    picked = sorted(rng.choice(len(dataset.test_texts), size=size, replace=False).tolist())
    texts = [dataset.test_texts[i] for i in picked]
    rows = []
    for fraction in args.fraction:
        started = time.time()
        drops = comprehensiveness(clf, texts, fraction=fraction, seed=args.seed, steps=args.steps)
        top, random_k = drops["top_k"].astype(float), drops["random_k"].astype(float)
        difference = top - random_k
        means = [rng.choice(difference, size=len(difference)).mean() for _ in range(2000)]
        row = {"fraction": fraction, "texts": len(texts), "top_k_drop": float(top.mean()),
               "random_k_drop": float(random_k.mean()), "difference": float(difference.mean()),
               "difference_ci95": [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))],
               "difference_std": float(difference.std()), "top_k_larger_share": float(np.mean(top > random_k)),
               "seconds": round(time.time() - started, 1)}
        rows.append(row)
        print(row, flush=True)
    table = ["| k (share of tokens) | texts | drop, top-k attributed | drop, k random | difference (95% CI) | "
             "texts where top-k drops more |", "|---|---|---|---|---|---|"]
    table += [f"| {r['fraction']:g} | {r['texts']} | {r['top_k_drop']:.3f} | {r['random_k_drop']:.3f} | "
              f"{r['difference']:.3f} ({r['difference_ci95'][0]:.3f} to {r['difference_ci95'][1]:.3f}) | "
              f"{r['top_k_larger_share']:.0%} |" for r in rows]
    print("\n".join(table))
    _common.write_json(_common.output_path(args, "explanations_study"), {
        "what": ("ERASER comprehensiveness of zoo's explanations on a test sample: the predicted class's "
                 "probability drop after deleting the top-k attributed tokens, beside k random tokens"),
        "machine": _common.machine_info(), "run": os.path.basename(os.path.normpath(args.run)),
        "dataset": args.dataset, "command": "python bench/explanations_study.py " + " ".join(argv or sys.argv[1:]),
        "rows": rows, "table": table})
    return rows


if __name__ == "__main__":
    main()
