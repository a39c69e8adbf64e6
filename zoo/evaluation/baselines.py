"""The baseline printed beside zoo: the stronger of two simple models, trained on every labelled text zoo was given.

Why (issue #34, "a fair baseline"): up to zoo 0.3 the baseline was TF-IDF + LinearSVC trained on the training
texts less the validation split zoo held out for itself. A baseline that sees fewer labels, and is one fixed
model where another simple one does better, flatters zoo. So :func:`fair_baseline`

* trains on all the labelled texts (zoo's training and validation texts; :class:`zoo.TextClassifier` passes
  them);
* compares two candidates by seeded stratified k-fold cross-validation accuracy on those texts
  (:func:`cross_validate`), refits the better one on all of them, and tests it:

  - ``TF-IDF + LinearSVC``: TF-IDF (sublinear tf) + ``LinearSVC(C=1)``, the baseline of zoo 0.1-0.3;
  - ``NBSVM`` (Wang & Manning 2012, :class:`NBSVM`): binarised n-gram counts scaled by the naive-Bayes
    log-count ratio of each class, then a linear SVM.

Features (:func:`feature_kind`): word 1-2 grams (scikit-learn's default token pattern), or, for texts mostly in a
script written without spaces (Chinese, Japanese: :func:`zoo.data.tokenize.is_unspaced` of the training texts),
character 1-3 grams seen in at least 2 texts (where scikit-learn's word tokens are whole clauses). On the
Chinese reviews (``zh_reviews``, trained on its 13,890 training texts) the test accuracy is then 0.850 for
TF-IDF + LinearSVC (0.718 with word 1-2 grams) and 0.851 for NBSVM; 3-fold CV chose TF-IDF + LinearSVC (0.849
against 0.843).

Example:

>>> texts = ["good fun", "great fun", "good film", "bad film", "awful film", "bad fun"] * 3
>>> labels = [1, 1, 1, 0, 0, 0] * 3
>>> result = fair_baseline(texts, labels, ["good day", "awful day"], [1, 0], ["neg", "pos"])
>>> result["accuracy"], result["chosen_by"]["folds"], result["chosen_by"]["features"]
(1.0, 5, 'word')
>>> sorted(result["chosen_by"]["cv_accuracy"])
['NBSVM', 'TF-IDF + LinearSVC']
"""

import time

import numpy as np
import scipy.sparse as sp

from zoo.errors import DataError
from zoo.evaluation.metrics import classification_metrics, multi_label_metrics
from zoo.lazy import lazy_module
from zoo.log import logger

tokenize = lazy_module("zoo.data.tokenize")  # (TensorFlow: imported only when the baseline runs)

WORD, CHAR = "word", "char"
TFIDF_SVM, NBSVM_NAME = "TF-IDF + LinearSVC", "NBSVM"
FOLDS = 5
# Why 3 folds above this many texts: the cross-validation refits both candidates once per fold; on all of 20
# Newsgroups (11,314 texts, 20 classes, 2 shared cores) 5 folds took 50-65 s beside a ~5-minute main job, 3 folds
# 26-34 s (both chose TF-IDF + LinearSVC: 0.765 and 0.757 against NBSVM's 0.718 and 0.703), and with that many
# texts each fold's accuracy is already measured on thousands of them.
MANY_TEXTS, FOLDS_FOR_MANY = 5000, 3
SVM_C = 1.0
NB_ALPHA = 1.0  # Laplace smoothing of the naive-Bayes counts, as in Wang & Manning (2012)


def feature_kind(texts):
    """``"char"`` for texts mostly in a script written without spaces (:func:`zoo.data.tokenize.is_unspaced`),
    else ``"word"``.

    Why: in Chinese or Japanese, scikit-learn's token pattern reads a whole clause as one "word", which a test
    text seldom repeats; characters and their short runs are what the texts share.
    """
    return CHAR if tokenize.is_unspaced(texts) else WORD


