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


def test_a_temperature_that_helps_by_less_than_its_noise_is_not_kept():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(400, 2))
    q = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    y = np.array([rng.choice(2, p=row) for row in q])  # calibrated already: the fitted T is near 1, by chance
    temperature, record = cal.temperature_record(q, y, "the validation split")
    assert temperature == 1.0 and not record["kept"] and record["fitted"] != 1.0
    sure = np.exp(4 * z) / np.exp(4 * z).sum(-1, keepdims=True)  # four times too sure: a real improvement
    temperature, record = cal.temperature_record(sure, y, "the validation split")
    assert record["kept"] and temperature == record["fitted"] > 2


def test_platt_scaling_per_label_is_shared_unless_a_label_has_its_own_evidence():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(3000, 3)) * 2
    y = (rng.random((3000, 3)) < 1 / (1 + np.exp(-logits))).astype(int)
    p = 1 / (1 + np.exp(-(logits * np.array([0.5, 0.5, 2.0]) - 1.0)))  # all off by -1; label 2 also too sure
    scaling, record = cal.label_calibration_record(p, y, "the validation split", ["a", "b", "c"])
    assert record["shared"] is not None and record["labels_with_their_own"] >= 1
    assert 1.6 < scaling[0, 0] < 2.4 and 0.35 < scaling[0, 2] < 0.65  # each label's slope undoes its own
    assert record["ece"]["after"] < record["ece"]["before"] / 2
    thresholds = np.array([0.3, 0.5, 0.7])
    moved = cal.move_thresholds(thresholds, scaling)
    np.testing.assert_array_equal(cal.platt(p, scaling) >= moved, p >= thresholds)
    np.testing.assert_allclose(cal.move_thresholds(moved, cal.identity_scaling(3), before=scaling), thresholds,
                               atol=1e-5)
    calibrated = 1 / (1 + np.exp(-logits))
    assert cal.label_calibration_record(calibrated, y, "v", ["a", "b", "c"])[1]["shared"] is None  # nothing to fix
