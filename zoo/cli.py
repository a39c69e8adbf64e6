"""The command line shared by the classification recipes."""

import argparse
import json
import os
import sys
import warnings

from zoo.errors import ZooError


def _optional_int(value):
    return None if value in (None, "", "none", "None") else int(value)


def _length(value):
    return int(value) if str(value).isdigit() else value


def build_parser(description, defaults, files=False):
    """An argparse parser for a recipe; ``defaults`` are the recipe's own."""
    import zoo

    p = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    d = defaults
    io = p.add_argument_group("data and output")
    if files:
        io.add_argument("--train", required=True, help="training file (.csv, .tsv, .jsonl) or folder per class")
        io.add_argument("--test", required=True, help="test file or folder, same format")
        io.add_argument("--valid", default=None, help="validation file (default: a seeded split of train)")
        io.add_argument("--text-column", default=d["text_column"])
        io.add_argument("--label-column", default=d["label_column"])
    io.add_argument("--output-dir", default=d["output_dir"], help="where the run writes its outputs")
    io.add_argument("--overwrite", action="store_true", help="replace an existing export in --output-dir")
    io.add_argument("--max-train-examples", type=_optional_int, default=d["max_train_examples"],
                    help="use a seeded, stratified subset of train (default: all)")
    io.add_argument("--validation-split", type=float, default=d["validation_split"])
    io.add_argument("--seed", type=int, default=d["seed"])

    m = p.add_argument_group("model")
    m.add_argument("--model", default=d["model"], choices=zoo.list_models())
    m.add_argument("--vectors", default=d["vectors"],
                   help="pretrained vectors: glove-6b-50d (offline default), a file "
                        "(word2vec .bin/.txt, GloVe .txt, fastText .vec/.bin, .kv), gensim:NAME, or none")
    m.add_argument("--units", type=int, default=d["units"])
    m.add_argument("--num-layers", type=int, default=d["num_layers"])
    m.add_argument("--pooling", default=d["pooling"], choices=("last", "max", "mean", "attention", "concat"))
    m.add_argument("--dropout", type=float, default=d["dropout"])
    m.add_argument("--spatial-dropout", type=float, default=d["spatial_dropout"])
    m.add_argument("--recurrent-dropout", type=float, default=d["recurrent_dropout"],
                   help="> 0 disables the cuDNN fast path on GPU")
    m.add_argument("--l1", type=float, default=d["l1"])
    m.add_argument("--l2", type=float, default=d["l2"])
    m.add_argument("--embedding-dim", type=_optional_int, default=d["embedding_dim"],
                   help="with --vectors none (default 128)")
    m.add_argument("--max-tokens", type=int, default=d["max_tokens"], help="vocabulary size")
    m.add_argument("--sequence-length", type=_length, default=d["sequence_length"],
                   help="tokens per text: a number, or pNN (a percentile of train lengths)")

    t = p.add_argument_group("training")
    t.add_argument("--epochs", type=int, default=d["epochs"], help="total epochs over all stages")
    t.add_argument("--frozen-epochs", type=int, default=d["frozen_epochs"],
                   help="first stage: epochs with the pretrained embedding frozen")
    t.add_argument("--batch-size", type=int, default=d["batch_size"], help="per replica")
    t.add_argument("--optimizer", default=d["optimizer"], choices=("adam", "adamw", "sgd", "rmsprop", "adagrad", "adadelta"))
    t.add_argument("--learning-rate", type=float, default=d["learning_rate"])
    t.add_argument("--finetune-lr-factor", type=float, default=d["finetune_lr_factor"],
                   help="learning rate of the unfrozen stage, relative to --learning-rate")
    t.add_argument("--clipnorm", type=float, default=d["clipnorm"])
    t.add_argument("--lr-schedule", default=d["lr_schedule"], choices=("cosine", "constant"))
    t.add_argument("--patience", type=int, default=d["patience"], help="early stopping: epochs without a better validation accuracy")
    t.add_argument("--class-weight", default=d["class_weight"], choices=("none", "balanced"),
                   help="balanced: weight the loss inversely to class frequency (imbalanced data)")
    t.add_argument("--strategy", default=d["strategy"], choices=("auto", "default", "mirrored", "multi_worker", "tpu"),
                   help="auto: TPU if present, multi_worker when TF_CONFIG names a cluster, mirrored on several GPUs")
    t.add_argument("--precision", default=d["precision"], choices=("float32", "mixed_float16", "mixed_bfloat16"),
                   help="default: mixed_float16 on GPUs of compute capability >= 7.0, else float32")
    t.add_argument("--lr-scaling", default=d["lr_scaling"], choices=("none", "linear"),
                   help="linear: multiply the learning rate by the number of replicas")
    t.add_argument("--backup-dir", default=d["backup_dir"],
                   help="make training resumable: rerun the same command after a crash to resume from here")
    t.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the TF-IDF + LinearSVC baseline")
    return p


def _read_config(path, defaults):
    try:
        with open(path) as f:
            config = json.load(f)
    except (OSError, json.JSONDecodeError) as error:
        raise SystemExit(f"error: {path}: cannot read the config: {error}")
    if not isinstance(config, dict):
        raise SystemExit(f"error: {path}: expected a JSON object of settings, got {type(config).__name__}")
    unknown = sorted(set(config) - set(defaults))
    if unknown:
        raise SystemExit(f"error: {path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(defaults))}")
    return config


def main(description, defaults, argv=None, files=False):
    """Parses arguments, runs the experiment, and turns zoo errors into one line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Length-bucketed datasets have no known size, so Keras warns at the end of
    # every first epoch that the input "ran out of data": expected, not a fault.
    warnings.filterwarnings("ignore", message="Your input ran out of data")
    from zoo import experiment

    defaults = {**experiment.DEFAULTS, **defaults}
    # --config FILE (e.g. the best.json of recipes/tune.py) replaces the
    # recipe's defaults; flags given on the command line still win.
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    known, _ = pre.parse_known_args(argv)
    if known.config:
        defaults.update(_read_config(known.config, defaults))
    parser = build_parser(description, defaults, files=files)
    parser.add_argument("--config", help="JSON file of settings (flag names with underscores) used as defaults")
    args = parser.parse_args(argv)
    cfg = {**defaults, **vars(args)}
    cfg.pop("config", None)
    try:
        return experiment.run(cfg)
    except ZooError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2)
