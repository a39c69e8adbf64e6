"""The fitted classifier as one raw-text Keras model: texts -> ids -> recurrent member(s) -> n-gram path -> blend.

keras-hub's task is backbone + preprocessor + head in one model; zoo's
fitted classifier is the same: :func:`text_model` joins the tokenizer and
vocabulary (:class:`zoo.data.text.TextToIds`), the recurrent model (an
ensemble's members one by one, a pair's companion through its own
tokenizer), the hybrid's n-gram path and the blend. ``predict``,
``predict_proba``, ``evaluate`` (:meth:`zoo.text_classifier.TextClassifier.predict_paths`)
and the SavedModel (:mod:`zoo.serving.export`) all run this model, so what
is served is what was evaluated.

Its outputs are a dict of ``(batch, num_classes)`` probabilities:

* ``"model"``: the classifier's (what ``predict_proba`` gives and the
  export serves);
* ``"member_1"`` ...: each recurrent member's (one unless an ensemble);
* ``"recurrent"``: the members' mean, averaged with a pair's companions;
* ``"ngram"`` (a hybrid): the n-gram path alone;
* ``"uncalibrated"``: the classifier's before temperature scaling (the same
  as ``"model"`` without calibration).

:func:`predict_text_model` runs it in process, batching texts of similar
lengths together (each batch is only as wide as its longest text).
"""

import keras
import numpy as np

from zoo.backend import require_tensorflow

require_tensorflow("zoo.models.text_model (raw strings through TensorFlow text ops)")

import tensorflow as tf

from zoo.data.text import TextToIds
from zoo.models.ensemble import ensemble_members
from zoo.models.hybrid import HybridBlend, MultiLabelBlend


class TemperatureScaling(keras.layers.Layer):
    """Probabilities -> ``softmax(log(p) / temperature)``: calibration that changes no prediction
    (:mod:`zoo.evaluation.calibration`)."""

    def __init__(self, temperature=1.0, **kwargs):
        super().__init__(**kwargs)
        self.initial_temperature = float(temperature)

    def build(self, input_shape):
        # A variable, not a constant: a new temperature (TextClassifier.calibrate) is assigned, not retraced.
        self.temperature = self.add_weight(shape=(), name="temperature", trainable=False,
                                           initializer=keras.initializers.Constant(self.initial_temperature))

    def call(self, probabilities):
        log_p = keras.ops.log(keras.ops.maximum(keras.ops.cast(probabilities, "float32"), 1e-7))
        return keras.ops.softmax(log_p / keras.ops.cast(self.temperature, "float32"))

    def assign(self, temperature):
        self.temperature.assign(temperature)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "temperature": self.initial_temperature}


class LabelPlattScaling(keras.layers.Layer):
    """A multi-label classifier's probabilities -> ``sigmoid(slope * logit(p) + bias)``, a slope and a bias per
    label: calibration that changes no predicted label set (the thresholds move with it;
    :func:`zoo.evaluation.calibration.move_thresholds`)."""

    def __init__(self, scaling, **kwargs):
        super().__init__(**kwargs)
        self.initial_scaling = np.asarray(scaling, np.float32).tolist()

    def build(self, input_shape):
        slopes, biases = self.initial_scaling
        self.slope = self.add_weight(shape=(len(slopes),), name="slope", trainable=False,
                                     initializer=keras.initializers.Constant(slopes))
        self.bias = self.add_weight(shape=(len(biases),), name="bias", trainable=False,
                                    initializer=keras.initializers.Constant(biases))

    def call(self, probabilities):
        p = keras.ops.clip(keras.ops.cast(probabilities, "float32"), 1e-7, 1 - 1e-7)
        logits = keras.ops.log(p) - keras.ops.log1p(-p)
        return keras.ops.sigmoid(logits * keras.ops.cast(self.slope, "float32")
                                 + keras.ops.cast(self.bias, "float32"))

    def assign(self, scaling):
        self.slope.assign(np.asarray(scaling, np.float32)[0])
        self.bias.assign(np.asarray(scaling, np.float32)[1])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scaling": self.initial_scaling}


