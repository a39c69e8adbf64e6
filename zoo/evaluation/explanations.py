"""Per-token explanations of a fitted classifier's predictions, and how faithful they are.

What a token contributes to the score of the explained class, for the whole hybrid:

* the **recurrent path** by integrated gradients (Sundararajan et al. 2017, "Axiomatic Attribution for Deep
  Networks"): the token's embedding times the gradient, averaged along the straight path from an all-zero
  embedding (``steps`` points, midpoint rule); the gradient flows through every member of an ensemble (the
  score is that of their mean). Why integrated gradients: the attributions add up to the score's change from
  the zero input (completeness, checked: ``Explanation.gap``), which saliency and attention weights do not;
  and one batch of ``steps`` texts per text is cheap beside LIME's thousands of perturbed texts (ktrain's
  ``explain``).
* the **n-gram path** exactly: its logits are linear in its features (``features @ kernel``; NBSVM's divide each
  class's by that class's norm of the text), so each n-gram's value times its weight is its contribution
  (``NgramLinear.contributions``); an n-gram's share goes to its tokens equally.

The score explained is the blend's (:class:`zoo.models.hybrid.HybridBlend`) for the class, measured against
the mean over the classes: ``w * (log p_rec[c] - mean_k log p_rec[k]) + (1 - w) * (z[c] - mean_k z[k])``, whose
softmax is the classifier's probability; each path's attributions are scaled by its blend weight (a
multi-label classifier: the label's log-odds, ``w_j * logit(p_rec[j]) + (1 - w_j) * z[j]``). The pair's
companion (init auto) and temperature scaling are left out: the companion has a tokenizer of its own, and the
temperature divides every contribution alike. Tokens are the recurrent path's (its standardizer); the n-gram
path's tokens are matched to them, and a token the recurrent path cut (longer than the sequence length) has
only its n-gram part.

:func:`comprehensiveness` measures faithfulness as ERASER does (DeYoung et al. 2020): the drop of the explained
class's probability when each text's top-k attributed tokens are deleted, beside the drop when k random
tokens are.
"""

import dataclasses
import difflib
import threading
import weakref

import keras
import numpy as np
import tensorflow as tf

from zoo.data.inputs import check_labels
from zoo.data.text import cut
from zoo.data.tokenize import standardizer, standardizer_name
from zoo.errors import ConfigError
from zoo.models.ensemble import ensemble_members

DEFAULT_STEPS = 32  # integrated gradients' path points: a completeness gap near 1% of the score on the main job
_WATCH = threading.local()  # the tape, the path's scales and the watched embeddings, during one trace


@dataclasses.dataclass
class Explanation:
    """What each token of ``text`` contributed to the score of ``label``.

    Attributes:
        text: the text explained.
        tokens: its tokens, as the recurrent path reads them (before truncation).
        label: the class (or label) explained; ``probability``: the classifier's probability of it.
        contributions: per token, ``recurrent + ngram``: positive for the label, negative against it.
        recurrent, ngram: each path's part (already times its blend weight).
        gap: integrated gradients' completeness error, ``|sum(IG) - (f(x) - f(0))|``, in the units of the
            recurrent score before its blend weight (0 without a recurrent part).
    """

    text: str
    tokens: list
    label: object
    probability: float
    contributions: list
    recurrent: list
    ngram: list
    gap: float

    def top(self, k=10):
        """The ``k`` tokens that count most for the label: ``[(token, contribution), ...]``, largest first."""
        order = np.argsort(-np.asarray(self.contributions, float), kind="stable")[:k]
        return [(self.tokens[i], float(self.contributions[i])) for i in order]

    def to_dict(self):
        return {**dataclasses.asdict(self), "label": _plain(self.label)}


def explain(clf, texts, labels=None, *, steps=DEFAULT_STEPS):
    """An :class:`Explanation` per text, of ``labels`` (one class per text; default: the predicted one; for a
    multi-label classifier, one label per text, default its most probable)."""
    texts = list(texts)
    probabilities = clf.predict_paths(texts)["model"] if texts else np.zeros((0, len(clf.classes_)))
    if labels is None:
        targets = [int(i) for i in probabilities.argmax(-1)]
    else:
        index = {c: i for i, c in enumerate(clf.classes_)}
        labels = check_labels("labels", labels, len(texts))  # one per text: zip() would drop the rest unsaid
        unknown = [v for v in labels if v not in index]
        if unknown:
            raise ConfigError("labels", f"explain: {unknown[0]!r} is not among the classes")
        targets = [index[v] for v in labels]
    explainer = explainer_for(clf, steps)
    return [explainer.explain(text, target, float(p[target])) for text, target, p in
            zip(texts, targets, probabilities)]


