"""The peephole and coupled-gate LSTM cells: one step against their equations, masking, saving."""

import keras
import numpy as np
import pytest
from keras import ops

from zoo.layers import CIFGLSTMCell, PeepholeLSTMCell


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def one_step(cell, x, h, c):
    """Builds ``cell`` on ``x`` with small random weights; returns them and the cell's (h, c) after one step."""
    cell.build(x.shape)
    rng = np.random.default_rng(0)
    for w in cell.weights:
        w.assign(rng.uniform(-0.5, 0.5, size=w.shape).astype("float32"))
    out, (h1, c1) = cell(ops.convert_to_tensor(x), [ops.convert_to_tensor(h), ops.convert_to_tensor(c)])
    np.testing.assert_array_equal(ops.convert_to_numpy(out), ops.convert_to_numpy(h1))
    return [ops.convert_to_numpy(w) for w in cell.weights], ops.convert_to_numpy(h1), ops.convert_to_numpy(c1)


STEP = dict(x=np.array([[0.3, -1.2, 0.5], [1.0, 0.2, -0.7]], "float32"),
            h=np.array([[0.1, -0.4], [0.6, 0.0]], "float32"), c=np.array([[0.5, -0.2], [-1.0, 0.3]], "float32"))


def test_peephole_step_is_the_equations():
    x, h, c = STEP["x"], STEP["h"], STEP["c"]
    (W, U, b, w_ci, w_cf, w_co), h1, c1 = one_step(PeepholeLSTMCell(2), x, h, c)
    z = x @ W + h @ U + b
    W_i, W_f, W_c, W_o = np.split(z, 4, axis=-1)  # Keras' gate order: input, forget, candidate, output
    i = sigmoid(W_i + w_ci * c)
    f = sigmoid(W_f + w_cf * c)
    c_new = f * c + i * np.tanh(W_c)
    o = sigmoid(W_o + w_co * c_new)  # the output gate peeks at the new cell state
    np.testing.assert_allclose(c1, c_new, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h1, o * np.tanh(c_new), rtol=1e-5, atol=1e-6)


def test_cifg_step_is_the_equations():
    x, h, c = STEP["x"], STEP["h"], STEP["c"]
    (W, U, b), h1, c1 = one_step(CIFGLSTMCell(2), x, h, c)
    assert W.shape == (3, 6) and U.shape == (2, 6) and b.shape == (6,)  # three gates: input, candidate, output
    z_i, z_c, z_o = np.split(x @ W + h @ U + b, 3, axis=-1)
    i = sigmoid(z_i)
    c_new = (1 - i) * c + i * np.tanh(z_c)  # f = 1 - i
    np.testing.assert_allclose(c1, c_new, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h1, sigmoid(z_o) * np.tanh(c_new), rtol=1e-5, atol=1e-6)


def test_cifg_starts_with_the_forget_gate_of_an_lstm_with_unit_forget_bias():
    cell = CIFGLSTMCell(3)
    cell.build((None, 4))
    bias = ops.convert_to_numpy(cell.bias)
    np.testing.assert_array_equal(bias, np.r_[-np.ones(3), np.zeros(6)])  # f = 1 - sigmoid(-1) = sigmoid(1)


@pytest.mark.parametrize("cell", [PeepholeLSTMCell, CIFGLSTMCell])
def test_cells_mask_padding_and_round_trip(cell, tmp_path):
    inputs = keras.Input((None, 3))
    outputs = keras.layers.RNN(cell(4, recurrent_dropout=0.2, dropout=0.1), name="rnn")(
        keras.layers.Masking(name="mask")(inputs))
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(1).normal(size=(2, 5, 3)).astype("float32")
    padded = np.concatenate([x, np.zeros((2, 3, 3), "float32")], axis=1)
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(padded, verbose=0), atol=1e-6)
    assert np.abs(ops.convert_to_numpy(model(x, training=True)) - model.predict(x, verbose=0)).max() > 0  # dropout
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert type(restored.get_layer("rnn").cell) is cell
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
