"""The models' settings: :class:`ModelConfig` (the factories) and :class:`LanguageModelConfig` (the AWD-LSTM)."""

from dataclasses import dataclass

from zoo.config.base import CELLS, DEFAULT_EMBEDDING_DIM, POOLINGS, RATE, TASKS, Config
from zoo.config.checks import (
    SEED_RANGE,
    Choice,
    Flag,
    Integer,
    Number,
    Text,
    setting,
)
from zoo.errors import ConfigError

# === Models ===


@dataclass(frozen=True)
class ModelConfig(Config):
    """Arguments of :func:`zoo.models.build_rnn_classifier` and the named factories (besides the sizes).

    The defaults are the main job's (a BiLSTM with max pooling on 20
    Newsgroups, README); a named factory may change one (``build_stacked_lstm``:
    2 layers, dropout 0.2) or fix one (``build_bilstm``: bidirectional).
    """

    embedding_dim: int = setting(None, Integer(1, optional=True),
                                 f"embedding width (default {DEFAULT_EMBEDDING_DIM}, or the width of `embeddings`)")
    trainable_embeddings: bool = setting(True, Flag(), "whether the embedding trains")
    units: int = setting(96, Integer(1), "recurrent units per direction")
    num_layers: int = setting(1, Integer(1), "recurrent layers")
    dropout: float = setting(0.35, Number(**RATE), "dropout between recurrent layers and before the head")
    recurrent_dropout: float = setting(0.0, Number(**RATE), "dropout of the recurrent state (> 0 disables cuDNN)")
    spatial_dropout: float = setting(0.1, Number(**RATE), "dropout of whole embedding channels")
    l1: float = setting(0.0, Number(low=0.0), "L1 regularisation of the encoders and the head")
    l2: float = setting(0.0, Number(low=0.0), "L2 regularisation of the encoders and the head")
    pooling: str = setting("max", Choice(POOLINGS),
                           "how the top layer's states become one vector: last state, max, mean, learned "
                           "attention, or concat (last, max and mean, as ULMFiT)")
    mask_zero: bool = setting(True, Flag(), "id 0 is padding and is masked")
    multi_label: bool = setting(False, Flag(), "independent sigmoid outputs")
    task: str = setting("classification", Choice(TASKS), "classification or regression (linear outputs, MSE)")
    cell: str = setting("lstm", Choice(CELLS), "recurrent cell: lstm, gru, peephole (LSTM with peephole "
                                               "connections) or cifg (coupled input and forget gates)")
    bidirectional: bool = setting(False, Flag(), "read the text in both directions")
    residual: bool = setting(False, Flag(), "residual connections around layers whose widths match")
    batch_norm: bool = setting(False, Flag(), "BatchNormalization after each recurrent layer")
    self_attention_heads: int = setting(0, Integer(0), "multi-head self-attention over the states (0: none)")
    attention_units: int = setting(None, Integer(1, optional=True), "width of attention pooling (default: input)")
    sequence_length: int = setting(None, Integer(1, optional=True), "fixed input length (None: any)")
    compile: bool = setting(True, Flag(), "compile the model (Adam at `learning_rate`)")
    learning_rate: float = setting(4e-3, Number(low=0.0, low_open=True), "Adam's rate when `compile`")
    name: str = setting(None, Text(optional=True), "the model's name")

    def _check_combinations(self):
        if self.task == "regression" and self.multi_label:
            raise ConfigError("multi_label", "`multi_label=True` needs task='classification', got task='regression'")


@dataclass(frozen=True)
class LanguageModelConfig(Config):
    """Arguments of :func:`zoo.build_lstm_lm` (besides ``vocab_size``): an AWD-LSTM.

    The defaults are those of the committed ``wiki-books-lstm-lm-v2``
    (``pretrained/wiki-books-lstm-lm-v2/metadata.json``).
    """

    embedding_dim: int = setting(256, Integer(1), "embedding width (= the top layer's width with tied weights)")
    units: int = setting(None, Integer(1, optional=True), "LSTM units (default: embedding_dim)")
    num_layers: int = setting(2, Integer(1), "LSTM layers")
    embedding_row_dropout: float = setting(0.01, Number(**RATE), "embedding dropout: whole rows (word types)")
    input_dropout: float = setting(0.1, Number(**RATE), "locked dropout on the embedding output")
    hidden_dropout: float = setting(0.05, Number(**RATE), "locked dropout between LSTM layers")
    output_dropout: float = setting(0.05, Number(**RATE), "locked dropout on the top states")
    weight_dropout: float = setting(0.1, Number(**RATE), "DropConnect on the recurrent kernels")
    ar_alpha: float = setting(2.0, Number(low=0.0), "activation regularisation")
    tar_beta: float = setting(1.0, Number(low=0.0), "temporal activation regularisation")
    tie_weights: bool = setting(True, Flag(), "the embedding matrix is the output layer's kernel")
    num_sampled: int = setting(512, Integer(0), "classes of the sampled softmax in training (0: full softmax)")
    seed: int = setting(None, Integer(SEED_RANGE[0], optional=True, maximum=SEED_RANGE[1]), "seed of the dropout masks")

    def _check_combinations(self):
        units = self.units or self.embedding_dim
        if self.tie_weights and units != self.embedding_dim:
            raise ConfigError("units", f"`tie_weights=True` needs units == embedding_dim, got units={units} "
                                       f"and embedding_dim={self.embedding_dim}")


