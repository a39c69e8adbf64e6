import numpy as np
import pytest

from zoo.data import text

TRAIN = ["the cat sat", "the dog sat on the mat", "a bird", "the cat and the dog"] * 5


def test_vectorizer_adapts_on_train_only_and_pads_right():
    v = text.make_vectorizer(TRAIN, max_tokens=50)
    vocab = v.get_vocabulary()
    assert vocab[:3] == ["", "[UNK]", "the"] and "zebra" not in vocab
    out = text.vectorize(v, ["the zebra sat", "", "the cat sat on the mat"], sequence_length=4)
    assert out.ids[0].tolist() == [2, 1, vocab.index("sat")]
    assert out.ids[1].tolist() == [0]  # empty text: one padding id
    assert len(out.ids[2]) == 4 and out.truncated == 1


@pytest.mark.parametrize("texts", [["", ""] * 4, ["!!!", "? ...", ""] * 3])
def test_training_texts_without_a_token_are_one_line_not_tensorflows_uninitialised_table(texts):
    from zoo.errors import DataError

    with pytest.raises(DataError, match=r"^the \d+ training texts hold no token once standardized"):
        text.make_vectorizer(texts, standardize="lower_and_strip_punctuation")


@pytest.mark.parametrize("policy,expected", [(7, 7), ("12", 12), ("p50", 3), ("p100", 100), (None, 100)])
def test_sequence_length_policies(policy, expected):
    assert text.resolve_sequence_length(policy, [1, 2, 3, 4, 100]) == expected


@pytest.mark.parametrize("policy", ["p", "95", "q95", 0, "p101"])
def test_bad_sequence_length_policy(policy):
    if policy == "95":
        assert text.resolve_sequence_length(policy, [1]) == 95
        return
    with pytest.raises(ValueError, match="`sequence_length` must be"):
        text.resolve_sequence_length(policy, [1, 2])


def test_bucketing_reduces_padding_and_keeps_every_example():
    rng = np.random.default_rng(0)
    ids = [rng.integers(1, 50, size=n).astype("int32") for n in rng.integers(1, 200, size=500)]
    labels = np.arange(500)

    def stats(ds):
        seen, cells, real = [], 0, 0
        for x, y in ds:
            x = x.numpy()
            seen.extend(y.numpy().tolist())
            cells += x.size
            real += int((x != 0).sum())
            # right padding: no token after a padding id
            assert np.all(np.diff((x != 0).astype(int), axis=1) <= 0)
        return sorted(seen), real / cells

    seen_b, fill_b = stats(text.make_dataset(ids, labels, 32, shuffle=True, bucket=True))
    seen_p, fill_p = stats(text.make_dataset(ids, labels, 32, shuffle=True, bucket=False))
    assert seen_b == seen_p == list(range(500))
    assert fill_b > 0.85 and fill_b > fill_p + 0.2


def test_predict_in_order_restores_input_order():
    import zoo

    model = zoo.build_lstm(60, 3, units=4, embedding_dim=4)
    rng = np.random.default_rng(1)
    ids = [rng.integers(1, 60, size=n).astype("int32") for n in (9, 2, 30, 5, 1)]
    got = text.predict_in_order(model, ids, batch_size=2)
    for row, x in zip(got, ids):
        np.testing.assert_allclose(row, model.predict(x[None], verbose=0)[0], atol=1e-6)


@pytest.mark.parametrize("truncation", ["head", "head_tail"])
def test_text_to_ids_trims_each_batch_and_cuts_as_training_does(truncation):
    import tensorflow as tf

    texts = ["a b c d e f g h", "a b", "", "c d e"]
    vectorizer = text.make_vectorizer(texts)
    layer = text.TextToIds.like(vectorizer, 5, truncation)
    expected = text.vectorize(vectorizer, texts, 5, truncation=truncation).ids
    got = layer(tf.constant(texts)).numpy()
    assert got.shape == (4, 5)
    for row, ids in zip(got, expected):
        np.testing.assert_array_equal(row[: len(ids)], ids)
        assert not row[len(ids):].any()
    assert layer(tf.constant(["a b", "c"])).numpy().shape == (2, 2)  # the batch's longest text, not 5
    assert layer(tf.constant([""])).numpy().shape == (1, 1)  # one fully masked step, never zero
    fixed = text.TextToIds.like(vectorizer, 5, truncation, fixed_length=True)
    np.testing.assert_array_equal(fixed(tf.constant(texts)).numpy(), got)
    assert fixed(tf.constant(["a b", "c"])).numpy().shape == (2, 5)  # output_sequence_length's shape
