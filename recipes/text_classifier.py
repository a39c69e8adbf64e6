"""Train a zoo classifier on your own labelled text files.

Files are CSV or TSV with a header, JSON lines, or a folder with one
sub-folder of .txt files per class (the aclImdb layout):

    python recipes/text_classifier.py --train train.csv --test test.csv \\
        --text-column review --label-column sentiment --output-dir runs/mine

By default the model starts from pretrained word vectors (``--init
glove-6b-50d``; any word2vec, GloVe, fastText or gensim file works too).
``--init lm:ARTIFACT`` starts from a pretrained LSTM language model instead
and runs ULMFiT: language-model fine-tuning on your train texts, then
gradual unfreezing with discriminative and slanted triangular learning rates:

    python recipes/text_classifier.py --init lm:wiki-books-lstm-lm-v2 --train train.csv --test test.csv

This is ``zoo train`` with nothing preset: every setting is a flag (``--help``).
"""

from zoo.cli import train

RECIPE = {"output_dir": "runs/text_classifier"}

if __name__ == "__main__":
    train.main(defaults=RECIPE, prog="recipes/text_classifier.py", description=__doc__, recipe="text_classifier")
