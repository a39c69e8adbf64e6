"""Factories for recurrent text classifiers.

Every factory returns a compiled functional ``keras.Model`` that maps int token
ids of shape ``(batch, time)`` (0 is padding) to class probabilities of shape
``(batch, num_classes)``. The layers carry stable names so that freezing
(``zoo.freeze``) and weight transfer work by name:

==========================  =================================================
name                        what it is
==========================  =================================================
``token_ids``               the int input
``embedding``               ``keras.layers.Embedding``
``embedding_dropout``       ``SpatialDropout1D`` (when ``spatial_dropout>0``)
``encoder_1`` ...           the recurrent layers, bottom to top
``encoder_N_norm``          ``BatchNormalization`` of the states (``build_bn_lstm``)
``encoder_N_state_norm``    ``BatchNormalization`` of the top final state
``encoder_N_dropout``       dropout between recurrent layers
``encoder_N_residual``      residual ``Add`` (``build_residual_lstm``)
``final_state``             forward and backward final states, concatenated
``self_attention``          ``MultiHeadAttention`` (``self_attention_heads``)
``pooling``                 pools the top layer's states into one vector
``head_dropout``            dropout before the head (when ``dropout>0``)
``head``                    the output ``Dense`` layer, always float32
==========================  =================================================

Heads, by arguments:

* ``num_classes >= 2``: softmax over ``num_classes`` units, sparse categorical
  cross-entropy (integer labels). Binary tasks use ``num_classes=2`` so that
  probabilities always have one column per class.
* ``num_classes=1``: one sigmoid unit, binary cross-entropy; the output is the
  probability of the positive class.
* ``multi_label=True``: ``num_classes`` independent sigmoid units.
* ``task="regression"``: ``num_classes`` linear outputs and mean squared error,
  for numeric sequence targets.
"""

import dataclasses

import keras
import numpy as np

from zoo.config import (  # noqa: F401 (the factories' options)
    CELLS,
    DEFAULT_EMBEDDING_DIM,
    POOLINGS,
    TASKS,
    ModelConfig,
)
from zoo.errors import ConfigError
from zoo.layers import (
    AttentionPooling,
    CIFGLSTMCell,
    MaskedGlobalAveragePooling1D,
    MaskedGlobalMaxPooling1D,
    PeepholeLSTMCell,
    RightPaddedGRU,
    RightPaddedLSTM,
)
from zoo.training.optimizers import compile_model

# Every argument the shared builder accepts, with its default: the fields of zoo.config.ModelConfig, plus
# `embeddings` (an array, checked against the vocabulary below). A factory may override a default or fix a
# value (``build_bilstm`` fixes bidirectional).
DEFAULTS = {**dataclasses.asdict(ModelConfig()), "embeddings": None}


# === Validation ===


