"""Fitting the hybrid model's n-gram path and choosing its blend on the validation split.

The path is the same-run baseline's model, made part of the classifier: TF-IDF
word uni- and bigrams (sublinear tf) and a ``LinearSVC`` (scikit-learn's
liblinear: a convex fit in seconds that Keras' optimizers would take epochs
to match), its weights then held by :class:`zoo.models.hybrid.NgramLinear`
so that serving needs only TensorFlow. NBSVM (the baseline's other
candidate) replaces TF-IDF where cross-validation on the training texts says it
is more accurate (:func:`choose_weighting`).

One rule adapts the features to the training set's size: with at most
:data:`SMALL_TRAINING_SET` texts, unigrams and bigrams are normalised apart
and the bigrams weigh :data:`SMALL_BIGRAM_WEIGHT` (``bigram_weight_for``).
Why: in a few hundred long documents most bigrams occur once, and with one
norm per row they make up most of it, so the SVM separates the training texts
by bigrams it will not see again. Measured on validation splits (hybrid
accuracy, ``bench/bigram_weight.py``, ``docs/hybrid.md``): 20 Newsgroups with
200 and 1,000 texts 0.375 -> 0.417 and 0.637 -> 0.648, the Shakespeare scenes
(561) 0.921 -> 0.968, KJV verses with 1,000 0.582 -> 0.580; with 4,013 texts
and more (SMS spam, all of 20 Newsgroups and KJV) one norm per row was as good
or better, so larger sets keep it.

Two numbers are chosen on the validation split, never on test:

* the temperature that turns SVM margins into logits (temperature scaling,
  Guo et al. 2017): the one with the lowest validation log loss;
* the blend weight ``w`` of :class:`zoo.models.hybrid.HybridBlend`, on a grid
  of 21 weights: the lowest log loss within one paired standard error of the
  best validation accuracy (:func:`choose_blend_weight`).

Then the path is fitted again on the training and validation texts with that
temperature and weight (``ngram_refit``:
:meth:`zoo.training.fit_steps.FitSteps.refit_ngram_path`).

Texts without labels (``unlabelled_texts``: say, the rest of a corpus of
which only 1,000 texts are labelled) teach the path too, by self-training:
fit on the labelled texts, label the unlabelled ones with it, keep the more
confident half (:data:`SELF_TRAINING_SHARE`, by the top class's probability),
fit again on the labelled texts and those (vocabulary and idf included). One
round of hard-label EM, as Nigam et al. (2000) did for naive Bayes on 20
Newsgroups with a few hundred labels. Why: with few labels most n-grams of
the test texts never occur in a labelled one, and the unlabelled texts tie
them to the words that do. Measured on init auto's validation splits
(the n-gram path alone, 20 Newsgroups, the other train texts unlabelled,
``bench/self_training.py``).

How this design was chosen, by validation accuracy: ``bench/hybrid_design.py``,
``bench/bigram_weight.py``, ``bench/self_training.py`` and ``docs/hybrid.md``.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import f1_score

from zoo.backend import require_tensorflow

require_tensorflow("zoo.training.ngram_path (the n-gram path)")

import keras
import tensorflow as tf

from zoo.config import DEFAULT_BLEND_WEIGHT, DEFAULT_NGRAM_TEMPERATURE
from zoo.data.tokenize import is_unspaced, standardizer
from zoo.errors import DataError
from zoo.evaluation.baselines import NBSVM, cv_folds
from zoo.log import logger
from zoo.models.hybrid import (
    WEIGHTING_NAMES,
    WEIGHTINGS,
    NgramLinear,
    blend,
    blend_multi_label,
    longer_ngrams,
)

NGRAMS, STANDARDIZE, SVM_C = 2, "zoo_words", 1.0
UNSPACED_NGRAMS = 3  # characters of unspaced scripts: 1-3 grams (see ngrams_for)
TEMPERATURES = tuple(2.0 ** (k / 2) for k in range(15))  # 1 ... 128
ABSENT_CLASS_LOGIT = -30.0  # margins are within a few units of 0
WEIGHTS = tuple(np.round(np.linspace(0.0, 1.0, 21), 2))
SMALL_TRAINING_SET, SMALL_BIGRAM_WEIGHT = 2000, 0.5  # (measured at <= 1,000 and >= 4,013 texts, not between)
SELF_TRAINING_SHARE = 0.5  # of the unlabelled texts, the most confident, added with their predicted labels
# choose_weighting's cross-validation reads at most this many training texts (a seeded share of a larger set): it
# fits each candidate once a fold, so its cost grows with the set, and this many already tell two linear models
# apart to well under a point (the README's largest training set, KJV's 22,393 verses, is read whole).
WEIGHTING_CV_TEXTS = 25000


def bigram_weight_for(num_texts):
    """The n-gram path's ``bigram_weight`` for a training set of ``num_texts``: see the module docstring.

    >>> bigram_weight_for(1000), bigram_weight_for(10000)
    (0.5, None)
    """
    return SMALL_BIGRAM_WEIGHT if num_texts <= SMALL_TRAINING_SET else None


def ngrams_for(texts):
    """The n-gram path's longest n-gram for these training texts: 2 (word uni- and bigrams), or 3 when they are
    mostly in a script written without spaces (:func:`zoo.data.tokenize.is_unspaced`), whose tokens are then
    single characters (Chinese, Japanese).

    Why 3 there: a character bigram is roughly a Chinese word, a trigram a short phrase; TF-IDF over character
    1-3 grams is the strong simple model for Chinese text (0.854 on the zh_reviews split against 0.718 for
    whole-clause "words", ../shared/DATA.md), and the choice of the n-gram range is the rule's, made from the
    training texts alone.

    >>> ngrams_for(["这本书很好看", "质量不错"]), ngrams_for(["a great read"])
    (3, 2)
    """
    return UNSPACED_NGRAMS if is_unspaced(texts) else NGRAMS


def holds_words(texts, batch_size=4096):
    """Whether any of ``texts`` holds a word the n-gram path reads (its standardizer leaves out punctuation,
    symbols and emoji). A hybrid whose training texts hold none is refused before training
    (:meth:`zoo.training.fit_steps.FitSteps.prepare`), where Keras' n-gram lookup would fail uninitialised.

    >>> holds_words(["!!!", "🙂 :)"]), holds_words(["!!!", "好"])
    (False, True)
    """
    standardize = standardizer(STANDARDIZE)
    return any(int(tf.size(tf.strings.split(standardize(tf.constant(texts[i:i + batch_size]))).flat_values))
               for i in range(0, len(texts), batch_size))


def fit_ngram_path(texts, y, num_classes, max_tokens, valid_texts=(), valid_y=(), seed=0, temperature=None,
                   bigram_weight="auto", unlabelled_texts=(), share=SELF_TRAINING_SHARE, ngrams="auto",
                   class_weight=None, weighting="auto"):
    """Fits the n-gram path on the training texts; returns ``(layer, info)``.

    The layer's logits are the SVM's margins times the temperature chosen on
    the validation split (``info["temperature"]``), or times ``temperature``
    when given. ``bigram_weight``: ``"auto"`` (:func:`bigram_weight_for` the
    number of labelled texts) or the layer's ``bigram_weight``. With
    ``unlabelled_texts``, one round of self-training on the most confident
    ``share`` of them (the module docstring; ``info["self_training"]``). ``class_weight``: the SVM's
    (scikit-learn's ``"balanced"`` or None). ``weighting``: ``"tfidf"``, ``"nb"`` (NBSVM) or ``"auto"``
    (:func:`choose_weighting`; ``info["weighting"]``).
    """
    if bigram_weight == "auto":
        bigram_weight = bigram_weight_for(len(texts))
    if ngrams == "auto":
        ngrams = ngrams_for(texts)
    layer, info = _fit(texts, y, num_classes, max_tokens, valid_texts, valid_y, seed, temperature, bigram_weight,
                       ngrams, class_weight, weighting)
    weighting, bigram_weight = info["weighting"], info["bigram_weight"]  # (self-training keeps the choice)
    unlabelled = list(unlabelled_texts)
    if not unlabelled:
        return layer, info
    probabilities = _softmax(ngram_logits(layer, unlabelled))
    added = np.argsort(-probabilities.max(-1), kind="stable")[:int(share * len(unlabelled))]
    logger.info(f"n-gram path: self-training on the {len(added)} most confident of {len(unlabelled)} unlabelled "
                "texts, with the labels it predicts")
    layer, info = _fit(list(texts) + [unlabelled[i] for i in added],
                       np.concatenate([np.asarray(y), probabilities[added].argmax(-1)]), num_classes, max_tokens,
                       valid_texts, valid_y, seed, temperature, bigram_weight, ngrams, class_weight, weighting)
    info["self_training"] = {"unlabelled": len(unlabelled), "added": len(added), "share": share}
    return layer, info


def _fit(texts, y, num_classes, max_tokens, valid_texts, valid_y, seed, temperature, bigram_weight, ngrams=NGRAMS,
         class_weight=None, weighting="tfidf"):
    """One fit of :func:`fit_ngram_path` (``bigram_weight`` and ``ngrams`` resolved)."""
    vectorizer = keras.layers.TextVectorization(max_tokens=max_tokens, standardize=standardizer(STANDARDIZE),
                                                ngrams=ngrams, output_mode="count", sparse=True)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(list(texts)).batch(1024))
    vocabulary = _vocabulary(vectorizer, texts)
    counts, longer = ngram_counts(vectorizer, texts)[:, 1:], longer_ngrams(vocabulary)
    compared = None
    if weighting == "auto":
        weighting, compared = choose_weighting(counts, y, longer, bigram_weight, seed, class_weight)
    kernel, bias, idf, norms = _FITS[weighting](counts, y, num_classes, seed, class_weight, longer, bigram_weight)
    layer = NgramLinear.from_arrays(vocabulary, idf, kernel, bias, norms=norms, ngrams=ngrams, standardize=STANDARDIZE,
                                    bigram_weight=bigram_weight if weighting == "tfidf" else None,
                                    weighting=weighting, name="ngram_path")
    grams = "word 1-2 grams" if ngrams == NGRAMS else f"1-{ngrams} grams of characters (unspaced script)"
    model = f"TF-IDF {grams} (sublinear tf) + LinearSVC" if weighting == "tfidf" else \
        f"NBSVM {grams} (binarised, naive-Bayes log-count ratios) + LinearSVC"
    info = {"features": len(vocabulary), "model": model, "weighting": weighting,
            **({"weighting_cv": compared} if compared else {}),
            "C": SVM_C, "bigram_weight": layer.bigram_weight, "ngrams": ngrams,
            **({"class_weight": class_weight} if class_weight else {})}
    if temperature is None and len(valid_y):  # (a given temperature was chosen elsewhere: init auto's comparison)
        temperature = choose_temperature(ngram_logits(layer, valid_texts), valid_y)
    elif temperature is None:
        temperature = DEFAULT_NGRAM_TEMPERATURE
        logger.warning(f"no validation split: the n-gram path's temperature is {DEFAULT_NGRAM_TEMPERATURE}")
    layer.kernel.assign(layer.kernel * temperature)
    layer.bias.assign(layer.bias * temperature)
    info["temperature"] = float(temperature)
    weighed = "" if layer.bigram_weight is None else f" (bigrams weigh {layer.bigram_weight:g}, normalised apart)"
    chose = "" if not compared or not compared["folds"] else f" ({compared['folds']}-fold CV accuracy " + ", ".join(
        f"{WEIGHTING_NAMES[k]} {compared['accuracy'][k]:.4f}" for k in WEIGHTINGS) + ")"
    logger.info(f"n-gram path: {len(vocabulary)} {'uni- and bigrams' if ngrams == NGRAMS else f'1-{ngrams} grams'}"
                f"{weighed}, {WEIGHTING_NAMES[weighting]} + LinearSVC{chose}, temperature {temperature:.3g}")
    return layer, info


def _vocabulary(vectorizer, texts):
    """The adapted n-grams ([UNK] left out), or a one-line error when the texts hold no word at all (punctuation
    only: the n-gram path's words leave it out), where Keras' lookup would fail uninitialised."""
    vocabulary = vectorizer.get_vocabulary()[1:]
    if not vocabulary:
        raise DataError(f"n-gram path: the {len(texts)} training texts hold no word (empty or only punctuation); "
                        "pass hybrid=False (--no-hybrid) to train the recurrent model alone")
    return vocabulary


def _fit_tfidf(counts, y, num_classes, seed, class_weight, longer, bigram_weight):
    """The TF-IDF + LinearSVC path on a documents x n-grams count matrix: ``(kernel, bias, idf, None)``, the
    SVM's margins as logits (before the temperature)."""
    from sklearn.svm import LinearSVC

    idf = smooth_idf(counts)
    svm = LinearSVC(C=SVM_C, random_state=seed, class_weight=class_weight).fit(
        tfidf(counts, idf, longer, bigram_weight), y)
    kernel, bias = _class_columns(svm, counts.shape[1], num_classes)
    return kernel, bias, idf, None


def _fit_nbsvm(counts, y, num_classes, seed, class_weight, _longer=None, _bigram_weight=None):
    """The NBSVM path (:class:`zoo.evaluation.baselines.NBSVM`, the printed baseline's other candidate):
    ``(kernel, bias, idf, norms)``. Each class's SVM weights times its log-count ratios are its kernel column,
    the squared ratios its norm column (:class:`zoo.models.hybrid.NgramLinear`); ``idf`` is unused (ones). Two
    classes have one SVM, for the second: logits ``[0, m]`` as for :func:`_class_columns`."""
    nbsvm = NBSVM(C=SVM_C, seed=seed, class_weight=class_weight).fit(counts, y)
    features = counts.shape[1]
    kernel, norms = np.zeros((features, num_classes)), np.ones((features, num_classes))
    bias = np.full(num_classes, ABSENT_CLASS_LOGIT)
    present = nbsvm.classes_
    bias[present] = 0.0
    for label, ratio, svm in zip(present[1:] if len(present) == 2 else present, nbsvm.ratios_, nbsvm.svms_):
        kernel[:, label], norms[:, label], bias[label] = svm.coef_[0] * ratio, ratio ** 2, svm.intercept_[0]
    return kernel, bias, np.ones(features), norms


_FITS = {"tfidf": _fit_tfidf, "nb": _fit_nbsvm}  # weighting -> its fit (zoo.models.hybrid.WEIGHTINGS)


def _scores(fitted, counts, longer, bigram_weight, weighting):
    """The logits of :func:`_fit_tfidf`'s or :func:`_fit_nbsvm`'s path for ``counts`` (SciPy, as the layer)."""
    kernel, bias, idf, norms = fitted
    if weighting == "tfidf":
        return tfidf(counts, idf, longer, bigram_weight) @ kernel + bias
    binary = (counts > 0).astype(np.float64)
    return (binary @ kernel) / np.sqrt(np.maximum(binary @ norms, 1e-24)) + bias


def choose_weighting(counts, y, longer, bigram_weight, seed=0, class_weight=None):
    """The n-gram path's features, by cross-validation on its training texts: ``"nb"`` (NBSVM) only where its
    accuracy is higher than TF-IDF's (ties, and too few texts of a class to cross-validate, keep TF-IDF);
    returns ``(name, {"accuracy": {name: mean}, "folds": k})``.

    Both candidates are the path as fitted (TF-IDF with its ``bigram_weight``); each fold keeps only the
    n-grams of its training texts and fits its idf and ratios there, as the printed baseline's cross-validation
    does (:func:`zoo.evaluation.baselines.cross_validate`, its folds too: :func:`zoo.evaluation.baselines.cv_folds`).

    Why a choice: the baseline takes the stronger of the two (issue #34), and neither is stronger everywhere:
    NBSVM is the strong one on sentiment in long reviews (Wang & Manning 2012), TF-IDF on topics. Why
    cross-validation, not the validation split: the split is a tenth of the texts, too few to tell two linear
    models apart when the training set is small (``bench/ngram_weighting.py`` compares both on the README's
    datasets).

    >>> counts = sp.csr_matrix(np.array([[2, 0, 1], [1, 0, 0], [0, 3, 1], [0, 1, 0]] * 3))
    >>> choose_weighting(counts, np.array([0, 0, 1, 1] * 3), np.zeros(3, bool), None)[0]
    'tfidf'
    """
    y, counts = np.asarray(y), sp.csr_matrix(counts)
    if len(y) > WEIGHTING_CV_TEXTS:  # a seeded share decides: the cost stays bounded on a large training set
        kept = np.sort(np.random.default_rng(seed).permutation(len(y))[:WEIGHTING_CV_TEXTS])
        y, counts = y[kept], counts[kept]
    k = cv_folds(y)
    if not k:
        return "tfidf", {"accuracy": {}, "folds": 0}
    from sklearn.model_selection import StratifiedKFold

    right, classes = {name: [] for name in WEIGHTINGS}, int(y.max()) + 1
    for train, held in StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
        seen = np.flatnonzero(np.bincount(counts[train].indices, minlength=counts.shape[1]) > 0)
        fold, fold_longer = counts[:, seen], np.asarray(longer)[seen]
        for name, fit in _FITS.items():
            fitted = fit(fold[train], y[train], classes, seed, class_weight, fold_longer, bigram_weight)
            logits = _scores(fitted, fold[held], fold_longer, bigram_weight, name)
            right[name].append(np.asarray(logits).argmax(-1) == y[held])
    accuracy = {name: float(np.mean(np.concatenate(r))) for name, r in right.items()}
    return ("nb" if accuracy["nb"] > accuracy["tfidf"] else "tfidf"), {
        "accuracy": {name: round(a, 4) for name, a in accuracy.items()}, "folds": k, "texts": len(y)}


def fit_multi_label_ngram_path(texts, y, max_tokens, valid_texts=(), valid_y=None, seed=0, ngrams="auto",
                               class_weight=None, temperature=None, bigram_weight="auto"):
    """The n-gram path of a multi-label classifier: one ``LinearSVC`` per label (one-vs-rest) on the same TF-IDF
    features as :func:`fit_ngram_path`'s, each label's margin a logit column; returns ``(layer, info)``.

    ``y`` is the 0/1 matrix ``(texts, labels)``. One temperature for all
    labels, the one whose ``sigmoid(t * margins)`` has the lowest binary log
    loss on the validation split, or ``temperature`` when given (the refit on
    the training and validation texts keeps the one chosen before it). A label with no positive (or no negative)
    training text gets a constant logit far below (or above) any margin. ``class_weight``: each label's SVM's
    (``"balanced"``: its positives and negatives weighed apart). ``ngrams`` and ``bigram_weight``: as for
    :func:`fit_ngram_path` (a refit keeps the features its temperature was chosen for).
    """
    from sklearn.svm import LinearSVC

    y = np.asarray(y)
    ngrams = ngrams_for(texts) if ngrams == "auto" else ngrams
    bigram_weight = bigram_weight_for(len(texts)) if bigram_weight == "auto" else bigram_weight
    vectorizer = keras.layers.TextVectorization(max_tokens=max_tokens, standardize=standardizer(STANDARDIZE),
                                                ngrams=ngrams, output_mode="count", sparse=True)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(list(texts)).batch(1024))
    vocabulary = _vocabulary(vectorizer, texts)
    counts = ngram_counts(vectorizer, texts)[:, 1:]
    idf = smooth_idf(counts)
    x = tfidf(counts, idf, longer_ngrams(vocabulary), bigram_weight)
    kernel, bias = np.zeros((counts.shape[1], y.shape[1])), np.zeros(y.shape[1])
    for label in range(y.shape[1]):
        column = y[:, label]
        if column.min() == column.max():  # always or never in training: no margin to learn
            bias[label] = -ABSENT_CLASS_LOGIT if column.max() else ABSENT_CLASS_LOGIT
            continue
        svm = LinearSVC(C=SVM_C, random_state=seed, class_weight=class_weight).fit(x, column)
        kernel[:, label], bias[label] = svm.coef_[0], svm.intercept_[0]
    layer = NgramLinear.from_arrays(vocabulary, idf, kernel, bias, ngrams=ngrams, standardize=STANDARDIZE,
                                    bigram_weight=bigram_weight, name="ngram_path")
    if temperature is None and valid_y is not None and len(valid_y):
        margins = ngram_logits(layer, valid_texts)
        temperature = min(TEMPERATURES, key=lambda t: _binary_log_loss(_sigmoid(t * margins), valid_y))
    elif temperature is None:
        temperature = DEFAULT_NGRAM_TEMPERATURE
        logger.warning(f"no validation split: the n-gram path's temperature is {DEFAULT_NGRAM_TEMPERATURE}")
    layer.kernel.assign(layer.kernel * temperature)
    layer.bias.assign(layer.bias * temperature)
    grams = "word 1-2 grams" if ngrams == NGRAMS else f"1-{ngrams} grams of characters (unspaced script)"
    logger.info(f"n-gram path: {len(vocabulary)} n-grams, a LinearSVC per label ({y.shape[1]}), temperature "
                f"{temperature:.3g}")
    return layer, {"features": len(vocabulary), "model": f"TF-IDF {grams} (sublinear tf) + a LinearSVC per label",
                   "C": SVM_C, "bigram_weight": bigram_weight, "ngrams": ngrams, "temperature": float(temperature),
                   **({"class_weight": class_weight} if class_weight else {})}


MIN_POSITIVES_FOR_OWN_WEIGHT = 10  # a label with fewer validation texts takes the weight chosen for all labels


def choose_label_weights(recurrent_probabilities, logits, y):
    """Each label's blend weight (:func:`zoo.models.hybrid.blend_multi_label`), chosen on the validation split;
    returns ``(weights, info)``.

    A label's weight is the one (of :data:`WEIGHTS`) with the lowest binary
    log loss of that label on ``y``; a label with fewer than
    :data:`MIN_POSITIVES_FOR_OWN_WEIGHT` validation texts, whose loss says
    little, takes the weight with the lowest loss over all labels. Log loss,
    not F1: the thresholds are chosen after the blend, on the same split, and
    they are what F1 depends on.

    Example:

    >>> p = np.array([[0.9, 0.2], [0.2, 0.7]], "float32")
    >>> weights, _ = choose_label_weights(p, np.zeros((2, 2), "float32"), np.array([[1, 0], [0, 1]]))
    >>> weights.tolist()
    [1.0, 1.0]
    """
    y = np.asarray(y)
    if not len(y):
        logger.warning(f"no validation split: every label's blend weight is {DEFAULT_BLEND_WEIGHT}")
        return np.full(logits.shape[1], DEFAULT_BLEND_WEIGHT, "float32"), {"chosen_on": "none: no validation split"}
    losses = np.array([[_binary_log_loss(blend_multi_label(recurrent_probabilities[:, [j]], logits[:, [j]], w),
                                         y[:, [j]]) for j in range(y.shape[1])] for w in WEIGHTS])  # (weights, labels)
    overall = float(WEIGHTS[int(np.argmin(losses.mean(axis=1)))])
    own = y.sum(axis=0) >= MIN_POSITIVES_FOR_OWN_WEIGHT
    weights = np.where(own, np.asarray(WEIGHTS)[losses.argmin(axis=0)], overall).astype("float32")
    return weights, {"chosen_on": f"the validation split ({len(y)} texts): each label's lowest log loss; labels with "
                                  f"fewer than {MIN_POSITIVES_FOR_OWN_WEIGHT} validation texts take {overall:g}, the "
                                  "lowest over all labels",
                     "overall": overall, "own_weight_labels": int(own.sum())}


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def _binary_log_loss(p, y):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def choose_temperature(margins, y):
    """The temperature (of :data:`TEMPERATURES`) whose ``softmax(t * margins)`` has the lowest log loss on ``y``."""
    return min(TEMPERATURES, key=lambda t: _log_loss(_softmax(t * margins), y))


def _class_columns(svm, features, num_classes):
    """The SVM's margins as one logit column per class (``kernel``, ``bias``).

    Two classes have one margin ``m`` for the second: logits ``[0, m]`` give
    softmax = sigmoid(m). A class without training texts (it may be only in the
    validation split) gets a logit far below any margin.
    """
    kernel = np.zeros((features, num_classes))
    bias = np.full(num_classes, ABSENT_CLASS_LOGIT)
    present = np.asarray(svm.classes_)
    if len(present) == 2:
        bias[present] = [0.0, svm.intercept_[0]]
        kernel[:, present[1]] = svm.coef_[0]
    else:
        bias[present] = svm.intercept_
        kernel[:, present] = svm.coef_.T
    return kernel, bias


def choose_blend_weight(recurrent_probabilities, logits, y, by="accuracy"):
    """The blend weight chosen on ``y``; returns ``(weight, scores)``.

    ``by="macro_f1"`` (``class_weight="balanced"``: imbalanced classes): the
    weight with the best macro F1, ties to the lower log loss; each class
    counts alike, as the weighted training asked. Else, by accuracy:

    The weight with the best accuracy on ``y`` is the reference. Every weight
    whose accuracy falls short of it by at most one standard error of the
    paired difference (per text: right with the reference and wrong with it,
    or the reverse) is as good as far as ``y`` can tell; of those, the one with
    the lowest log loss wins. This is the one-standard-error rule (Hastie,
    Tibshirani & Friedman, *The Elements of Statistical Learning*, 7.10), with
    the paired error because all weights are scored on the same texts. Why not
    the best accuracy alone: on a small split it is decided by a text or two
    (40 held-out texts chose 0.95 for 200 labels of 20 Newsgroups, see
    ``docs/hybrid.md``); log loss reads every probability, not just the argmax.

    Example:

    >>> p = np.array([[0.9, 0.1], [0.6, 0.4]], "float32")   # recurrent: right, wrong
    >>> z = np.array([[-1.0, 1.0], [-2.0, 2.0]], "float32")  # n-gram: wrong, right
    >>> 0 < choose_blend_weight(p, z, np.array([0, 1]))[0] < 1
    True
    """
    if not len(y):
        logger.warning(f"no validation split: the hybrid's blend weight is {DEFAULT_BLEND_WEIGHT}")
        return DEFAULT_BLEND_WEIGHT, {}
    right, losses, f1 = {}, {}, {}
    for w in WEIGHTS:
        q = blend(recurrent_probabilities, logits, w)
        right[float(w)], losses[float(w)] = (q.argmax(-1) == y).astype("float64"), _log_loss(q, y)
        if by == "macro_f1":
            f1[float(w)] = f1_score(y, q.argmax(-1), average="macro", zero_division=0)
    if by == "macro_f1":
        weight = max(f1, key=lambda w: (f1[w], -losses[w], w))
        return weight, {"hybrid": float(right[weight].mean()), "recurrent": float(right[1.0].mean()),
                        "ngram": float(right[0.0].mean()), "hybrid_macro_f1": float(f1[weight]),
                        "recurrent_macro_f1": float(f1[1.0]), "ngram_macro_f1": float(f1[0.0])}
    reference = max(right, key=lambda w: (right[w].mean(), -losses[w]))
    band = [w for w in right if right[reference].mean() - right[w].mean()
            <= paired_standard_error(right[reference], right[w]) + 1e-12]
    weight = min(band, key=lambda w: (losses[w], -w))
    return weight, {"hybrid": float(right[weight].mean()), "recurrent": float(right[1.0].mean()),
                    "ngram": float(right[0.0].mean())}


def paired_standard_error(a, b):
    """The standard error of ``mean(a - b)`` for per-text scores ``a`` and ``b`` of the same texts (0 for one text)."""
    d = np.asarray(a, "float64") - np.asarray(b, "float64")
    return float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0


def ngram_logits(layer, texts, batch_size=1024):
    """The layer's logits for ``texts`` (NumPy float32), in batches."""
    texts = list(texts)
    out = [layer(tf.constant(texts[i:i + batch_size])).numpy() for i in range(0, len(texts), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, layer.num_classes), "float32")


def ngram_counts(vectorizer, texts, batch_size=1024):
    """A SciPy CSR documents x n-grams count matrix of ``texts`` through an n-gram ``TextVectorization`` (column
    0 is its out-of-vocabulary count)."""
    texts, blocks = list(texts), []
    for i in range(0, len(texts), batch_size):
        s = vectorizer(tf.constant(texts[i:i + batch_size]))
        index = s.indices.numpy()
        blocks.append(sp.csr_matrix((s.values.numpy(), (index[:, 0], index[:, 1])), shape=tuple(s.dense_shape.numpy())))
    return sp.vstack(blocks).tocsr()


def smooth_idf(counts):
    """scikit-learn's smooth idf of a documents x n-grams count matrix."""
    df = np.asarray((counts > 0).sum(axis=0)).ravel()
    return np.log((1.0 + counts.shape[0]) / (1.0 + df)) + 1.0


def tfidf(counts, idf, longer=None, bigram_weight=None):
    """The n-gram path's features (:meth:`zoo.models.hybrid.NgramLinear.features`) in SciPy, for fitting it (``longer``: which columns are bigrams)."""
    x = counts.astype(np.float64)
    x.data = 1.0 + np.log(x.data)
    x = x @ sp.diags(idf)
    if bigram_weight is not None:
        blocks = [_normalised(x @ sp.diags((longer == is_longer).astype(np.float64))) for is_longer in (False, True)]
        x = blocks[0] + bigram_weight * blocks[1]
    return _normalised(x)


def _normalised(x):
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    return (sp.diags(1.0 / np.maximum(norms, 1e-12)) @ x).tocsr()


def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _log_loss(p, y):
    return float(-np.mean(np.log(np.maximum(p[np.arange(len(y)), y], 1e-12))))
