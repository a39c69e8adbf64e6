"""Writes ``bench/data/20newsgroups_lengths.json``: the token-length distribution that ``bench/gpu.py`` samples.

The lengths are those the main job sees: 20 Newsgroups train split (10% held out
as valid, seed 0, headers/footers/quotes removed), zoo's tokenizer
(``standardize="zoo"``), a 30,000-token vocabulary adapted on train (out-of-vocabulary
words become ``[UNK]`` and still count, so the lengths do not depend on the
vocabulary size), capped at the main job's sequence length: ``resolve_sequence_length("p90", ...)``
of the train lengths, as ``zoo.text_classifier`` does. Empty texts are one
(padding) timestep, as ``zoo.data.text.vectorize`` makes them.

The file holds a histogram of the capped lengths (a few KB), not the texts.
This script needs TensorFlow (zoo's data loading); ``gpu.py`` does not.

Run from the repo root: ``ZOO_OFFLINE=1 python bench/make_lengths.py``.
"""

import argparse
import collections
import json
import os

import _common

_common.setup()

import numpy as np

from zoo.data import load_dataset
from zoo.data.text import make_vectorizer, resolve_sequence_length, vectorize
from zoo.data.tokenize import standardizer

DEFAULT_OUTPUT = os.path.join(_common.REPO_ROOT, "bench", "data", "20newsgroups_lengths.json")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--output", default=DEFAULT_OUTPUT)
    p.add_argument("--max-train-examples", type=int, default=None, help="a subsample (smoke tests only)")
    args = p.parse_args(argv)

    data = load_dataset("20newsgroups", validation_split=0.1, seed=0, max_train_examples=args.max_train_examples)
    vectorizer = make_vectorizer(data.train_texts, max_tokens=30000, standardize=standardizer("zoo"))
    full = vectorize(vectorizer, data.train_texts)
    lengths = full.lengths
    raw_empty = sum(1 for x in full.ids if len(x) == 1 and x[0] == 0)  # vectorize's one padding id
    cap = resolve_sequence_length("p90", lengths)
    capped = np.minimum(lengths, cap)
    counts = sorted(collections.Counter(int(x) for x in capped).items())
    payload = {
        "what": "token counts of the 20 Newsgroups training texts after zoo's tokenizer, capped at the main "
                "job's sequence length (p90 of the train lengths); histogram [[length, count], ...]",
        "source": data.source,
        "split": "train, 10% held out as valid (seed 0)",
        "tokenizer": "zoo.data.tokenize.standardizer('zoo'), max_tokens=30000",
        "num_texts": len(lengths),
        "empty_texts": int(raw_empty),
        "sequence_length": int(cap),
        "sequence_length_rule": "p90 of the train lengths (zoo.data.text.resolve_sequence_length)",
        "uncapped": {"mean": float(lengths.mean()), "median": float(np.median(lengths)),
                     "p90": float(np.percentile(lengths, 90)), "max": int(lengths.max())},
        "capped_mean": float(capped.mean()),
        "truncated_texts": int((lengths > cap).sum()),
        "histogram": [list(pair) for pair in counts],
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(lengths)} texts, sequence length {cap} (p90), {payload['truncated_texts']} cut, "
          f"capped mean {payload['capped_mean']:.1f}; wrote {args.output} ({os.path.getsize(args.output)} bytes)")


if __name__ == "__main__":
    main()
