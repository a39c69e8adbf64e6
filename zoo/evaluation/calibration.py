"""Calibration: how far a classifier's probabilities are from how often it is right, and temperature scaling.

A classifier is calibrated when, of the texts it gives 0.8, about 80% are
right. Temperature scaling (Guo et al. 2017, "On Calibration of Modern
Neural Networks") divides the log-probabilities by one number ``T`` chosen to
minimise the log loss on the validation split; ``T > 1`` softens
overconfident probabilities, and no prediction changes (the order of each
row's probabilities is kept). The temperature is kept only where it lowers
the validation log loss by more than twice the standard error of the
per-text improvement (:func:`significant`); else the probabilities stay as
they are (1.0). zoo applies it to the final probabilities,
after the hybrid's blend (:class:`zoo.models.text_model.TemperatureScaling`
in the one raw-text model, so the export carries it).

The expected calibration error (ECE) bins the texts by their top
probability (15 equal-width bins) and averages ``|accuracy - confidence|``
over the bins, weighted by their sizes.

Example:

>>> p = np.array([[0.99, 0.01], [0.98, 0.02], [0.97, 0.03], [0.96, 0.04]])
>>> y = np.array([0, 1, 0, 1])  # half right at ~0.98: overconfident
>>> t = fit_temperature(p, y)
>>> t > 1, round(expected_calibration_error(p, y), 2), expected_calibration_error(scale(p, t), y) < 0.1
(True, 0.47, True)
"""

import numpy as np

from zoo.log import logger

EPSILON = 1e-7
# Temperatures tried: 0.5 ... 16 in steps of 2 ** (1 / 8), then a finer step around the best. At most twice as
# sharp: on a small validation split that the model gets all right, the log loss falls as T goes to 0, and the
# probabilities would become 0 and 1.
TEMPERATURES = tuple(2.0 ** (k / 8) for k in range(-8, 33))
ECE_BINS = 15
CONFIDENCE_LEVELS = tuple(round(0.05 * k, 2) for k in range(20))  # 0.0, 0.05, ..., 0.95
# A fitted temperature is kept only where it lowers the validation log loss by more than this many standard errors
# of the per-text improvement: fitted and judged on the same texts, a temperature always "helps" there, and on a
# validation split the model gets almost all right (SMS spam: 446 texts, T 0.968, an improvement of 0.09 standard
# errors) it is noise that made the test ECE worse (0.0063 -> 0.0065).
MIN_IMPROVEMENT_SE = 2.0


def scale(probabilities, temperature):
    """``softmax(log(p) / temperature)`` row by row, in float32."""
    z = np.log(np.maximum(np.asarray(probabilities, np.float64), EPSILON)) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def log_loss(probabilities, y):
    """The mean negative log-probability of the true classes."""
    return float(np.mean(_text_losses(probabilities, y))) + 0.0  # (+ 0.0: no negative zero)


def fit_temperature(probabilities, y):
    """The temperature of the lowest log loss on ``(probabilities, y)``: a grid, then a finer one around its best
    (the loss is convex in ``1 / T``, so the grid finds its minimum's neighbourhood). 1.0 without texts."""
    if not len(y):
        return 1.0
    best = min(TEMPERATURES, key=lambda t: log_loss(scale(probabilities, t), y))
    fine = [t for t in (best * 2.0 ** (k / 64) for k in range(-8, 9)) if TEMPERATURES[0] <= t <= TEMPERATURES[-1]]
    return float(round(min(fine, key=lambda t: log_loss(scale(probabilities, t), y)), 4))


def significant(before_losses, after_losses):
    """Whether the per-text losses after fall below those before by more than ``MIN_IMPROVEMENT_SE`` standard
    errors of their mean difference (per column, for a matrix of losses per text and label).

    >>> significant(np.array([1.0, 1.0, 1.0, 1.0]), np.array([0.5, 0.6, 0.5, 0.6]))
    True
    >>> significant(np.array([1.0, 0.2, 1.0, 0.2]), np.array([0.8, 0.4, 0.8, 0.3]))
    False
    """
    gain = np.asarray(before_losses, np.float64) - np.asarray(after_losses, np.float64)
    if len(gain) < 2:
        return np.zeros(gain.shape[1:], bool) if gain.ndim > 1 else False
    se = gain.std(axis=0, ddof=1) / np.sqrt(len(gain))
    better = gain.mean(axis=0) > MIN_IMPROVEMENT_SE * se
    return better if gain.ndim > 1 else bool(better)


