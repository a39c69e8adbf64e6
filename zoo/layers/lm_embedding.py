"""``LMEmbedding``: the language model's embedding, with embedding dropout and the tied output layer."""

import keras
from keras import ops


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
