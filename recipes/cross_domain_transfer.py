"""Cross-domain transfer: a 20 Newsgroups classifier as the start of a small task in another domain.

A user with a few hundred labelled texts of their own can start from word
vectors, from nothing, or from a classifier zoo trained earlier on another
task (``init="model:RUN_DIR"``): its embedding (remapped to the new vocabulary)
and its encoder are kept, the head is new for the new labels, the head trains
alone for an epoch, then everything. This recipe measures the three on the
same labelled texts, seed and settings:

    python recipes/newsgroups_glove_bilstm.py --output-dir runs/newsgroups     # the source (the main job)
    python recipes/cross_domain_transfer.py --source runs/newsgroups --target sms_spam --labels 500 \\
        --output-dir runs/transfer_sms

The same in Python, for one of the three:

    from zoo import TextClassifier
    from zoo.data import load_dataset

    sms = load_dataset("sms_spam")
    clf = TextClassifier(init="model:runs/newsgroups")
    clf.fit(texts, labels)             # a few hundred labelled messages
    clf.evaluate(sms.test_texts, test_labels, baseline=True)

Each is evaluated on the target's whole test split beside the TF-IDF +
LinearSVC baseline trained on the same labelled texts; the table gives the
hybrid (zoo's default) and its recurrent path alone, the part the start
changes. Written to ``--output-dir``: ``transfer.md`` and ``transfer.json``.
"""

import argparse
import logging
import os
import sys

import numpy as np

from zoo import TextClassifier
from zoo.data import load_dataset
from zoo.data.datasets import split_indices
from zoo.errors import ZooError
from zoo.files import write_json, write_text
from zoo.log import logger

STARTS = {"from scratch": "none", "from GloVe 6B 50d": "glove-6b-50d", "from the source classifier": "model:{source}"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="recipes/cross_domain_transfer.py", description=__doc__.split("\n")[0])
    p.add_argument("--source", default="runs/newsgroups", help="a run directory of a zoo classifier (the main job's)")
    p.add_argument("--target", default="sms_spam", help="the built-in dataset of the new task")
    p.add_argument("--labels", type=int, default=500, help="labelled target texts (a seeded, stratified subset)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: zoo's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output-dir", default="runs/transfer")
    args = p.parse_args(argv)
    if args.labels < 20:
        p.error(f"--labels must be at least 20, got {args.labels}")
    if not os.path.exists(os.path.join(args.source, "classifier.json")):
        p.error(f"--source {args.source}: not a zoo run (no classifier.json); train one first, e.g. "
                "python recipes/newsgroups_glove_bilstm.py --output-dir runs/newsgroups")
    return args


def main(argv=None):
    args = parse_args(argv)
    logging.getLogger("zoo").setLevel(logging.INFO)
    data = load_dataset(args.target, seed=args.seed)
    names = data.class_names
    train_texts = list(data.train_texts) + list(data.valid_texts)
    train_y = np.concatenate([data.train_labels, data.valid_labels])
    keep, _ = split_indices(train_y, args.seed, train_size=args.labels)
    texts, labels = [train_texts[i] for i in keep], [names[i] for i in train_y[keep]]
    test_labels = [names[i] for i in data.test_labels]
    logger.info(f"{args.target}: {len(texts)} labelled texts, {len(test_labels)} test texts; source {args.source}")

    rows = []
    for name, init in STARTS.items():
        logger.info(f"--- {name} (init {init.format(source=args.source)})")
        clf = TextClassifier(init=init.format(source=args.source), epochs=args.epochs, seed=args.seed)
        clf.fit(texts, labels)
        metrics = clf.evaluate(data.test_texts, test_labels, baseline=True)
        paths = metrics.get("paths", {})
        rows.append({
            "start": name, "init": init.format(source=args.source),
            "accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
            "recurrent_accuracy": paths.get("recurrent", {}).get("accuracy"),
            "recurrent_macro_f1": paths.get("recurrent", {}).get("macro_f1"),
            "baseline_accuracy": metrics["baseline"]["accuracy"], "baseline_macro_f1": metrics["baseline"]["macro_f1"],
            "train_seconds": clf.fit_record_.train_seconds, "transfer": clf.fit_record_.transfer,
        })
        logger.info(f"{name}: accuracy {rows[-1]['accuracy']:.4f}, recurrent alone {rows[-1]['recurrent_accuracy']}")

    header = ("| start | zoo accuracy | zoo macro F1 | recurrent alone accuracy | recurrent alone macro F1 | "
              "baseline accuracy | baseline macro F1 |\n|---|---|---|---|---|---|---|\n")
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    table = header + "\n".join(
        f"| {r['start']} | {fmt(r['accuracy'])} | {fmt(r['macro_f1'])} | {fmt(r['recurrent_accuracy'])} | "
        f"{fmt(r['recurrent_macro_f1'])} | {fmt(r['baseline_accuracy'])} | {fmt(r['baseline_macro_f1'])} |"
        for r in rows)
    command = "python recipes/cross_domain_transfer.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report = (f"# Cross-domain transfer: {args.source} -> {args.target}, {len(texts)} labels, seed {args.seed}\n\n"
              f"`{command}`\n\n{table}\n\nTest split: {len(test_labels)} texts. The baseline is trained on the same "
              "labelled texts in each run.\n")
    os.makedirs(args.output_dir, exist_ok=True)
    write_text(os.path.join(args.output_dir, "transfer.md"), report)
    write_json(os.path.join(args.output_dir, "transfer.json"), {"command": command, "source": args.source,
                                                                "target": args.target, "labels": len(texts),
                                                                "seed": args.seed, "rows": rows})
    print(table)


if __name__ == "__main__":
    try:
        main()
    except ZooError as error:
        sys.exit(f"error: {error}")
