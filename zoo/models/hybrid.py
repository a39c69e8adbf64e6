"""The hybrid model's two Keras layers: the n-gram path and the blend with the recurrent path.

The hybrid (``TextClassifier(hybrid=True)``, the default) adds to the recurrent
model a linear model on TF-IDF word uni- and bigrams (Wang & Manning 2012;
Cheng et al. 2016's wide & deep) and blends the two in log space (Mesnil et al.
2014 ensembled an RNN-LM with NBSVM the same way):

    log p_hybrid = w * log p_recurrent + (1 - w) * logits_ngram + const

``w`` and the n-gram logits' temperature are chosen on the validation split
(:mod:`zoo.training.ngram_path`). Both layers are TensorFlow-only (the n-gram
path starts with a ``TextVectorization``), so the raw-text model, in process
and exported, is one graph of TensorFlow ops.

``NgramLinear`` holds a vocabulary of up to hundreds of thousands of n-grams
and a kernel of that many rows: rather than JSON in ``get_config``, the
classifier saves them as ``ngram.npz`` and rebuilds the layer
(:meth:`NgramLinear.from_arrays`).
"""

import keras
import numpy as np

from zoo.backend import require_tensorflow

require_tensorflow("zoo.models.hybrid (the n-gram path on TensorFlow sparse ops)")

import tensorflow as tf  # noqa: E402

from zoo.data.tokenize import standardizer

EPSILON = 1e-7  # recurrent probabilities are clipped here before the log
WEIGHTINGS = ("tfidf", "nb")  # NgramLinear's features: sublinear TF-IDF, or NBSVM's
WEIGHTING_NAMES = {"tfidf": "TF-IDF", "nb": "NBSVM"}  # as logs and reports name them


