"""init="model:RUN_DIR": a classifier trained on one task as the start of another."""

import numpy as np
import pytest

from zoo import TextClassifier, build_bilstm
from zoo.errors import ConfigError, DataError
from zoo.transfer.classifier import remapped_embedding, transfer_classifier

SOURCE_TEXTS = ["the goalie saved the game", "a great hockey game", "the pitcher threw the ball",
                "baseball season opens"] * 6
SOURCE_LABELS = ["hockey", "hockey", "baseball", "baseball"] * 6
TARGET_TEXTS = ["win a free game now", "free prize call now", "see you at the game", "lunch after the ball"] * 6
TARGET_LABELS = ["spam", "spam", "ham", "ham"] * 6
TINY = dict(init="none", units=4, embedding_dim=4, epochs=2, batch_size=8, verbose=0, hybrid=False)
TARGET = dict(batch_size=8, verbose=0, hybrid=False)  # the architecture comes from the source


def test_transfer_copies_every_layer_but_the_head_and_remaps_the_embedding():
    source = build_bilstm(5, 3, units=4, embedding_dim=4, pooling="attention")
    target = build_bilstm(4, 2, units=4, embedding_dim=4, pooling="attention")
    old, new = ["", "[UNK]", "cat", "dog", "fish"], ["", "[UNK]", "dog", "emu"]
    head_before = [w.copy() for w in target.get_layer("head").get_weights()]
    copied, hits = transfer_classifier(source, old, target, new)
    assert copied == ["embedding", "encoder_1", "pooling"] and hits == 1
    matrix = source.get_layer("embedding").get_weights()[0]
    got = target.get_layer("embedding").get_weights()[0]
    np.testing.assert_array_equal(got[:3], matrix[[0, 1, 3]])  # padding, OOV and "dog" keep their rows
    np.testing.assert_allclose(got[3], matrix[2:].mean(0), rtol=1e-6)  # "emu" starts at the mean word row
    for a, b in zip(target.get_layer("encoder_1").get_weights(), source.get_layer("encoder_1").get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(target.get_layer("head").get_weights(), head_before):
        np.testing.assert_array_equal(a, b)  # the head is the new one
    with pytest.raises(ValueError, match="encoder_1: weights of shapes"):
        transfer_classifier(source, old, build_bilstm(4, 2, units=6, embedding_dim=4, pooling="attention"), new)


def test_remapped_embedding_counts_known_words_only():
    matrix = np.arange(12, dtype="float32").reshape(4, 3)
    new, hits = remapped_embedding(matrix, ["", "[UNK]", "a", "b"], ["", "[UNK]", "b", "c", "a"])
    assert hits == 2 and new.shape == (5, 3)
    np.testing.assert_array_equal(new[[2, 4]], matrix[[3, 2]])


@pytest.mark.slow
def test_fit_from_another_tasks_classifier(tmp_path):
    source = TextClassifier(**TINY, model="bilstm", cell="cifg").fit(SOURCE_TEXTS, SOURCE_LABELS)
    source.save(tmp_path / "source")
    clf = TextClassifier(**TARGET, init=f"model:{tmp_path / 'source'}", frozen_epochs=1, epochs=3)
    clf.fit(TARGET_TEXTS, TARGET_LABELS)
    info = clf.fit_info_["transfer"]
    assert info["source_classes"] == 2 and info["copied_layers"][:2] == ["embedding", "encoder_1"]
    assert 0 < info["vocabulary_known"] < 1  # "the", "game", "ball" known; "free", "prize" new
    assert info["architecture"]["cell"] == "cifg"  # the source's architecture
    assert type(clf.model_.get_layer("encoder_1").forward_layer.cell).__name__ == "CIFGLSTMCell"
    assert [h["stage"] for h in clf.history_] == ["new_head", "finetune", "finetune"]
    assert clf.predict_proba(["free game"]).shape == (1, 2)


def test_init_model_names_what_is_missing(tmp_path):
    (tmp_path / "not_a_run").mkdir()
    clf = TextClassifier(**TARGET, init=f"model:{tmp_path / 'not_a_run'}")
    with pytest.raises(DataError) as error:
        clf.fit(TARGET_TEXTS, TARGET_LABELS)
    assert "not a saved TextClassifier (no classifier.json)" in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(ConfigError, match="`units` with init='model:runs/x' comes from that classifier"):
        TextClassifier(init="model:runs/x", units=8)