def _check_size(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(name, f"`{name}` must be an integer >= {minimum}, got {value!r}")


def _validate(vocab_size, num_classes, kwargs):
    """The checked settings (a ModelConfig), the embeddings array or None, and the embedding width."""
    _check_size("vocab_size", vocab_size, 2)
    _check_size("num_classes", num_classes, 1)
    embeddings = kwargs.pop("embeddings", None)
    config = ModelConfig(**kwargs)
    embedding_dim = config.embedding_dim
    if embeddings is not None:
        embeddings = np.asarray(embeddings)
        if embeddings.ndim != 2 or embeddings.shape[0] != vocab_size:
            raise ConfigError(
                "embeddings",
                f"`embeddings` must have shape (vocab_size, embedding_dim) = ({vocab_size}, "
                f"{embedding_dim if embedding_dim is not None else 'any'}), got {embeddings.shape}"
            )
        if embedding_dim is not None and embeddings.shape[1] != embedding_dim:
            raise ConfigError(
                "embeddings",
                f"`embeddings` has width {embeddings.shape[1]} but `embedding_dim` is {embedding_dim}: "
                "they must match (or leave embedding_dim=None)"
            )
        if not np.all(np.isfinite(embeddings)):
            raise ConfigError("embeddings", "`embeddings` contains NaN or infinite values")
        embedding_dim = embeddings.shape[1]
    elif embedding_dim is None:
        embedding_dim = DEFAULT_EMBEDDING_DIM
    return dataclasses.asdict(config), embeddings, int(embedding_dim)


# === Building blocks ===


def _regularizer(l1, l2):
    return keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None


# cell -> the cell class that keras.layers.RNN runs (Keras' LSTM and GRU layers are used as they are).
_CELLS = {"peephole": PeepholeLSTMCell, "cifg": CIFGLSTMCell}


def _recurrent_layer(cfg, name, return_sequences):
    """One recurrent layer, with arguments that keep the cuDNN path eligible (LSTM and GRU)."""
    reg = _regularizer(cfg["l1"], cfg["l2"])
    options = dict(recurrent_dropout=cfg["recurrent_dropout"], kernel_regularizer=reg, recurrent_regularizer=reg)
    layer_name = name if not cfg["bidirectional"] else f"{name}_cell"
    if cfg["cell"] in _CELLS:
        layer = keras.layers.RNN(_CELLS[cfg["cell"]](cfg["units"], name=f"{layer_name}_{cfg['cell']}", **options),
                                 return_sequences=return_sequences, return_state=True, name=layer_name)
    else:
        # Keras' LSTM and GRU, with the lengths path that keeps cuDNN on masked batches (zoo.layers.right_padded).
        cls = RightPaddedLSTM if cfg["cell"] == "lstm" else RightPaddedGRU
        layer = cls(cfg["units"], return_sequences=return_sequences, return_state=True, name=layer_name, **options)
    if cfg["bidirectional"]:
        layer = keras.layers.Bidirectional(layer, name=name)
    return layer


def _final_state(outputs, cfg):
    """Concatenated final hidden states of a recurrent layer called with return_state."""
    if not cfg["bidirectional"]:
        return outputs[1]
    states_per_direction = 1 if cfg["cell"] == "gru" else 2  # (h, c) for every LSTM cell
    forward_h = outputs[1]
    backward_h = outputs[1 + states_per_direction]
    return keras.layers.Concatenate(name="final_state")([forward_h, backward_h])


def _encoder(x, cfg):
    """Stacks the recurrent layers. Returns (sequence of states, final state)."""
    final_state = None
    for i in range(1, cfg["num_layers"] + 1):
        name = f"encoder_{i}"
        outputs = _recurrent_layer(cfg, name, return_sequences=True)(x)
        sequence, final_state = outputs[0], None
        if i == cfg["num_layers"]:
            final_state = _final_state(outputs, cfg)
            if cfg["batch_norm"]:
                final_state = keras.layers.BatchNormalization(name=f"{name}_state_norm")(final_state)
        if cfg["residual"] and sequence.shape[-1] == x.shape[-1]:
            sequence = keras.layers.Add(name=f"{name}_residual")([x, sequence])
        if cfg["batch_norm"]:
            sequence = keras.layers.BatchNormalization(name=f"{name}_norm")(sequence)
        if cfg["dropout"] and i < cfg["num_layers"]:
            sequence = keras.layers.Dropout(cfg["dropout"], name=f"{name}_dropout")(sequence)
        x = sequence
    return x, final_state


def _pool(sequence, final_state, cfg):
    pooling = cfg["pooling"]
    if pooling == "last":
        # A layer of its own, so that every classifier has a `pooling` layer (the layer-name contract that
        # the linear probe and ULMFiT's head rely on).
        return keras.layers.Identity(name="pooling")(final_state)
    if pooling == "max":
        return MaskedGlobalMaxPooling1D(name="pooling")(sequence)
    if pooling == "mean":
        return MaskedGlobalAveragePooling1D(name="pooling")(sequence)
    if pooling == "attention":
        return AttentionPooling(units=cfg["attention_units"], name="pooling")(sequence)
    # concat: ULMFiT's [last state, max, mean].
    pooled_max = MaskedGlobalMaxPooling1D(name="pooling_max")(sequence)
    pooled_mean = MaskedGlobalAveragePooling1D(name="pooling_mean")(sequence)
    return keras.layers.Concatenate(name="pooling")([final_state, pooled_max, pooled_mean])


def _head(x, num_classes, cfg):
    if cfg["task"] == "regression":
        activation = "linear"
    elif cfg["multi_label"] or num_classes == 1:
        activation = "sigmoid"
    else:
        activation = "softmax"
    if cfg["dropout"]:
        x = keras.layers.Dropout(cfg["dropout"], name="head_dropout")(x)
    # float32 output whatever the dtype policy, so losses and probabilities
    # stay exact under mixed precision.
    return keras.layers.Dense(
        num_classes,
        activation=activation,
        kernel_regularizer=_regularizer(cfg["l1"], cfg["l2"]),
        dtype="float32",
        name="head",
    )(x)


# === Functional Model ===


def build_rnn_classifier(vocab_size, num_classes, **kwargs):
    """Builds any zoo recurrent classifier; the named factories call this.

    Args:
        vocab_size: number of token ids, padding (0) and OOV included.
        num_classes: number of classes (or outputs, for regression). See the
            module docstring for the heads.
        **kwargs: any field of :class:`zoo.config.ModelConfig` (defaults there), and ``embeddings``:

            - ``embedding_dim`` (int, default 128 or the width of
              ``embeddings``), ``embeddings`` (array ``(vocab_size,
              embedding_dim)``: the embedding starts exactly at it),
              ``trainable_embeddings`` (bool).
            - ``units`` (per direction), ``num_layers``, ``cell``
              (``"lstm"``, ``"gru"``, ``"peephole"``: LSTM with peephole
              connections, ``"cifg"``: coupled input and forget gates; the
              last two in :mod:`zoo.layers.cells`, never cuDNN),
              ``bidirectional``, ``residual``,
              ``batch_norm``, ``self_attention_heads`` (0 = none).
            - ``dropout`` (between layers and before the head),
              ``recurrent_dropout`` (disables cuDNN), ``spatial_dropout``
              (whole embedding channels), ``l1``, ``l2`` (kernel
              regularisation of the encoders and the head).
            - ``pooling``: ``"last"`` (final states), ``"max"``, ``"mean"``,
              ``"attention"`` or ``"concat"`` (last, max and mean).
            - ``mask_zero`` (id 0 is padding and is masked), ``multi_label``,
              ``task`` (``"classification"``/``"regression"``),
              ``sequence_length`` (None: any length), ``compile`` and
              ``learning_rate`` (Adam), ``name``.

    Returns:
        A functional ``keras.Model``, compiled unless ``compile=False``.

    Raises:
        ValueError: on an unknown argument or a value out of range; the
            message names the argument and what is allowed.

    Example:

    >>> model = build_rnn_classifier(1000, 4, cell="gru", bidirectional=True, units=8)
    >>> import numpy as np
    >>> model.predict(np.array([[5, 9, 2, 0]]), verbose=0).shape
    (1, 4)
    """
    unknown = sorted(set(kwargs) - set(DEFAULTS))
    if unknown:
        raise ConfigError(
            unknown[0],
            f"Unknown argument(s) {', '.join(unknown)}. Allowed: vocab_size, num_classes, " + ", ".join(DEFAULTS),
        )
    cfg, embeddings, embedding_dim = _validate(vocab_size, num_classes, dict(kwargs))

    token_ids = keras.Input(shape=(cfg["sequence_length"],), dtype="int32", name="token_ids")
    embedding = keras.layers.Embedding(
        vocab_size,
        embedding_dim,
        mask_zero=cfg["mask_zero"],
        trainable=cfg["trainable_embeddings"],
        name="embedding",
    )
    x = embedding(token_ids)
    if cfg["spatial_dropout"]:
        x = keras.layers.SpatialDropout1D(cfg["spatial_dropout"], name="embedding_dropout")(x)

    sequence, final_state = _encoder(x, cfg)
    if cfg["self_attention_heads"]:
        width = sequence.shape[-1]
        attended = keras.layers.MultiHeadAttention(
            num_heads=cfg["self_attention_heads"],
            key_dim=max(1, width // cfg["self_attention_heads"]),
            name="self_attention",
        )(sequence, sequence)
        sequence = keras.layers.Add(name="self_attention_residual")([sequence, attended])
        sequence = keras.layers.LayerNormalization(name="self_attention_norm")(sequence)

    pooled = _pool(sequence, final_state, cfg)
    probabilities = _head(pooled, num_classes, cfg)
    model = keras.Model(token_ids, probabilities, name=cfg["name"] or f"{cfg['cell']}_classifier")

    if embeddings is not None:
        embedding.set_weights([embeddings.astype(embedding.embeddings.dtype)])
    if cfg["compile"]:
        compile_model(model, learning_rate=cfg["learning_rate"])
    return model


def _factory(fixed=None, defaults=None, **doc):
    """Makes a named factory: `defaults` may be overridden, `fixed` may not."""
    fixed = fixed or {}
    defaults = defaults or {}

    def factory(vocab_size, num_classes, **kwargs):
        clash = sorted(k for k in kwargs if k in fixed and kwargs[k] != fixed[k])
        if clash:
            raise ConfigError(
                clash[0],
                f"{factory.__name__} fixes {', '.join(f'{k}={fixed[k]!r}' for k in clash)}; "
                "use build_rnn_classifier or another factory to change it"
            )
        return build_rnn_classifier(vocab_size, num_classes, **{**defaults, **fixed, **kwargs})

    factory.fixed = dict(fixed)
    factory.defaults = dict(defaults)
    return factory


def _named(name, summary, example_kwargs, fixed=None, defaults=None):
    factory = _factory(fixed=fixed, defaults=defaults)
    factory.__name__ = factory.__qualname__ = f"build_{name}"
    settings = {**(defaults or {}), **(fixed or {})}
    factory.__doc__ = f"""{summary}

    Same arguments as :func:`zoo.models.build_rnn_classifier`; this factory
    sets {', '.join(f'{k}={v!r}' for k, v in settings.items()) or 'nothing'}
    {'(fixed: ' + ', '.join(fixed) + ')' if fixed else ''}.

    Example:

    >>> from zoo import build_{name}
    >>> model = build_{name}(vocab_size=100, num_classes=3, {example_kwargs})
    >>> model.output_shape
    (None, 3)
    """
    return factory


build_lstm = _named(
    "lstm", "Embedding and one LSTM layer: the plain baseline.", "units=8")
build_bilstm = _named(
    "bilstm", "Embedding and a bidirectional LSTM.", "units=8", fixed={"bidirectional": True})
build_stacked_lstm = _named(
    "stacked_lstm", "Several LSTM layers with dropout between them.", "units=8",
    defaults={"num_layers": 2, "dropout": 0.2})
build_attention_lstm = _named(
    "attention_lstm",
    "Bidirectional LSTM whose states are pooled by learned additive attention.\n\n"
    "    Set ``self_attention_heads`` to add multi-head self-attention over the states\n"
    "    (with a residual connection and layer normalisation) before the pooling.",
    "units=8", defaults={"bidirectional": True, "pooling": "attention"})
build_bn_lstm = _named(
    "bn_lstm", "LSTM encoder with BatchNormalization after each recurrent layer.", "units=8",
    fixed={"batch_norm": True})
build_gru = _named("gru", "Embedding and a GRU (the same options as the LSTM factories).", "units=8",
                   fixed={"cell": "gru"})
build_residual_lstm = _named(
    "residual_lstm",
    "Stacked LSTM with residual connections around every layer whose input and output widths match.",
    "units=8", fixed={"residual": True}, defaults={"num_layers": 3})
build_peephole_lstm = _named(
    "peephole_lstm",
    "Embedding and an LSTM with peephole connections (Gers & Schmidhuber 2000; :mod:`zoo.layers.cells`).\n\n"
    "    The gates also see the cell state through diagonal weights. It runs Keras' generic loop, not cuDNN.",
    "units=8", fixed={"cell": "peephole"})