@keras.saving.register_keras_serializable(package="zoo")
class NgramLinear(keras.layers.Layer):
    """Raw strings -> class logits of a linear model on n-gram features: sublinear TF-IDF, or NBSVM's.

    ``weighting="tfidf"``: features are scikit-learn's
    ``TfidfVectorizer(sublinear_tf=True)``: ``(1 + log count) * idf``, each
    row L2-normalised; logits are ``features @ kernel + bias``. With
    ``bigram_weight``, the unigrams and the longer n-grams of a row are
    L2-normalised apart, the longer ones scaled by ``bigram_weight``, and the
    row normalised again: then a long text's many once-seen bigrams cannot
    outweigh its words (``zoo.training.ngram_path`` says when this is used,
    and why).

    ``weighting="nb"``: NBSVM (Wang & Manning 2012,
    :class:`zoo.evaluation.baselines.NBSVM`): each class ``c`` scales the
    binarised n-grams ``x`` by its naive-Bayes log-count ratios ``r_c`` and
    L2-normalises them, and its SVM weighs them: ``w_c . (x * r_c) / |x * r_c|``.
    Since ``x`` is 0 or 1, that is ``(x @ kernel)_c / sqrt((x @ norms)_c) + bias_c``
    with ``kernel = w * r`` and ``norms = r ** 2``, column by column: two sparse
    products, whatever the number of classes. (``idf`` is not used.)

    Args:
        vocabulary: the n-grams (bigrams joined by a space), without padding or OOV.
        num_classes: number of logits.
        ngrams: the largest n-gram.
        standardize: a name from :data:`zoo.data.tokenize.STANDARDIZERS`.
        bigram_weight: ``None`` (one norm per row) or the weight of the
            normalised longer n-grams beside the normalised unigrams (``"tfidf"`` only).
        weighting: ``"tfidf"`` or ``"nb"``.
    """

    def __init__(self, vocabulary, num_classes, ngrams=2, standardize="zoo_words", bigram_weight=None,
                 weighting="tfidf", **kwargs):
        super().__init__(**kwargs)
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        if weighting == "nb" and bigram_weight is not None:
            raise ValueError("bigram_weight is a setting of weighting='tfidf'")
        self.weighting = weighting
        self.vocabulary, self.num_classes = list(vocabulary), int(num_classes)
        self.ngrams, self.standardize = int(ngrams), standardize
        self.bigram_weight = None if bigram_weight is None else float(bigram_weight)
        if self.bigram_weight is not None:  # which column is a longer n-gram (the OOV column first is not)
            self._longer = tf.constant(np.concatenate([[False], longer_ngrams(self.vocabulary)]))
        # Keras' TextVectorization puts the OOV n-gram first: feature i is column i + 1.
        self.vectorizer = keras.layers.TextVectorization(
            standardize=standardizer(standardize), ngrams=self.ngrams, output_mode="count", sparse=True,
            vocabulary=self.vocabulary, name="ngram_vectorizer")
        features = len(self.vocabulary) + 1
        self.idf = self.add_weight(shape=(features,), initializer="zeros", trainable=False, name="idf")
        self.kernel = self.add_weight(shape=(features, self.num_classes), initializer="zeros", trainable=False,
                                      name="kernel")
        self.bias = self.add_weight(shape=(self.num_classes,), initializer="zeros", trainable=False, name="bias")
        self.norms = None if weighting != "nb" else self.add_weight(
            shape=(features, self.num_classes), initializer="ones", trainable=False, name="norms")

    @classmethod
    def from_arrays(cls, vocabulary, idf, kernel, bias, norms=None, **kwargs):
        """A layer with the given weights (``idf``, ``kernel`` and, for ``weighting="nb"``, ``norms`` rows per
        n-gram, without the OOV row)."""
        layer = cls(vocabulary, np.shape(bias)[0], **kwargs)
        pad = lambda a: np.concatenate([np.zeros((1, *np.shape(a)[1:]), "float32"), a]).astype("float32")  # noqa: E731
        layer.idf.assign(pad(idf))
        layer.kernel.assign(pad(kernel))
        layer.bias.assign(np.asarray(bias, "float32"))
        if layer.norms is not None:
            layer.norms.assign(pad(norms))
        return layer

    def arrays(self):
        """``idf``, ``kernel``, ``bias`` (and ``norms``) as :meth:`from_arrays` takes them (without the OOV row)."""
        own = {"idf": self.idf, "kernel": self.kernel, "bias": self.bias, "norms": self.norms}
        return {name: keras.ops.convert_to_numpy(w)[0 if name == "bias" else 1:]
                for name, w in own.items() if w is not None}

    def _counts(self, texts):
        # One empty text is counted after the batch and its row dropped: TensorFlow's RaggedCountSparseOutput
        # refuses a batch of no texts ("Must provide at least 2 elements for the splits argument"), which a client
        # of the exported SavedModel may send.
        batch = tf.shape(texts, tf.int64)[0]
        padded = tf.concat([texts, tf.fill(tf.concat([[1], tf.shape(texts)[1:]], 0), "")], 0)
        counts = self.vectorizer(padded)
        kept = tf.sparse.retain(counts, (counts.indices[:, 1] > 0) & (counts.indices[:, 0] < batch))  # (no OOV column)
        return tf.SparseTensor(kept.indices, kept.values, tf.stack([batch, kept.dense_shape[1]]))

    def features(self, texts):
        """The rows the kernel weighs, a ``tf.SparseTensor`` (batch, features): L2-normalised sublinear TF-IDF,
        or for ``weighting="nb"`` the binarised n-grams (each class normalises them its own way: :meth:`call`)."""
        counts = self._counts(texts)
        if self.weighting == "nb":
            return tf.SparseTensor(counts.indices, tf.ones_like(counts.values, "float32"), counts.dense_shape)
        values = (1.0 + tf.math.log(tf.cast(counts.values, "float32"))) * tf.gather(self.idf, counts.indices[:, 1])
        rows, batch = counts.indices[:, 0], tf.shape(texts, tf.int64)[0]
        if self.bigram_weight is not None:
            longer = tf.cast(tf.gather(self._longer, counts.indices[:, 1]), tf.int64)
            values = _normalise(values, 2 * rows + longer, 2 * batch)  # each block of each row apart
            values = values * tf.where(longer == 1, self.bigram_weight, 1.0)
        return tf.SparseTensor(counts.indices, _normalise(values, rows, batch), counts.dense_shape)

    def call(self, texts):
        features = self.features(texts)
        scores = tf.sparse.sparse_dense_matmul(features, self.kernel)
        if self.weighting == "nb":
            scores = scores / tf.sqrt(tf.maximum(tf.sparse.sparse_dense_matmul(features, self.norms), 1e-24))
        return scores + self.bias

    def contributions(self, text):
        """``(columns, values)`` of one text: the vocabulary columns of its n-grams (OOV column 0 left out) and
        each one's share of every class's logit, ``(n-grams, classes)``; they add up to ``logits - bias``."""
        features = tf.sparse.reorder(self.features(tf.constant([text])))
        columns, values = features.indices.numpy()[:, 1], features.values.numpy()
        kernel = keras.ops.convert_to_numpy(self.kernel)
        shares = values[:, None] * kernel[columns]
        if self.weighting == "nb":
            norms = keras.ops.convert_to_numpy(self.norms)
            shares = shares / np.sqrt(np.maximum((values[:, None] * norms[columns]).sum(axis=0), 1e-24))
        return columns, shares

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def get_config(self):
        # The vocabulary and weights travel in ngram.npz (see the module docstring).
        return {**super().get_config(), "vocabulary": [], "num_classes": self.num_classes, "ngrams": self.ngrams,
                "standardize": self.standardize, "bigram_weight": self.bigram_weight, "weighting": self.weighting}


