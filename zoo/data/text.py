"""From raw texts to batches of token ids.

* A ``TextVectorization`` adapted on the training texts only.
* A sequence-length policy: a fixed number of tokens, or a percentile of the
  training lengths (``"p95"``). Longer texts keep their first tokens
  (``truncation="head"``) or their first and last halves (``"head_tail"``: a
  review's verdict is often at its end); how many texts were cut is
  reported, never hidden.
* ``tf.data`` pipelines that vectorize once, cache the ids, and batch by
  length with ``bucket_by_sequence_length`` so that batches carry little
  padding. Padding is on the right (id 0), as cuDNN needs.
"""

import dataclasses
import re

import keras
import numpy as np

from zoo.backend import require_tensorflow

require_tensorflow("zoo.data.text (TextVectorization and tf.data pipelines)")

import tensorflow as tf  # noqa: E402

from zoo.data.tokenize import standardizer  # noqa: E402
from zoo.errors import ConfigError, DataError  # noqa: E402
from zoo.log import progress_bar  # noqa: E402

PAD, OOV = "", "[UNK]"
TRUNCATIONS = ("head", "head_tail")


@dataclasses.dataclass
class Vectorized:
    """Token ids of a list of texts, truncated to the sequence length."""

    ids: list  # list of 1-D int32 arrays
    truncated: int  # how many texts were longer than the sequence length

    @property
    def lengths(self):
        return np.array([len(x) for x in self.ids])


def _standardizer(standardize):
    """A standardizer's name as zoo's function (:data:`zoo.data.tokenize.STANDARDIZERS`: Keras' own
    ``"lower_and_strip_punctuation"`` too, with unspaced scripts split into characters); a function as it is."""
    return standardizer(standardize) if isinstance(standardize, str) else standardize


def make_vectorizer(texts, max_tokens=30000, standardize="lower_and_strip_punctuation"):
    """A ``TextVectorization`` layer adapted on ``texts`` (the training split only).

    Example:

    >>> v = make_vectorizer(["a cat", "a dog"], max_tokens=10)
    >>> [str(token) for token in v.get_vocabulary()]
    ['', '[UNK]', 'a', 'dog', 'cat']
    """
    vectorizer = keras.layers.TextVectorization(
        max_tokens=max_tokens, standardize=_standardizer(standardize), ragged=True, name="vectorizer"
    )
    texts = list(texts)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(1024))
    if vectorizer.vocabulary_size() <= 2:  # padding and [UNK] only: Keras' lookup table would fail uninitialised
        raise DataError(f"the {len(texts)} training texts hold no token once standardized: they are empty or only "
                        "punctuation; expected texts with words")
    return vectorizer


def vectorize(vectorizer, texts, sequence_length=None, batch_size=2048, truncation="head"):
    """Token ids of ``texts``, cut to ``sequence_length`` tokens (see :func:`cut`).

    Empty texts become one padding id so that every example has a timestep
    (a fully masked one).
    """
    ids, truncated = [], 0
    texts = list(texts)
    for start in range(0, len(texts), batch_size):
        ragged = vectorizer(tf.constant(texts[start:start + batch_size]))
        # One transfer per batch; iterating a RaggedTensor row by row is slow.
        flat = ragged.flat_values.numpy().astype("int32")
        for row in np.split(flat, np.cumsum(ragged.row_lengths().numpy())[:-1]):
            if sequence_length is not None and len(row) > sequence_length:
                row, truncated = cut(row, sequence_length, truncation), truncated + 1
            ids.append(row if len(row) else np.zeros(1, "int32"))
    return Vectorized(ids, truncated)


def cut(ids, sequence_length, truncation="head"):
    """The first ``sequence_length`` ids, or (``"head_tail"``) the first half of them and the last.

    Example:

    >>> cut([1, 2, 3, 4, 5, 6, 7], 4).tolist(), cut([1, 2, 3, 4, 5, 6, 7], 4, "head_tail").tolist()
    ([1, 2, 3, 4], [1, 2, 6, 7])
    """
    ids = np.asarray(ids)
    if len(ids) <= sequence_length:
        return ids
    if truncation == "head":
        return ids[:sequence_length]
    head = sequence_length - sequence_length // 2
    return np.concatenate([ids[:head], ids[len(ids) - (sequence_length - head):]])


