import os

import keras
import numpy as np
import pytest

import zoo
from tests.helpers import TINY, VOCAB_SIZE, random_ids, run_factory_test

FACTORIES = {name: zoo.get_factory(name) for name in zoo.list_models()}


def test_registry_lists_every_factory():
    assert zoo.list_models() == [
        "lstm", "bilstm", "stacked_lstm", "attention_lstm", "bn_lstm", "gru", "residual_lstm", "peephole_lstm"
    ]
    for name in zoo.list_models():
        assert getattr(zoo, f"build_{name}") is zoo.get_factory(name)


@pytest.mark.parametrize("name", list(FACTORIES))
def test_factory(name, tmp_path):
    run_factory_test(FACTORIES[name], tmp_path)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pooling": "max"},
        {"pooling": "mean"},
        {"pooling": "concat", "bidirectional": True},
        {"pooling": "attention", "self_attention_heads": 2, "num_layers": 2, "dropout": 0.1},
        {"cell": "gru", "bidirectional": True, "pooling": "concat", "batch_norm": True},
        {"spatial_dropout": 0.2, "l1": 1e-5, "l2": 1e-4, "recurrent_dropout": 0.1},
        {"cell": "cifg", "num_layers": 2, "residual": True, "recurrent_dropout": 0.1, "pooling": "attention"},
    ],
    ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()),
)
def test_option_combinations(kwargs, tmp_path):
    run_factory_test(zoo.build_rnn_classifier, tmp_path, **kwargs)


@pytest.mark.parametrize("cell", ["peephole", "cifg"])
def test_get_model_with_every_new_cell(cell, tmp_path):
    model = run_factory_test(lambda v, c, **kw: zoo.get_model("bilstm", v, c, cell=cell, **kw), tmp_path)
    assert type(model.get_layer("encoder_1").forward_layer.cell).__name__ == {"peephole": "PeepholeLSTMCell",
                                                                              "cifg": "CIFGLSTMCell"}[cell]


@pytest.mark.parametrize("num_classes,kwargs", [(1, {}), (4, {"multi_label": True}), (2, {"task": "regression"})])
def test_heads(num_classes, kwargs):
    model = zoo.build_lstm(VOCAB_SIZE, num_classes, **TINY, **kwargs)
    x = random_ids(4, 6)
    if kwargs.get("task") == "regression":
        y = np.random.default_rng(0).normal(size=(4, num_classes))
    elif kwargs.get("multi_label"):
        y = np.random.default_rng(0).integers(0, 2, size=(4, num_classes))
    else:
        y = np.array([0, 1, 0, 1])
    assert np.isfinite(model.fit(x, y, verbose=0).history["loss"][0])
    out = model.predict(x, verbose=0)
    assert out.shape == (4, num_classes)
    head = model.get_layer("head").activation.__name__
    assert head == {"regression": "linear"}.get(kwargs.get("task"), "sigmoid" if num_classes == 1 or kwargs else "softmax")
    if head == "sigmoid":
        assert np.all((out >= 0) & (out <= 1))
        if num_classes > 1:
            # independent probabilities, not a distribution
            assert not np.allclose(out.sum(-1), 1.0)


@pytest.mark.parametrize("name", list(FACTORIES))
def test_pretrained_embeddings_start_exactly(name):
    matrix = np.random.default_rng(3).normal(size=(VOCAB_SIZE, 6)).astype("float32")
    model = FACTORIES[name](VOCAB_SIZE, 3, embeddings=matrix, units=8)
    np.testing.assert_array_equal(model.get_layer("embedding").get_weights()[0], matrix)
    frozen = zoo.build_lstm(VOCAB_SIZE, 3, embeddings=matrix, trainable_embeddings=False, units=4)
    frozen.fit(random_ids(4, 5), np.array([0, 1, 2, 0]), verbose=0)
    np.testing.assert_array_equal(frozen.get_layer("embedding").get_weights()[0], matrix)


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({"num_layers": 0}, ["num_layers", ">= 1", "0"]),
        ({"dropout": 1.5}, ["dropout", "[0, 1)", "1.5"]),
        ({"recurrent_dropout": -0.1}, ["recurrent_dropout", "[0, 1)"]),
        ({"pooling": "median"}, ["pooling", "'last'", "'concat'", "median"]),
        ({"embeddings": np.zeros((99, 8))}, ["embeddings", "(100", "(99, 8)"]),
        ({"embeddings": np.zeros((100, 8)), "embedding_dim": 16}, ["embeddings", "16", "8"]),
        ({"units": "64"}, ["units", "'64'"]),
        ({"l2": -1}, ["l2", ">= 0"]),
        ({"bogus": 1}, ["bogus", "Allowed", "units"]),
    ],
)
def test_bad_arguments_raise_clear_value_error(kwargs, words):
    with pytest.raises(ValueError) as info:
        zoo.build_lstm(VOCAB_SIZE, 3, **kwargs)
    for word in words:
        assert word in str(info.value)