def describe_features(kind):
    """``"word 1-2 grams"`` or ``"char 1-3 grams"``."""
    return "char 1-3 grams" if kind == CHAR else "word 1-2 grams"


def count_vectorizer(kind):
    """The n-gram counter of both candidates: word 1-2 grams, or char 1-3 grams seen in at least 2 texts."""
    from sklearn.feature_extraction.text import CountVectorizer

    if kind == CHAR:
        return CountVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2)
    return CountVectorizer(ngram_range=(1, 2))


def tfidf_vectorizer(kind):
    """TF-IDF (sublinear tf) of :func:`count_vectorizer`'s n-grams, for a model that takes raw texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if kind == CHAR:
        return TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)


def binarize(counts):
    """0/1 float64 copy of a sparse count matrix (NBSVM's features: whether an n-gram occurs, not how often)."""
    binary = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    binary.data[:] = 1.0
    return binary


def nb_log_count_ratio(features, positive, alpha=NB_ALPHA):
    """The naive-Bayes log-count ratio ``r = log((p / |p|_1) / (q / |q|_1))`` of each feature, where ``p`` and
    ``q`` are ``alpha`` plus the feature's sums over the positive and the other texts.

    Example:

    >>> r = nb_log_count_ratio(sp.csr_matrix([[1, 0], [1, 1], [0, 1]]), np.array([True, True, False]))
    >>> np.round(r, 3).tolist()
    [0.588, -0.511]
    """
    positive = np.asarray(positive, bool)
    p = alpha + np.asarray(features[positive].sum(0)).ravel()
    q = alpha + np.asarray(features[~positive].sum(0)).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


class NBSVM:
    """NBSVM (Wang & Manning 2012): a linear SVM on binarised n-gram counts scaled by the naive-Bayes log-count
    ratio, one-vs-rest beyond two classes (one ratio and one SVM per class; the class with the largest decision
    value wins).

    Two choices, measured on 20 Newsgroups (train 11,314 texts, test 7,532, word 1-2 grams):

    * ``LinearSVC(C=1)`` on the scaled features with each text's row L2-normalised: 0.663 test accuracy in 8-11 s
      on 2 cores (TF-IDF + LinearSVC: 0.708 in 6-8 s). Without the normalisation liblinear did not converge in
      its 1,000 iterations (14 s, 0.568), nor did the paper's interpolation ``beta=0.25`` help (0.569; on SMS
      spam it fell from 0.979 to 0.890); ``LogisticRegression(C=4)`` on the normalised features was slower and
      worse (12 s, 0.633), as was ``LogisticRegression(C=4)`` without it (18 s, 0.616).
    * Two classes: one SVM, for the second class (as in the paper); the first class's would be its mirror image.

    Example:

    >>> x = sp.csr_matrix([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1]])
    >>> NBSVM().fit(x, np.array([0, 0, 1, 1])).predict(sp.csr_matrix([[1, 0, 0], [0, 0, 1]])).tolist()
    [0, 1]
    """

    def __init__(self, C=SVM_C, alpha=NB_ALPHA, seed=0, class_weight=None):
        self.C, self.alpha, self.seed, self.class_weight = C, alpha, seed, class_weight

    def fit(self, counts, y):
        """Fits on a sparse count matrix (binarised here) and integer labels; returns ``self``."""
        from sklearn.svm import LinearSVC

        features, y = binarize(counts), np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise DataError(f"NBSVM: the training texts hold one class ({self.classes_.tolist()}); it needs two")
        positives = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        self.ratios_, self.svms_ = [], []
        for label in positives:
            ratio = nb_log_count_ratio(features, y == label, self.alpha)
            self.ratios_.append(ratio)
            self.svms_.append(LinearSVC(C=self.C, random_state=self.seed, class_weight=self.class_weight).fit(
                _scaled(features, ratio), y == label))
        return self

    def decision_function(self, counts):
        """``(texts,)`` with two classes (positive: the second), else ``(texts, classes)``."""
        features = binarize(counts)
        values = np.stack([svm.decision_function(_scaled(features, ratio))
                           for ratio, svm in zip(self.ratios_, self.svms_)], axis=1)
        return values[:, 0] if len(self.classes_) == 2 else values

    def predict(self, counts):
        values = self.decision_function(counts)
        return self.classes_[(values > 0).astype(int) if values.ndim == 1 else values.argmax(1)]


def _scaled(features, ratio):
    from sklearn.preprocessing import normalize

    return normalize(features @ sp.diags(ratio))


def candidates(counts, seed=0, class_weight=None):
    """Each candidate's name -> ``(features, make_classifier)``: ``features(counts)`` turns n-gram counts into
    its input (TF-IDF's idf fitted on ``counts``), ``make_classifier()`` gives an unfitted classifier
    (``class_weight``: its SVMs', scikit-learn's ``"balanced"`` or None)."""
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.svm import LinearSVC

    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
    return {TFIDF_SVM: (tfidf.transform, lambda: LinearSVC(C=SVM_C, random_state=seed, class_weight=class_weight)),
            NBSVM_NAME: (lambda c: c, lambda: NBSVM(seed=seed, class_weight=class_weight))}


def cv_folds(y, folds=FOLDS):
    """How many folds the cross-validation gets: ``folds`` (:data:`FOLDS_FOR_MANY` beyond :data:`MANY_TEXTS`
    texts), at most the size of the smallest class present, or 0 when that is under 2 (no cross-validation).

    Example:

    >>> cv_folds([0] * 10 + [1] * 3), cv_folds([0, 0, 1]), cv_folds([0, 1] * 3000)
    (3, 0, 3)
    """
    counts = np.bincount(np.asarray(y, np.int64))
    folds = min(folds, FOLDS_FOR_MANY) if len(y) > MANY_TEXTS else folds
    k = int(min(folds, counts[counts > 0].min()))
    return k if k >= 2 else 0


def cross_validate(counts, y, folds, seed=0, min_df=1, class_weight=None):
    """Each candidate's mean accuracy over seeded stratified ``folds``-fold cross-validation.

    ``counts`` are the n-gram counts of all the texts (:func:`count_vectorizer`, ``min_df`` as there). Why
    count once: counting n-grams is a fifth of the cost on 20 Newsgroups. Each fold then keeps only the n-grams
    of its training texts (in at least ``min_df`` of them) and fits its idf and NBSVM's ratios on those texts:
    what counting the fold's training texts alone would have given, so a held-out text is scored as a test text
    is (its n-grams unseen in training count for nothing, not even in its norm).
    """
    from sklearn.model_selection import StratifiedKFold

    counts, y = sp.csr_matrix(counts), np.asarray(y)
    scores = {}
    for train, held in StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
        document_frequency = np.bincount(counts[train].indices, minlength=counts.shape[1])
        fold = counts[:, np.flatnonzero(document_frequency >= min_df)]
        for name, (features, make_classifier) in candidates(fold[train], seed, class_weight).items():
            x = features(fold)
            predicted = make_classifier().fit(x[train], y[train]).predict(x[held])
            scores.setdefault(name, []).append(float(np.mean(predicted == y[held])))
    return {name: float(np.mean(s)) for name, s in scores.items()}


def fair_baseline(train_texts, train_labels, test_texts, test_labels, class_names, *, seed=0, folds=FOLDS,
                  features=None, class_weight=None):
    """The stronger of TF-IDF + LinearSVC and NBSVM by cross-validation on ``train_texts``, refitted on all of
    them and tested on ``test_texts``.

    Args:
        train_texts, train_labels: every labelled text the model beside it was given (training and validation)
            and their label ids.
        test_texts, test_labels: the test split.
        class_names: the names of the label ids.
        seed: the folds' shuffle and liblinear's coordinate order.
        folds: folds of the cross-validation (:func:`cv_folds` may take fewer).
        features: ``"word"`` or ``"char"``; None decides by :func:`feature_kind` of ``train_texts``.
        class_weight: ``"balanced"`` weighs the classes in every candidate's SVMs (as zoo does when asked to: a
            user weighing zoo's classes would weigh scikit-learn's too); None does not.

    Returns:
        :func:`zoo.evaluation.metrics.classification_metrics` of the test split, with ``model`` (what won, and
        how), ``short_name`` (for tables: ``"NBSVM word 1-2 grams"``), ``train_texts`` (how many it trained
        on), ``train_seconds`` and ``chosen_by``:
        ``{"cv_accuracy": {name: mean}, "folds": k, "features": "word"|"char", "seconds": ...}`` (``folds`` 0
        and no scores when the smallest class is too small: TF-IDF + LinearSVC then, said in ``model``).

    Raises:
        DataError: no n-gram in the training texts, or one class only.
    """
    start = time.time()
    kind = features or feature_kind(train_texts)
    y = np.asarray(train_labels, np.int64)
    if len(np.unique(y)) < 2:
        raise DataError(f"baseline: the {len(y)} labelled texts hold one class; a classifier needs two")
    vectorizer = count_vectorizer(kind)
    try:
        counts = vectorizer.fit_transform(train_texts)
    except ValueError as error:  # scikit-learn: "empty vocabulary", "After pruning, no terms remain"
        raise DataError(f"baseline: no {describe_features(kind)} in the {len(y)} training texts ({error})") from None
    k = cv_folds(y, folds)
    cv_start = time.time()
    scores = cross_validate(counts, y, k, seed, vectorizer.min_df, class_weight) if k else {}
    cv_seconds = round(time.time() - cv_start, 1)
    winner = max(scores, key=lambda name: (scores[name], name == TFIDF_SVM)) if scores else TFIDF_SVM  # ties: SVM
    features_of, make_classifier = candidates(counts, seed, class_weight)[winner]
    model = make_classifier().fit(features_of(counts), y)
    predicted = model.predict(features_of(vectorizer.transform(test_texts)))
    result = classification_metrics(test_labels, predicted, class_names)
    grams = describe_features(kind)
    if scores:
        others = ", ".join(name for name in scores if name != winner)
        how = f"chosen by {k}-fold CV over {others}"
    else:
        smallest = int(np.bincount(y)[np.bincount(y) > 0].min())
        how = f"no cross-validation: the smallest class has {smallest} text{'s' * (smallest != 1)}"
    weighed = ", classes balanced" if class_weight == "balanced" else ""
    result["model"] = f"{winner}, {grams}{weighed} ({how})"
    result["short_name"] = f"{winner} {grams}{weighed}"
    result["train_texts"] = int(len(y))
    result["train_seconds"] = round(time.time() - start, 1)
    result["chosen_by"] = {"cv_accuracy": scores, "folds": k, "features": kind, "seconds": cv_seconds}
    logger.info(f"baseline: {result['model']}" + "".join(f"; CV accuracy of {name} {score:.4f}"
                                                           for name, score in scores.items()))
    return result


def tfidf_svm_multi_label_baseline(train_texts, train_y, test_texts, test_y, class_names, C=1.0, seed=0,
                                   features=None, class_weight="auto"):
    """One-vs-rest TF-IDF (sublinear tf) + LinearSVC on 0/1 label matrices.

    Each label's own LinearSVC predicts it where its decision value is
    positive (no thresholds chosen). A label without a positive training
    text is never predicted. The n-grams are words (1-2 grams), or characters
    (1-3 grams) for texts mostly in a script written without spaces, by the
    rule of the single-label baseline (``features``: ``"word"``, ``"char"``, or
    None for :func:`feature_kind` of ``train_texts``). ``class_weight``: ``"balanced"`` weighs each label's
    positives and negatives apart in its SVM (as zoo does when asked to), None does not, and ``"auto"`` (the
    default) picks the one of higher micro F1 in a seeded 3-fold cross-validation on the training texts: with
    labels this rare, the balanced SVMs can be the stronger simple model (debtags: 0.623 against 0.561).
    """
    start = time.time()
    train_y = np.asarray(train_y, np.int64)
    kind = features or feature_kind(train_texts)
    chosen_by = None
    if class_weight == "auto":
        chosen_by = _cv_label_weighting(train_texts, train_y, class_names, kind, C, seed)
        class_weight = "balanced" if chosen_by["balanced"] > chosen_by["unweighted"] else None
    predicted = _one_vs_rest(train_texts, train_y, test_texts, kind, C, seed, class_weight)
    result = multi_label_metrics(test_y, predicted, class_names)
    weighed = ", classes balanced" if class_weight == "balanced" else ""
    result["model"] = f"one-vs-rest TF-IDF {describe_features(kind)} (sublinear tf) + LinearSVC{weighed}"
    result["short_name"] = f"one-vs-rest TF-IDF + LinearSVC {describe_features(kind)}{weighed}"
    result["features"] = kind
    result["train_texts"] = len(train_texts)
    result["train_seconds"] = round(time.time() - start, 1)
    if chosen_by:
        result["chosen_by"] = {"cv_micro_f1": chosen_by, "folds": MULTI_LABEL_FOLDS}
        result["model"] += (f" (chosen by {MULTI_LABEL_FOLDS}-fold CV over the "
                            f"{'unweighted' if class_weight else 'balanced'} one)")
    return result


MULTI_LABEL_FOLDS = 3


def _one_vs_rest(train_texts, train_y, test_texts, kind, C, seed, class_weight):
    """The 0/1 predictions of one LinearSVC per label (a label in every training text: always; in none: never)."""
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import LinearSVC

    vectorizer = tfidf_vectorizer(kind)
    try:
        matrix = vectorizer.fit_transform(train_texts)
    except ValueError as error:  # scikit-learn: "empty vocabulary", "After pruning, no terms remain"
        raise DataError(f"baseline: no {describe_features(kind)} in the {len(train_texts)} training texts "
                        f"({error})") from None
    present = np.flatnonzero(train_y.any(0) & ~train_y.all(0))  # OneVsRest needs both values in each column
    predicted = np.zeros((len(test_texts), train_y.shape[1]), np.int64)
    if len(present):
        model = OneVsRestClassifier(LinearSVC(C=C, random_state=seed, class_weight=class_weight))
        model.fit(matrix, train_y[:, present])
        predicted[:, present] = np.reshape(model.predict(vectorizer.transform(test_texts)), (len(test_texts), -1))
    predicted[:, train_y.all(0)] = 1
    return predicted


def _cv_label_weighting(texts, y, class_names, kind, C, seed):
    """Micro F1 of the unweighted and the balanced one-vs-rest SVMs, each the mean over seeded folds (each fold's
    features fitted on its own training texts); both 0 where there are too few texts to fold."""
    from sklearn.model_selection import KFold

    if len(texts) < 2 * MULTI_LABEL_FOLDS:
        return {"unweighted": 0.0, "balanced": 0.0}
    scores = {"unweighted": [], "balanced": []}
    for train, held in KFold(MULTI_LABEL_FOLDS, shuffle=True, random_state=seed).split(np.zeros(len(texts))):
        fold_texts, held_texts = [texts[i] for i in train], [texts[i] for i in held]
        for name, weight in (("unweighted", None), ("balanced", "balanced")):
            predicted = _one_vs_rest(fold_texts, y[train], held_texts, kind, C, seed, weight)
            scores[name].append(multi_label_metrics(y[held], predicted, class_names)["micro_f1"])
    return {name: round(float(np.mean(values)), 4) for name, values in scores.items()}
