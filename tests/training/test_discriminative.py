import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.training.discriminative import (
    DiscriminativeAdam,
    DiscriminativeSGD,
    discriminative_optimizer,
    group_multipliers,
)
from zoo.training.schedules import SlantedTriangular
from zoo.training.stages import apply_stage, gradual_unfreezing

VOCAB = 50


def _lstm(num_layers=2):
    return zoo.build_stacked_lstm(VOCAB, 3, units=4, embedding_dim=4, num_layers=num_layers)


def _dense_model():
    """Two same-shaped named layers, `a` below `b`, then a head; no ReLU so every gradient is non-zero."""
    inputs = keras.Input((4,))
    x = keras.layers.Dense(4, activation="tanh", name="a")(inputs)
    x = keras.layers.Dense(4, activation="tanh", name="b")(x)
    outputs = keras.layers.Dense(1, name="head")(x)
    return keras.Model(inputs, outputs)


def _data(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")


def _grads(model, x, y):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    return tape.gradient(loss, model.trainable_variables)


def _weights(model, names):
    return {n: [w.copy() for w in model.get_layer(n).get_weights()] for n in names}


def _moved(before, model, name):
    return [after - b for b, after in zip(before[name], model.get_layer(name).get_weights())]


def _lstm_data(n=8, length=6):
    rng = np.random.default_rng(1)
    return rng.integers(1, VOCAB, size=(n, length)).astype("int32"), rng.integers(0, 3, size=(n,))


# === Discriminative learning rates ===


def test_sgd_step_is_scaled_exactly_per_layer():
    model = _dense_model()
    reference = keras.models.clone_model(model)
    reference.set_weights(model.get_weights())
    x, y = _data()
    grads = _grads(model, x, y)
    names = ("a", "b", "head")
    before = _weights(model, names)

    opt = discriminative_optimizer("sgd", 0.05, {"a": 1.0, "b": 0.1}, momentum=0.0, nesterov=False)
    assert isinstance(opt, DiscriminativeSGD) and opt.momentum == 0.0
    opt.apply(grads, model.trainable_variables)
    keras.optimizers.SGD(0.05).apply(grads, reference.trainable_variables)

    for name, factor in (("a", 1.0), ("b", 0.1), ("head", 1.0)):
        for moved, ref_moved in zip(_moved(before, model, name), _moved(before, reference, name)):
            assert np.abs(ref_moved).max() > 1e-4  # the reference step really moved the layer
            np.testing.assert_allclose(moved, factor * ref_moved, rtol=0, atol=1e-6)
    assert opt.variable_multipliers() == {
        "a/kernel": 1.0, "a/bias": 1.0, "b/kernel": 0.1, "b/bias": 0.1, "head/kernel": 1.0, "head/bias": 1.0,
    }


def test_sgd_default_is_nesterov_momentum_like_make_optimizer():
    opt = discriminative_optimizer("sgd", 0.01, {}, clipnorm=1.0)
    assert (opt.momentum, opt.nesterov, opt.clipnorm) == (0.9, True, 1.0)
    with pytest.raises(ValueError, match="must be one of adam, adamw, gd, sgd"):
        discriminative_optimizer("lamb", 0.01, {})
    with pytest.raises(ValueError, match=r"multipliers\['b'\]"):
        discriminative_optimizer("adam", 0.01, {"b": -1.0})


def test_adam_moves_lower_rate_layer_less_inside_fit():
    model = _dense_model()
    before = _weights(model, ("a", "b"))
    opt = discriminative_optimizer("adam", 0.01, {"a": 0.1, "b": 1.0})
    model.compile(optimizer=opt, loss="mse")
    x, y = _data()
    model.fit(x, y, batch_size=len(x), epochs=1, verbose=0)
    moved_a = sum(np.abs(d).sum() for d in _moved(before, model, "a"))
    moved_b = sum(np.abs(d).sum() for d in _moved(before, model, "b"))
    assert moved_b > 0
    # Adam's first step is about lr * sign(g) per weight, so the ratio is the multiplier.
    assert moved_a / moved_b == pytest.approx(0.1, rel=0.02)


def test_adamw_weight_decay_is_scaled_by_the_multiplier():
    model = _dense_model()
    before = _weights(model, ("a", "b"))
    opt = discriminative_optimizer("adamw", 0.1, {"a": 0.1}, weight_decay=0.5)
    zeros = [tf.zeros_like(v) for v in model.trainable_variables]
    opt.apply(zeros, model.trainable_variables)  # zero gradient: only the decay moves the weights
    kernel_a, kernel_b = before["a"][0], before["b"][0]
    np.testing.assert_allclose(_moved(before, model, "b")[0], -0.1 * 0.5 * kernel_b, atol=1e-6)
    np.testing.assert_allclose(_moved(before, model, "a")[0], -0.1 * 0.1 * 0.5 * kernel_a, atol=1e-6)
    assert opt.weight_decay == 0.5


def test_frozen_group_does_not_move_and_lower_groups_move_less():
    model = zoo.freeze(_lstm(), "embedding")
    multipliers = group_multipliers(model)
    zoo.compile_model(model, discriminative_optimizer("adam", 0.01, multipliers))
    names = ("embedding", "encoder_1", "encoder_2", "head")
    before = _weights(model, names)
    x, y = _lstm_data()
    model.fit(x, y, batch_size=len(x), epochs=1, verbose=0)
    for before_w, after_w in zip(before["embedding"], model.get_layer("embedding").get_weights()):
        np.testing.assert_array_equal(before_w, after_w)
    moved = {n: sum(np.abs(d).sum() for d in _moved(before, model, n)) for n in names[1:]}
    assert moved["encoder_1"] > 0
    # encoder_1 and encoder_2 have the same shapes (units=embedding_dim=4): the lower one moves less.
    assert moved["encoder_1"] < moved["encoder_2"]
    paths = model.optimizer.variable_multipliers()
    assert not any(p.startswith("embedding/") for p in paths)
    assert paths["encoder_1/lstm_cell/kernel"] == pytest.approx(1 / 2.6**2)
    assert paths["encoder_2/lstm_cell/kernel"] == pytest.approx(1 / 2.6)
    assert paths["head/kernel"] == 1.0


def test_group_multipliers_bottom_up():
    model = _lstm(num_layers=3)
    m = group_multipliers(model)
    expected = {"embedding": 2.6**-4, "encoder_1": 2.6**-3, "encoder_2": 2.6**-2, "encoder_3": 2.6**-1, "head": 1.0}
    for group, layers in zoo.layer_groups(model):
        for layer in layers:
            assert m[layer] == pytest.approx(expected[group], rel=1e-12)
    assert m["encoder_1_dropout"] == m["encoder_1"]
    assert set(group_multipliers(model, factor=1).values()) == {1.0}
    with pytest.raises(ValueError, match="factor"):
        group_multipliers(model, factor=0)


def test_optimizer_saves_and_reloads_with_model(tmp_path):
    model = _lstm()
    multipliers = group_multipliers(model)
    schedule = SlantedTriangular(0.01, total_steps=20)
    zoo.compile_model(model, discriminative_optimizer("adam", schedule, multipliers, clipnorm=1.0))
    x, y = _lstm_data()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)

    reloaded = keras.saving.load_model(path)
    opt = reloaded.optimizer
    assert type(opt).__name__ == "DiscriminativeAdam"
    assert isinstance(opt, DiscriminativeAdam)
    assert opt.multipliers == pytest.approx(multipliers)
    assert opt.clipnorm == 1.0
    assert isinstance(opt._learning_rate, SlantedTriangular)
    assert opt._learning_rate.get_config() == schedule.get_config()
    assert int(opt.iterations) == 2
    reloaded.fit(x, y, batch_size=4, epochs=1, verbose=0)  # keeps training with the reloaded optimizer
    assert int(opt.iterations) == 4

    config = model.optimizer.get_config()
    assert config["multipliers"] == multipliers
    clone = DiscriminativeAdam.from_config(keras.optimizers.serialize(model.optimizer)["config"])
    assert clone.multipliers == multipliers
    assert keras.optimizers.serialize(model.optimizer)["registered_name"] == "zoo>DiscriminativeAdam"


