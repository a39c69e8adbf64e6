"""A language model's training windows in NumPy, for every Keras backend: truncated-BPTT windows over one token
stream (AWD-LSTM's variable lengths), as a ``keras.utils.PyDataset``, and the tokens/s callback.

``zoo.data.token_stream.lm_dataset`` (``tf.data``, TensorFlow) and :class:`LMWindows` (any backend) read the same
windows from the same arithmetic, so an id file trained on PyTorch or JAX sees what a TensorFlow run sees.

Example:

>>> starts, lengths = window_plan(3, 10, variable=False)
>>> starts.tolist(), lengths.tolist()
([0, 10, 20], [10, 10, 10])
"""

import time

import keras
import numpy as np

from zoo.errors import ConfigError


def bptt_lengths(rng, count, bptt):
    """AWD-LSTM's variable BPTT: ``bptt`` (95%) or ``bptt / 2``, then normal with sd 5."""
    base = np.where(rng.random(count) < 0.95, bptt, bptt / 2)
    return np.clip(np.rint(rng.normal(base, 5)), 5, bptt + 20).astype(int)


def lm_steps(length, batch_size, bptt, variable=True):
    """``(row, steps)``: a stream of ``length`` tokens cut into ``batch_size`` rows of ``row`` tokens, read in
    ``steps`` windows an epoch.

    Raises:
        ConfigError: the stream is too short for one window.
    """
    row = length // batch_size
    # A window starts before offset + k * bptt (offset < bptt), may run 20
    # tokens past bptt, and needs its next token.
    margin = 21 if variable else 1
    steps = (row - bptt - margin) // bptt if variable else (row - margin) // bptt
    if steps < 1:
        raise ConfigError("bptt", f"token stream of {length} tokens is too short for batch_size={batch_size} "
                         f"and bptt={bptt} (it needs at least {batch_size * (2 * bptt + margin) if variable else batch_size * (bptt + margin)})")
    return row, steps


def window_plan(steps, bptt, seed=0, epoch=0, variable=True):
    """``(starts, lengths)`` of epoch ``epoch``'s windows: a random offset below ``bptt``, then one window every
    ``bptt`` tokens, each of a length drawn by :func:`bptt_lengths` (fixed ``bptt`` unless ``variable``).

    Example:

    >>> starts, lengths = window_plan(3, 10, variable=False)
    >>> starts.tolist(), lengths.tolist()
    ([0, 10, 20], [10, 10, 10])
    """
    rng = np.random.default_rng([seed, epoch])
    offset = int(rng.integers(0, bptt)) if variable else 0
    lengths = bptt_lengths(rng, steps, bptt) if variable else np.full(steps, bptt)
    return offset + np.arange(steps) * bptt, lengths


class LMWindows(keras.utils.PyDataset):
    """``lm_dataset``'s batches ``(ids, next_ids)`` as a ``keras.utils.PyDataset``: NumPy, for every backend.

    Keras calls ``on_epoch_begin`` before each epoch; epoch ``e`` (from 0) reads :func:`window_plan` of epoch
    ``e``, as the ``e``-th pass over ``lm_dataset`` does. Batches are int32, whatever the stream's dtype.
    """

    def __init__(self, stream, batch_size, bptt, seed=0, variable=True):
        super().__init__()
        stream = np.asarray(stream)
        row, self.steps = lm_steps(len(stream), batch_size, bptt, variable)
        self.rows = stream[: row * batch_size].reshape(batch_size, row)
        self.bptt, self.seed, self.variable = bptt, seed, variable
        self.epoch, self._plan = -1, (None, None)

    def __len__(self):
        return self.steps

    def on_epoch_begin(self):
        self.epoch += 1

    def __getitem__(self, index):
        if not 0 <= index < self.steps:
            raise IndexError(index)
        epoch = max(self.epoch, 0)  # Keras on TensorFlow reads two batches before the first epoch, for their spec
        if self._plan[0] != epoch:
            self._plan = (epoch, window_plan(self.steps, self.bptt, self.seed, epoch, self.variable))
        starts, lengths = self._plan[1]
        start, length = int(starts[index]), int(lengths[index])
        window = self.rows[:, start:start + length + 1].astype("int32")
        return window[:, :-1], window[:, 1:]


class TokenThroughput(keras.callbacks.Callback):
    """Adds ``tokens_per_second`` to each epoch's logs (the progress line shows it)."""

    def __init__(self, tokens_per_step):
        super().__init__()
        self.tokens_per_step = tokens_per_step

    def on_epoch_begin(self, epoch, logs=None):
        self.start, self.steps = time.time(), 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["tokens_per_second"] = self.steps * self.tokens_per_step / max(time.time() - self.start, 1e-9)
