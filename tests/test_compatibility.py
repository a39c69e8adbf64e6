"""Runs saved by zoo 0.3 still load and predict as they did then (tests/fixtures/README.md)."""

import json
import shutil
from pathlib import Path

import numpy as np

from zoo.text_classifier import TextClassifier

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_a_classifier_saved_by_0_3_loads_and_predicts_as_before(tmp_path):
    expected = json.loads((FIXTURES / "classifier-0.3-probe.json").read_text(encoding="utf-8"))
    saved = tmp_path / "classifier"
    shutil.copytree(FIXTURES / "classifier-0.3", saved)  # (a copy: the test must not touch the fixture)
    clf = TextClassifier.load(saved)
    assert clf.classes_ == ["ham", "spam"] and clf.ngram_ is not None
    np.testing.assert_allclose(clf.predict_proba(expected["probe"]), expected["probabilities"], atol=1e-6)
