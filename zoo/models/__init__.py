"""zoo's Keras models: text classifiers, the ensemble, the AWD-LSTM language model and ULMFiT's classifier.

* :mod:`zoo.models.factories`: ``build_rnn_classifier`` and the named
  factories (``build_lstm``, ``build_bilstm``, ...), with the layer-name
  contract (``embedding``, ``encoder_1..N``, ``pooling``, ``head``);
* :mod:`zoo.models.registry`: ``list_models`` and ``get_model`` by name;
* :mod:`zoo.models.ensemble`: ``build_ensemble``;
* :mod:`zoo.models.language_model`: ``build_lstm_lm``, ``LanguageModel``;
* :mod:`zoo.models.ulmfit_classifier`: ULMFiT's classifier on a language
  model's encoder, and its auxiliary-LM-loss trainer;
* :mod:`zoo.models.cudnn`: which recurrent layers can take the cuDNN path.
"""

import importlib

_EXPORTS = {
    "cudnn_report": "cudnn", "format_cudnn_report": "cudnn", "build_ensemble": "ensemble",
    "build_attention_lstm": "factories", "build_bilstm": "factories", "build_bn_lstm": "factories",
    "build_gru": "factories", "build_lstm": "factories", "build_peephole_lstm": "factories", "build_residual_lstm": "factories",
    "build_rnn_classifier": "factories", "build_stacked_lstm": "factories",
    "LanguageModel": "language_model", "build_lstm_lm": "language_model",
    "get_factory": "registry", "get_model": "registry", "list_models": "registry",
    "build_ulmfit_classifier": "ulmfit_classifier", "load_model": "saving",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):  # imported on first use: listing the model names (registry) loads no Keras
    if name not in _EXPORTS:
        raise AttributeError(f"module 'zoo.models' has no attribute {name!r}")
    return getattr(importlib.import_module(f"zoo.models.{_EXPORTS[name]}"), name)
