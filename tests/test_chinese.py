"""Chinese text end to end on tiny data (issue "zoo reads Chinese"): characters as tokens in training, in the
n-gram path (1-3 grams of characters) and in the export, which gives the in-process probabilities."""

import numpy as np
import pytest

from zoo import TextClassifier

POSITIVE = ["这本书很好看，值得一读！", "质量很好，物流也快", "非常满意，推荐购买", "内容精彩，孩子喜欢"]
NEGATIVE = ["质量太差了，很失望", "不值这个价钱，后悔", "内容空洞，不推荐", "物流太慢，包装破损"]
TEXTS = (POSITIVE + NEGATIVE) * 4
LABELS = (["pos"] * 4 + ["neg"] * 4) * 4
PROBE = ["很好，推荐", "太差了", "ＶＩＰ价格１２８元", ""]


@pytest.fixture(scope="module")
def fitted():
    clf = TextClassifier(init="none", units=8, embedding_dim=8, epochs=3, batch_size=8, learning_rate=0.02, verbose=0)
    return clf.fit(TEXTS, LABELS, validation_data=(TEXTS[:8], LABELS[:8]))


def test_characters_are_the_tokens(fitted):
    vocabulary = fitted.vectorizer_.get_vocabulary()
    assert "好" in vocabulary and "很好" not in vocabulary
    assert fitted.sequence_length_ >= 8  # characters, not one token per clause
    assert fitted.fit_info_["hybrid"]["ngrams"] == 3 and "1-3 grams of characters" in fitted.fit_info_["hybrid"]["model"]
    assert any(" " in gram and len(gram.split()) == 3 for gram in fitted.ngram_.vocabulary)  # character trigrams


def test_the_export_gives_the_in_process_probabilities(fitted, tmp_path):
    import tensorflow as tf

    fitted.export(tmp_path / "export")
    served = tf.saved_model.load(str(tmp_path / "export")).signatures["serving_default"](texts=tf.constant(PROBE))
    np.testing.assert_allclose(served["probabilities"].numpy(), fitted.predict_proba(PROBE), atol=1e-6)
    assert [s.decode() for s in served["label"].numpy()] == fitted.predict(PROBE)
