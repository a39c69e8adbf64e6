"""``RightPaddedLSTM`` and ``RightPaddedGRU``: exact masking that keeps the fused (cuDNN) kernel on every backend.

Keras 3.15's JAX and PyTorch backends run cuDNN only when an LSTM or GRU gets
no mask (``keras.src.backend.{jax,torch}.rnn.lstm`` raise
``NotImplementedError`` for any mask); with zoo's ``mask_zero=True`` they fall
back to Keras' generic loop, which on PyTorch runs one timestep at a time from
Python (issue "zoo on GPUs": 0.03-0.09x a plain ``nn.LSTM``). TensorFlow's
backend passes right-padded masks to cuDNN itself.

zoo's batches are right-padded (id 0 only after a text's last token), so the
mask says no more than each text's length, and the masked loop can be replaced
by the unmasked kernel plus a little indexing, with the same results:

* forward: steps after a text's end come after every real step, so they
  cannot change the states at real steps; the unmasked kernel's outputs at
  real steps are the masked loop's.
* backward: each text is reversed within its own length (its padding stays at
  the end), run forward through the kernel, and the outputs are put back in
  the order the masked loop returns them.
* the final state is read at each text's last real step, not after the
  padding; outputs at padded steps are what the masked loop gives (zeros, or
  the last real output when ``zero_output_for_mask=False``).

The Keras mask still flows on to the layers after this one (pooling, batch
normalisation, attention, the next recurrent layer), so they keep ignoring
padding. One thing is not exact: an LSTM's returned *cell* state ``c`` is the
kernel's after the padded steps (the kernel does not return the cell state of
every step); the hidden state ``h``, the outputs and everything zoo's models
read from them are exact. A mask that is not right padding needs the masked
loop: ``use_lengths=False`` keeps Keras' own path, and so do a stateful layer
and ``return_sequences=False`` (zoo's factories return sequences).

The layers are ``keras.layers.LSTM`` and ``GRU`` with one more argument, so
their weights are the plain layers' and load into them unchanged.
"""

import keras
from keras import ops

from zoo.backend import gpu_visible

# Where the unmasked kernel + lengths path is the default ("auto"). On a GPU: always on PyTorch and JAX (their
# cuDNN takes no mask), never on TensorFlow (Keras gives cuDNN right-padded masks itself). On the CPU there is
# no cuDNN; `bench/train_throughput.py --paths` (main job's BiLSTM, 3 seeds; bench/results/
# train_throughput_paths*.json, docs/performance.md) measured lengths / masked at a median 1.34 on PyTorch and
# 1.03 on JAX, so both take it. TensorFlow measured 1.22 and 1.13 in two runs, but it keeps the masked loop:
# the two paths round differently in the gradients, so the same seed trains another model, and every result
# committed under docs/results (all made on the masked loop) would no longer come out of its command. Set
# use_lengths=True for the speed.
CPU_DEFAULT = {"tensorflow": False, "jax": True, "torch": True}
GPU_DEFAULT = {"tensorflow": False, "jax": True, "torch": True}


def lengths_path_default(backend=None):
    """Whether ``use_lengths="auto"`` takes the lengths path on ``backend`` (default: Keras' backend) here."""
    backend = backend or keras.backend.backend()
    table = GPU_DEFAULT if gpu_visible(backend) else CPU_DEFAULT
    return table.get(backend, False)


def text_lengths(mask):
    """Each row's number of real steps, from a right-padded ``(batch, time)`` mask."""
    return ops.sum(ops.cast(mask, "int32"), axis=1)


def reverse_within_lengths(sequences, lengths):
    """Reverses each row's first ``lengths[i]`` steps and leaves the steps after them in place."""
    steps = ops.expand_dims(ops.arange(ops.shape(sequences)[1], dtype="int32"), 0)
    lengths = ops.expand_dims(lengths, 1)
    order = ops.where(steps < lengths, lengths - 1 - steps, steps)
    return _take_steps(sequences, order)


def _take_steps(sequences, order):
    """``sequences[i, order[i, t]]`` for a ``(batch, time, features)`` tensor and a ``(batch, k)`` order."""
    order = ops.broadcast_to(ops.expand_dims(order, -1), (*ops.shape(order), ops.shape(sequences)[-1]))
    return ops.take_along_axis(sequences, order, axis=1)


