"""Shared checks that every zoo factory goes through (cf. keras-hub's run_backbone_test)."""

import os

import keras
import numpy as np

VOCAB_SIZE = 100
TINY = {"embedding_dim": 8, "units": 8}


def random_ids(batch, length, seed=0, vocab_size=VOCAB_SIZE):
    return np.random.default_rng(seed).integers(1, vocab_size, size=(batch, length)).astype("int32")


def right_pad(ids, length):
    out = np.zeros((ids.shape[0], length), dtype=ids.dtype)
    out[:, : ids.shape[1]] = ids
    return out


def check_probabilities(probs, num_classes):
    probs = np.asarray(probs)
    assert probs.shape[-1] == num_classes
    assert probs.dtype == np.float32, probs.dtype
    assert np.all(np.isfinite(probs))
    assert np.all((probs >= 0) & (probs <= 1))
    if num_classes > 1:
        np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)


def run_factory_test(factory, tmp_path, num_classes=3, **kwargs):
    """Runs one factory through the checks every zoo model must pass.

    Builds with ``vocab_size=100`` and the given ``num_classes``; trains one
    step; checks output shape and probabilities, variable sequence lengths,
    that right padding does not change a prediction, the ``.keras`` round
    trip, and (on TensorFlow) that the model builds, predicts and trains under
    the ``mixed_bfloat16`` policy.
    """
    kwargs = {**TINY, **kwargs}
    model = factory(VOCAB_SIZE, num_classes, **kwargs)
    assert isinstance(model, keras.Model)
    assert model.get_layer("embedding") is not None and model.get_layer("head") is not None
    assert model.get_layer("encoder_1") is not None

    # One training step changes the weights and gives a finite loss.
    x = random_ids(6, 9)
    y = np.arange(6) % num_classes
    before = [w.copy() for w in model.get_layer("head").get_weights()]
    history = model.fit(x, y, batch_size=6, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    after = model.get_layer("head").get_weights()
    assert any(not np.allclose(b, a) for b, a in zip(before, after))

    # Shape and probabilities, for several sequence lengths.
    for length in (1, 5, 23):
        probs = model.predict(random_ids(3, length, seed=length), verbose=0)
        assert probs.shape == (3, num_classes)
        check_probabilities(probs, num_classes)

    # Right padding is masked: it does not change the prediction.
    short = random_ids(4, 6, seed=1)
    np.testing.assert_allclose(
        model.predict(short, verbose=0), model.predict(right_pad(short, 15), verbose=0), atol=1e-5
    )

    # An empty text (all padding) gives finite probabilities, not NaN.
    check_probabilities(model.predict(np.zeros((2, 4), "int32"), verbose=0), num_classes)

    # Saved to .keras and loaded back: identical predictions.
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    probe = random_ids(5, 12, seed=2)
    np.testing.assert_array_equal(model.predict(probe, verbose=0), restored.predict(probe, verbose=0))
    assert [layer.name for layer in restored.layers] == [layer.name for layer in model.layers]

    if keras.backend.backend() != "tensorflow":
        return model  # mixed precision is checked on TensorFlow, zoo's training backend (and the slow part on JAX)
    # mixed_bfloat16: builds, predicts float32 probabilities, trains a step.
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        mixed = factory(VOCAB_SIZE, num_classes, **kwargs)
        assert mixed.get_layer("encoder_1").compute_dtype == "bfloat16"
        check_probabilities(mixed.predict(x, verbose=0), num_classes)
        assert np.isfinite(mixed.fit(x, y, batch_size=6, verbose=0).history["loss"][0])
    finally:
        keras.config.set_dtype_policy("float32")
    return model


# === Tiny language models (ULMFiT's tests) ===

LM_VOCAB = 60
TINY_LM = dict(embedding_dim=8, num_layers=2, num_sampled=10, seed=1)


def tiny_lm(**kwargs):
    from zoo.models.language_model import build_lstm_lm

    keras.utils.set_random_seed(0)
    return build_lstm_lm(LM_VOCAB, **{**TINY_LM, **kwargs})


def lm_ids(rows=8, width=12, seed=0):
    return np.random.default_rng(seed).integers(2, LM_VOCAB, (rows, width)).astype("int32")


def parse_html_report(path):
    """``report.html`` parsed (html.parser: it must parse): its tags' names, attributes and text, and whether the
    page is self-contained: no address outside it (every image a ``data:`` URI, no script, stylesheet or link)."""
    from html.parser import HTMLParser

    class Page(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags, self.text, self.outside = [], [], []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            self.tags.append((tag, attrs))
            for key in ("src", "href"):
                if attrs.get(key) and not attrs[key].startswith(("data:", "#")):
                    self.outside.append(attrs[key])
            if tag in ("script", "link", "iframe"):
                self.outside.append(tag)

        def handle_data(self, data):
            self.text.append(data)

    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    page.text = "".join(page.text)
    page.names = [tag for tag, _ in page.tags]
    return page
