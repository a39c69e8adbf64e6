"""zoo's custom Keras layers (all registered serializable under the package name ``zoo``).

* pooling (:mod:`zoo.layers.pooling`): ``MaskedGlobalMaxPooling1D``,
  ``MaskedGlobalAveragePooling1D``, ``AttentionPooling``;
* recurrent cells (:mod:`zoo.layers.cells`): ``PeepholeLSTMCell``, ``CIFGLSTMCell``;
* recurrent layers (:mod:`zoo.layers.right_padded`): ``RightPaddedLSTM``, ``RightPaddedGRU`` (exact
  masking on the unmasked, cuDNN-eligible kernel);
* the AWD-LSTM language model's pieces: ``LMEmbedding`` (embedding dropout,
  tied output layer), ``WeightDropLSTM`` (DropConnect on the recurrent
  kernel), ``ActivationRegularization`` (AR/TAR).
"""

from zoo.layers.activation_regularization import ActivationRegularization
from zoo.layers.cells import CIFGLSTMCell, PeepholeLSTMCell
from zoo.layers.lm_embedding import LMEmbedding
from zoo.layers.pooling import AttentionPooling, MaskedGlobalAveragePooling1D, MaskedGlobalMaxPooling1D
from zoo.layers.right_padded import RightPaddedGRU, RightPaddedLSTM
from zoo.layers.weight_drop_lstm import WeightDropLSTM

__all__ = [
    "ActivationRegularization",
    "AttentionPooling",
    "CIFGLSTMCell",
    "LMEmbedding",
    "MaskedGlobalAveragePooling1D",
    "MaskedGlobalMaxPooling1D",
    "PeepholeLSTMCell",
    "RightPaddedGRU",
    "RightPaddedLSTM",
    "WeightDropLSTM",
]
