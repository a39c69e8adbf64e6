"""Calibration: how far a classifier's probabilities are from how often it is right, and temperature scaling.

A classifier is calibrated when, of the texts it gives 0.8, about 80% are
right. Temperature scaling (Guo et al. 2017, "On Calibration of Modern
Neural Networks") divides the log-probabilities by one number ``T`` chosen to
minimise the log loss on the validation split; ``T > 1`` softens
overconfident probabilities, and no prediction changes (the order of each
row's probabilities is kept). zoo applies it to the final probabilities,
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


def scale(probabilities, temperature):
    """``softmax(log(p) / temperature)`` row by row, in float32."""
    z = np.log(np.maximum(np.asarray(probabilities, np.float64), EPSILON)) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def log_loss(probabilities, y):
    """The mean negative log-probability of the true classes."""
    p = np.asarray(probabilities, np.float64)[np.arange(len(y)), np.asarray(y)]
    return float(-np.mean(np.log(np.maximum(p, EPSILON)))) + 0.0  # (+ 0.0: no negative zero)


def fit_temperature(probabilities, y):
    """The temperature of the lowest log loss on ``(probabilities, y)``: a grid, then a finer one around its best
    (the loss is convex in ``1 / T``, so the grid finds its minimum's neighbourhood). 1.0 without texts."""
    if not len(y):
        return 1.0
    best = min(TEMPERATURES, key=lambda t: log_loss(scale(probabilities, t), y))
    fine = [t for t in (best * 2.0 ** (k / 64) for k in range(-8, 9)) if TEMPERATURES[0] <= t <= TEMPERATURES[-1]]
    return float(round(min(fine, key=lambda t: log_loss(scale(probabilities, t), y)), 4))


def reliability(probabilities, y, bins=ECE_BINS):
    """Per bin of top probability: ``(confidence, accuracy, count)`` arrays (a bin without texts: NaN, 0)."""
    p = np.asarray(probabilities, np.float64)
    confidence, right = p.max(axis=-1), (p.argmax(axis=-1) == np.asarray(y))
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore"):
        mean_confidence = np.bincount(which, confidence, minlength=bins) / count
        accuracy = np.bincount(which, right, minlength=bins) / count
    return mean_confidence, accuracy, count


def expected_calibration_error(probabilities, y, bins=ECE_BINS):
    """ECE: the size-weighted mean of ``|accuracy - confidence|`` over bins of top probability."""
    if not len(y):
        return 0.0
    confidence, accuracy, count = reliability(probabilities, y, bins)
    kept = count > 0
    return float(np.sum(count[kept] * np.abs(accuracy[kept] - confidence[kept])) / count.sum())


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
    temperature = fit_temperature(probabilities, y)
    ece = {"before": round(expected_calibration_error(probabilities, y), 4),
           "after": round(expected_calibration_error(scale(probabilities, temperature), y), 4)}
    logger.info(f"calibration: temperature {temperature:.3g} on {where} (expected calibration error "
                f"{ece['before']:.3f} -> {ece['after']:.3f})")
    return temperature, {"temperature": temperature, "chosen_on": where, "ece": ece}


def calibration_metrics(before, after, y, temperature):
    """What the report shows of calibration on a test split: the temperature, ECE and log loss before and after
    it, each one's reliability bins (for the diagram) and the accuracy kept at each confidence level."""
    def bins(p):
        confidence, accuracy, count = reliability(p, y)
        return {"confidence": [None if np.isnan(c) else round(float(c), 4) for c in confidence],
                "accuracy": [None if np.isnan(a) else round(float(a), 4) for a in accuracy],
                "count": count.tolist()}

    return {"temperature": float(temperature),
            "ece": {"before": round(expected_calibration_error(before, y), 4),
                    "after": round(expected_calibration_error(after, y), 4)},
            "log_loss": {"before": round(log_loss(before, y), 4), "after": round(log_loss(after, y), 4)},
            "reliability": {"before": bins(before), "after": bins(after)},
            "coverage": coverage_curve(after, y)}

