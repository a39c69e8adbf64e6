"""An AWD-LSTM language model (Merity et al. 2018) whose encoder is a zoo encoder.

The language model maps token ids ``(batch, time)`` to the top layer's states
``(batch, time, embedding_dim)``; its softmax over the vocabulary lives in the
``embedding`` layer (tied weights, as in AWD-LSTM) and in
:meth:`LanguageModel.compute_loss`, which uses a sampled softmax while training
(affordable on a CPU: a few hundred classes per step instead of the whole
vocabulary) and the full softmax when evaluating, so ``evaluate`` reports the
true cross-entropy and ``exp(loss)`` is the perplexity.

Regularisation, as in AWD-LSTM:

* embedding dropout: whole rows of the embedding matrix (word types) dropped
  per batch (``embedding_row_dropout``);
* locked (variational) dropout: one mask per sequence shared over time, on the
  embedding output (``input_dropout``), between layers (``hidden_dropout``) and
  on the top states (``output_dropout``); ``SpatialDropout1D`` is exactly that;
* weight drop (DropConnect) on the recurrent kernels (``weight_dropout``);
* activation and temporal-activation regularisation (``ar_alpha``,
  ``tar_beta``).

Layer names match the classifiers' (``embedding``, ``encoder_1`` ...
``encoder_N``), and every encoder has the weights of a ``keras.layers.LSTM``,
so :func:`transfer_encoder` copies a (fine-tuned) language model into a
``zoo.build_stacked_lstm`` classifier by name, exactly.

Example:

>>> lm = build_lstm_lm(vocab_size=100, embedding_dim=8, num_layers=2)
>>> [layer.name for layer in lm.layers if layer.name.startswith(("embedding", "encoder"))]
['embedding', 'embedding_dropout', 'encoder_1', 'encoder_1_dropout', 'encoder_2', 'encoder_2_dropout']
"""

import numpy as np
import keras
import tensorflow as tf
from keras import ops

# === Config ===

LM_DEFAULTS = {
    "embedding_dim": 256,
    "units": None,  # default: embedding_dim (tied weights need it)
    "num_layers": 2,
    "embedding_row_dropout": 0.02,
    "input_dropout": 0.25,
    "hidden_dropout": 0.15,
    "output_dropout": 0.1,
    "weight_dropout": 0.2,
    "ar_alpha": 2.0,
    "tar_beta": 1.0,
    "tie_weights": True,
    "num_sampled": 512,
    "seed": None,
}
BOS = "xxbos"  # marks the start of every document in the token stream


def _rate(name, value):
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1), got {value!r}")


def lm_config(vocab_size, **kwargs):
    """The complete, validated configuration of a language model."""
    unknown = sorted(set(kwargs) - set(LM_DEFAULTS))
    if unknown:
        raise ValueError(f"Unknown argument(s) {', '.join(unknown)}. Allowed: vocab_size, {', '.join(LM_DEFAULTS)}")
    cfg = {"vocab_size": vocab_size, **LM_DEFAULTS, **kwargs}
    cfg["units"] = cfg["units"] or cfg["embedding_dim"]
    for name in ("vocab_size", "embedding_dim", "units", "num_layers"):
        if not isinstance(cfg[name], (int, np.integer)) or cfg[name] < 1:
            raise ValueError(f"`{name}` must be a positive integer, got {cfg[name]!r}")
    for name in ("embedding_row_dropout", "input_dropout", "hidden_dropout", "output_dropout", "weight_dropout"):
        _rate(name, cfg[name])
    if cfg["tie_weights"] and cfg["units"] != cfg["embedding_dim"]:
        raise ValueError(f"`tie_weights=True` needs units == embedding_dim, got units={cfg['units']} "
                         f"and embedding_dim={cfg['embedding_dim']}")
    if not isinstance(cfg["num_sampled"], (int, np.integer)) or cfg["num_sampled"] < 0:
        raise ValueError(f"`num_sampled` must be an integer >= 0 (0: full softmax), got {cfg['num_sampled']!r}")
    return cfg


# === Layers ===