def test_get_model_rejects_unknown_name_and_fixed_argument():
    with pytest.raises(ValueError, match="Unknown model 'transformer'. Allowed: lstm, bilstm"):
        zoo.get_model("transformer", VOCAB_SIZE, 3)
    with pytest.raises(ValueError, match="bidirectional"):
        zoo.get_model("bilstm", VOCAB_SIZE, 3, bidirectional=False)
    model = zoo.get_model("stacked_lstm", VOCAB_SIZE, 3, num_layers=3, units=4)
    assert [n for n, _ in zoo.layer_groups(model)] == ["embedding", "encoder_1", "encoder_2", "encoder_3", "head"]


def test_cudnn_report_defaults_eligible_and_explains_why_not():
    backend = keras.backend.backend()
    for name, factory in FACTORIES.items():
        report = zoo.cudnn_report(factory(VOCAB_SIZE, 3, **TINY))
        assert report and all(row["backend"] == backend for row in report)
        if name == "peephole_lstm":  # never cuDNN, on any backend
            assert [row["reasons"] for row in report] == [["PeepholeLSTMCell is not cuDNN's LSTM or GRU (cuDNN has "
                                                           "no peephole or coupled gates); Keras' generic loop runs"]]
        else:  # eligible on every backend: JAX and PyTorch through the lengths path (zoo.layers.right_padded)
            assert all(row["eligible"] for row in report), (name, report)
            lengths = backend != "tensorflow"
            assert all(("lengths" in row["path"]) == lengths for row in report), (name, report)
            unmasked = zoo.cudnn_report(factory(VOCAB_SIZE, 3, mask_zero=False, **TINY))
            assert all(row["eligible"] and row["path"] == "cuDNN" for row in unmasked), (name, unmasked)
    # Asked for another backend, and for a masked plain Keras LSTM (zoo 0.3's layers) there:
    model = zoo.build_lstm(VOCAB_SIZE, 3, **TINY)
    assert zoo.cudnn_report(model, backend="torch")[0]["path"].startswith("cuDNN on lengths")
    assert zoo.cudnn_report(model, backend="tensorflow")[0]["path"].startswith("cuDNN with the right-padded mask")
    plain = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(VOCAB_SIZE, 4, mask_zero=True),
                              keras.layers.LSTM(4)])
    assert zoo.cudnn_report(plain, backend="jax")[0]["reasons"][0].startswith(
        "a masked input (mask_zero=True) on the jax backend (its cuDNN path takes no mask")
    bad = zoo.build_bilstm(VOCAB_SIZE, 3, recurrent_dropout=0.2, **TINY)
    report = zoo.cudnn_report(bad)
    assert len(report) == 2 and not any(row["eligible"] for row in report)
    assert "recurrent_dropout=0.2 (needs 0)" in zoo.format_cudnn_report(report)


def test_ensemble_averages_its_members_and_round_trips(tmp_path):
    members = [zoo.build_lstm(VOCAB_SIZE, 3, **TINY), zoo.build_stacked_lstm(VOCAB_SIZE, 3, **TINY)]
    ensemble = zoo.build_ensemble(members)
    assert [layer.name for layer in ensemble.layers] == ["token_ids", "member_1", "member_2", "average"]
    x = random_ids(4, 7)
    expected = np.mean([m.predict(x, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict(x, verbose=0), expected, atol=1e-6)
    # The members' layers are shared, not copied: training a member changes the ensemble.
    kernel, bias = members[0].get_layer("head").get_weights()
    members[0].get_layer("head").set_weights([kernel, bias + np.arange(3)])
    assert not np.allclose(ensemble.predict(x, verbose=0), expected)
    path = os.path.join(tmp_path, "ensemble.keras")
    ensemble.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_array_equal(ensemble.predict(x, verbose=0), restored.predict(x, verbose=0))


def test_ensemble_rejects_one_member_and_mismatched_members():
    with pytest.raises(ValueError, match="at least 2 members, got 1"):
        zoo.build_ensemble([zoo.build_lstm(VOCAB_SIZE, 3, **TINY)])
    with pytest.raises(ValueError, match=r"member 2 maps \(None, None\) to \(None, 4\), member 1 maps .* \(None, 3\)"):
        zoo.build_ensemble([zoo.build_lstm(VOCAB_SIZE, 3, **TINY), zoo.build_lstm(VOCAB_SIZE, 4, **TINY)])


def test_defaults_come_from_the_model_config():
    from zoo.config import ModelConfig

    defaults = ModelConfig()
    model = zoo.build_bilstm(VOCAB_SIZE, 3)
    assert model.get_layer("encoder_1").forward_layer.units == defaults.units
    assert isinstance(model.get_layer("pooling"), zoo.MaskedGlobalMaxPooling1D) and defaults.pooling == "max"
    assert model.get_layer("head_dropout").rate == defaults.dropout
    assert zoo.build_stacked_lstm(VOCAB_SIZE, 3).get_layer("encoder_2") is not None  # the factory's own default


@pytest.mark.parametrize("pooling", ["last", "max", "mean", "attention", "concat"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_every_pooling_has_a_layer_named_pooling(pooling, bidirectional):
    model = zoo.build_rnn_classifier(VOCAB_SIZE, 3, pooling=pooling, bidirectional=bidirectional, **TINY)
    pooled = keras.Model(model.input, model.get_layer("pooling").output)
    assert pooled.predict(random_ids(2, 5), verbose=0).shape[0] == 2
