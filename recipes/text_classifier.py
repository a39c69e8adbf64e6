"""Train a zoo classifier on your own labelled text files.

Files are CSV or TSV with a header, JSON lines, or a folder with one
sub-folder of .txt files per class (the aclImdb layout):

    python recipes/text_classifier.py --train train.csv --test test.csv \\
        --text-column review --label-column sentiment --output-dir runs/mine
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

from zoo.cli import main  # noqa: E402

DEFAULTS = {
    "recipe": "text_classifier",
    "dataset": None,
    "output_dir": "runs/text_classifier",
}

if __name__ == "__main__":
    main(__doc__.split("\n\n")[0], DEFAULTS, files=True)
