"""SMS spam detection: GloVe vectors + BiLSTM, end to end.

The UCI SMS Spam Collection (or its pinned offline mirror), split 80/20
stratified with a fixed seed so the test set matches the published baseline;
then the same stages, evaluation and export as the other recipes.

    python recipes/sms_spam_glove_bilstm.py --output-dir runs/sms_spam
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

from zoo.cli import main  # noqa: E402

DEFAULTS = {
    "recipe": "sms_spam_glove_bilstm",
    "dataset": "sms_spam",
    "output_dir": "runs/sms_spam_glove_bilstm",
    "model": "bilstm",
    "vectors": "glove-6b-50d",
    "sequence_length": "p99",
}

if __name__ == "__main__":
    main(__doc__.split("\n\n")[0], DEFAULTS)