_EXPLAINERS = weakref.WeakKeyDictionary()  # classifier -> (its fitted state, steps, Explainer): one trace each


def explainer_for(clf, steps=DEFAULT_STEPS):
    """The classifier's :class:`Explainer`, reused while its fitted state and ``steps`` are the same (a new
    one traces its graph again)."""
    state = (id(clf.model_), id(clf.ngram_), id(clf.vectorizer_), np.asarray(clf.blend_weight_).tolist(), int(steps))
    cached = _EXPLAINERS.get(clf)
    if cached is None or cached[0] != state:
        cached = _EXPLAINERS[clf] = (state, Explainer(clf, steps))
    return cached[1]


class Explainer:
    """The integrated-gradients graph of one classifier (traced once) and its n-gram path's weights."""

    def __init__(self, clf, steps=DEFAULT_STEPS):
        if steps < 1:
            raise ConfigError("steps", f"`steps` must be at least 1, got {steps}")
        self.clf, self.steps, self.multi = clf, int(steps), bool(clf.settings_.multi_label)
        config = clf.vectorizer_.get_config()
        self.standardize = standardizer(standardizer_name(config["standardize"]))
        self.members = [_watched_clone(m) for m in ensemble_members(clf.model_)]
        weight = np.asarray(clf.blend_weight_, np.float32)
        self.weights = np.broadcast_to(weight, (len(clf.classes_),)) if clf.ngram_ is not None else \
            np.ones(len(clf.classes_), np.float32)
        self.alphas = tf.constant((np.arange(self.steps, dtype=np.float32) + 0.5) / self.steps)
        self.gradients = tf.function(self._gradients, reduce_retracing=True)
        if clf.ngram_ is not None:
            layer = clf.ngram_
            self.ngram_vocabulary = list(layer.vocabulary)
            self.ngram_standardize = standardizer(layer.standardize)

    def explain(self, text, target, probability):
        tokens = _tokens(self.standardize, text)
        recurrent, gap = self._recurrent(text, tokens, target)
        ngram = self._ngram(text, tokens, target) if self.clf.ngram_ is not None else np.zeros(len(tokens))
        total = recurrent + ngram
        return Explanation(text, tokens, self.clf.classes_[target], probability, total.tolist(), recurrent.tolist(),
                           ngram.tolist(), gap)

    # --- the recurrent path: integrated gradients ---

    def _score(self, probabilities, target):
        p = tf.clip_by_value(probabilities, 1e-7, 1.0 - 1e-7)
        if self.multi:
            return tf.math.log(p[:, target]) - tf.math.log(1.0 - p[:, target])
        log_p = tf.math.log(p)
        return log_p[:, target] - tf.reduce_mean(log_p, axis=-1)

    def _gradients(self, ids, alphas, target):
        """Per path point: the score, and its gradient by each member's (scaled) embeddings."""
        batch = tf.shape(alphas)[0]
        with tf.GradientTape() as tape:
            _WATCH.tape, _WATCH.scale, _WATCH.outputs = tape, alphas[:, None, None], []
            inputs = tf.tile(ids[None, :], [batch, 1])
            probabilities = tf.add_n([member(inputs, training=False) for member in self.members]) / len(self.members)
            score = self._score(probabilities, target)
        outputs = _WATCH.outputs
        _WATCH.tape = _WATCH.scale = _WATCH.outputs = None
        return score, tape.gradient(score, outputs), outputs

    def _recurrent(self, text, tokens, target):
        ids = self.clf.vectorizer_(tf.constant([text]))[0].numpy().astype(np.int32)
        values = np.zeros(len(tokens))
        if not len(ids):
            return values, 0.0
        kept = cut(np.arange(len(ids)), self.clf.sequence_length_, self.clf.settings_.truncation)
        target_t = tf.constant(target)
        _, gradients, outputs = self.gradients(tf.constant(ids[kept]), self.alphas, target_t)
        ends = keras.ops.convert_to_numpy(self.gradients(tf.constant(ids[kept]), tf.constant([0.0, 1.0]),
                                                         target_t)[0])
        # IG = x * (the mean over the path of the gradient at alpha * x); each watched output is alpha * x.
        last = float(self.alphas[-1])
        attributions = sum(np.sum(keras.ops.convert_to_numpy(o)[-1] / last * keras.ops.convert_to_numpy(g).mean(0),
                                  axis=-1) for g, o in zip(gradients, outputs))
        gap = abs(float(np.sum(attributions)) - float(ends[1] - ends[0]))
        per_id = np.zeros(len(ids))
        per_id[kept] = attributions * self.weights[target]
        n = min(len(ids), len(tokens))  # (one id per token: the vectorizer splits these same tokens)
        values[:n] = per_id[:n]
        return values, gap

    # --- the n-gram path: exact linear contributions ---

    def _ngram(self, text, tokens, target):
        columns, shares = self.clf.ngram_.contributions(text)  # (n-grams, classes): exact shares of the logits
        if not self.multi:  # a softmax's logits matter only relative to each other
            shares = shares - shares.mean(axis=1, keepdims=True)
        ngram_tokens = _tokens(self.ngram_standardize, text)
        per_token = np.zeros(len(ngram_tokens))
        for column, value in zip(columns, shares[:, target]):
            if column == 0:  # out of the n-gram vocabulary
                continue
            gram = self.ngram_vocabulary[column - 1].split(" ")
            starts = [i for i in range(len(ngram_tokens) - len(gram) + 1) if ngram_tokens[i:i + len(gram)] == gram]
            share = value / max(len(starts), 1) / len(gram)
            for i in starts:
                per_token[i:i + len(gram)] += share
        return _aligned(per_token, ngram_tokens, tokens) * (1.0 - self.weights[target])