@keras.saving.register_keras_serializable(package="zoo")
class TextToIds(keras.layers.Layer):
    """Raw strings -> right-padded token ids, each batch only as wide as its longest text.

    A ``TextVectorization`` with ``output_sequence_length=N`` pads every text
    to N, and the recurrent layers then run N steps for a five-word text;
    this layer vectorizes raggedly, cuts as :func:`cut` does, and pads to the
    batch's longest text (at least one step). Trailing padding is masked, so
    the probabilities are those of the fixed-length ids.

    Args:
        vocabulary, standardize, split, max_tokens: the adapted vectorizer's.
        sequence_length: the most tokens a text keeps.
        truncation: ``"head"`` or ``"head_tail"``.
        fixed_length: pad every batch to ``sequence_length`` instead (what
            ``output_sequence_length`` does: for servers or accelerators that
            need one static shape; the probabilities are the same).
    """

    def __init__(self, vocabulary, sequence_length, truncation="head", standardize="lower_and_strip_punctuation",
                 split="whitespace", max_tokens=None, fixed_length=False, **kwargs):
        super().__init__(**kwargs)
        self.sequence_length, self.truncation = int(sequence_length), truncation
        self.fixed_length = bool(fixed_length)
        self.vectorizer = keras.layers.TextVectorization(
            max_tokens=max_tokens, standardize=_standardizer(standardize), split=split, vocabulary=list(vocabulary),
            ragged=True, name="vectorizer")

    @classmethod
    def like(cls, vectorizer, sequence_length, truncation="head", **kwargs):
        """One with the vocabulary and standardizer of an adapted ``vectorizer``."""
        config = vectorizer.get_config()
        return cls(vectorizer.get_vocabulary(), sequence_length, truncation, standardize=config["standardize"],
                   split=config["split"], max_tokens=config["max_tokens"], **kwargs)

    def call(self, texts):
        ids = self.vectorizer(texts)
        n = self.sequence_length
        if self.truncation == "head":
            ids = ids[:, :n]
        else:  # keep positions p < head or p >= length - tail; rows of at most n ids keep every position
            lengths = ids.row_lengths()
            head = n - n // 2
            positions = tf.ragged.range(lengths)
            keep = (positions < head) | (positions >= tf.expand_dims(lengths - (n - head), 1))
            ids = tf.ragged.boolean_mask(ids, keep)
        width = n if self.fixed_length else tf.maximum(tf.reduce_max(ids.row_lengths()), 1)
        batch = tf.shape(texts, out_type=tf.int64)[0]
        return ids.to_tensor(default_value=0, shape=tf.stack([batch, width]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.sequence_length if self.fixed_length else None)

    def get_config(self):
        # Not saved on its own: the classifier saves the vocabulary (vocabulary.json) and rebuilds this layer.
        return {**super().get_config(), "vocabulary": [], "sequence_length": self.sequence_length,
                "truncation": self.truncation, "fixed_length": self.fixed_length}


_POLICY = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")


def resolve_sequence_length(policy, train_lengths):
    """Turns a policy into a number of tokens.

    Args:
        policy: an int (a fixed length), ``"pNN"`` (the NN-th percentile of
            the training lengths) or ``None`` (the longest training text).
        train_lengths: token counts of the training texts.

    Example:

    >>> resolve_sequence_length("p50", [1, 2, 3, 4, 100])
    3
    """
    if policy is None:
        return int(max(train_lengths))
    if isinstance(policy, (int, np.integer)) or str(policy).isdigit():
        if int(policy) < 1:
            raise ConfigError("sequence_length", f"`sequence_length` must be >= 1, got {policy!r}")
        return int(policy)
    match = _POLICY.match(str(policy))
    if not match:
        raise ConfigError("sequence_length", "`sequence_length` must be an integer or 'pNN' (a percentile such "
                                             f"as 'p95'), got {policy!r}")
    return max(1, int(np.ceil(np.percentile(train_lengths, float(match.group(1))))))


def bucket_boundaries(lengths, num_buckets=8):
    """Bucket edges at quantiles of ``lengths``, so buckets are evenly filled."""
    edges = np.unique(np.quantile(lengths, np.linspace(0, 1, num_buckets + 1)[1:-1]).astype(int) + 1)
    return [int(e) for e in edges if e > 1]


def make_dataset(ids, labels=None, batch_size=32, shuffle=False, seed=0, bucket=True, num_buckets=16):
    """A batched ``tf.data.Dataset`` of right-padded id tensors (and labels).

    Args:
        ids: list of 1-D int arrays (see :func:`vectorize`).
        labels: array of labels, or None for an unlabelled dataset.
        batch_size: examples per batch.
        shuffle: reshuffle every epoch (seeded).
        seed: shuffle seed.
        bucket: batch texts of similar length together
            (``tf.data.Dataset.bucket_by_sequence_length``); otherwise pad each
            batch to its longest text.
        num_buckets: number of length buckets (16 measured faster than 8 in
            ``bench/train_throughput.py``: less padding per batch).
    """
    lengths = np.array([len(x) for x in ids], "int64")
    ragged = tf.RaggedTensor.from_row_lengths(np.concatenate(ids).astype("int32"), lengths)
    elements = ragged if labels is None else (ragged, np.asarray(labels))
    ds = tf.data.Dataset.from_tensor_slices(elements)
    # from_tensor_slices keeps the ragged rows as ragged scalars' rows; make
    # them dense 1-D tensors for padding.
    ds = ds.map(_densify, num_parallel_calls=tf.data.AUTOTUNE).cache()
    if shuffle:
        ds = ds.shuffle(len(ids), seed=seed, reshuffle_each_iteration=True)
    if bucket:
        boundaries = bucket_boundaries(lengths, num_buckets)
        ds = ds.bucket_by_sequence_length(
            element_length_func=lambda x, *_: tf.shape(x)[0],
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            pad_to_bucket_boundary=False,
        )
    else:
        ds = ds.padded_batch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE)


def _densify(x, *rest):
    x = x.to_tensor() if isinstance(x, tf.RaggedTensor) else x
    return (x, *rest) if rest else x


def predict_in_order(model, ids, batch_size=128, progress=False):
    """``model.predict`` over variable-length ids, batched by length, results in input order.

    Each batch is padded to its own longest text only. With ``progress``, a
    progress bar on a terminal (:func:`zoo.log.progress_bar`).
    """
    order = np.argsort([len(x) for x in ids], kind="stable")
    outputs = []
    bar = progress_bar(len(order), unit="text") if progress else None
    for start in range(0, len(order), batch_size):
        chunk = [ids[i] for i in order[start:start + batch_size]]
        width = max(len(x) for x in chunk)
        batch = np.zeros((len(chunk), width), "int32")
        for row, x in enumerate(chunk):
            batch[row, : len(x)] = x
        outputs.append(model.predict_on_batch(batch))
        if bar is not None:
            bar.update(min(start + batch_size, len(order)))
    result = np.empty((len(ids), outputs[0].shape[-1]), outputs[0].dtype)
    result[order] = np.concatenate(outputs)
    return result
