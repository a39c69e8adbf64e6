"""Choose a model by name: ``zoo.list_models()`` and ``zoo.get_model(name, ...)``.

The table maps names to factory names, so listing the models (for the
command line's choices) loads no Keras.
"""

import importlib

from zoo.errors import ConfigError

_REGISTRY = {
    "lstm": "build_lstm",
    "bilstm": "build_bilstm",
    "stacked_lstm": "build_stacked_lstm",
    "attention_lstm": "build_attention_lstm",
    "bn_lstm": "build_bn_lstm",
    "gru": "build_gru",
    "residual_lstm": "build_residual_lstm",
    "peephole_lstm": "build_peephole_lstm",
}


def list_models():
    """Names accepted by :func:`get_model`, in a stable order.

    Example:

    >>> list_models()[:3]
    ['lstm', 'bilstm', 'stacked_lstm']
    """
    return list(_REGISTRY)


def get_factory(name):
    """The factory function registered under ``name``.

    Example:

    >>> get_factory("gru").__name__
    'build_gru'
    """
    if name not in _REGISTRY:
        raise ConfigError("model", f"Unknown model {name!r}. Allowed: {', '.join(_REGISTRY)}")
    return getattr(importlib.import_module("zoo.models.factories"), _REGISTRY[name])


def get_model(name, vocab_size, num_classes, **kwargs):
    """Builds the model registered under ``name``.

    Args:
        name: one of :func:`list_models`.
        vocab_size: number of token ids (padding and OOV included).
        num_classes: number of classes.
        **kwargs: the factory's keyword arguments (see
            :func:`zoo.models.factories.build_rnn_classifier`).

    Raises:
        ValueError: an unknown name, or an unknown or out-of-range argument.

    Example:

    >>> model = get_model("gru", vocab_size=100, num_classes=3, units=8)
    >>> model.output_shape
    (None, 3)
    """
    return get_factory(name)(vocab_size, num_classes, **kwargs)