@keras.saving.register_keras_serializable(package="zoo")
class LMEmbedding(keras.layers.Embedding):
    """An embedding with embedding dropout and the language model's output softmax.

    Embedding dropout (Gal & Ghahramani 2016) drops whole rows of the matrix,
    so a dropped word is dropped everywhere in the batch. ``decoder_weights``
    returns the output layer's ``(vocab_size, dim)`` kernel and bias: the
    embedding matrix itself when ``tie_weights`` (Press & Wolf 2017).
    Keras' ``Embedding`` has neither, hence this subclass.

    Args:
        input_dim: vocabulary size.
        output_dim: embedding width.
        row_dropout: fraction of rows dropped while training.
        tie_weights: use the embedding matrix as the output kernel.
        seed: seed of the dropout masks.
    """

    def __init__(self, input_dim, output_dim, row_dropout=0.0, tie_weights=True, seed=None, **kwargs):
        super().__init__(input_dim, output_dim, **kwargs)
        self.row_dropout = row_dropout
        self.tie_weights = tie_weights
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape=None):
        super().build(input_shape)
        self.output_bias = self.add_weight(shape=(self.input_dim,), initializer="zeros", name="output_bias")
        self.output_kernel = None
        if not self.tie_weights:
            self.output_kernel = self.add_weight(shape=(self.input_dim, self.output_dim),
                                                 initializer="glorot_uniform", name="output_kernel")

    def call(self, inputs, training=False):
        inputs = ops.cast(inputs, "int32")
        if not (training and self.row_dropout):
            return ops.take(self.embeddings, inputs, axis=0)
        keep = keras.random.uniform((self.input_dim, 1), seed=self.seed_generator) >= self.row_dropout
        matrix = self.embeddings * ops.cast(keep, self.embeddings.dtype) / (1.0 - self.row_dropout)
        return ops.take(matrix, inputs, axis=0)

    # Embedding saves only its matrix (its own methods serve quantization);
    # the generic Layer methods save every variable, output bias included.
    def save_own_variables(self, store):
        keras.layers.Layer.save_own_variables(self, store)

    def load_own_variables(self, store):
        keras.layers.Layer.load_own_variables(self, store)

    def compute_output_spec(self, inputs, training=False):
        return super().compute_output_spec(inputs)

    def decoder_weights(self):
        kernel = self.embeddings if self.tie_weights else self.output_kernel
        return kernel, self.output_bias

    def get_config(self):
        return {**super().get_config(), "row_dropout": self.row_dropout, "tie_weights": self.tie_weights,
                "seed": self.seed}


@keras.saving.register_keras_serializable(package="zoo")
class WeightDropLSTM(keras.layers.LSTM):
    """``keras.layers.LSTM`` with DropConnect on the recurrent kernel (AWD-LSTM's weight drop).

    One mask per batch is applied to the hidden-to-hidden matrix, so the
    recurrence is regularised without touching the fast LSTM kernels (cuDNN
    on GPU): the layer runs the parent's loop with the dropped matrix in the
    recurrent kernel's place. Keras has no weight drop; PyTorch's AWD-LSTM
    does the same swap. The weights are a plain LSTM's, in the same order,
    so they load into ``keras.layers.LSTM`` unchanged.

    Args:
        units: state width.
        weight_dropout: fraction of recurrent-kernel entries dropped while
            training.
        **kwargs: ``keras.layers.LSTM`` arguments.
    """

    def __init__(self, units, weight_dropout=0.0, **kwargs):
        super().__init__(units, **kwargs)
        self.weight_dropout = weight_dropout
        self.weight_seed_generator = keras.random.SeedGenerator(kwargs.get("seed"))

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not (training and self.weight_dropout):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        cell = self.cell
        kernel = cell.recurrent_kernel
        dropped = keras.random.dropout(kernel.value, self.weight_dropout, seed=self.weight_seed_generator)
        # object.__setattr__: Keras' attribute tracking must not see the swap.
        object.__setattr__(cell, "recurrent_kernel", dropped)
        try:
            return super().inner_loop(sequences, initial_state, mask, training=training)
        finally:
            object.__setattr__(cell, "recurrent_kernel", kernel)

    def get_config(self):
        return {**super().get_config(), "weight_dropout": self.weight_dropout}


@keras.saving.register_keras_serializable(package="zoo")
class ActivationRegularization(keras.layers.Layer):
    """Adds AR and TAR (Merity et al. 2017) to the model's losses while training.

    AR: ``alpha * mean(dropped ** 2)`` keeps the top layer's activations small;
    TAR: ``beta * mean((raw[t] - raw[t-1]) ** 2)`` keeps them slow-moving.
    Called on ``[raw, dropped]`` (top states before and after dropout);
    returns ``dropped`` unchanged.
    """

    def __init__(self, alpha=2.0, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha
        self.beta = beta

    def call(self, inputs, training=False):
        raw, dropped = inputs
        if training:
            if self.alpha:
                self.add_loss(self.alpha * ops.mean(ops.square(dropped)))
            if self.beta:
                self.add_loss(self.beta * ops.mean(ops.square(raw[:, 1:] - raw[:, :-1])))
        return dropped

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta}


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
        loss = next_token_loss(kernel, bias, y_pred, y, num_sampled)
        if training and self.losses:
            loss = loss + ops.sum(self.losses)
        return loss

    def get_config(self):
        return dict(self.lm_config)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return build_lstm_lm(**config)


