import itertools

import numpy as np

from zoo.evaluation import calibration as cal


def test_temperature_softens_overconfident_probabilities_without_changing_a_prediction():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(2000, 3))
    q = np.exp(z) / np.exp(z).sum(-1, keepdims=True)  # how likely each class really is
    y = np.array([rng.choice(3, p=row) for row in q])
    p = np.exp(3 * z) / np.exp(3 * z).sum(-1, keepdims=True)  # a model three times too sure
    t = cal.fit_temperature(p, y)
    after = cal.scale(p, t)
    assert 2.5 < t < 3.5 and (after.argmax(-1) == p.argmax(-1)).all()
    assert cal.log_loss(after, y) < cal.log_loss(p, y)
    assert cal.expected_calibration_error(after, y) < cal.expected_calibration_error(p, y)
    report = cal.calibration_metrics(p, after, y, t)
    assert report["ece"]["after"] < report["ece"]["before"] and sum(report["reliability"]["after"]["count"]) == 2000
    coverage = report["coverage"]
    assert coverage[0] == {"min_confidence": 0.0, "coverage": 1.0, "accuracy": round(float(np.mean(p.argmax(-1) == y)), 4)}
    assert all(a["coverage"] >= b["coverage"] for a, b in itertools.pairwise(coverage))


def test_no_validation_texts_means_no_temperature():
    assert cal.temperature_record(None, np.zeros(0, int), "the validation split") == (
        1.0, {"temperature": 1.0, "chosen_on": "none: no validation split"})
