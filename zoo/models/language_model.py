"""An AWD-LSTM language model (Merity et al. 2018) whose encoder is a zoo encoder.

The language model maps token ids ``(batch, time)`` to the top layer's states
``(batch, time, embedding_dim)``; its softmax over the vocabulary lives in the
``embedding`` layer (tied weights, as in AWD-LSTM) and in
:meth:`LanguageModel.compute_loss`, which uses a sampled softmax while training
(affordable on a CPU: a few hundred classes per step instead of the whole
vocabulary) and the full softmax when evaluating, so ``evaluate`` reports the
true cross-entropy and ``exp(loss)`` is the perplexity.

Regularisation, as in AWD-LSTM (:mod:`zoo.layers`):

* embedding dropout: whole rows of the embedding matrix (word types) dropped
  per batch (``embedding_row_dropout``, :class:`~zoo.layers.LMEmbedding`);
* locked (variational) dropout: one mask per sequence shared over time, on the
  embedding output (``input_dropout``), between layers (``hidden_dropout``) and
  on the top states (``output_dropout``); ``SpatialDropout1D`` is exactly that;
* weight drop (DropConnect) on the recurrent kernels (``weight_dropout``,
  :class:`~zoo.layers.WeightDropLSTM`);
* activation and temporal-activation regularisation (``ar_alpha``,
  ``tar_beta``, :class:`~zoo.layers.ActivationRegularization`).

The configuration is :class:`zoo.config.LanguageModelConfig`. Layer names
match the classifiers' (``embedding``, ``encoder_1`` ... ``encoder_N``), so
the layer groups of :func:`zoo.training.freezing.layer_groups` are the same
(embedding, one group per LSTM, the rest), and every encoder has the weights
of a ``keras.layers.LSTM``: :func:`zoo.transfer.encoder.transfer_encoder`
copies a (fine-tuned) language model into a ``build_stacked_lstm``
classifier by name, exactly.

Example:

>>> lm = build_lstm_lm(vocab_size=100, embedding_dim=8, num_layers=2)
>>> [layer.name for layer in lm.layers if layer.name.startswith(("embedding", "encoder"))]
['embedding', 'embedding_dropout', 'encoder_1', 'encoder_1_dropout', 'encoder_2', 'encoder_2_dropout']
"""

import dataclasses

import keras
import numpy as np
from keras import ops

from zoo.config import LanguageModelConfig
from zoo.errors import ConfigError
from zoo.layers import ActivationRegularization, LMEmbedding, WeightDropLSTM

BOS = "xxbos"  # marks the start of every document in the token stream


def lm_config(vocab_size, **kwargs):
    """The complete, validated configuration of a language model, as a dict (``units`` resolved).

    Example:

    >>> lm_config(100, embedding_dim=8)["units"]
    8
    """
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) or vocab_size < 2:
        raise ConfigError("vocab_size", f"`vocab_size` must be an integer >= 2, got {vocab_size!r}")
    try:
        config = LanguageModelConfig.from_dict(kwargs)
    except ConfigError as error:
        if "unknown setting" in str(error):
            unknown = sorted(set(kwargs) - set(LanguageModelConfig.names()))
            raise ConfigError(unknown[0], f"Unknown argument(s) {', '.join(unknown)}. Allowed: vocab_size, "
                                          f"{', '.join(LanguageModelConfig.names())}") from None
        raise
    cfg = {"vocab_size": int(vocab_size), **dataclasses.asdict(config)}
    cfg["units"] = cfg["units"] or cfg["embedding_dim"]
    return cfg


# === Functional Model ===


