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
training time). docs/ulmfit.md has the study.
"""

from zoo.cli import train

RECIPE = {"dataset": "20newsgroups", "init": "lm:wiki-books-lstm-lm-v2", "output_dir": "runs/ulmfit"}

if __name__ == "__main__":
    train.main(defaults=RECIPE, prog="recipes/newsgroups_ulmfit.py", description=__doc__, recipe="newsgroups_ulmfit")
