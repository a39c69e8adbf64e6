"""The AWD-LSTM language model: training, the full-softmax evaluation, its layers, saving."""

import keras
import numpy as np
import pytest
from keras import ops

from tests.helpers import lm_ids as ids
from tests.helpers import tiny_lm
from zoo.layers import LMEmbedding, WeightDropLSTM
from zoo.models.language_model import build_lstm_lm


# === Model ===


def test_lm_trains_and_evaluates_with_the_full_softmax():
    lm = tiny_lm()
    lm.compile(keras.optimizers.Adam(1e-2))
    x = ids(32, 13)
    before = lm.evaluate(x[:, :-1], x[:, 1:], verbose=0)
    lm.fit(x[:, :-1], x[:, 1:], epochs=5, batch_size=8, verbose=0)
    after = lm.evaluate(x[:, :-1], x[:, 1:], verbose=0)
    assert after < before
    # evaluate's loss is the exact full-softmax cross-entropy.
    log_probs = ops.convert_to_numpy(lm.next_token_log_probs(x[:, :-1]))
    expected = -np.take_along_axis(log_probs, x[:, 1:, None], axis=-1).mean()
    assert after == pytest.approx(expected, rel=1e-4)


def test_weight_drop_lstm_is_a_plain_lstm_at_inference_and_restores_its_kernel():
    x = np.random.default_rng(0).normal(size=(3, 6, 5)).astype("float32")
    dropped = WeightDropLSTM(4, weight_dropout=0.5, return_sequences=True, seed=0)
    dropped(x)
    plain = keras.layers.LSTM(4, return_sequences=True)
    plain(x)
    plain.set_weights(dropped.get_weights())
    np.testing.assert_array_equal(ops.convert_to_numpy(dropped(x)), ops.convert_to_numpy(plain(x)))
    kernel = dropped.cell.recurrent_kernel
    training = ops.convert_to_numpy(dropped(x, training=True))
    assert np.abs(training - ops.convert_to_numpy(plain(x))).max() > 1e-4
    assert dropped.cell.recurrent_kernel is kernel  # the swap is undone


def test_embedding_dropout_drops_whole_rows():
    layer = LMEmbedding(10, 4, row_dropout=0.5, seed=3)
    tokens = np.tile(np.arange(10), (6, 1))
    out = ops.convert_to_numpy(layer(tokens, training=True))
    weights = ops.convert_to_numpy(layer.embeddings)
    for token in range(10):
        rows = out[:, token]
        zero = np.all(rows == 0, axis=-1)
        assert zero.all() or not zero.any()  # a word is dropped everywhere or nowhere
        if not zero.any():
            np.testing.assert_allclose(rows, np.tile(weights[token] * 2, (6, 1)), rtol=1e-6)
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(tokens)), weights[tokens])


def test_activation_regularization_adds_ar_and_tar_in_training_only():
    lm = tiny_lm(ar_alpha=2.0, tar_beta=1.0)
    lm(ids(), training=True)
    assert len(lm.losses) == 2 and all(float(v) > 0 for v in lm.losses)
    lm(ids(), training=False)
    assert len(lm.losses) == 0


def test_bad_lm_arguments_name_the_argument():
    with pytest.raises(ValueError, match="weight_dropout"):
        build_lstm_lm(10, weight_dropout=1.0)
    with pytest.raises(ValueError, match="tie_weights"):
        build_lstm_lm(10, embedding_dim=8, units=16)
    with pytest.raises(ValueError, match="Unknown argument"):
        build_lstm_lm(10, layers=2)


def test_lm_keras_round_trip(tmp_path):
    lm = tiny_lm(tie_weights=False, units=12)
    x = ids()
    path = str(tmp_path / "lm.keras")
    lm.save(path)
    again = keras.saving.load_model(path)
    np.testing.assert_array_equal(ops.convert_to_numpy(lm(x)), ops.convert_to_numpy(again(x)))
