"""The lengths path (zoo.layers.right_padded) against Keras' masked loop, on every factory variant.

Each model is built twice with the same weights: once with every recurrent
layer on the lengths path (``use_lengths=True``: the unmasked kernel, each
text's length from its ids) and once on the masked loop (``use_lengths=False``,
Keras' own path). On right-padded batches of mixed lengths (a full row, short
rows, an empty row) they give the same probabilities and the same gradients
for every weight, to float32 tolerance. tests/models/test_backends.py runs
this file on JAX and PyTorch too.
"""

import keras
import numpy as np
import pytest

import zoo
from tests.helpers import VOCAB_SIZE, random_ids
from zoo.layers import RightPaddedGRU, RightPaddedLSTM
from zoo.layers.right_padded import reverse_within_lengths

NUM_CLASSES = 3
LENGTHS = [11, 7, 1, 0, 4]
# Every pooling, bidirectional, stacked, residual, attention, BatchNorm and GRU variant; no dropout, so both
# models see the same computation in training mode.
VARIANTS = {
    "lstm-last": dict(factory="lstm"),
    "bilstm-last": dict(factory="bilstm"),
    "bilstm-max": dict(factory="bilstm", pooling="max"),
    "bilstm-mean": dict(factory="bilstm", pooling="mean"),
    "bilstm-concat": dict(factory="bilstm", pooling="concat"),
    "attention-self-attention": dict(factory="attention_lstm", self_attention_heads=2),
    "stacked-bidirectional": dict(factory="stacked_lstm", bidirectional=True, dropout=0.0, pooling="concat"),
    "residual": dict(factory="residual_lstm", embedding_dim=8, pooling="mean"),
    "bn": dict(factory="bn_lstm", bidirectional=True, pooling="max"),
    "gru-bidirectional": dict(factory="gru", bidirectional=True, pooling="concat", num_layers=2),
}


def ragged_ids(seed=0):
    ids = random_ids(len(LENGTHS), max(LENGTHS), seed=seed)
    for row, length in enumerate(LENGTHS):
        ids[row, length:] = 0
    return ids


def recurrent_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            yield layer.forward_layer
            yield layer.backward_layer
        elif isinstance(layer, keras.layers.RNN):
            yield layer


def build_pair(factory, **kwargs):
    """The same model twice: on the lengths path and on the masked loop, with one set of weights."""
    keras.utils.set_random_seed(0)
    fast = zoo.get_model(factory, VOCAB_SIZE, NUM_CLASSES, **{"embedding_dim": 8, "units": 8, "dropout": 0.0, "spatial_dropout": 0.0, **kwargs})
    reference = keras.models.clone_model(fast)
    reference.set_weights(fast.get_weights())
    for model, path in ((fast, True), (reference, False)):
        layers = list(recurrent_layers(model))
        assert layers and all(isinstance(layer, (RightPaddedLSTM, RightPaddedGRU)) for layer in layers)
        for layer in layers:
            layer.use_lengths = path
    return fast, reference


def loss_and_gradients(model, ids, labels):
    """Sparse cross-entropy in training mode and its gradient for every trainable weight, as NumPy."""
    backend = keras.backend.backend()
    weights = model.trainable_variables
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(ids, training=True))
        grads = tape.gradient(loss, weights)
    elif backend == "torch":
        model.zero_grad()
        loss = loss_fn(labels, model(ids, training=True))
        loss.backward()
        grads = [w.value.grad for w in weights]
    else:  # jax
        import jax

        trainable = [w.value for w in weights]
        others = [v.value for v in model.non_trainable_variables]

        def loss_of(values):
            probs, _ = model.stateless_call(values, others, ids, training=True)
            return loss_fn(labels, probs)

        loss, grads = jax.value_and_grad(loss_of)(trainable)
    return float(keras.ops.convert_to_numpy(loss)), [keras.ops.convert_to_numpy(g) for g in grads]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_lengths_path_matches_the_masked_loop(variant):
    settings = dict(VARIANTS[variant])
    fast, reference = build_pair(settings.pop("factory"), **settings)
    ids = ragged_ids()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fast(ids)), keras.ops.convert_to_numpy(reference(ids)),
                               atol=1e-6, rtol=1e-5)
    labels = np.array([0, 1, 2, 1, 0])
    fast_loss, fast_grads = loss_and_gradients(fast, ids, labels)
    reference_loss, reference_grads = loss_and_gradients(reference, ids, labels)
    assert fast_loss == pytest.approx(reference_loss, rel=1e-5)
    for weight, got, want in zip(fast.trainable_variables, fast_grads, reference_grads):
        np.testing.assert_allclose(got, want, atol=1e-6, rtol=1e-4, err_msg=weight.path)


def test_the_kernel_gets_no_mask_on_the_lengths_path(monkeypatch):
    """Keras' fused lstm()/gru() receive mask=None on the lengths path, and the mask on the masked loop."""
    from keras.src.layers.rnn import gru, lstm

    seen = []

    def recorder(original, position):  # lstm(inputs, h, c, mask, ...), gru(inputs, state, mask, ...)
        def kernel(*args, **kwargs):
            mask = args[position] if len(args) > position else kwargs.get("mask")
            seen.append(mask is None)
            return original(*args, **kwargs)
        return kernel

    monkeypatch.setattr(lstm.backend, "lstm", recorder(lstm.backend.lstm, 3))
    monkeypatch.setattr(gru.backend, "gru", recorder(gru.backend.gru, 2))
    for factory in ("bilstm", "gru"):
        fast, reference = build_pair(factory, bidirectional=True)
        seen.clear()
        fast(ragged_ids())
        assert seen == [True, True], factory  # both directions, no mask
        seen.clear()
        reference(ragged_ids())
        assert seen == [False, False], factory


def test_padding_never_changes_a_prediction_on_the_lengths_path():
    fast, _ = build_pair("bilstm", pooling="concat")
    ids = ragged_ids()
    wider = np.concatenate([ids, np.zeros((len(ids), 6), ids.dtype)], axis=1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fast(ids)), keras.ops.convert_to_numpy(fast(wider)),
                               atol=1e-6)


def test_reverse_within_lengths():
    x = np.arange(2 * 4 * 1, dtype="float32").reshape(2, 4, 1)
    got = keras.ops.convert_to_numpy(reverse_within_lengths(x, np.array([3, 0], "int32")))[..., 0]
    np.testing.assert_array_equal(got, [[2, 1, 0, 3], [4, 5, 6, 7]])


def test_settings_round_trip_and_old_weights_load(tmp_path):
    fast, _ = build_pair("bilstm")
    layer = fast.get_layer("encoder_1").forward_layer
    assert RightPaddedLSTM.from_config(layer.get_config()).use_lengths is True
    with pytest.raises(ValueError, match="use_lengths"):
        RightPaddedLSTM(4, use_lengths="yes")
    # The weights are a plain keras.layers.LSTM's: a model of plain layers takes them as they are.
    plain = keras.layers.LSTM(8, return_sequences=True)
    plain.build((None, None, 8))
    plain.set_weights(layer.get_weights())