def _text_losses(probabilities, y):
    return -np.log(np.maximum(np.asarray(probabilities, np.float64)[np.arange(len(y)), np.asarray(y)], EPSILON))


def _label_losses(probabilities, y):
    p, y = np.clip(np.asarray(probabilities, np.float64), EPSILON, 1 - EPSILON), np.asarray(y, np.float64)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


def _binned(probabilities, outcomes, bins):
    """``probabilities`` in ``bins`` equal-width bins: each bin's mean probability, mean outcome and count
    (a bin without any: NaN, NaN, 0)."""
    p, outcomes = np.ravel(np.asarray(probabilities, np.float64)), np.ravel(np.asarray(outcomes, np.float64))
    which = np.minimum((p * bins).astype(int), bins - 1)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore"):
        return np.bincount(which, p, minlength=bins) / count, np.bincount(which, outcomes, minlength=bins) / count, count


def _calibration_error(binned):
    """The size-weighted mean of ``|mean outcome - mean probability|`` over :func:`_binned`'s bins."""
    confidence, outcome, count = binned
    kept = count > 0
    return float(np.sum(count[kept] * np.abs(outcome[kept] - confidence[kept])) / count.sum())


def _bins_record(binned):
    """:func:`_binned`'s bins as the report keeps them (the diagram's points; None for an empty bin)."""
    confidence, outcome, count = binned
    return {"confidence": [None if np.isnan(c) else round(float(c), 4) for c in confidence],
            "accuracy": [None if np.isnan(a) else round(float(a), 4) for a in outcome], "count": count.tolist()}


def reliability(probabilities, y, bins=ECE_BINS):
    """Per bin of top probability: ``(confidence, accuracy, count)`` arrays (a bin without texts: NaN, 0)."""
    p = np.asarray(probabilities, np.float64)
    return _binned(p.max(axis=-1), p.argmax(axis=-1) == np.asarray(y), bins)


def expected_calibration_error(probabilities, y, bins=ECE_BINS):
    """ECE: the size-weighted mean of ``|accuracy - confidence|`` over bins of top probability."""
    return _calibration_error(reliability(probabilities, y, bins)) if len(y) else 0.0


def coverage_curve(probabilities, y, levels=CONFIDENCE_LEVELS):
    """Abstaining below each confidence level: ``[{"min_confidence", "coverage", "accuracy"}]`` (the share of
    texts answered and the accuracy on them; accuracy None when none is answered)."""
    p = np.asarray(probabilities, np.float64)
    confidence, right = p.max(axis=-1), (p.argmax(axis=-1) == np.asarray(y))
    rows = []
    for level in levels:
        answered = confidence >= level
        rows.append({"min_confidence": float(level), "coverage": round(float(answered.mean()), 4),
                     "accuracy": round(float(right[answered].mean()), 4) if answered.any() else None})
    return rows


def temperature_record(probabilities, y, where):
    """``(temperature, record)``: the temperature fitted on ``probabilities`` (the uncalibrated ones of texts
    labelled ``y``; None without texts: 1.0) and what to report of it (``fit_info_["calibration"]``)."""
    if probabilities is None or not len(y):
        logger.warning("calibration: no validation split: the probabilities are not temperature-scaled")
        return 1.0, {"temperature": 1.0, "chosen_on": "none: no validation split"}
    fitted = fit_temperature(probabilities, y)
    kept = significant(_text_losses(probabilities, y), _text_losses(scale(probabilities, fitted), y))
    temperature = fitted if kept else 1.0
    ece = {"before": round(expected_calibration_error(probabilities, y), 4),
           "after": round(expected_calibration_error(scale(probabilities, temperature), y), 4)}
    logger.info(f"calibration: temperature {temperature:.3g} on {where} (expected calibration error "
                f"{ece['before']:.3f} -> {ece['after']:.3f})" + ("" if kept else f"; the fitted {fitted:.3g} "
                "lowered the log loss there by less than its noise"))
    return temperature, {"temperature": temperature, "chosen_on": where, "ece": ece, "fitted": fitted,
                         "kept": bool(kept)}


