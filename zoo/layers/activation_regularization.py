"""``ActivationRegularization``: AWD-LSTM's AR and TAR losses."""

import keras
from keras import ops


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
