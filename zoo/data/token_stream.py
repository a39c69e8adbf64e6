"""A language model's data: one stream of token ids over many documents, read in truncated-BPTT windows.

Example:

>>> v = lm_vectorizer(["the cat sat", "a dog ran"], max_tokens=20)
>>> stream = token_stream(v, ["the cat sat", "a dog ran"])
>>> [str(v.get_vocabulary()[i]) for i in stream[:4]]
['xxbos', 'the', 'cat', 'sat']
"""

import numpy as np

from zoo.backend import require_tensorflow

require_tensorflow("zoo.data.token_stream (the language model's tf.data windows)")

import tensorflow as tf  # noqa: E402

from zoo.data.text import make_vectorizer
from zoo.training.lm_windows import bptt_lengths, lm_steps, window_plan  # noqa: F401 (bptt_lengths: its old home)

# The windows' arithmetic is NumPy, shared with zoo.training.lm_windows.LMWindows (any Keras backend).

BOS = "xxbos"  # marks the start of every document in the token stream


def token_stream(vectorizer, texts, seed=None):
    """One int32 array: every text's ids after a ``xxbos`` id, texts in a seeded order.

    ``vectorizer`` must know ``xxbos`` (see :func:`lm_vectorizer`).
    """
    order = np.arange(len(texts)) if seed is None else np.random.default_rng(seed).permutation(len(texts))
    ids = []
    for start in range(0, len(order), 1024):
        chunk = [f"{BOS} {texts[i]}" for i in order[start:start + 1024]]
        ids.append(vectorizer(tf.constant(chunk)).flat_values.numpy())
    return np.concatenate(ids).astype("int32") if ids else np.zeros(0, "int32")


def lm_vectorizer(texts, max_tokens, standardize="lower_and_strip_punctuation"):
    """A ``TextVectorization`` adapted on ``texts`` whose vocabulary contains ``xxbos``; ``standardize`` a name of
    :data:`zoo.data.tokenize.STANDARDIZERS` or a function (pretraining passes
    :func:`zoo.data.tokenize.lm_corpus_standardizer`'s)."""
    return make_vectorizer([f"{BOS} {t}" for t in texts], max_tokens=max_tokens, standardize=standardize)


def lm_dataset(stream, batch_size, bptt, seed=0, variable=True):
    """Truncated-BPTT batches ``(ids, next_ids)`` over a continuous token stream.

    The stream is cut into ``batch_size`` rows read left to right, as in
    AWD-LSTM. Each epoch starts the windows at a new random offset and draws
    each window's length around ``bptt`` (:func:`bptt_lengths`), so every
    token is seen at new positions and in new contexts; windows advance by
    ``bptt`` and may overlap slightly. The hidden state is not carried across
    windows (each starts from zeros), which keeps batches independent and
    the model stateless.

    Returns:
        ``(dataset, steps_per_epoch)``: a ``tf.data.Dataset`` that yields a
        new arrangement on every iteration (every epoch).
    """
    stream = np.asarray(stream, "int32")
    row, steps = lm_steps(len(stream), batch_size, bptt, variable)
    rows = stream[: row * batch_size].reshape(batch_size, row)
    epoch = [0]

    def windows():
        starts, lengths = window_plan(steps, bptt, seed, epoch[0], variable)
        epoch[0] += 1
        for start, length in zip(starts, lengths):
            yield rows[:, start:start + length], rows[:, start + 1:start + 1 + length]

    spec = tf.TensorSpec((batch_size, None), tf.int32)
    ds = tf.data.Dataset.from_generator(windows, output_signature=(spec, spec))
    return ds.prefetch(4), steps
