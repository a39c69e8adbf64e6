"""zoo: LSTM text classifiers for Keras 3, with transfer learning from word vectors or a language model.

>>> from zoo import TextClassifier, build_bilstm
>>> model = build_bilstm(vocab_size=20000, num_classes=4, units=64)
>>> model.get_layer("head").output.shape
(None, 4)

Where things are:

* :class:`TextClassifier` (:mod:`zoo.text_classifier`): the estimator on raw texts;
* :mod:`zoo.config`: every setting, its default and what it allows;
* :mod:`zoo.models`: the factories, the ensemble, the language model, ULMFiT's classifier;
* :mod:`zoo.layers`: the custom Keras layers;
* :mod:`zoo.data`: datasets, files, text to ids, corpora;
* :mod:`zoo.transfer`: word vectors, pretrained artifacts, weight transfer, ULMFiT, pretraining;
* :mod:`zoo.training`: optimizers, schedules, freezing, the stage runner, distribution, tuning;
* :mod:`zoo.evaluation`: metrics, the baseline, reports;
* :mod:`zoo.serving`: the SavedModel export and prediction;
* :mod:`zoo.cli`: the ``zoo`` command.

Names are imported on first use, so ``import zoo`` (and ``zoo --help``) is
quick and loads TensorFlow only when a model, dataset or export needs it.
"""

import importlib

from zoo.version import __version__

# public name -> the module that defines it
_EXPORTS = {
    "TextClassifier": "zoo.text_classifier",
    "ZooError": "zoo.errors",
    "build_attention_lstm": "zoo.models.factories",
    "build_bilstm": "zoo.models.factories",
    "build_bn_lstm": "zoo.models.factories",
    "build_gru": "zoo.models.factories",
    "build_lstm": "zoo.models.factories",
    "build_peephole_lstm": "zoo.models.factories",
    "build_residual_lstm": "zoo.models.factories",
    "build_rnn_classifier": "zoo.models.factories",
    "build_stacked_lstm": "zoo.models.factories",
    "build_ensemble": "zoo.models.ensemble",
    "build_lstm_lm": "zoo.models.language_model",
    "LanguageModel": "zoo.models.language_model",
    "build_ulmfit_classifier": "zoo.models.ulmfit_classifier",
    "get_factory": "zoo.models.registry",
    "get_model": "zoo.models.registry",
    "list_models": "zoo.models.registry",
    "load_model": "zoo.models.saving",
    "cudnn_report": "zoo.models.cudnn",
    "format_cudnn_report": "zoo.models.cudnn",
    "ActivationRegularization": "zoo.layers",
    "AttentionPooling": "zoo.layers",
    "CIFGLSTMCell": "zoo.layers",
    "LMEmbedding": "zoo.layers",
    "MaskedGlobalAveragePooling1D": "zoo.layers",
    "MaskedGlobalMaxPooling1D": "zoo.layers",
    "PeepholeLSTMCell": "zoo.layers",
    "WeightDropLSTM": "zoo.layers",
    "compile_model": "zoo.training.optimizers",
    "make_optimizer": "zoo.training.optimizers",
    "freeze": "zoo.training.freezing",
    "freeze_to": "zoo.training.freezing",
    "layer_groups": "zoo.training.freezing",
    "trainable_groups": "zoo.training.freezing",
    "unfreeze": "zoo.training.freezing",
}
_SUBPACKAGES = ("cli", "config", "data", "errors", "evaluation", "files", "layers", "log", "models", "serving",
                "text_classifier", "training", "transfer")

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"zoo.{name}")
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBPACKAGES))
