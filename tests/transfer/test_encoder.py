"""Weight transfer by layer name: language model to classifier, and vocabulary remapping."""

import keras
import numpy as np
import pytest
from keras import ops

from tests.helpers import LM_VOCAB as VOCAB
from tests.helpers import lm_ids as ids
from tests.helpers import tiny_lm
from zoo.models.factories import build_stacked_lstm
from zoo.models.ulmfit_classifier import build_ulmfit_classifier
from zoo.transfer.encoder import remap_vocabulary, transfer_encoder


def test_transfer_from_lm_to_classifier_is_exact():
    lm = tiny_lm()
    lm.compile("adam")
    lm.fit(ids()[:, :-1], ids()[:, 1:], verbose=0)  # weights that are not the initial ones
    clf = build_ulmfit_classifier(lm.lm_config, VOCAB, 3, dropout=0.1, spatial_dropout=0.1)
    assert transfer_encoder(lm, clf) == ["embedding", "encoder_1", "encoder_2"]
    np.testing.assert_array_equal(ops.convert_to_numpy(clf.get_layer("embedding").embeddings),
                                  ops.convert_to_numpy(lm.get_layer("embedding").embeddings))
    for name in ("encoder_1", "encoder_2"):
        for a, b in zip(lm.get_layer(name).get_weights(), clf.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
    # The classifier's encoder then computes exactly what the language model's does.
    x = ids(2, 7)
    lm_states = keras.Model(lm.input, lm.get_layer("encoder_2").output)(x)
    clf_states = keras.Model(clf.input, clf.get_layer("encoder_2").output[0])(x)
    np.testing.assert_allclose(ops.convert_to_numpy(lm_states), ops.convert_to_numpy(clf_states), atol=1e-6)


def test_transfer_names_a_mismatched_layer():
    lm = tiny_lm()
    other = build_stacked_lstm(VOCAB, 3, embedding_dim=8, units=6, num_layers=2, compile=False)
    with pytest.raises(ValueError, match="encoder_1"):
        transfer_encoder(lm, other)


def test_remap_vocabulary_keeps_known_words_and_starts_new_ones_at_the_mean():
    lm = tiny_lm()
    old = ["", "[UNK]"] + [f"w{i}" for i in range(VOCAB - 2)]
    new = ["", "[UNK]", "w5", "novel", "w0"]
    remapped, hits = remap_vocabulary(lm, old, new)
    assert hits == 2
    src = ops.convert_to_numpy(lm.get_layer("embedding").embeddings)
    dst = ops.convert_to_numpy(remapped.get_layer("embedding").embeddings)
    np.testing.assert_array_equal(dst[2], src[7])
    np.testing.assert_array_equal(dst[4], src[2])
    np.testing.assert_allclose(dst[3], src[2:].mean(0), rtol=1e-6)
    np.testing.assert_array_equal(remapped.get_layer("encoder_2").get_weights()[1],
                                  lm.get_layer("encoder_2").get_weights()[1])
