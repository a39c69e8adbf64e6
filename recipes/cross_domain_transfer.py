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
changes. Written to ``--output-dir``: ``transfer.md`` and ``transfer.json``,
in a folder marked as zoo's (kind ``transfer``, swapped in whole when done):
a folder zoo did not write is refused, and a finished result is replaced only
with ``--overwrite``. As zoo's commands, every problem is one line and its exit
code (2 a flag, 3 what is read, 4 what is written; Ctrl-C 130, SIGTERM 143).
"""

import dataclasses
import logging
import os
import sys
import tempfile

from zoo.cli.flags import EXIT_INPUT, ArgumentParser, fail, one_line_errors
from zoo.config import ClassifierConfig
from zoo.config.checks import Integer
from zoo.errors import ExportError
from zoo.files import atomic_directory, check_replaceable, write_json, write_text
from zoo.log import logger

STARTS = {"from scratch": "none", "from GloVe 6B 50d": "glove-6b-50d", "from the source classifier": "model:{source}"}
KIND = "transfer"  # the output folder's marker kind: only a folder of this recipe's is replaced
RESULTS = ("transfer.md", "transfer.json")


def parse_args(argv=None):
    p = ArgumentParser(prog="recipes/cross_domain_transfer.py", description=__doc__.split("\n")[0])
    p.add_argument("--source", default="runs/newsgroups", help="a run directory of a zoo classifier (the main job's)")
    p.add_argument("--target", default="sms_spam", help="the built-in dataset of the new task")
    p.add_argument("--labels", type=int, default=500, help="labelled target texts (a seeded, stratified subset)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: zoo's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output-dir", default="runs/transfer")
    p.add_argument("--overwrite", action="store_true", help="replace a finished result in --output-dir")
    args = p.parse_args(argv)  # (a usage error: one line and exit 2, as `zoo train`'s)
    # The settings, checked as zoo's are (one line, exit 2) and before anything is loaded.
    if args.labels < 20:
        fail(f"--labels must be an integer >= 20, got {args.labels}")
    if args.epochs is not None:
        Integer(1).check("epochs", args.epochs)  # (not the dataclass's check: its "or None" is no flag value)
    seed = next(f for f in dataclasses.fields(ClassifierConfig) if f.name == "seed")
    seed.metadata["check"].check("seed", args.seed)  # zoo's range, [0, 2**32 - 1]
    if not os.path.exists(os.path.join(args.source, "classifier.json")):
        fail(f"--source {args.source}: not a zoo run (no classifier.json); train one first, e.g. "
             "python recipes/newsgroups_glove_bilstm.py --output-dir runs/newsgroups", EXIT_INPUT)
    check_output_dir(args.output_dir, args.overwrite)
    return args


def check_output_dir(path, overwrite):
    """Refuses, before anything is loaded, a file, a folder zoo did not write (or of another kind), a finished
    result without ``overwrite`` and a place that cannot be written."""
    if os.path.lexists(path) and not os.path.isdir(path):
        raise ExportError(f"`output_dir` {path}: is a file, not a directory")
    check_replaceable(path, (KIND,), what="`output_dir`")  # `overwrite` replaces a result of ours, nothing else
    if any(os.path.exists(os.path.join(path, name)) for name in RESULTS) and not overwrite:
        raise ExportError(f"{path}: holds a transfer result already; pass `overwrite` to replace it, or choose "
                          "another `output_dir`")
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ExportError(f"`output_dir` {path}: {existing} is a file, not a directory")
    try:  # a probe file, removed at once: os.access says yes to root even on a read-only file system
        fd, probe = tempfile.mkstemp(prefix=".zoo-write-test-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise ExportError(f"`output_dir` {path}: cannot write in {existing} ({error.strerror})") from None


def main(argv=None):
    with one_line_errors():  # a zoo error is one line and its exit code; Ctrl-C (SIGTERM) one line, 130 (143)
        return _main(argv)


def _main(argv):
    args = parse_args(argv)
    logging.getLogger("zoo").setLevel(logging.INFO)
    from zoo.data import load_dataset

    data = load_dataset(args.target, seed=args.seed)  # (an unknown name: before TensorFlow starts)
    from zoo.log import start_tensorflow

    start_tensorflow()
    import numpy as np

    from zoo import TextClassifier
    from zoo.data.datasets import split_indices

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
    # Built beside the old folder and swapped in whole: never a half-written result; a user's other files move over.
    with atomic_directory(args.output_dir, overwrite=True, kind=KIND, carry=lambda name: name not in RESULTS) as tmp:
        write_text(os.path.join(tmp, "transfer.md"), report)
        write_json(os.path.join(tmp, "transfer.json"), {"command": command, "source": args.source,
                                                        "target": args.target, "labels": len(texts),
                                                        "seed": args.seed, "rows": rows})
    print(table)


if __name__ == "__main__":
    main()
