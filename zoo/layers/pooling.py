"""Pooling layers of the zoo factories: a sequence of states to one vector.

Keras ships most of what an LSTM classifier needs. Three pieces are missing and
live here:

* ``MaskedGlobalMaxPooling1D``: Keras' ``GlobalMaxPooling1D`` ignores the
  padding mask, so padded timesteps (whose LSTM outputs are copies of the last
  valid output, or zeros) leak into the maximum.
* ``MaskedGlobalAveragePooling1D``: Keras' ``GlobalAveragePooling1D`` honours
  the mask but divides by zero (NaN) when every timestep is masked, as for an
  empty text.
* ``AttentionPooling``: additive (Bahdanau-style) attention with a *learned*
  query that pools a sequence into one vector. ``keras.layers.AdditiveAttention``
  scores a query sequence against a value sequence and has no learned query.

All are registered serializable, so a model that uses them round-trips
through ``.keras`` files.
"""

import keras
from keras import ops

PACKAGE = "zoo"


# === Layers ===


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedGlobalMaxPooling1D(keras.layers.Layer):
    """Max over time that ignores masked (padding) timesteps.

    A sequence whose every timestep is masked pools to zeros.

    Example:

    >>> x = keras.ops.convert_to_tensor([[[1.0], [5.0], [9.0]]])
    >>> mask = keras.ops.convert_to_tensor([[True, True, False]])
    >>> MaskedGlobalMaxPooling1D()(x, mask=mask).numpy().tolist()
    [[5.0]]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.max(inputs, axis=1)
        mask = ops.expand_dims(ops.cast(mask, "bool"), -1)
        # Filling padding with the row minimum (over all timesteps) cannot
        # raise the maximum of the valid ones, and needs no dtype-specific
        # "-inf" sentinel (float16 and bfloat16 differ).
        floor = ops.min(inputs, axis=1, keepdims=True)
        pooled = ops.max(ops.where(mask, inputs, floor), axis=1)
        any_valid = ops.cast(ops.any(mask, axis=1), inputs.dtype)
        return pooled * any_valid

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedGlobalAveragePooling1D(keras.layers.Layer):
    """Mean over the unmasked timesteps; a fully masked sequence pools to zeros.

    Example:

    >>> x = keras.ops.convert_to_tensor([[[1.0], [5.0], [9.0]]])
    >>> mask = keras.ops.convert_to_tensor([[True, True, False]])
    >>> MaskedGlobalAveragePooling1D()(x, mask=mask).numpy().tolist()
    [[3.0]]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1)
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        total = ops.sum(inputs * weights, axis=1)
        return total / ops.maximum(ops.sum(weights, axis=1), ops.cast(1, inputs.dtype))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package=PACKAGE)
class AttentionPooling(keras.layers.Layer):
    """Pools a sequence with learned additive attention.

    ``score_t = v . tanh(W h_t + b)``, softmax over the unmasked timesteps, and
    the output is the score-weighted sum of ``h_t``. The softmax runs in
    float32 so that mixed-precision policies do not overflow.

    Args:
        units: size of the attention hidden layer. Defaults to the feature
            size of the input.
        **kwargs: standard ``keras.layers.Layer`` arguments.

    Example:

    >>> layer = AttentionPooling(units=4)
    >>> tuple(layer(keras.ops.ones((2, 7, 3))).shape)
    (2, 3)
    """

    def __init__(self, units=None, **kwargs):
        super().__init__(**kwargs)
        if units is not None and (not isinstance(units, int) or units < 1):
            raise ValueError(f"AttentionPooling: `units` must be a positive integer or None, got {units!r}")
        self.units = units
        self.supports_masking = True

    def build(self, input_shape):
        features = input_shape[-1]
        units = self.units or features
        self.kernel = self.add_weight(name="kernel", shape=(features, units), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(units,), initializer="zeros")
        self.query = self.add_weight(name="query", shape=(units, 1), initializer="glorot_uniform")

    def attention_weights(self, inputs, mask=None):
        """Returns the (batch, time) float32 attention weights."""
        hidden = ops.tanh(ops.matmul(inputs, self.kernel) + self.bias)
        scores = ops.cast(ops.squeeze(ops.matmul(hidden, self.query), -1), "float32")
        if mask is not None:
            scores = ops.where(ops.cast(mask, "bool"), scores, -1e9)
        return ops.softmax(scores, axis=1)

    def call(self, inputs, mask=None):
        weights = ops.cast(self.attention_weights(inputs, mask), inputs.dtype)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    # === Config ===

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config
