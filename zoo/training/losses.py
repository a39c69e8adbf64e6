"""The weighted loss of a multi-label model trained with ``class_weight="balanced"``.

Keras' ``class_weight`` weighs whole examples by one class id, and its
binary cross-entropy averages over the labels before any weight applies, so
neither can weigh a label's rare positives. :class:`LabelWeightedBinaryCrossentropy`
weighs each label's positives and negatives apart, each label as
scikit-learn's ``compute_class_weight("balanced")`` would weigh its two
classes (:func:`zoo.training.stages.class_weights` computes them).

Example:

>>> loss = LabelWeightedBinaryCrossentropy([3.0, 1.0], [0.6, 1.0])
>>> y, p = np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]])
>>> round(float(loss(y, p)), 4), round(float(np.log(2) * (3.0 + 1.0) / 2), 4)  # label 0's positive weighs 3
(1.3863, 1.3863)
"""

import keras
import numpy as np


@keras.saving.register_keras_serializable(package="zoo")
class LabelWeightedBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy per label, each term times its label's ``positive`` or ``negative`` weight, averaged
    over the labels (as Keras' binary cross-entropy averages)."""

    def __init__(self, positive, negative, name="label_weighted_binary_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.positive = [float(w) for w in positive]
        self.negative = [float(w) for w in negative]

    def call(self, y_true, y_pred):
        y_true = keras.ops.cast(y_true, "float32")
        p = keras.ops.clip(keras.ops.cast(y_pred, "float32"), 1e-7, 1.0 - 1e-7)
        terms = -(y_true * keras.ops.log(p) + (1.0 - y_true) * keras.ops.log(1.0 - p))
        weights = y_true * np.asarray(self.positive, np.float32) + (1.0 - y_true) * np.asarray(self.negative,
                                                                                               np.float32)
        return keras.ops.mean(weights * terms, axis=-1)

    def get_config(self):
        return {**super().get_config(), "positive": self.positive, "negative": self.negative}
