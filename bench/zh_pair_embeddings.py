"""Would the recurrent path read Chinese better with an embedding of each pair of adjacent characters? A study on
zh_reviews' validation split only, outside zoo's model factories.

A Chinese word is most often two characters, and a character alone is
ambiguous (好 in 好看 "good-looking", 好像 "as if"); models of Chinese text
commonly add an embedding of each character bigram to that of the character
(as character n-gram features do for the linear model). Here: zoo's tokens
(``zoo.data.tokenize.standardize_text``: one token per Han character), the
recipe's validation split (``load_dataset("zh_reviews")``'s: 1,389 of the 13,890 training texts),
a BiLSTM like zoo's default (embedding 100, spatial dropout 0.1, 96 units a
direction, masked max pooling, dropout 0.35, Adam 4e-3 cosine, batch 32,
sequence length 174: the recipe's p90) trained from random embeddings, with:

* ``chars``: the character embedding alone;
* ``pairs``: plus an embedding of each (token, next token) pair that occurs at
  least twice in the training split (others, and the last token, add nothing),
  found with an in-graph lookup so that an export could carry it.

Each variant trains for ``--epochs`` and reports the validation accuracy after
every epoch (the best one is what early stopping would keep). The test split
is not read.

    python bench/zh_pair_embeddings.py --output docs/results/zh-pair-embeddings/results.json
"""

import argparse
import os
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common

_common.setup()

import keras
import numpy as np
import tensorflow as tf

from zoo.data import load_dataset
from zoo.data.tokenize import standardize_text

LENGTH, DIM, UNITS, BATCH, LEARNING_RATE, SEED, MIN_PAIR_COUNT = 174, 100, 96, 32, 4e-3, 0, 2


def token_ids(texts, vocabulary):
    tokens = [t.decode().split() for t in standardize_text(tf.constant(texts)).numpy()]
    ids = np.zeros((len(texts), LENGTH), "int64")
    for i, row in enumerate(tokens):
        row = [vocabulary.get(t, 1) for t in row[:LENGTH]]
        ids[i, :len(row)] = row
    return ids


def pair_keys(ids, size):
    """Each position's (token, next token) as one integer, 0 where either is padding."""
    following = np.concatenate([ids[:, 1:], np.zeros_like(ids[:, :1])], axis=1)
    return np.where((ids > 0) & (following > 0), ids * size + following, 0)


def build(variant, size, pairs):
    ids = keras.Input((LENGTH,), dtype="int64")
    mask = keras.ops.not_equal(ids, 0)
    x = keras.layers.Embedding(size, DIM, name="embedding")(ids)
    if variant == "pairs":
        following = keras.ops.concatenate([ids[:, 1:], keras.ops.zeros_like(ids[:, :1])], axis=1)
        keys = keras.ops.where(keras.ops.logical_and(mask, keras.ops.not_equal(following, 0)),
                               ids * size + following, 0)
        lookup = keras.layers.IntegerLookup(vocabulary=pairs, mask_token=0, num_oov_indices=1, name="pair_lookup")
        x = x + keras.layers.Embedding(len(pairs) + 2, DIM, name="pair_embedding")(lookup(keys))
    x = keras.layers.SpatialDropout1D(0.1)(x)
    x = keras.layers.Bidirectional(keras.layers.LSTM(UNITS, return_sequences=True), name="encoder_1")(x, mask=mask)
    x = keras.ops.max(keras.ops.where(keras.ops.expand_dims(mask, -1), x, -1e9), axis=1)
    x = keras.layers.Dropout(0.35)(x)
    return keras.Model(ids, keras.layers.Dense(2, activation="softmax", name="head")(x))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=["chars", "pairs"], nargs="+", default=["chars", "pairs"])
    parser.add_argument("--epochs", type=int, default=4)
    _common.add_output_args(parser)
    args = parser.parse_args()
    data = load_dataset("zh_reviews")  # (its validation split is the recipe's)
    texts, y = list(data.train_texts) + list(data.valid_texts), np.concatenate([data.train_labels, data.valid_labels])
    keep, held = np.arange(len(data.train_texts)), np.arange(len(data.train_texts), len(texts))
    if args.quick:
        keep, held = keep[:500], held[:200]
    train_tokens = [t.decode().split() for t in standardize_text(tf.constant([texts[i] for i in keep])).numpy()]
    counts = Counter(t for row in train_tokens for t in row)
    vocabulary = {t: k + 2 for k, (t, n) in enumerate(counts.most_common()) if n >= 2}  # 0 padding, 1 unknown
    size = len(vocabulary) + 2
    x_train, x_valid = token_ids([texts[i] for i in keep], vocabulary), token_ids([texts[i] for i in held], vocabulary)
    pair_counts = Counter(pair_keys(x_train, size).ravel().tolist())
    pairs = np.array(sorted(k for k, n in pair_counts.items() if k and n >= MIN_PAIR_COUNT), "int64")
    rows = []
    for variant in args.variant:
        keras.utils.set_random_seed(SEED)
        model = build(variant, size, pairs)
        steps = args.epochs * -(-len(keep) // BATCH)
        model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps)),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        start = time.time()
        history = model.fit(x_train, y[keep], validation_data=(x_valid, y[held]), epochs=args.epochs,
                            batch_size=BATCH, verbose=2).history
        row = {"variant": variant, "parameters": model.count_params(),
               "valid_accuracy": [round(a, 4) for a in history["val_accuracy"]],
               "best_valid_accuracy": round(max(history["val_accuracy"]), 4),
               "best_epoch": int(np.argmax(history["val_accuracy"])) + 1,
               "seconds": round(time.time() - start, 1)}
        rows.append(row)
        print(row, flush=True)
    print(_common.markdown_table(rows, [(k, k, None) for k in rows[0]]))
    _common.write_json(_common.output_path(args, "zh_pair_embeddings"), {
        "command": "python " + " ".join(sys.argv), "train_texts": len(keep), "valid_texts": len(held),
        "vocabulary": size, "pairs": len(pairs), "min_pair_count": MIN_PAIR_COUNT, "epochs": args.epochs,
        "rows": rows, "machine": _common.machine_info()})


if __name__ == "__main__":
    main()
