"""A language model's token stream and its truncated-BPTT windows."""

import numpy as np
import pytest

from zoo.data.token_stream import lm_dataset, lm_vectorizer, token_stream


def test_token_stream_starts_every_document_with_xxbos():
    texts = ["the cat sat", "a dog"]
    vectorizer = lm_vectorizer(texts, max_tokens=20)
    vocab = vectorizer.get_vocabulary()
    stream = token_stream(vectorizer, texts)
    assert [vocab[i] for i in stream] == ["xxbos", "the", "cat", "sat", "xxbos", "a", "dog"]
    shuffled = token_stream(vectorizer, texts, seed=1)
    assert sorted(shuffled.tolist()) == sorted(stream.tolist())


def test_lm_dataset_shifts_targets_and_varies_windows_per_epoch():
    stream = np.arange(2, 4002, dtype="int32")
    ds, steps = lm_dataset(stream, batch_size=4, bptt=20, seed=0)
    first = [(x.numpy(), y.numpy()) for x, y in ds]
    second = [(x.numpy(), y.numpy()) for x, y in ds]
    assert len(first) == steps == len(second)
    for x, y in first:
        np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
        np.testing.assert_array_equal(x + 1, y)  # the stream counts up: the target is the next token
    assert len({x.shape[1] for x, _ in first}) > 1  # variable BPTT
    assert first[0][0][0, 0] != second[0][0][0, 0] or first[0][0].shape != second[0][0].shape
    again, _ = lm_dataset(stream, batch_size=4, bptt=20, seed=0)
    np.testing.assert_array_equal(next(iter(again))[0].numpy(), first[0][0])  # seeded


def test_lm_dataset_rejects_a_short_stream():
    with pytest.raises(ValueError, match="too short"):
        lm_dataset(np.arange(50), batch_size=4, bptt=20)


@pytest.mark.parametrize("length", [4 * 62, 4 * 75, 4 * 500 + 3])
def test_lm_dataset_windows_stay_inside_the_stream(length):
    for variable in (True, False):
        try:
            ds, steps = lm_dataset(np.arange(length), batch_size=4, bptt=20, seed=0, variable=variable)
        except ValueError:
            assert variable  # only variable windows need the extra room
            continue
        for _ in range(3):  # three epochs, three random offsets
            batches = list(ds)
            assert len(batches) == steps
            for x, y in batches:
                assert x.shape == y.shape and x.shape[1] >= 5
