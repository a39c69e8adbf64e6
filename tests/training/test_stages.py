"""The stage runner and its plans: word-vector stages, frozen layers, ULMFiT's single-stage fallback."""

import numpy as np
import pytest

import zoo
from tests.helpers import random_ids
from zoo.data.text import make_dataset
from zoo.training.stages import Stage, class_weights, run_stages, word_vector_stages


def test_word_vector_plans():
    assert word_vector_stages(3, 0.01, "cosine", frozen_epochs=1) == [
        Stage("frozen_embedding", 1, 0.01, ("embedding",), "cosine"), Stage("finetune", 2, 0.005, (), "cosine")]
    assert word_vector_stages(3, 0.01, pretrained=False, frozen_epochs=1) == [Stage("train", 3, 0.01, (), "cosine")]
    assert word_vector_stages(3, 0.01, frozen_epochs=0) == [Stage("train", 3, 0.01, (), "cosine")]
    assert word_vector_stages(3, 0.01, frozen_epochs=5) == [
        Stage("frozen_embedding", 3, 0.01, ("embedding",), "cosine")]


def _dataset(vocab=40, n=24):
    ids = [row for row in random_ids(n, 7, vocab_size=vocab)]
    return make_dataset(ids, np.arange(n) % 3, 8, shuffle=True)


def test_frozen_stage_keeps_the_pretrained_embedding_then_finetune_moves_it(tmp_path):
    matrix = np.random.default_rng(0).normal(size=(40, 6)).astype("float32")
    model = zoo.build_bilstm(40, 3, embeddings=matrix, units=4, compile=False)
    ds = _dataset()
    before_head = model.get_layer("head").get_weights()[0].copy()

    history = run_stages(model, [Stage("frozen_embedding", 1, 4e-3, ("embedding",), "cosine")], ds, ds,
                         patience=5, log_dir=str(tmp_path), verbose=0)
    np.testing.assert_array_equal(model.get_layer("embedding").get_weights()[0], matrix)
    assert not np.allclose(model.get_layer("head").get_weights()[0], before_head)
    assert [h["stage"] for h in history] == ["frozen_embedding"]

    history = run_stages(model, [Stage("finetune", 1, 2e-3, (), "cosine")], ds, ds, log_dir=str(tmp_path),
                         verbose=0)
    assert not np.allclose(model.get_layer("embedding").get_weights()[0], matrix)
    assert model.get_layer("embedding").trainable
    assert (tmp_path / "finetune").exists()  # TensorBoard logs per stage


def test_early_stopping_restores_the_best_epoch():
    model = zoo.build_lstm(40, 3, units=4, embedding_dim=4, compile=False)
    ds = _dataset()
    history = run_stages(model, [Stage("train", 30, 0.5, (), "constant")], ds, ds, patience=0, verbose=0)
    assert len(history) < 30  # patience 0: stops at the first epoch without a better val_accuracy
    history = run_stages(model, [Stage("train", 3, 1e-3, (), "constant")], ds, ds, patience=None, verbose=0)
    assert len(history) == 3


def test_discriminative_stage_trains_lower_groups_slower():
    model = zoo.build_stacked_lstm(40, 3, units=4, embedding_dim=4, compile=False)
    ds = _dataset()
    run_stages(model, [Stage("all", 1, 1e-2, (), "stlr", lr_factor=2.6)], ds, verbose=0)
    multipliers = model.optimizer.multipliers
    assert multipliers["head"] == 1.0 and multipliers["embedding"] == pytest.approx(2.6 ** -3)


def test_class_weights():
    assert class_weights(np.array([0, 0, 0, 1]), "none") is None
    assert class_weights(np.array([0, 0, 0, 1]), "balanced") == {0: pytest.approx(2 / 3), 1: 2.0}
    with pytest.raises(ValueError, match="`class_weight` must be one of 'none', 'balanced'"):
        class_weights(np.array([0, 1]), "inverse")


def test_a_dataset_of_unknown_size_trains_without_keras_ran_out_of_data_warning():
    import warnings

    model = zoo.build_lstm(40, 3, units=4, embedding_dim=4, compile=False)
    ds = _dataset()
    assert int(ds.cardinality()) < 0  # (bucketed batches: Keras 3.15 warned at the end of every first epoch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = run_stages(model, [Stage("train", 2, 1e-3, (), "constant")], ds, ds, patience=None, verbose=0)
    assert len(history) == 2
    assert not [w for w in caught if "ran out of data" in str(w.message)]