# === Slanted triangular learning rates ===


def test_slanted_triangular_shape():
    total, max_lr = 200, 0.01
    schedule = SlantedTriangular(max_lr, total_steps=total)  # cut = 20, ratio = 32
    lrs = np.array([float(schedule(t)) for t in range(total + 1)])
    assert lrs[0] == pytest.approx(max_lr / 32, rel=1e-6)
    assert lrs.argmax() == 20 and lrs[20] == pytest.approx(max_lr, rel=1e-6)
    assert np.all(np.diff(lrs[:21]) > 0) and np.all(np.diff(lrs[20:]) < 0)
    # One step before T: p = 1/180, so 31/180 above the floor.
    assert lrs[total - 1] == pytest.approx(max_lr / 32 * (1 + 31 / 180), rel=1e-5)
    assert lrs[total] == pytest.approx(max_lr / 32, rel=1e-5)
    # The paper's formula at a few points.
    for t in (5, 20, 77, 150):
        p = t / 20 if t < 20 else 1 - (t - 20) / (20 * (1 / 0.1 - 1))
        assert lrs[t] == pytest.approx(max_lr * (1 + p * 31) / 32, rel=1e-5)
    assert float(schedule(10 * total)) == pytest.approx(max_lr / 32, rel=1e-6)  # never negative


