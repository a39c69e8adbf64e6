"""Does word segmentation help on zh_reviews? Character n-grams against dictionary words, in a linear model.

Issue #34 allows word segmentation "where it measures better on validation". A
dictionary segmenter cannot run inside the SavedModel, so this measures first
whether words carry anything that zoo's character n-grams do not.

Words: jieba's dictionary (``jieba/dict.txt`` of the pinned ``jieba==0.42.1``
sdist, its sha256 checked; 349,046 words with counts; only that data file is
read, none of jieba's code runs) and jieba's own rule for choosing among the
dictionary's segmentations: the path of dictionary words (or single characters)
with the largest product of word frequencies. jieba's HMM for words outside the
dictionary is left out. Texts are NFKC-folded and lowercased; runs of Latin
letters or digits are one token each, punctuation is dropped.

Scores: TF-IDF (sublinear tf, min_df 2) + LinearSVC (C 1) over character 1-3
grams, over words and word pairs, and over both, two ways: 5-fold stratified
cross-validation on the recipe's training and validation texts (13,890), and
the recipe's own split (fit on its 12,501 training texts, scored on its 1,389
validation texts). The test split is never read.

    python bench/zh_word_segmentation.py --output docs/results/zh-word-segmentation/results.json
"""

import argparse
import json
import math
import re
import time
import unicodedata
from itertools import pairwise
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from zoo.data import cache, load_dataset

_RUNS = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def read_dictionary(path):
    """``{word: count}`` from jieba's ``dict.txt`` (``word count tag`` a line)."""
    counts = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        word, count, *_ = line.split(" ")
        counts[word] = counts.get(word, 0) + int(count)
    return counts


class Segmenter:
    """The most probable segmentation of a run of Han characters into dictionary words or single characters."""

    def __init__(self, counts):
        self.log_p = {word: math.log(count) for word, count in counts.items() if count > 0}
        self.log_total = math.log(sum(counts.values()))
        self.longest = max(map(len, self.log_p))

    def words(self, run):
        n = len(run)
        best = [(0.0, n)] * (n + 1)  # best[i]: (score of run[i:], where the first word ends)
        for i in range(n - 1, -1, -1):
            choices = []
            for j in range(i + 1, min(n, i + self.longest) + 1):
                log_p = self.log_p.get(run[i:j])
                if log_p is None and j > i + 1:
                    continue
                choices.append((best[j][0] + (log_p if log_p is not None else 0.0) - self.log_total, j))
            best[i] = max(choices)
        out, i = [], 0
        while i < n:
            out.append(run[i:best[i][1]])
            i = best[i][1]
        return out

    def __call__(self, text):
        tokens = []
        for run in _RUNS.findall(unicodedata.normalize("NFKC", text).lower()):
            tokens.extend(self.words(run) if _HAN.match(run) else [run])
        return tokens


def with_pairs(tokens):
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


FEATURES = {
    "character 1-3 grams": ["char"],
    "words and word pairs": ["word"],
    "both": ["char", "word"],
}


def vectorizers(kinds):
    made = []
    if "char" in kinds:
        made.append((0, TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)))
    if "word" in kinds:
        made.append((1, TfidfVectorizer(analyzer=with_pairs, sublinear_tf=True, min_df=2)))
    return made


def accuracy(kinds, train, y_train, held, y_held):
    fitted = [(column, v.fit([row[column] for row in train])) for column, v in vectorizers(kinds)]
    x_train = sparse.hstack([v.transform([row[c] for row in train]) for c, v in fitted]).tocsr()
    x_held = sparse.hstack([v.transform([row[c] for row in held]) for c, v in fitted]).tocsr()
    model = LinearSVC(C=1.0).fit(x_train, y_train)
    return float(np.mean(model.predict(x_held) == y_held))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, help="write the scores here as JSON")
    args = parser.parse_args()
    started = time.time()
    segment = Segmenter(read_dictionary(cache.sdist_member("jieba", "jieba/dict.txt")))
    data = load_dataset("zh_reviews")
    train = [(t, segment(t)) for t in data.train_texts]
    valid = [(t, segment(t)) for t in data.valid_texts]
    y_train, y_valid = np.asarray(data.train_labels), np.asarray(data.valid_labels)
    print("a segmented review:", " / ".join(train[0][1][:30]))
    rows = train + valid
    y = np.concatenate([y_train, y_valid])
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(y)), y))
    results = {}
    for name, kinds in FEATURES.items():
        scores = [accuracy(kinds, [rows[i] for i in fit], y[fit], [rows[i] for i in held], y[held])
                  for fit, held in folds]
        results[name] = {"cv_mean": round(float(np.mean(scores)), 4), "cv_folds": [round(s, 4) for s in scores],
                         "validation": round(accuracy(kinds, train, y_train, valid, y_valid), 4)}
        print(f"{name:22s} 5-fold CV {results[name]['cv_mean']:.4f}  validation {results[name]['validation']:.4f}")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        report = {"command": "python bench/zh_word_segmentation.py --output " + str(args.output),
                  "dictionary": "jieba==0.42.1 sdist, jieba/dict.txt", "texts": len(y),
                  "seconds": round(time.time() - started, 1), "results": results}
        args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