def text_model(model, vectorizer, sequence_length, ngram=None, blend_weight=1.0, truncation="head",
               fixed_length=False, companions=(), temperature=None):
    """Wraps ``model`` (token ids -> probabilities) into the raw-text model described above.

    Each batch of texts becomes ids only as wide as its longest text (at most
    ``sequence_length``, cut by ``truncation``; :class:`zoo.data.text.TextToIds`),
    or, with ``fixed_length``, always ``sequence_length`` wide (the same
    probabilities, one static shape, every recurrent step run).

    With ``companions`` (``(model, vectorizer, sequence_length, truncation)``
    each: init auto's pair), the raw texts also go through each companion's
    own tokenizer and model (``companion_1`` ...), and a
    ``keras.layers.Average`` named ``recurrent_average`` averages the
    probabilities. With ``ngram`` (a hybrid's
    :class:`zoo.models.hybrid.NgramLinear`), the raw texts also go through the
    n-gram path, and a blend layer named ``blend`` joins the two
    (:class:`~zoo.models.hybrid.HybridBlend`; with a weight per label,
    :class:`~zoo.models.hybrid.MultiLabelBlend`). A ``temperature`` scales the
    final probabilities (:class:`TemperatureScaling`, named ``calibration``;
    a slope and a bias per label, :class:`LabelPlattScaling`, for a
    multi-label classifier); ``"uncalibrated"`` is then the output before it.

    Example:

    >>> from zoo.data.text import make_vectorizer
    >>> from zoo.models.factories import build_lstm
    >>> vectorizer = make_vectorizer(["good film", "bad film"], max_tokens=10)
    >>> model = text_model(build_lstm(vectorizer.vocabulary_size(), 2, units=4, embedding_dim=4), vectorizer, 8)
    >>> sorted(model.predict_on_batch(tf.constant(["good film"])))
    ['member_1', 'model', 'recurrent', 'uncalibrated']
    """
    texts = keras.Input(shape=(), dtype="string", name="texts")
    ids = TextToIds.like(vectorizer, sequence_length, truncation, fixed_length=fixed_length, name="text_to_ids")(texts)
    members = ensemble_members(model)
    member_outputs = [m(ids) for m in members] if len(members) > 1 else [model(ids)]
    recurrent = (keras.layers.Average(name="average")(member_outputs) if len(member_outputs) > 1
                 else member_outputs[0])
    if companions:
        outputs = [recurrent]
        for k, (other, other_vectorizer, other_length, other_truncation) in enumerate(companions, 1):
            other_ids = TextToIds.like(other_vectorizer, other_length, other_truncation, fixed_length=fixed_length,
                                       name=f"text_to_ids_{k}")(texts)
            # Re-wrapped: the two models may share a name (say, two "bilstm"), and a layer name must be unique.
            outputs.append(keras.Model(other.input, other.output, name=f"companion_{k}")(other_ids))
        recurrent = keras.layers.Average(name="recurrent_average")(outputs)
    named = {f"member_{k}": output for k, output in enumerate(member_outputs, 1)}
    named["recurrent"] = named["model"] = recurrent
    if ngram is not None:
        logits = ngram(texts)
        if np.ndim(blend_weight):  # a multi-label hybrid: a weight per label
            named["model"] = MultiLabelBlend(blend_weight, name="blend")([recurrent, logits])
            named["ngram"] = MultiLabelBlend(np.zeros(len(blend_weight)), name="ngram_alone")([recurrent, logits])
        else:
            named["model"] = HybridBlend(blend_weight, name="blend")([recurrent, logits])
            named["ngram"] = HybridBlend(0.0, name="ngram_alone")([recurrent, logits])
    named["uncalibrated"] = named["model"]
    if temperature is not None:
        scaling = LabelPlattScaling if np.ndim(temperature) else TemperatureScaling
        named["model"] = scaling(temperature, name="calibration")(named["model"])
    return keras.Model(texts, named, name="text_classifier")