def test_slanted_triangular_config_and_tf_function():
    schedule = SlantedTriangular(3e-3, total_steps=50, cut_frac=0.2, ratio=16, name="stlr")
    config = schedule.get_config()
    assert config == {"max_lr": 3e-3, "total_steps": 50, "cut_frac": 0.2, "ratio": 16.0, "name": "stlr"}
    restored = SlantedTriangular.from_config(config)
    assert restored.get_config() == config
    round_trip = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert isinstance(round_trip, SlantedTriangular) and round_trip.get_config() == config

    traced = tf.function(lambda step: restored(step))
    for t in (0, 10, 33):
        assert float(traced(tf.constant(t, dtype=tf.int64))) == pytest.approx(float(schedule(t)), rel=1e-6)
    assert float(traced(tf.constant(10))) == pytest.approx(3e-3, rel=1e-6)
    with pytest.raises(ValueError, match="cut_frac"):
        SlantedTriangular(0.01, 10, cut_frac=1.0)


# === Gradual unfreezing ===


def test_gradual_unfreezing_stages_in_order():
    model = _lstm(num_layers=2)
    stages = gradual_unfreezing(model, 0.02, epochs_per_stage=2, final_epochs=5)
    assert [s.frozen for s in stages] == [("embedding", "encoder_1", "encoder_2"), ("embedding", "encoder_1"),
                                          ("embedding",), ()]
    assert [s.epochs for s in stages] == [2, 2, 2, 5]
    assert [s.learning_rate for s in stages] == pytest.approx([0.02, 0.01, 0.005, 0.0025])  # halved per stage
    expected = [
        ["head"],
        ["encoder_2", "head"],
        ["encoder_1", "encoder_2", "head"],
        ["embedding", "encoder_1", "encoder_2", "head"],
    ]
    assert len({s.name for s in stages}) == len(stages)
    for stage, groups in zip(stages, expected):
        assert apply_stage(model, stage) == groups
        assert zoo.trainable_groups(model) == groups
    assert gradual_unfreezing(model, 0.01)[-1].epochs == 1
    # Going back to the first stage freezes again.
    assert apply_stage(model, stages[0]) == ["head"]
    assert not model.get_layer("embedding").trainable


def test_gradual_unfreezing_trains_with_a_fresh_optimizer_per_stage():
    model = _lstm(num_layers=2)
    x, y = _lstm_data()
    for stage in gradual_unfreezing(model, 0.01):
        trainable = apply_stage(model, stage)
        before = _weights(model, ("embedding", "encoder_1"))
        schedule = SlantedTriangular(0.01, total_steps=2)
        zoo.compile_model(model, discriminative_optimizer("adam", schedule, group_multipliers(model)))
        model.fit(x, y, batch_size=4, epochs=stage.epochs, verbose=0)
        changed = not np.array_equal(before["embedding"][0], model.get_layer("embedding").get_weights()[0])
        assert changed == ("embedding" in trainable)
        assert math.isfinite(float(model.evaluate(x, y, verbose=0)[0]))
