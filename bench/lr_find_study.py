"""Does the range test's suggested rate train as well as zoo's default rate? Validation splits only.

For each dataset, at its recipe's settings (``zoo train``'s defaults: GloVe 6B
50d, BiLSTM, the hybrid; SMS spam's recipe keeps texts to their 99th
percentile length), this runs :meth:`zoo.TextClassifier.lr_find` on the training texts,
then trains with ``learning_rate`` set to the suggested rate, and with the
default rate, and reports each one's best validation accuracy of the
recurrent model (the history's ``val_accuracy``: what the rate changes) and
the hybrid's validation accuracy. The test split is not read.

    python bench/lr_find_study.py --datasets 20newsgroups sms_spam kjv_divisions \\
        --output docs/results/lr_find-study/results.json

``--skip-default`` leaves the default-rate training out (its numbers then come
from an earlier run of the same code on the same machine, named with ``--default-run``).
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common  # noqa: E402

_common.setup()

# The recipes' own settings beside zoo train's defaults (the default-rate runs compared with were run through
# them): recipes/sms_spam_glove_bilstm.py keeps each text whole to the 99th percentile of lengths.
RECIPE_SETTINGS = {"sms_spam": {"sequence_length": "p99"}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["20newsgroups", "sms_spam", "kjv_divisions"])
    parser.add_argument("--steps", type=int, default=200, help="the range test's steps at most")
    parser.add_argument("--skip-default", action="store_true",
                        help="train only at the suggested rate; the default rate's row from --default-run")
    parser.add_argument("--default-run", nargs="*", default=[], metavar="DATASET=RUN_DIR",
                        help="a finished zoo train run of the same code at the default rate, per dataset")
    parser.add_argument("--plots", default=None, help="a folder for each range test's plot (lr_find_DATASET.png)")
    _common.add_output_args(parser)
    args = parser.parse_args(argv)

    from zoo.config import ClassifierConfig, DataConfig, resolve_init_defaults
    from zoo.data.datasets import load_for_training
    from zoo.text_classifier import TextClassifier

    default_runs = dict(item.split("=", 1) for item in args.default_run)
    rows = []
    for name in args.datasets:
        settings = ClassifierConfig(verbose=2, **RECIPE_SETTINGS.get(name, {}))
        data = DataConfig(dataset=name, max_train_examples=400 if args.quick else None)
        dataset, _ = load_for_training(data, validation_split=settings.validation_split, seed=settings.seed)
        train = (dataset.train_texts, dataset.labels("train"))
        valid = (dataset.valid_texts, dataset.labels("valid"))
        started = time.time()
        test = TextClassifier(**settings.to_dict()).lr_find(*train, validation_data=valid,
                                                             steps=40 if args.quick else args.steps)
        row = {"dataset": name, "train_texts": len(train[0]), "valid_texts": len(valid[0]),
               "default_rate": resolve_init_defaults(settings).learning_rate, "suggested_rate": test.suggested,
               "lowest_loss_rate": test.minimum, "steepest_rate": test.steepest, "range_steps": len(test.rates),
               "range_stopped": test.stopped, "range_seconds": round(time.time() - started, 1)}
        if args.plots:
            os.makedirs(args.plots, exist_ok=True)
            test.plot(os.path.join(args.plots, f"lr_find_{name}.png"))
        rates = {"suggested": test.suggested} if args.skip_default else {"default": None, "suggested": test.suggested}
        for label, rate in rates.items():
            extra = {"epochs": 1} if args.quick else {}
            clf = TextClassifier(**{**settings.to_dict(), "learning_rate": rate, **extra})
            clf.fit(*train, validation_data=valid)
            row[label] = _scores(clf.history_, clf.fit_record_.hybrid, clf.fit_record_.train_seconds)
        if "default" not in row and name in default_runs:
            with open(os.path.join(default_runs[name], "metrics.json"), encoding="utf-8") as f:
                metrics = json.load(f)
            row["default"] = {**_scores(metrics["history"], metrics.get("hybrid"), metrics["train_seconds"]),
                              "from": default_runs[name]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    table = ["| dataset | default rate | its best valid accuracy (recurrent / hybrid) | suggested rate | "
             "its best valid accuracy (recurrent / hybrid) | range test |", "|---|---|---|---|---|---|"]
    for r in rows:
        default = r.get("default")
        shown = f"{default['valid_accuracy']:.4f} / {default['hybrid_valid_accuracy']:.4f}" if default else "-"
        table.append(f"| {r['dataset']} | {r['default_rate']:g} | {shown} | {r['suggested_rate']:.3g} | "
                     f"{r['suggested']['valid_accuracy']:.4f} / {r['suggested']['hybrid_valid_accuracy']:.4f} | "
                     f"{r['range_steps']} steps, {r['range_seconds']:.0f} s |")
    print("\n".join(table))
    _common.write_json(_common.output_path(args, "lr_find_study"), {
        "what": ("best validation accuracy at the default and at the range test's suggested learning rate "
                 "(never test)"), "machine": _common.machine_info(),
        "command": "python bench/lr_find_study.py " + " ".join(argv or sys.argv[1:]), "rows": rows, "table": table})
    return rows


def _scores(history, hybrid, seconds):
    accuracies = [h["val_accuracy"] for h in history if "val_accuracy" in h]
    return {"valid_accuracy": max(accuracies), "epochs_run": len(history), "train_seconds": seconds,
            "hybrid_valid_accuracy": (hybrid or {}).get("valid_accuracy", {}).get("hybrid", float("nan"))}


if __name__ == "__main__":
    main()
