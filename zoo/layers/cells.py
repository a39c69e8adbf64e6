"""LSTM cells that Keras does not have: peephole connections, and coupled input and forget gates.

Both are ``keras.layers.LSTMCell`` subclasses written with ``keras.ops`` (so
they run on every backend), used through ``keras.layers.RNN``; the factories
build them with ``cell="peephole"`` or ``cell="cifg"``. Neither is cuDNN's
LSTM, so they always run Keras' generic per-timestep loop
(:func:`zoo.models.cudnn.cudnn_report` says so).

Peephole LSTM (Gers & Schmidhuber 2000), the peephole weights diagonal
(one vector per gate, ``w_ci``, ``w_cf``, ``w_co``)::

    i_t = sigmoid(W_xi x_t + W_hi h_{t-1} + w_ci * c_{t-1} + b_i)
    f_t = sigmoid(W_xf x_t + W_hf h_{t-1} + w_cf * c_{t-1} + b_f)
    c_t = f_t * c_{t-1} + i_t * tanh(W_xc x_t + W_hc h_{t-1} + b_c)
    o_t = sigmoid(W_xo x_t + W_ho h_{t-1} + w_co * c_t + b_o)
    h_t = o_t * tanh(c_t)

Coupled input and forget gates (CIFG; Greff et al. 2017, "LSTM: A Search Space
Odyssey"): ``f_t = 1 - i_t``, so the cell has three gates' weights (input,
candidate, output) instead of four.

Example:

>>> import numpy as np
>>> rnn = keras.layers.RNN(PeepholeLSTMCell(4), return_sequences=True)
>>> tuple(rnn(np.zeros((2, 3, 5), "float32")).shape)
(2, 3, 4)
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class PeepholeLSTMCell(keras.layers.LSTMCell):
    """An LSTM cell whose gates also see the cell state through diagonal peephole weights.

    Args:
        units: state width.
        peephole_initializer: initialiser of the three peephole vectors.
        **kwargs: ``keras.layers.LSTMCell`` arguments (``dropout``,
            ``recurrent_dropout``, regularisers, ``unit_forget_bias``, ...).
    """

    def __init__(self, units, peephole_initializer="glorot_uniform", **kwargs):
        super().__init__(units, **kwargs)
        _fused(self)
        self.peephole_initializer = keras.initializers.get(peephole_initializer)

    def build(self, input_shape):
        super().build(input_shape)
        self.input_peephole, self.forget_peephole, self.output_peephole = (
            self.add_weight(shape=(self.units,), name=f"{gate}_peephole", initializer=self.peephole_initializer)
            for gate in ("input", "forget", "output"))

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = _dropped(self, inputs, states, training)
        z = ops.matmul(h_tm1[0], self.recurrent_kernel) + ops.matmul(h_tm1[1], self.kernel)
        if self.use_bias:
            z = z + self.bias
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        i = self.recurrent_activation(z_i + self.input_peephole * c_tm1)
        f = self.recurrent_activation(z_f + self.forget_peephole * c_tm1)
        c = f * c_tm1 + i * self.activation(z_c)
        o = self.recurrent_activation(z_o + self.output_peephole * c)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(),
                "peephole_initializer": keras.initializers.serialize(self.peephole_initializer)}


@keras.saving.register_keras_serializable(package="zoo")
class CIFGLSTMCell(keras.layers.LSTMCell):
    """An LSTM cell with coupled input and forget gates: ``f = 1 - i`` (three gates' weights, not four).

    The weights are laid out like an LSTM's without the forget gate: kernel
    ``(input_dim, 3 * units)`` for input, candidate and output. With
    ``unit_forget_bias`` (the default) the input gate's bias starts at -1, so
    the forget gate starts at ``1 - sigmoid(-1) = sigmoid(1)``, where a plain
    LSTM's forget bias of 1 puts it.

    Args:
        units: state width.
        **kwargs: ``keras.layers.LSTMCell`` arguments.
    """

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        _fused(self)

    def build(self, input_shape):
        # Not LSTMCell.build: its weights have four gates.
        units = self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], 3 * units), name="kernel",
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(shape=(units, 3 * units), name="recurrent_kernel",
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            def bias_initializer(shape, dtype=None):
                bias = self.bias_initializer(shape, dtype=dtype)
                if not self.unit_forget_bias:
                    return bias
                return ops.concatenate([bias[:units] - 1.0, bias[units:]])

            self.bias = self.add_weight(shape=(3 * units,), name="bias", initializer=bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = _dropped(self, inputs, states, training)
        z = ops.matmul(h_tm1[0], self.recurrent_kernel) + ops.matmul(h_tm1[1], self.kernel)
        if self.use_bias:
            z = z + self.bias
        z_i, z_c, z_o = ops.split(z, 3, axis=-1)
        i = self.recurrent_activation(z_i)
        c = (1.0 - i) * c_tm1 + i * self.activation(z_c)
        h = self.recurrent_activation(z_o) * self.activation(c)
        return h, [h, c]


def _fused(cell):
    """One matmul for all gates, and so one dropout mask per sequence for them all (LSTMCell switches to its
    per-gate implementation, with four masks, when ``recurrent_dropout`` is set)."""
    cell.implementation, cell.dropout_mask_count = 2, None


def _dropped(cell, inputs, states, training):
    """``((h_{t-1}, x_t), c_{t-1})`` with the cell's dropout masks applied while training (one mask per sequence)."""
    h_tm1, c_tm1 = states[0], states[1]
    if training and 0.0 < cell.dropout < 1.0:
        inputs = inputs * cell.get_dropout_mask(inputs)
    if training and 0.0 < cell.recurrent_dropout < 1.0:
        h_tm1 = h_tm1 * cell.get_recurrent_dropout_mask(h_tm1)
    return (h_tm1, inputs), c_tm1