def calibration_metrics(before, after, y, temperature):
    """What the report shows of calibration on a test split: the temperature, ECE and log loss before and after
    it, each one's reliability bins (for the diagram) and the accuracy kept at each confidence level."""
    return {"temperature": float(temperature),
            "ece": {"before": round(expected_calibration_error(before, y), 4),
                    "after": round(expected_calibration_error(after, y), 4)},
            "log_loss": {"before": round(log_loss(before, y), 4), "after": round(log_loss(after, y), 4)},
            "reliability": {name: _bins_record(reliability(p, y)) for name, p in (("before", before), ("after", after))},
            "coverage": coverage_curve(after, y)}


# === Multi-label: Platt scaling per label ===
#
# Each label's probability is a sigmoid of its own, so each label is calibrated on its own:
# ``sigmoid(a * logit(p) + b)`` (Platt 1999; a temperature is ``a = 1 / T`` with ``b = 0``). A slope alone cannot
# move 0.5, and a multi-label hybrid's probabilities are off there (debtags: of the label probabilities near 0.5,
# about 80% are right), so each label gets a bias too. Most labels have few positives in the validation split, so
# the fit is hierarchical: one (a, b) for all labels first, kept if it lowers the validation log loss beyond its
# noise (:func:`significant`), then a label's own (a, b) only where it beats the shared one beyond its noise. The
# map is increasing (``a > 0``), so the thresholds move with it (:func:`move_thresholds`) and no predicted label
# set changes. The ECE of a multi-label classifier bins every (text, label) probability and compares it with how
# often the label is there (a reliability diagram of probabilities, not of a top class).

def _logit(p):
    p = np.clip(np.asarray(p, np.float64), EPSILON, 1 - EPSILON)
    return np.log(p) - np.log1p(-p)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def uniform_scaling(labels, slope=1.0, bias=0.0):
    """One slope and bias for every label, as a ``(2, labels)`` float32 array (by default the identity)."""
    return np.array([[slope] * labels, [bias] * labels], np.float32)


def identity_scaling(labels):
    """The calibration that changes nothing: slopes 1, biases 0, as a ``(2, labels)`` array."""
    return uniform_scaling(labels)


def platt(probabilities, scaling):
    """``sigmoid(a * logit(p) + b)`` column by column (``scaling``: a ``(2, labels)`` array of slopes and biases)."""
    slope, bias = np.asarray(scaling, np.float64)
    return _sigmoid(slope * _logit(probabilities) + bias).astype(np.float32)


def move_thresholds(thresholds, scaling, before=None):
    """Thresholds on probabilities calibrated by ``before`` (None: none) moved to the same cuts under ``scaling``."""
    if before is not None:  # back to the uncalibrated probabilities' cuts first
        slope, bias = np.asarray(before, np.float64)
        thresholds = _sigmoid((_logit(thresholds) - bias) / slope)
    return platt(thresholds, scaling)


def binary_log_loss(probabilities, y):
    """Per label: the mean binary cross-entropy of the probabilities against the 0/1 matrix ``y``."""
    return _label_losses(probabilities, y).mean(axis=0)


def _fit_platt(z, y):
    """``(a, b)`` of the logistic regression of ``y`` on ``z`` (scikit-learn, practically unregularised); None
    where it is not increasing or ``y`` has one value only."""
    # (scikit-learn: imported only where a multi-label model calibrates)
    from sklearn.linear_model import LogisticRegression

    z, y = np.ravel(z), np.ravel(y)
    if y.min() == y.max():
        return None
    fitted = LogisticRegression(C=1e6, max_iter=1000).fit(z[:, None], y)
    slope, bias = float(fitted.coef_[0, 0]), float(fitted.intercept_[0])
    return (round(slope, 4), round(bias, 4)) if slope > 0 else None


