"""ULMFiT's classifier (Howard & Ruder 2018) on a language model's encoder, and its auxiliary-loss trainer."""

import keras
import numpy as np

from zoo.models.factories import build_stacked_lstm
from zoo.models.language_model import next_token_loss


def encoder_layer_names(model):
    """``embedding`` and ``encoder_1`` ... ``encoder_N`` present in ``model``, bottom to top.

    Example:

    >>> encoder_layer_names(build_stacked_lstm(100, 2, units=4))
    ['embedding', 'encoder_1', 'encoder_2']
    """
    names = [layer.name for layer in model.layers]
    encoders = sorted((n for n in names if n.startswith("encoder_") and n.split("_")[1].isdigit()
                       and len(n.split("_")) == 2), key=lambda n: int(n.split("_")[1]))
    return (["embedding"] if "embedding" in names else []) + encoders


def build_ulmfit_classifier(lm_config, vocab_size, num_classes, *, pooling="concat", dropout=0.3,
                            spatial_dropout=0.1, head_units=50):
    """``build_stacked_lstm`` shaped like the language model, with ``pooling`` (ULMFiT's concat).

    With ``head_units`` the head is ULMFiT's: batch norm, dropout, a ReLU
    layer, batch norm, dropout, softmax. Batch norm matters here: pooled LSTM
    states are small and unevenly scaled, and without it a new head on a
    pretrained encoder learns slowly. The layers keep the contract
    (``embedding``, ``encoder_1..N``, ``pooling``, ``head``), so the language
    model's encoder copies in by name (:func:`zoo.transfer.encoder.transfer_encoder`).

    Args:
        lm_config: the language model's config (``LanguageModel.lm_config``):
            its ``embedding_dim``, ``units`` and ``num_layers``.
        vocab_size, num_classes: sizes.
        pooling: one of :data:`zoo.config.POOLINGS`.
        dropout: the encoder's dropout between layers; the head's dropouts
            are ``dropout / 2`` and ``dropout``.
        spatial_dropout: dropout of whole embedding channels.
        head_units: ULMFiT's hidden head layer (0: one Dense layer).

    Example:

    >>> clf = build_ulmfit_classifier({"embedding_dim": 8, "units": 8, "num_layers": 2}, 100, 3)
    >>> [g for g in ("embedding", "encoder_2", "pooling", "head_hidden", "head") if clf.get_layer(g)]
    ['embedding', 'encoder_2', 'pooling', 'head_hidden', 'head']
    """
    model = build_stacked_lstm(
        vocab_size, num_classes, embedding_dim=lm_config["embedding_dim"], units=lm_config["units"],
        num_layers=lm_config["num_layers"], pooling=pooling, dropout=dropout, spatial_dropout=spatial_dropout,
        compile=False)
    if not head_units:
        return model
    x = model.get_layer("pooling").output
    x = keras.layers.BatchNormalization(name="head_norm")(x)
    x = keras.layers.Dropout(dropout / 2, name="head_dropout_1")(x)
    x = keras.layers.Dense(head_units, activation="relu", name="head_hidden")(x)
    x = keras.layers.BatchNormalization(name="head_hidden_norm")(x)
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    probabilities = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="head")(x)
    return keras.Model(model.input, probabilities, name="ulmfit_classifier")


@keras.saving.register_keras_serializable(package="zoo")
class AuxiliaryLMClassifier(keras.Model):
    """Trains a classifier with the language-model loss on its own inputs as an auxiliary task.

    A functional view of ``classifier`` with two outputs, the probabilities
    and the top encoder's states; the states predict each next token through
    the (tied) embedding matrix and an output bias, with a sampled softmax.
    The layers are the classifier's own, so training this trains the
    classifier. Keras has no multi-task loss over one input like this, hence
    the ``compute_loss`` override. Validation loss is the classification
    loss only.

    Args:
        classifier: a zoo classifier with an ``embedding`` and ``encoder_N`` layers.
        output_bias: the language model's output bias, one value per token id.
        aux_weight: weight of the language-model loss.
        num_sampled: classes of the sampled softmax.
        seed: seed of the sampled classes off TensorFlow.
    """

    def __init__(self, classifier, output_bias, aux_weight, num_sampled=512, seed=None, **kwargs):
        top = encoder_layer_names(classifier)[-1]
        states = classifier.get_layer(top).output[0]
        super().__init__(classifier.input, [classifier.output, states], **kwargs)
        self.aux_weight = float(aux_weight)
        self.num_sampled = int(num_sampled)
        self.lm_bias = self.add_weight(shape=(len(output_bias),), name="aux_lm_bias",
                                       initializer=keras.initializers.Constant(np.asarray(output_bias)))
        self.accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        # Draws the sampled classes on the JAX and PyTorch backends (TensorFlow's sampler keeps its own).
        self.sampler_seed = keras.random.SeedGenerator(seed)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        probs, states = y_pred
        loss = keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y, probs))
        if training and self.aux_weight:
            kernel = self.get_layer("embedding").embeddings
            lm_loss = next_token_loss(kernel, self.lm_bias, states[:, :-1], x[:, 1:],
                                      min(self.num_sampled, kernel.shape[0] - 1), self.sampler_seed)
            loss = loss + self.aux_weight * lm_loss
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        self.accuracy.update_state(y, y_pred[0])
        return {m.name: m.result() for m in self.metrics}
