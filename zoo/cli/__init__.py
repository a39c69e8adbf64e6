"""The ``zoo`` command: ``zoo train``, ``zoo predict``, ``zoo pretrain-lm``, ``zoo tune``, ``zoo report``,
``zoo explain``, ``zoo lr-find``.

Each command's flags are generated from the settings of :mod:`zoo.config`
(:mod:`zoo.cli.flags`), so ``--help`` lists every setting with its default
and allowed values, and ``--config FILE`` reads the same settings from JSON.
Errors are one line, ``error: ...``, with exit code 2.
"""

import importlib
import os
import sys

from zoo.lazy import lazy_module
from zoo.version import __version__

# Every config module (some 30 ms): not for `zoo --help` or `zoo --version`.
cli_flags = lazy_module("zoo.cli.flags")

COMMANDS = {
    "train": ("zoo.cli.train", "train a classifier on a dataset or your files; evaluate beside a baseline; export"),
    "predict": ("zoo.cli.predict", "classify texts with an exported SavedModel"),
    "pretrain-lm": ("zoo.cli.pretrain_lm", "pretrain an LSTM language model on offline English text"),
    "tune": ("zoo.cli.tune", "search TextClassifier settings with KerasTuner (validation split only)"),
    "report": ("zoo.cli.report", "a table of finished runs beside their baselines"),
    "explain": ("zoo.cli.explain", "which tokens made a trained classifier say what it said"),
    "lr-find": ("zoo.cli.lr_find", "the learning-rate range test on the model `zoo train` would start from"),
}


def usage():
    lines = ["usage: zoo COMMAND [--help] ...", "", "LSTM text classifiers with transfer learning.", "", "commands:"]
    lines += [f"  {name:<12} {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv=None):
    """Entry point of the ``zoo`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] in ("-V", "--version"):
        print(f"zoo {__version__}")
        return 0
    if argv[0] not in COMMANDS:
        # One line, as every other usage error (the command list is in `zoo --help`).
        print(f"error: unknown command {argv[0]!r}; expected one of {', '.join(COMMANDS)} (`zoo --help` says what "
              "each does)", file=sys.stderr)
        return 2
    _quiet_expected_warnings()
    with cli_flags.one_line_errors():  # (each command has its own too; this one also covers the imports)
        module = importlib.import_module(COMMANDS[argv[0]][0])
        module.main(argv[1:])
    return 0


def _quiet_expected_warnings():
    import warnings

    # Length-bucketed datasets have no known size, so Keras warns at the end of every first epoch that the input
    # "ran out of data": expected, not a fault.
    warnings.filterwarnings("ignore", message="Your input ran out of data")
