"""Loading ``.keras`` files of zoo models: every zoo Keras class registered first.

Keras finds a custom class by its registered name (``zoo>AttentionPooling``)
only once the module that registers it has been imported; ``import zoo``
imports nothing eagerly. :func:`load_model` imports them all, then calls
``keras.saving.load_model``.

Example:

>>> import os, tempfile
>>> from zoo import build_attention_lstm
>>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
>>> build_attention_lstm(100, 2, units=4).save(path)
>>> load_model(path).get_layer("pooling").__class__.__name__
'AttentionPooling'
"""

import importlib

# The modules whose import registers zoo's Keras classes (layers, models, optimizers, schedules).
REGISTERING_MODULES = ("zoo.layers", "zoo.models.factories", "zoo.models.language_model",
                       "zoo.models.ulmfit_classifier", "zoo.training.discriminative", "zoo.training.schedules",
                       "zoo.training.losses")


def register_custom_objects():
    """Imports every module that registers a zoo Keras class."""
    for name in REGISTERING_MODULES:
        importlib.import_module(name)


def load_model(path, **kwargs):
    """``keras.saving.load_model(path)`` for a model with zoo layers, optimizers or schedules in it."""
    import keras

    register_custom_objects()
    return keras.saving.load_model(path, **kwargs)