def next_token_loss(kernel, bias, hidden, targets, num_sampled=0):
    """Mean next-token cross-entropy of ``hidden`` states against ``targets`` (id 0 is never a target).

    Args:
        kernel, bias: the output layer, ``(vocab_size, dim)`` and ``(vocab_size,)``.
        hidden: states ``(..., dim)``; ``targets``: ids of the same leading shape.
        num_sampled: > 0 (and below the vocabulary size) for a sampled softmax
            over that many Zipf-sampled classes (the vocabulary is sorted by
            frequency); 0 for the full softmax.
    """
    vocab = kernel.shape[0]
    hidden = ops.reshape(hidden, (-1, ops.shape(hidden)[-1]))
    labels = ops.reshape(ops.cast(targets, "int32"), (-1,))
    if 0 < num_sampled < vocab:
        losses = tf.nn.sampled_softmax_loss(
            weights=kernel, biases=bias, labels=ops.cast(labels[:, None], "int64"), inputs=hidden,
            num_sampled=num_sampled, num_classes=vocab, remove_accidental_hits=True)
    else:
        losses = keras.losses.sparse_categorical_crossentropy(
            labels, ops.matmul(hidden, ops.transpose(kernel)) + bias, from_logits=True)
    weights = ops.cast(labels > 0, losses.dtype)
    return ops.sum(losses * weights) / ops.maximum(ops.sum(weights), 1.0)


