import numpy as np

import zoo
from zoo import experiment, text
from tests.helpers import random_ids


def _cfg(**overrides):
    return {**experiment.DEFAULTS, "epochs": 3, "frozen_epochs": 1, "patience": 5, **overrides}


def test_stage_plan():
    assert experiment.stages(_cfg(), pretrained=True) == [
        ("frozen_embedding", 1, 1.0, ("embedding",)), ("finetune", 2, 0.5, ())]
    assert experiment.stages(_cfg(), pretrained=False) == [("train", 3, 1.0, ())]
    assert experiment.stages(_cfg(frozen_epochs=0), pretrained=True) == [("train", 3, 1.0, ())]
    assert experiment.stages(_cfg(frozen_epochs=5), pretrained=True) == [("frozen_embedding", 3, 1.0, ("embedding",))]


def test_frozen_stage_keeps_the_pretrained_embedding_then_finetune_moves_it(tmp_path):
    matrix = np.random.default_rng(0).normal(size=(40, 6)).astype("float32")
    model = zoo.build_bilstm(40, 3, embeddings=matrix, units=4, compile=False)
    ids = [row for row in random_ids(24, 7, vocab_size=40)]
    ds = text.make_dataset(ids, np.arange(24) % 3, 8, shuffle=True)
    before_head = model.get_layer("head").get_weights()[0].copy()

    history = experiment.train(model, ds, ds, _cfg(epochs=1), [("frozen_embedding", 1, 1.0, ("embedding",))],
                               str(tmp_path))
    np.testing.assert_array_equal(model.get_layer("embedding").get_weights()[0], matrix)
    assert not np.allclose(model.get_layer("head").get_weights()[0], before_head)
    assert [h["stage"] for h in history] == ["frozen_embedding"]

    history = experiment.train(model, ds, ds, _cfg(epochs=1), [("finetune", 1, 0.5, ())], str(tmp_path))
    assert not np.allclose(model.get_layer("embedding").get_weights()[0], matrix)
    assert model.get_layer("embedding").trainable
    assert (tmp_path / "finetune").exists()  # TensorBoard logs per stage
