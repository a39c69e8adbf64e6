"""The fit record is typed, names the procedure that ran, and survives save and load (0.3's untyped dict too)."""

import json
import shutil
from pathlib import Path

from zoo.text_classifier import TextClassifier
from zoo.training.fit_record import FitRecord

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_a_fit_records_its_procedure_and_the_record_is_saved_and_loaded(tmp_path):
    texts = ["great fun film", "loved every minute", "boring and slow", "a dull mess"] * 6
    labels = ["pos", "pos", "neg", "neg"] * 6
    clf = TextClassifier(init="none", units=4, embedding_dim=4, epochs=1, verbose=0)
    clf.fit(texts, labels, validation_data=(texts[:8], labels[:8]))
    record = clf.fit_record_
    assert isinstance(record, FitRecord) and record.procedure == "word_vectors" and record.model == "bilstm"
    assert record.epochs_run == len(clf.history_) == 1 and record.hybrid["blend_weight"] == clf.blend_weight_
    assert record.calibration["temperature"] == clf.calibration_ and record.replicas == 1
    assert clf.fit_info_ == record.to_dict() and "vector_coverage" not in clf.fit_info_  # (None fields left out)
    clf.save(tmp_path / "saved")
    assert TextClassifier.load(tmp_path / "saved").fit_record_ == record


def test_0_3s_untyped_record_loads_typed_and_keeps_unknown_keys(tmp_path):
    saved = tmp_path / "classifier"
    shutil.copytree(FIXTURES / "classifier-0.3", saved)
    old = json.loads((saved / "classifier.json").read_text(encoding="utf-8"))["fit_info"]
    record = TextClassifier.load(saved).fit_record_
    assert record.procedure is None and record.model == "bilstm" and record.hybrid == old["hybrid"]
    assert record.to_dict() == old  # what 0.3 wrote, written again unchanged
    newer = FitRecord.from_dict({**old, "explanations": {"method": "integrated_gradients"}})
    assert newer.other == {"explanations": {"method": "integrated_gradients"}}
    assert newer.to_dict()["explanations"] == {"method": "integrated_gradients"}