@keras.saving.register_keras_serializable(package="zoo")
class LanguageModel(keras.Model):
    """A functional model from token ids to top states, with an LM loss.

    ``fit`` takes ``(ids, next_ids)`` batches; the loss is the sampled softmax
    (``num_sampled`` classes, Zipf-sampled: the vocabulary is sorted by
    frequency) plus AR/TAR while training, and the full softmax cross-entropy
    in ``evaluate``. Compile with an optimizer only: ``lm.compile(optimizer)``.
    """

    def __init__(self, inputs, outputs, config=None, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.lm_config = dict(config or {})

    def logits(self, hidden):
        kernel, bias = self.get_layer("embedding").decoder_weights()
        return ops.matmul(hidden, ops.transpose(kernel)) + bias

    def next_token_log_probs(self, ids):
        """Log-probabilities of the next token at every position (full softmax)."""
        return ops.log_softmax(self.logits(self(ids, training=False)), axis=-1)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        kernel, bias = self.get_layer("embedding").decoder_weights()
        num_sampled = (self.lm_config.get("num_sampled") or 0) if training else 0
        # The embedding's generator also draws the sampled classes off TensorFlow: a generator of the
        # model's own would add a variable that the committed artifacts do not have.
        loss = next_token_loss(kernel, bias, y_pred, y, num_sampled, self.get_layer("embedding").seed_generator)
        if training and self.losses:
            loss = loss + ops.sum(ops.stack(self.losses))
        return loss

    def get_config(self):
        return dict(self.lm_config)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return build_lstm_lm(**config)


def next_token_loss(kernel, bias, hidden, targets, num_sampled=0, seed=None):
    """Mean next-token cross-entropy of ``hidden`` states against ``targets`` (id 0 is never a target).

    Args:
        kernel, bias: the output layer, ``(vocab_size, dim)`` and ``(vocab_size,)``.
        hidden: states ``(..., dim)``; ``targets``: ids of the same leading shape.
        num_sampled: > 0 (and below the vocabulary size) for a sampled softmax
            over that many Zipf-sampled classes (the vocabulary is sorted by
            frequency); 0 for the full softmax.
        seed: a ``keras.random.SeedGenerator`` for the sampled classes on the
            JAX and PyTorch backends.
    """
    vocab = kernel.shape[0]
    hidden = ops.reshape(hidden, (-1, ops.shape(hidden)[-1]))
    labels = ops.reshape(ops.cast(targets, "int32"), (-1,))
    if 0 < num_sampled < vocab and keras.backend.backend() == "tensorflow":
        # TensorFlow's sampled softmax (unique candidates, accidental hits removed) is the reference
        # implementation, and the committed language models were trained with it.
        import tensorflow as tf

        losses = tf.nn.sampled_softmax_loss(
            weights=kernel, biases=bias, labels=ops.cast(labels[:, None], "int64"), inputs=hidden,
            num_sampled=num_sampled, num_classes=vocab, remove_accidental_hits=True)
    elif 0 < num_sampled < vocab:
        # Keras has no sampled softmax: the same estimator in keras.ops for the other backends.
        losses = sampled_softmax_losses(kernel, bias, hidden, labels, log_uniform_candidates(vocab, num_sampled, seed))
    else:
        losses = keras.losses.sparse_categorical_crossentropy(
            labels, ops.matmul(hidden, ops.transpose(kernel)) + bias, from_logits=True)
    weights = ops.cast(labels > 0, losses.dtype)
    return ops.sum(losses * weights) / ops.maximum(ops.sum(weights), 1.0)


def log_uniform_candidates(vocab_size, num_sampled, seed=None):
    """``num_sampled`` class ids drawn (with replacement) from the log-uniform (Zipf) distribution
    ``P(k) = log((k + 2) / (k + 1)) / log(vocab_size + 1)``, by inverting its CDF."""
    u = keras.random.uniform((num_sampled,), seed=seed)
    ids = ops.floor(ops.exp(u * np.log(vocab_size + 1.0))) - 1.0
    return ops.clip(ops.cast(ids, "int32"), 0, vocab_size - 1)


def sampled_softmax_losses(kernel, bias, hidden, labels, candidates):
    """Per-row sampled-softmax cross-entropy (Jean et al. 2015) with the classes ``candidates``.

    Each logit is corrected by the log of its class's expected count among the
    candidates (drawn with replacement from :func:`log_uniform_candidates`), and
    a candidate equal to the row's label (an accidental hit) is left out.
    """
    vocab = kernel.shape[0]
    num_sampled = ops.shape(candidates)[0]

    def log_expected(ids):
        k = ops.cast(ids, "float32")
        return ops.log(num_sampled * (ops.log(k + 2.0) - ops.log(k + 1.0)) / np.log(vocab + 1.0))

    hidden = ops.cast(hidden, "float32")
    kernel, bias = ops.cast(kernel, "float32"), ops.cast(bias, "float32")
    true_logits = (ops.sum(hidden * ops.take(kernel, labels, axis=0), axis=-1) + ops.take(bias, labels)
                   - log_expected(labels))
    sampled_logits = (ops.matmul(hidden, ops.transpose(ops.take(kernel, candidates, axis=0)))
                      + ops.take(bias, candidates) - log_expected(candidates))
    hits = ops.expand_dims(labels, 1) == ops.expand_dims(candidates, 0)
    sampled_logits = ops.where(hits, -1e30, sampled_logits)
    logits = ops.concatenate([ops.expand_dims(true_logits, 1), sampled_logits], axis=1)
    return -ops.log_softmax(logits, axis=-1)[:, 0]


def build_lstm_lm(vocab_size, **kwargs):
    """Builds an AWD-LSTM language model.

    Args:
        vocab_size: number of token ids (0 is padding, 1 out-of-vocabulary);
            ids should be sorted by frequency for the sampled softmax.
        **kwargs: any field of :class:`zoo.config.LanguageModelConfig`: ``embedding_dim``, ``units``
            (default ``embedding_dim``), ``num_layers``,
            ``embedding_row_dropout``, ``input_dropout``, ``hidden_dropout``,
            ``output_dropout``, ``weight_dropout``, ``ar_alpha``, ``tar_beta``,
            ``tie_weights``, ``num_sampled`` (0: full softmax in training too),
            ``seed``.

    Returns:
        A :class:`LanguageModel`, not compiled.

    Raises:
        ValueError: an unknown argument or a value out of range.

    Example:

    >>> lm = build_lstm_lm(100, embedding_dim=8, num_layers=1, num_sampled=16)
    >>> lm.compile("adam")
    >>> ids = np.random.randint(2, 100, (4, 12))
    >>> lm.fit(ids[:, :-1], ids[:, 1:], verbose=0).history["loss"][0] > 0
    True
    """
    cfg = lm_config(vocab_size, **kwargs)
    seed = cfg["seed"]
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = LMEmbedding(vocab_size, cfg["embedding_dim"], row_dropout=cfg["embedding_row_dropout"],
                    tie_weights=cfg["tie_weights"], seed=seed, name="embedding")(token_ids)
    x = keras.layers.SpatialDropout1D(cfg["input_dropout"], seed=seed, name="embedding_dropout")(x)
    for i in range(1, cfg["num_layers"] + 1):
        raw = WeightDropLSTM(cfg["units"], weight_dropout=cfg["weight_dropout"], return_sequences=True,
                             seed=seed, name=f"encoder_{i}")(x)
        top = i == cfg["num_layers"]
        rate = cfg["output_dropout"] if top else cfg["hidden_dropout"]
        x = keras.layers.SpatialDropout1D(rate, seed=seed, name=f"encoder_{i}_dropout")(raw)
    hidden = ActivationRegularization(cfg["ar_alpha"], cfg["tar_beta"], name="activation_regularization")([raw, x])
    return LanguageModel(token_ids, hidden, config=cfg, name="lstm_lm")
