"""Hyperparameter search (KerasTuner) over a zoo experiment's settings.

Each trial trains like the recipes (same stages and early stopping) and is
scored by its best val_accuracy on the validation split; the test split is
never used. Writes leaderboard.csv/.md, best.json and summary.json to
--output-dir. Run the same command again to resume an interrupted search.

    python recipes/tune.py --dataset sms_spam --tuner random --max-trials 10 \\
        --epochs 3 --output-dir runs/tune_sms
    python recipes/sms_spam_glove_bilstm.py --config runs/tune_sms/best.json
"""

import argparse
import json
import os
import sys
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

from zoo import experiment  # noqa: E402
from zoo.errors import ZooError  # noqa: E402

DEFAULTS = {**experiment.DEFAULTS, "recipe": "tune", "dataset": None, "output_dir": "runs/tune", "epochs": 5,
            "vectors": "glove-6b-50d"}


def _optional_int(value):
    return None if value in (None, "", "none", "None") else int(value)


def _length(value):
    return int(value) if str(value).isdigit() else value


def _fail(message):
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _space(value):
    """--space: inline JSON, or a JSON file."""
    if value is None:
        return None
    try:
        if os.path.exists(value):
            with open(value) as f:
                space = json.load(f)
        else:
            space = json.loads(value)
    except (OSError, json.JSONDecodeError) as error:
        raise argparse.ArgumentTypeError(f"not a JSON object or JSON file: {error}")
    if not isinstance(space, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {type(space).__name__}")
    return space


def build_parser():
    d = DEFAULTS
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    data = p.add_argument_group("data (a dataset name, or local files)")
    data.add_argument("--dataset", default=d["dataset"], help="sms_spam, 20newsgroups or tfds:NAME")
    data.add_argument("--train", help="training file (.csv, .tsv, .jsonl) or folder per class")
    data.add_argument("--test", help="test file (loaded with train, never used by the search)")
    data.add_argument("--valid", help="validation file (default: a seeded split of train)")
    data.add_argument("--text-column", default=d["text_column"])
    data.add_argument("--label-column", default=d["label_column"])
    data.add_argument("--max-train-examples", type=_optional_int, default=d["max_train_examples"],
                      help="use a seeded, stratified subset of train (default: all)")
    data.add_argument("--validation-split", type=float, default=d["validation_split"])
    data.add_argument("--vectors", default=d["vectors"], help="pretrained vectors (see the recipes), or none")
    data.add_argument("--max-tokens", type=int, default=d["max_tokens"], help="vocabulary size")
    data.add_argument("--sequence-length", type=_length, default=d["sequence_length"],
                      help="tokens per text: a number, or pNN (a percentile of train lengths)")

    s = p.add_argument_group("search")
    s.add_argument("--tuner", default="random", choices=("random", "grid", "bayesian", "hyperband"))
    s.add_argument("--max-trials", type=int, default=10, help="trials in all, those already run included")
    s.add_argument("--executions-per-trial", type=int, default=1, help="trainings per trial (seeds seed, seed+1, ...)")
    s.add_argument("--epochs", type=int, default=d["epochs"], help="epochs per trial (hyperband: its max_epochs)")
    s.add_argument("--batch-size", type=int, default=d["batch_size"])
    s.add_argument("--patience", type=int, default=d["patience"])
    s.add_argument("--space", type=_space, default=None,
                   help='overrides of zoo.tuning.SEARCH_SPACE, as JSON or a JSON file: e.g. '
                        '\'{"units": [8, 16], "optimizer": "adam", "dropout": {"min": 0, "max": 0.5, "step": 0.25}}\'')
    s.add_argument("--seed", type=int, default=d["seed"])
    s.add_argument("--output-dir", default=d["output_dir"])
    s.add_argument("--overwrite", action="store_true", help="start the search afresh instead of resuming it")
    return p


def main(argv=None):
    # Length-bucketed datasets have no known size: Keras' "ran out of data" warning is expected.
    warnings.filterwarnings("ignore", message="Your input ran out of data")
    args = build_parser().parse_args(argv)
    if not args.dataset and not args.train:
        _fail("give --dataset NAME, or --train FILE and --test FILE")
    if args.dataset and args.train:
        _fail("give --dataset or --train/--test, not both")
    cfg = {**DEFAULTS, **{k: v for k, v in vars(args).items() if k in DEFAULTS}}
    cfg["overwrite"] = False  # experiment's own flag (the export); the search's is args.overwrite
    from zoo import tuning

    try:
        tuning.search(cfg, tuner=args.tuner, max_trials=args.max_trials,
                      executions_per_trial=args.executions_per_trial, output_dir=args.output_dir,
                      space=args.space, overwrite=args.overwrite)
    except ZooError as error:
        _fail(error)


if __name__ == "__main__":
    main()
