"""ULMFiT on 20 Newsgroups: a pretrained LSTM language model, fine-tuned, then a classifier.

1. Load 20 Newsgroups (bydate; headers, footers and quotes removed). With
   ``--labels N`` only N train examples keep their labels (seeded, stratified);
   all train texts are used as unlabelled text. The test split is untouched.
2. Fine-tune the pretrained language model (``pretrained/``) on the train texts.
3. Train a classifier on its encoder with gradual unfreezing, discriminative
   learning rates and slanted triangular learning rates.
4. Evaluate beside TF-IDF + LinearSVC trained on the same labels; export.

    python recipes/newsgroups_ulmfit.py --labels 1000 --output-dir runs/ulmfit-1000

``--dev N`` evaluates on N held-out train documents instead of the test
split, for choosing settings; ``--probe --pooling mean`` fits only a linear
head on the fine-tuned encoder's mean-pooled states (the best setting here
with a few hundred labels); ``--no-discriminative --no-gradual-unfreezing
--ensemble 5`` averages five classifiers fine-tuned from the one fine-tuned
language model (the best setting here with 1,000 labels, at five times the
training time).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

from zoo import ulmfit  # noqa: E402

if __name__ == "__main__":
    ulmfit.main(__doc__.split("\n\n")[0], {"recipe": "newsgroups_ulmfit", "dataset": "20newsgroups"})
