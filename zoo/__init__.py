"""zoo: LSTM text classifiers for Keras 3, with transfer-learning recipes.

Example:

>>> from zoo import build_bilstm
>>> model = build_bilstm(vocab_size=20000, num_classes=4, units=64)
"""

from zoo.cudnn import cudnn_report, format_cudnn_report
from zoo.lm import ActivationRegularization, LanguageModel, LMEmbedding, WeightDropLSTM, build_lstm_lm
from zoo.layers import AttentionPooling, MaskedGlobalAveragePooling1D, MaskedGlobalMaxPooling1D
from zoo.models import (
    build_attention_lstm,
    build_bilstm,
    build_bn_lstm,
    build_ensemble,
    build_gru,
    build_lstm,
    build_residual_lstm,
    build_rnn_classifier,
    build_stacked_lstm,
)
from zoo.registry import get_factory, get_model, list_models
from zoo.training import compile_model, make_optimizer
from zoo.transfer import freeze, freeze_to, layer_groups, trainable_groups, unfreeze

__version__ = "0.1.0"

__all__ = [
    "ActivationRegularization",
    "AttentionPooling",
    "LMEmbedding",
    "LanguageModel",
    "WeightDropLSTM",
    "MaskedGlobalAveragePooling1D",
    "MaskedGlobalMaxPooling1D",
    "build_attention_lstm",
    "build_bilstm",
    "build_bn_lstm",
    "build_ensemble",
    "build_gru",
    "build_lstm",
    "build_lstm_lm",
    "build_residual_lstm",
    "build_rnn_classifier",
    "build_stacked_lstm",
    "compile_model",
    "cudnn_report",
    "format_cudnn_report",
    "freeze",
    "freeze_to",
    "get_factory",
    "get_model",
    "layer_groups",
    "list_models",
    "make_optimizer",
    "trainable_groups",
    "unfreeze",
]
