"""The zh_reviews training texts that a character n-gram model, cross-validated, gets most confidently wrong: a
look at how noisy the labels are (``docs/chinese.md``). Reads the training split only.

TF-IDF over character 1-3 grams (sublinear tf) + LinearSVC, 5-fold
out-of-fold decision values on the recipe's training split (12,501 texts;
its validation split and the test split are not read); prints the error count and the ``--top`` errors with
the largest margins, label first.

    python bench/zh_confident_errors.py --top 15
"""

import argparse

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import cross_val_predict
from sklearn.svm import LinearSVC

from zoo.data import load_dataset


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    data = load_dataset("zh_reviews")
    texts, y = list(data.train_texts), np.asarray(data.train_labels)
    features = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True).fit_transform(texts)
    margins = cross_val_predict(LinearSVC(), features, y, cv=5, method="decision_function")
    errors = np.flatnonzero((margins > 0) != (y == 1))
    print(f"{len(errors)} of {len(y)} training texts misclassified out of fold "
          f"(accuracy {1 - len(errors) / len(y):.4f})")
    for i in errors[np.argsort(-np.abs(margins[errors]), kind="stable")][:args.top]:
        print(f"{data.class_names[y[i]]}\t{margins[i]:+.2f}\t{texts[i][:120]}")


if __name__ == "__main__":
    main()
