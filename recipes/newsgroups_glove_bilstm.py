"""20 Newsgroups topic classification: GloVe vectors + BiLSTM, end to end.

Loads 20 Newsgroups (bydate split; headers, footers and quotes removed) from
scikit-learn's fetcher or its pinned offline mirror, starts a bidirectional
LSTM from GloVe 6B 50d vectors, trains with the embedding frozen and then
unfrozen, evaluates on the official test split beside a TF-IDF + LinearSVC
baseline, and exports a SavedModel that classifies raw text.

    python recipes/newsgroups_glove_bilstm.py --output-dir runs/newsgroups
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

from zoo.cli import main  # noqa: E402

DEFAULTS = {
    "recipe": "newsgroups_glove_bilstm",
    "dataset": "20newsgroups",
    "output_dir": "runs/newsgroups_glove_bilstm",
    "model": "bilstm",
    "vectors": "glove-6b-50d",
}

if __name__ == "__main__":
    main(__doc__.split("\n\n")[0], DEFAULTS)
