"""How the n-gram path's self-training was chosen: validation accuracy with and without it, per share.

For each label budget, this takes the labelled texts of ``--labels N`` (the
recipes' seeded, stratified draw), holds out the seeded 20% that
``init="auto"`` compares on, and fits the n-gram path (zoo's own
``fit_ngram_path``) on the other 80%: alone, and self-trained on the train
texts beyond the N (unlabelled) with each share of the most confident ones.
It scores the n-gram path alone on the held-out 20%; the test split is not
read. ``zoo.training.ngram_path.SELF_TRAINING_SHARE`` is the share these rows
chose.

    python bench/self_training.py --dataset 20newsgroups --labels 1000 200
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common  # noqa: E402

_common.setup()

SHARES = (None, 0.3, 0.5, 1.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="20newsgroups", help="a built-in dataset (zoo.data.load_dataset)")
    parser.add_argument("--labels", type=int, nargs="+", default=[1000, 200], help="label budgets")
    parser.add_argument("--max-tokens", type=int, default=None, help="the n-gram vocabulary (default: zoo's)")
    parser.add_argument("--seed", type=int, default=0)
    _common.add_output_args(parser)
    args = parser.parse_args(argv)

    import numpy as np

    from zoo.config import ClassifierConfig, DataConfig
    from zoo.data.datasets import load_for_training, split_indices
    from zoo.errors import ZooError
    from zoo.training import auto
    from zoo.training.ngram_path import fit_ngram_path, ngram_logits

    max_tokens = args.max_tokens or ClassifierConfig().ngram_max_tokens
    shares = SHARES[::2] if args.quick else SHARES
    rows = []
    for labels in args.labels:
        try:
            dataset, all_train = load_for_training(DataConfig(dataset=args.dataset, labels=labels), seed=args.seed)
        except ZooError as error:  # one line, before anything is written
            sys.exit(f"bench/self_training.py: {error}")
        names = list(dataset.class_names)
        y = np.array([names.index(v) for v in dataset.label_lists("train")])
        keep, held = split_indices(y, args.seed, test_size=auto.HOLD_OUT)
        train = [dataset.train_texts[i] for i in keep]
        valid = [dataset.train_texts[i] for i in held]
        labelled = set(dataset.train_texts)
        unlabelled = [t for t in all_train if t not in labelled]
        row = {"dataset": args.dataset, "labels": labels, "train_texts": len(train), "valid_texts": len(valid),
               "unlabelled_texts": len(unlabelled), "shares": {}}
        for share in shares:
            start = time.time()
            layer, info = fit_ngram_path(train, y[keep], len(names), max_tokens, valid, y[held], seed=args.seed,
                                         unlabelled_texts=unlabelled if share else (), share=share or 0.0)
            accuracy = float(np.mean(ngram_logits(layer, valid).argmax(-1) == y[held]))
            row["shares"][_name(share)] = {"ngram_alone": accuracy, "temperature": info["temperature"],
                                           "added": info.get("self_training", {}).get("added", 0),
                                           "seconds": round(time.time() - start, 1)}
        rows.append(row)
        print(f"{args.dataset}, {labels} labels: {len(train)} training, {len(valid)} validation, {len(unlabelled)} "
              "unlabelled texts; n-gram path alone " + ", ".join(
                  f"{name} {v['ngram_alone']:.3f}" for name, v in row["shares"].items()), flush=True)
    columns = [_name(s) for s in shares]
    table = ["| dataset | labels | validation texts | unlabelled texts | " + " | ".join(columns) + " |",
             "|---" * (4 + len(columns)) + "|"]
    table += [f"| {r['dataset']} | {r['labels']} | {r['valid_texts']} | {r['unlabelled_texts']} | "
              + " | ".join(f"{r['shares'][c]['ngram_alone']:.3f}" for c in columns) + " |" for r in rows]
    print("\n".join(table))
    _common.write_json(_common.output_path(args, "self_training"), {
        "what": "validation accuracy of the n-gram path alone, without and with self-training per share (never test)",
        "machine": _common.machine_info(),
        "command": "python bench/self_training.py " + " ".join(argv or sys.argv[1:]),
        "rows": rows, "table": table})
    return rows


def _name(share):
    return "without" if share is None else f"share {share:g}"


if __name__ == "__main__":
    main()