def fit_label_scaling(probabilities, y):
    """The hierarchical fit above: ``(scaling, shared, own)``: the ``(2, labels)`` slopes and biases, the shared
    ``(a, b)`` or None where it was not kept, and how many labels kept their own."""
    y = np.asarray(y)
    labels = np.shape(probabilities)[1]
    scaling = identity_scaling(labels)
    if not len(y):
        return scaling, None, 0
    z = _logit(probabilities)
    shared = _fit_platt(z, y)
    if shared is not None:
        candidate = uniform_scaling(labels, *shared)
        if significant(_label_losses(probabilities, y).sum(1), _label_losses(platt(probabilities, candidate), y).sum(1)):
            scaling = candidate
        else:
            shared = None
    own = 0
    for j in range(labels):
        fitted = _fit_platt(z[:, j], y[:, j])
        if fitted is None:
            continue
        column = np.array([[fitted[0]], [fitted[1]]])
        if significant(_label_losses(platt(probabilities[:, [j]], scaling[:, [j]]), y[:, [j]])[:, 0],
                       _label_losses(platt(probabilities[:, [j]], column), y[:, [j]])[:, 0]):
            scaling[:, j], own = fitted, own + 1
    return scaling, shared, own


def probability_reliability(probabilities, y, bins=ECE_BINS):
    """Per bin of every (text, label) probability: ``(mean probability, share of labels present, count)``."""
    return _binned(probabilities, y, bins)


def label_calibration_error(probabilities, y, bins=ECE_BINS):
    """The multi-label ECE: :func:`probability_reliability`'s bins, ``|share present - mean probability|``
    weighted by their sizes."""
    return _calibration_error(probability_reliability(probabilities, y, bins)) if np.size(y) else 0.0


def label_calibration_record(probabilities, y, where, names):
    """``(scaling, record)`` of a multi-label classifier: :func:`fit_label_scaling` on ``probabilities``
    (uncalibrated, of texts labelled ``y``, a 0/1 matrix; None without texts: the identity) and what to report."""
    if probabilities is None or not len(y):
        logger.warning("calibration: no validation split: the probabilities are not calibrated")
        return identity_scaling(len(names)), {"chosen_on": "none: no validation split"}
    scaling, shared, own = fit_label_scaling(probabilities, y)
    ece = {"before": round(label_calibration_error(probabilities, y), 4),
           "after": round(label_calibration_error(platt(probabilities, scaling), y), 4)}
    logger.info(f"calibration: Platt scaling on {where}: " + (f"shared slope {shared[0]:.3g}, bias {shared[1]:.3g}"
                if shared else "no shared scaling (it helped by less than its noise)")
                + f"; {own} of {len(names)} labels their own (expected calibration error {ece['before']:.3f} -> "
                f"{ece['after']:.3f})")
    return scaling, {"slopes": dict(zip(names, scaling[0].tolist())), "biases": dict(zip(names, scaling[1].tolist())),
                     "shared": None if shared is None else {"slope": shared[0], "bias": shared[1]},
                     "labels_with_their_own": own, "chosen_on": where, "ece": ece}


def label_calibration_metrics(before, after, y, scaling):
    """What the report shows of a multi-label classifier's calibration on a test split: the slopes' and biases'
    ranges, the ECE over every (text, label) probability and the mean binary log loss before and after, each
    label's ECE averaged, and the reliability bins (for the diagram)."""
    y = np.asarray(y)
    slope, bias = np.asarray(scaling, np.float64)
    per_label = {name: [label_calibration_error(p[:, j], y[:, j]) for j in range(y.shape[1])]
                 for name, p in (("before", before), ("after", after))}
    return {"multi_label": True,
            "scaling": {name: {"min": float(v.min()), "median": float(np.median(v)), "max": float(v.max())}
                        for name, v in (("slope", slope), ("bias", bias))},
            "ece": {"before": round(label_calibration_error(before, y), 4),
                    "after": round(label_calibration_error(after, y), 4)},
            "mean_label_ece": {name: round(float(np.mean(v)), 4) for name, v in per_label.items()},
            "log_loss": {"before": round(float(binary_log_loss(before, y).mean()), 4),
                         "after": round(float(binary_log_loss(after, y).mean()), 4)},
            "reliability": {name: _bins_record(probability_reliability(p, y))
                            for name, p in (("before", before), ("after", after))}}