def comprehensiveness(clf, texts, *, fraction=0.1, seed=0, steps=DEFAULT_STEPS):
    """ERASER's comprehensiveness on ``texts``: for each, the drop of the explained (predicted) class's
    probability when its top-k attributed tokens are deleted, and when k random tokens are (k: ``fraction`` of
    its tokens, at least 1). The texts are rebuilt from their tokens (``" ".join``) for all three predictions,
    so only the deletion differs. Returns ``{"top_k": drops, "random_k": drops}`` (arrays, one per text)."""
    rng = np.random.default_rng(seed)
    explanations = explain(clf, texts, steps=steps)
    full, top, rand, targets = [], [], [], []
    index = {c: i for i, c in enumerate(clf.classes_)}
    for e in explanations:
        n = len(e.tokens)
        k = max(1, round(fraction * n))
        attributed = set(np.argsort(-np.asarray(e.contributions), kind="stable")[:k].tolist())
        chosen = set(rng.choice(n, size=min(k, n), replace=False).tolist()) if n else set()
        full.append(" ".join(e.tokens))
        top.append(" ".join(t for i, t in enumerate(e.tokens) if i not in attributed))
        rand.append(" ".join(t for i, t in enumerate(e.tokens) if i not in chosen))
        targets.append(index[e.label])
    rows = np.arange(len(targets))
    # (predict_paths, not predict_proba: a text with its top tokens deleted may hold no known token, as meant)
    p_full, p_top, p_rand = (clf.predict_paths(batch)["model"][rows, targets] for batch in (full, top, rand))
    return {"top_k": p_full - p_top, "random_k": p_full - p_rand, "fraction": fraction,
            "texts": len(explanations)}


def _tokens(standardize, text):
    if not text:
        return []
    return [t.decode("utf-8") for t in tf.strings.split(standardize(tf.constant([text])))[0].numpy()]


def _aligned(values, source_tokens, tokens):
    """``values`` per ``source_tokens`` moved onto ``tokens`` where the two sequences match (difflib)."""
    if source_tokens == tokens:
        return np.asarray(values, float)
    out = np.zeros(len(tokens))
    matcher = difflib.SequenceMatcher(a=source_tokens, b=tokens, autojunk=False)
    for block in matcher.get_matching_blocks():
        out[block.b:block.b + block.size] += values[block.a:block.a + block.size]
    return out


class _WatchedEmbedding(keras.layers.Layer):
    """An embedding whose output is scaled by the path's points and watched by the explainer's tape."""

    def __init__(self, inner, **kwargs):
        super().__init__(name=inner.name, **kwargs)
        self.inner, self.supports_masking = inner, True

    def call(self, inputs):
        outputs = self.inner(inputs)
        if getattr(_WATCH, "tape", None) is not None:
            outputs = outputs * tf.cast(_WATCH.scale, outputs.dtype)
            _WATCH.tape.watch(outputs)
            _WATCH.outputs.append(outputs)
        return outputs

    def compute_mask(self, inputs, mask=None):
        return self.inner.compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape):
        return self.inner.compute_output_shape(input_shape)


def _watched_clone(model):
    """A copy of ``model`` (same weights) whose ``embedding`` layer is watched (:class:`_WatchedEmbedding`)."""

    def clone(layer):
        copy = layer.__class__.from_config(layer.get_config())
        return _WatchedEmbedding(copy) if layer.name == "embedding" else copy

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
