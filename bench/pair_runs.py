"""Two finished single-label runs of one dataset as init auto's pair would score them, without training.

Their recurrent paths' probabilities averaged, blended with the first run's n-gram path at the weight
``zoo.training.ngram_path.choose_blend_weight`` picks on the dataset's validation split (the one both runs held
out: same dataset, ``validation_split`` and seed), then scored on test beside each run alone. Why: it says what
``--init auto`` would gain from a pair whose second member its budget skips (ULMFiT on Chinese reviews, 33
minutes here), without an hour of training.

    python bench/pair_runs.py --dataset zh_reviews --run-dir runs/zh2 runs/zhulm
"""

import argparse
import os
import sys

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="the built-in dataset both runs trained on")
    parser.add_argument("--run-dir", nargs=2, required=True, metavar=("FIRST", "SECOND"),
                        help="two run folders; the first one's n-gram path is the pair's")
    parser.add_argument("--output", default="bench/results/pair_runs.json")
    args = parser.parse_args(argv)

    from zoo import TextClassifier
    from zoo.data import load_dataset
    from zoo.files import write_json
    from zoo.models.hybrid import blend
    from zoo.training.ngram_path import choose_blend_weight, ngram_logits

    from zoo.errors import ZooError

    try:
        first, second = (TextClassifier.load(path) for path in args.run_dir)
        data = load_dataset(args.dataset, validation_split=first.settings_.validation_split, seed=first.settings_.seed)
    except ZooError as error:
        sys.exit(f"error: {error}")
    if list(first.classes_) != list(data.class_names) or list(second.classes_) != list(data.class_names):
        sys.exit(f"error: the runs' classes are not {args.dataset}'s")
    if first.ngram_ is None:
        sys.exit(f"error: {args.run_dir[0]}: not a hybrid (no n-gram path to blend with); give a hybrid run first")
    if (first.fit_record_.hybrid or {}).get("refit"):  # (ngram_refit: its validation predictions are not held out)
        sys.exit(f"error: {args.run_dir[0]}: its n-gram path was fitted on the validation split too; train it with "
                 "--no-ngram-refit for this comparison")
    splits = {"valid": (data.valid_texts, np.asarray(data.valid_labels)),
              "test": (data.test_texts, np.asarray(data.test_labels))}
    paths = {name: [run.predict_paths(texts) for run in (first, second)] + [ngram_logits(first.ngram_, texts)]
             for name, (texts, _) in splits.items()}
    y_valid = splits["valid"][1]
    recurrent = {name: (p[0]["recurrent"] + p[1]["recurrent"]) / 2 for name, p in paths.items()}
    weight, _ = choose_blend_weight(recurrent["valid"], paths["valid"][2], y_valid)
    rows = {}
    for name, (_, y) in splits.items():
        accuracy = lambda p: round(float(np.mean(p.argmax(-1) == y)), 4)  # noqa: E731
        rows[name] = {"first": accuracy(paths[name][0]["model"]), "second": accuracy(paths[name][1]["model"]),
                      "pair_recurrent": accuracy(recurrent[name]),
                      "pair": accuracy(blend(recurrent[name], paths[name][2], weight))}
    result = {"dataset": args.dataset, "runs": args.run_dir, "blend_weight": weight, "accuracy": rows,
              "command": "python bench/pair_runs.py " + " ".join(sys.argv[1:] if argv is None else argv)}
    table = ["| split | first | second | pair, recurrent paths | pair, blended |", "|---|---|---|---|---|"]
    table += [f"| {name} | {r['first']:.4f} | {r['second']:.4f} | {r['pair_recurrent']:.4f} | {r['pair']:.4f} |"
              for name, r in rows.items()]
    print("\n".join(table) + f"\n(the pair's recurrent paths weigh {weight:.2f} in the blend, chosen on valid)")
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    write_json(args.output, {**result, "table": table})  # (a rename-swap: a crash leaves the old file whole)


if __name__ == "__main__":
    main()
