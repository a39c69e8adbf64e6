"""Train a zoo classifier on your own labelled text files.

Files are CSV or TSV with a header, JSON lines, or a folder with one
sub-folder of .txt files per class (the aclImdb layout):

    python recipes/text_classifier.py --train train.csv --test test.csv \\
        --text-column review --label-column sentiment --output-dir runs/mine

By default the model starts from pretrained word vectors (``--vectors``).
``--init lm:ARTIFACT`` starts from a pretrained LSTM language model instead
(a name in pretrained/manifest.json or an artifact directory) and runs ULMFiT:
language-model fine-tuning on your train texts, then gradual unfreezing with
discriminative and slanted triangular learning rates (``--help`` with it
lists those settings):

    python recipes/text_classifier.py --init lm:wiki-books-lstm-lm-v2 --train train.csv --test test.csv
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

import argparse  # noqa: E402

from zoo.cli import main  # noqa: E402

DEFAULTS = {
    "recipe": "text_classifier",
    "dataset": None,
    "output_dir": "runs/text_classifier",
}


def init_choice(argv):
    """``--init``: ``vectors`` (word vectors, the default) or ``lm:ARTIFACT``; returns (artifact, rest)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--init", default="vectors")
    known, rest = pre.parse_known_args(argv)
    if known.init == "vectors":
        return None, rest
    if not known.init.startswith("lm:") or known.init == "lm:":
        raise SystemExit(f"error: --init must be 'vectors' or 'lm:ARTIFACT', got {known.init!r}")
    return known.init[3:], rest


if __name__ == "__main__":
    artifact, argv = init_choice(sys.argv[1:])
    description = __doc__.split("\n\n")[0]
    if artifact is None:
        main(description, DEFAULTS, argv=argv, files=True)
    else:
        from zoo import ulmfit

        ulmfit.main(description, {"recipe": "text_classifier (ULMFiT)", "dataset": None, "lm": artifact,
                                  "output_dir": DEFAULTS["output_dir"]}, argv=argv, files=True)