def longer_ngrams(vocabulary):
    """Which entries of an n-gram vocabulary are longer than one token (TextVectorization joins them by a space)."""
    return np.array([" " in v for v in vocabulary], bool)


def _normalise(values, segments, num_segments):
    """``values`` divided by the L2 norm of their segment (segment ids in ``[0, num_segments)``)."""
    norms = tf.sqrt(tf.math.unsorted_segment_sum(tf.square(values), segments, num_segments))
    return values / tf.gather(tf.maximum(norms, 1e-12), segments)


@keras.saving.register_keras_serializable(package="zoo")
class HybridBlend(keras.layers.Layer):
    """``[recurrent probabilities, n-gram logits]`` -> the blended probabilities.

    ``softmax(weight * log(max(p, 1e-7)) + (1 - weight) * logits)``: a
    product of experts, so a confident path outvotes an unsure one.

    Example:

    >>> blend = HybridBlend(weight=1.0)
    >>> p = np.array([[0.25, 0.75]], "float32")
    >>> np.allclose(keras.ops.convert_to_numpy(blend([p, np.zeros((1, 2), "float32")])), p)
    True
    """

    def __init__(self, weight=0.5, **kwargs):
        super().__init__(**kwargs)
        self.weight = float(weight)

    def call(self, inputs):
        probabilities, logits = inputs
        log_p = keras.ops.log(keras.ops.maximum(keras.ops.cast(probabilities, "float32"), EPSILON))
        return keras.ops.softmax(self.weight * log_p + (1.0 - self.weight) * keras.ops.cast(logits, "float32"))

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


@keras.saving.register_keras_serializable(package="zoo")
class MultiLabelBlend(keras.layers.Layer):
    """A multi-label hybrid's blend: ``[recurrent sigmoids, n-gram logits]`` -> each label's blended probability.

    ``sigmoid(w * logit(clip(p)) + (1 - w) * z)`` per label, with a weight
    ``w`` per label: the single-label blend in log-odds, one label at a time.
    """

    def __init__(self, weights=(), **kwargs):
        super().__init__(**kwargs)
        self.weights_per_label = [float(w) for w in weights]

    def call(self, inputs):
        probabilities, logits = inputs
        w = keras.ops.convert_to_tensor(np.asarray(self.weights_per_label, "float32"))
        p = keras.ops.clip(keras.ops.cast(probabilities, "float32"), EPSILON, 1.0 - EPSILON)
        log_odds = keras.ops.log(p) - keras.ops.log(1.0 - p)
        return keras.ops.sigmoid(w * log_odds + (1.0 - w) * keras.ops.cast(logits, "float32"))

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "weights": self.weights_per_label}


def blend_multi_label(probabilities, logits, weights):
    """:class:`MultiLabelBlend` in NumPy (float32): ``weights`` one per label (or one for all).

    >>> float(blend_multi_label(np.array([[0.8]]), np.array([[0.0]]), 1.0)[0, 0])  # doctest: +ELLIPSIS
    0.8...
    """
    p = np.clip(probabilities.astype("float32"), EPSILON, 1.0 - EPSILON)
    z = np.asarray(weights, "float32") * (np.log(p) - np.log(1.0 - p)) + (1.0 - np.asarray(weights, "float32")) * logits
    return (1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))).astype("float32")


def blend(probabilities, logits, weight):
    """:class:`HybridBlend` in NumPy (float32), for choosing ``weight`` on the validation split."""
    z = weight * np.log(np.maximum(probabilities.astype("float32"), EPSILON)) + (1.0 - weight) * logits
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype("float32")