def classifier_text_model(clf, cached=None, fixed_length=False):
    """A fitted ``TextClassifier``'s :func:`text_model`, and what to cache: ``(cache, model)``; ``cached`` (the
    last call's cache) is reused while the fitted state it was built from is unchanged (init auto's pair sets
    ``companions_`` and ``blend_weight_`` on a fitted candidate). The temperature is a variable of the model,
    assigned here, not part of that state: a new temperature does not rebuild it."""
    objects = (clf.model_, clf.vectorizer_, clf.ngram_, *clf.companions_)
    temperature = calibration_of(clf)
    values = (clf.sequence_length_, np.asarray(clf.blend_weight_).tolist(), clf.settings_.truncation,
              len(clf.companions_), bool(fixed_length))
    if cached is None or cached[1] != values or any(a is not b for a, b in zip(cached[0], objects)):
        model = text_model(clf.model_, clf.vectorizer_, clf.sequence_length_, clf.ngram_, clf.blend_weight_,
                           clf.settings_.truncation, fixed_length, temperature=temperature, companions=[
                               (c.model_, c.vectorizer_, c.sequence_length_, c.settings_.truncation)
                               for c in clf.companions_])
        cached = (objects, values, model)
    cached[2].get_layer("calibration").assign(temperature)
    return cached, cached[2]


def calibration_of(clf):
    """A fitted classifier's calibration: its temperature, or for a multi-label one a ``(2, labels)`` float32
    array of slopes and biases (:func:`zoo.evaluation.calibration.platt`)."""
    calibration = np.asarray(getattr(clf, "calibration_", 1.0), np.float32)
    return calibration.reshape(2, len(clf.classes_)) if clf.settings_.multi_label else float(calibration)


def predict_text_model(model, texts, lengths, batch_size=128):
    """The raw-text ``model``'s outputs for ``texts`` (a dict of NumPy arrays, rows in the order of ``texts``).

    Texts are batched in the order of ``lengths`` (their token counts), so
    each batch is padded only to texts of about its own length, as
    :func:`zoo.data.text.predict_in_order` batches token ids.
    """
    order = np.argsort(lengths, kind="stable")
    batches = []
    for start in range(0, len(order), batch_size):
        chunk = [texts[i] for i in order[start:start + batch_size]]
        # A short last batch is padded with empty texts (masked, dropped below): one shape, one trace.
        padding = batch_size - len(chunk) if len(order) > batch_size else 0
        out = model.predict_on_batch(tf.constant(chunk + [""] * padding))
        batches.append({name: np.asarray(value)[:len(chunk)] for name, value in out.items()})
    result = {}
    for name in batches[0]:
        joined = np.concatenate([b[name] for b in batches])
        result[name] = np.empty_like(joined)
        result[name][order] = joined
    return result


def known_tokens(ids):
    """How many of each text's ids (a batch from :class:`zoo.data.text.TextToIds`) are in the vocabulary: not
    padding (0) and not the out-of-vocabulary id (1)."""
    return tf.reduce_sum(tf.cast(ids > 1, tf.int32), axis=-1)


def known_token_counts(model, texts, batch_size=2048):
    """:func:`known_tokens` of each text as the raw-text ``model`` reads it (its ``text_to_ids`` layer: cut at the
    sequence length by its truncation): 0 where the model reads an empty text."""
    layer = model.get_layer("text_to_ids")
    counts = [known_tokens(layer(tf.constant(texts[i:i + batch_size]))).numpy()
              for i in range(0, len(texts), batch_size)]
    return np.concatenate(counts) if counts else np.zeros(0, np.int32)


def token_lengths(vectorizer, texts, sequence_length, batch_size=2048):
    """How many ids each text becomes (cut at ``sequence_length``; an empty text is one padding step)."""
    lengths = [vectorizer(tf.constant(texts[i:i + batch_size])).row_lengths().numpy()
               for i in range(0, len(texts), batch_size)]
    return np.clip(np.concatenate(lengths), 1, sequence_length) if lengths else np.zeros(0, np.int64)