class _RightPadded:
    """The lengths path, for a Keras LSTM or GRU layer (mixed in before it)."""

    def __init__(self, *args, use_lengths="auto", **kwargs):
        super().__init__(*args, **kwargs)
        if use_lengths not in ("auto", True, False):
            raise ValueError(f"use_lengths must be 'auto', True or False, got {use_lengths!r}")
        self.use_lengths = use_lengths

    def takes_lengths_path(self, masked=True):
        """Whether a call (with a mask when ``masked``) runs the unmasked kernel on lengths."""
        # Keras' kernels return every step's output only with return_sequences, and the final state must be
        # read at each text's last real step; a stateful layer needs the exact cell state too.
        if not masked or self.stateful or not self.return_sequences or self.use_lengths is False:
            return False
        return self.use_lengths is True or lengths_path_default()

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is None or not self.takes_lengths_path():
            return super().inner_loop(sequences, initial_state, mask, training=training)
        lengths = text_lengths(mask)
        backwards = self.go_backwards
        if backwards:
            sequences = reverse_within_lengths(sequences, lengths)
        # The kernel must run forward over the reversed texts. Keras reads go_backwards inside inner_loop
        # (keras.src.layers.rnn.lstm.LSTM.inner_loop); object.__setattr__ keeps Keras' tracking out of it.
        object.__setattr__(self, "go_backwards", False)
        try:
            _, outputs, states = super().inner_loop(sequences, initial_state, None, training=training)
        finally:
            object.__setattr__(self, "go_backwards", backwards)
        return self._as_masked_loop(outputs, states, initial_state, mask, lengths)

    def _as_masked_loop(self, outputs, states, initial_state, mask, lengths):
        """``(last_output, outputs, states)`` as Keras' masked loop returns them (see the module docstring)."""
        has_text = ops.expand_dims(lengths > 0, -1)
        last_step = ops.expand_dims(ops.maximum(lengths - 1, 0), -1)
        last = _take_steps(outputs, last_step)[:, 0]
        last = ops.where(has_text, last, ops.zeros_like(last))
        # h at the last real step; an LSTM's c stays the kernel's (module docstring). A text with no steps keeps
        # its initial state, as in the masked loop.
        h = ops.where(has_text, last, ops.cast(initial_state[0], last.dtype))
        states = [h, *list(states)[1:]]
        real = ops.expand_dims(ops.cast(mask, outputs.dtype), -1)
        if self.go_backwards:
            # Back in input order, then in the order a backward loop returns its outputs (last input step
            # first: keras.layers.Bidirectional flips them back). Padded steps come first there, and the
            # masked loop gives them zeros either way (its carried output starts at zero).
            outputs = ops.flip(reverse_within_lengths(outputs, lengths) * real, axis=1)
        elif self.zero_output_for_mask:
            outputs = outputs * real
        else:
            outputs = outputs * real + ops.expand_dims(last, 1) * (1 - real)
        if self.zero_output_for_mask:
            # The masked loop's last output is the last step's, which is padding unless a text fills the batch.
            step = ops.cast(ops.flip(mask, axis=1)[:, :1] if self.go_backwards else mask[:, -1:], last.dtype)
            last = last * step
        return last, outputs, states

    def get_config(self):
        return {**super().get_config(), "use_lengths": self.use_lengths}


@keras.saving.register_keras_serializable(package="zoo")
class RightPaddedLSTM(_RightPadded, keras.layers.LSTM):
    """``keras.layers.LSTM`` that runs right-padded masked batches through the unmasked (cuDNN) kernel.

    Args:
        units: state width.
        use_lengths: ``"auto"`` (the lengths path where it is the faster one:
            :data:`GPU_DEFAULT`, :data:`CPU_DEFAULT`), ``True`` or ``False``
            (Keras' masked loop).
        **kwargs: ``keras.layers.LSTM`` arguments.

    Example:

    >>> import numpy as np
    >>> ids = np.array([[3, 4, 5, 0], [6, 7, 0, 0]])
    >>> x = keras.layers.Embedding(10, 4, mask_zero=True)(ids)
    >>> lstm = RightPaddedLSTM(3, return_sequences=True, use_lengths=True)
    >>> out = lstm(x)
    >>> reference = keras.layers.LSTM(3, return_sequences=True)
    >>> reference.build(x.shape); reference.set_weights(lstm.get_weights())
    >>> bool(np.allclose(out[1, :2], reference(x)[1, :2], atol=1e-6))
    True
    """


@keras.saving.register_keras_serializable(package="zoo")
class RightPaddedGRU(_RightPadded, keras.layers.GRU):
    """``keras.layers.GRU`` that runs right-padded masked batches through the unmasked (cuDNN) kernel.

    Same arguments as :class:`RightPaddedLSTM` (``keras.layers.GRU``'s, plus ``use_lengths``).
    """