def build_lstm_lm(vocab_size, **kwargs):
    """Builds an AWD-LSTM language model.

    Args:
        vocab_size: number of token ids (0 is padding, 1 out-of-vocabulary);
            ids should be sorted by frequency for the sampled softmax.
        **kwargs: any of ``LM_DEFAULTS``: ``embedding_dim``, ``units``
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


# === Transfer ===


def encoder_layer_names(model):
    """``embedding`` and ``encoder_1`` ... ``encoder_N`` present in ``model``."""
    names = [layer.name for layer in model.layers]
    encoders = sorted((n for n in names if n.startswith("encoder_") and n.split("_")[1].isdigit()
                       and len(n.split("_")) == 2), key=lambda n: int(n.split("_")[1]))
    return (["embedding"] if "embedding" in names else []) + encoders


def transfer_encoder(source, target):
    """Copies ``embedding`` and ``encoder_*`` weights from ``source`` to ``target`` by name.

    Works between language models and classifiers in any direction: only
    the embedding matrix moves between embeddings (a classifier's embedding
    has no output bias).

    Returns:
        The names of the layers copied.

    Raises:
        ValueError: a layer of ``target`` is missing from ``source`` or its
            weights have other shapes.
    """
    copied = []
    source_names = set(encoder_layer_names(source))
    for name in encoder_layer_names(target):
        if name not in source_names:
            raise ValueError(f"source model has no layer {name!r} (it has {', '.join(sorted(source_names))})")
        src, dst = source.get_layer(name), target.get_layer(name)
        if name == "embedding":
            pairs = [(src.embeddings, dst.embeddings)]
        else:
            pairs = list(zip(src.weights, dst.weights))
            if len(src.weights) != len(dst.weights):
                raise ValueError(f"{name}: source has {len(src.weights)} weights, target {len(dst.weights)}")
        for s, d in pairs:
            if tuple(s.shape) != tuple(d.shape):
                raise ValueError(f"{name}: weight {d.name} has shape {tuple(d.shape)} in the target "
                                 f"but {tuple(s.shape)} in the source")
            d.assign(ops.convert_to_numpy(s))
        copied.append(name)
    return copied


def remap_vocabulary(lm, old_vocab, new_vocab, **overrides):
    """A copy of ``lm`` for a new vocabulary (ULMFiT's step before LM fine-tuning).

    Rows of words in both vocabularies are copied; new words start at the
    mean embedding and mean output bias, as fastai does. Encoders are copied
    unchanged.

    Returns:
        ``(new_lm, hits)``: the model and how many words of ``new_vocab``
        were found in ``old_vocab``.
    """
    cfg = {**lm.lm_config, **overrides}
    cfg.pop("vocab_size")
    new = build_lstm_lm(len(new_vocab), **cfg)
    index = {w: i for i, w in enumerate(old_vocab)}
    old_emb = lm.get_layer("embedding")
    matrix = ops.convert_to_numpy(old_emb.embeddings)
    bias = ops.convert_to_numpy(old_emb.output_bias)
    rows = np.array([index.get(w, -1) for w in new_vocab])
    found = rows >= 0
    new_matrix = np.tile(matrix[2:].mean(0), (len(new_vocab), 1))
    new_bias = np.full(len(new_vocab), bias[2:].mean(), dtype=bias.dtype)
    new_matrix[found] = matrix[rows[found]]
    new_bias[found] = bias[rows[found]]
    emb = new.get_layer("embedding")
    emb.embeddings.assign(new_matrix.astype("float32"))
    emb.output_bias.assign(new_bias.astype("float32"))
    if not cfg["tie_weights"]:
        kernel = ops.convert_to_numpy(old_emb.output_kernel)
        new_kernel = np.tile(kernel[2:].mean(0), (len(new_vocab), 1))
        new_kernel[found] = kernel[rows[found]]
        emb.output_kernel.assign(new_kernel.astype("float32"))
    for name in encoder_layer_names(lm)[1:]:
        new.get_layer(name).set_weights(lm.get_layer(name).get_weights())
    return new, int(found[2:].sum())


# === Data ===


def token_stream(vectorizer, texts, seed=None):
    """One int32 array: every text's ids after a ``xxbos`` id, texts in a seeded order.

    ``vectorizer`` must know ``xxbos`` (see :func:`lm_vectorizer`).
    """
    order = np.arange(len(texts)) if seed is None else np.random.default_rng(seed).permutation(len(texts))
    ids = []
    for start in range(0, len(order), 1024):
        chunk = [f"{BOS} {texts[i]}" for i in order[start:start + 1024]]
        ids.append(vectorizer(tf.constant(chunk)).flat_values.numpy())
    return np.concatenate(ids).astype("int32") if ids else np.zeros(0, "int32")


def lm_vectorizer(texts, max_tokens):
    """A ``TextVectorization`` adapted on ``texts`` whose vocabulary contains ``xxbos``."""
    from zoo import text

    return text.make_vectorizer([f"{BOS} {t}" for t in texts], max_tokens=max_tokens)


def bptt_lengths(rng, count, bptt):
    """AWD-LSTM's variable BPTT: ``bptt`` (95%) or ``bptt / 2``, then normal with sd 5."""
    base = np.where(rng.random(count) < 0.95, bptt, bptt / 2)
    return np.clip(np.rint(rng.normal(base, 5)), 5, bptt + 20).astype(int)


def lm_dataset(stream, batch_size, bptt, seed=0, variable=True):
    """Truncated-BPTT batches ``(ids, next_ids)`` over a continuous token stream.

    The stream is cut into ``batch_size`` rows read left to right, as in
    AWD-LSTM. Each epoch starts the windows at a new random offset and draws
    each window's length around ``bptt`` (:func:`bptt_lengths`), so every
    token is seen at new positions and in new contexts; windows advance by
    ``bptt`` and may overlap slightly. The hidden state is not carried across
    windows (each starts from zeros), which keeps batches independent and
    the model stateless.

    Returns:
        ``(dataset, steps_per_epoch)``: a ``tf.data.Dataset`` that yields a
        new arrangement on every iteration (every epoch).
    """
    stream = np.asarray(stream, "int32")
    row = len(stream) // batch_size
    # A window starts before offset + k * bptt (offset < bptt), may run 20
    # tokens past bptt, and needs its next token.
    margin = 21 if variable else 1
    steps = (row - bptt - margin) // bptt if variable else (row - margin) // bptt
    if steps < 1:
        raise ValueError(f"token stream of {len(stream)} tokens is too short for batch_size={batch_size} "
                         f"and bptt={bptt} (it needs at least {batch_size * (2 * bptt + margin) if variable else batch_size * (bptt + margin)})")
    rows = stream[: row * batch_size].reshape(batch_size, row)
    epoch = [0]

    def windows():
        rng = np.random.default_rng([seed, epoch[0]])
        epoch[0] += 1
        offset = int(rng.integers(0, bptt)) if variable else 0
        lengths = bptt_lengths(rng, steps, bptt) if variable else np.full(steps, bptt)
        for k, length in enumerate(lengths):
            start = offset + k * bptt
            yield rows[:, start:start + length], rows[:, start + 1:start + 1 + length]

    spec = tf.TensorSpec((batch_size, None), tf.int32)
    ds = tf.data.Dataset.from_generator(windows, output_signature=(spec, spec))
    return ds.prefetch(4), steps


def perplexity(lm, stream, batch_size=32, bptt=70):
    """Full-softmax perplexity of ``lm`` on a token stream (fixed windows).

    A short stream is read as fewer, narrower rows rather than refused.
    """
    if len(stream) < 2:
        raise ValueError(f"a perplexity needs at least 2 tokens, got {len(stream)}")
    bptt = min(bptt, len(stream) - 1)
    batch_size = max(1, min(batch_size, (len(stream) - 1) // bptt))
    ds, steps = lm_dataset(stream, batch_size, bptt, variable=False)
    loss = lm.evaluate(ds, steps=steps, verbose=0, return_dict=True)["loss"]
    return float(np.exp(loss))
