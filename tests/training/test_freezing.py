import numpy as np
import pytest

import zoo
from tests.helpers import TINY, VOCAB_SIZE, random_ids


def _model():
    return zoo.build_stacked_lstm(VOCAB_SIZE, 3, num_layers=3, **TINY)


def test_layer_groups_bottom_to_top():
    groups = zoo.layer_groups(_model())
    assert [g for g, _ in groups] == ["embedding", "encoder_1", "encoder_2", "encoder_3", "head"]
    assert dict(groups)["encoder_1"] == ["encoder_1", "encoder_1_dropout"]


def test_freeze_and_unfreeze_by_group_and_layer():
    model = _model()
    zoo.freeze(model)
    assert zoo.trainable_groups(model) == ["head"]
    zoo.unfreeze(model, "encoder_3", "encoder_2_dropout")
    assert zoo.trainable_groups(model) == ["encoder_2", "encoder_3", "head"]
    assert not model.get_layer("encoder_2").trainable
    zoo.unfreeze(model)
    assert zoo.trainable_groups(model) == ["embedding", "encoder_1", "encoder_2", "encoder_3", "head"]
    with pytest.raises(ValueError, match="Unknown layer or group 'encoder_9'. Groups: embedding, encoder_1"):
        zoo.freeze(model, "encoder_9")


@pytest.mark.parametrize("n,expected", [(0, 5), (1, 4), (-1, 1), (-2, 2), (5, 0)])
def test_freeze_to(n, expected):
    model = zoo.freeze_to(_model(), n)
    assert len(zoo.trainable_groups(model)) == expected


def test_frozen_layers_do_not_move_in_training():
    model = zoo.freeze(_model(), "embedding", "encoder_1")
    zoo.compile_model(model, learning_rate=0.05)
    before = {n: [w.copy() for w in model.get_layer(n).get_weights()] for n in ("embedding", "encoder_1", "encoder_3")}
    model.fit(random_ids(8, 7), np.arange(8) % 3, epochs=2, verbose=0)
    for name in ("embedding", "encoder_1"):
        for b, a in zip(before[name], model.get_layer(name).get_weights()):
            np.testing.assert_array_equal(b, a)
    assert any(not np.allclose(b, a) for b, a in zip(before["encoder_3"], model.get_layer("encoder_3").get_weights()))


def test_optimizer_by_name():
    for name in ("adam", "sgd", "rmsprop", "adagrad", "adadelta", "adamw"):
        assert zoo.make_optimizer(name, 0.01) is not None
    with pytest.raises(ValueError, match="`optimizer` must be one of adam"):
        zoo.make_optimizer("lbfgs")
