import keras
import numpy as np

from zoo.layers import AttentionPooling, MaskedGlobalAveragePooling1D, MaskedGlobalMaxPooling1D


def test_masked_max_ignores_padding_and_empty_rows():
    x = np.array([[[1.0, -3.0], [5.0, -2.0], [9.0, 7.0]], [[4.0, 4.0], [8.0, 8.0], [1.0, 1.0]]], "float32")
    mask = np.array([[True, True, False], [False, False, False]])
    out = MaskedGlobalMaxPooling1D()(x, mask=mask)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), [[5.0, -2.0], [0.0, 0.0]])


def test_attention_pooling_weights_are_a_masked_distribution():
    layer = AttentionPooling(units=4)
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    mask = np.array([[True] * 5, [True, True, False, False, False]])
    layer(x, mask=mask)
    weights = keras.ops.convert_to_numpy(layer.attention_weights(x, mask))
    np.testing.assert_allclose(weights.sum(1), 1.0, atol=1e-6)
    assert np.all(weights[1, 2:] == 0)
    out = keras.ops.convert_to_numpy(layer(x, mask=mask))
    np.testing.assert_allclose(out[1], (weights[1, :, None] * x[1]).sum(0), atol=1e-6)


def test_attention_pooling_config_round_trip():
    layer = AttentionPooling(units=6, name="pooling")
    clone = AttentionPooling.from_config(layer.get_config())
    assert clone.units == 6 and clone.name == "pooling"


def test_masked_mean_ignores_padding_and_empty_rows():
    x = np.array([[[1.0], [5.0], [9.0]], [[4.0], [8.0], [1.0]]], "float32")
    mask = np.array([[True, True, False], [False, False, False]])
    out = MaskedGlobalAveragePooling1D()(x, mask=mask)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), [[3.0], [0.0]])
