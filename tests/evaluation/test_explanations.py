"""Explanations add up: the n-gram path's part is exactly its linear terms, integrated gradients are complete,
and every kind of classifier (hybrid, multi-label, ULMFiT) is explained from Python and the CLI."""

import json

import numpy as np
import pytest

from zoo.cli import main as zoo_main
from zoo.errors import ConfigError
from zoo.text_classifier import TextClassifier
from zoo.training import from_lm

TEXTS = ["great fun film", "loved every minute", "boring and slow", "a dull mess", "fun and great",
         "slow dull film"] * 6
LABELS = ["pos", "pos", "neg", "neg", "pos", "neg"] * 6


def test_a_hybrids_explanation_adds_up_and_the_cli_prints_it(tmp_path, capsys):
    clf = TextClassifier(init="none", units=8, embedding_dim=8, epochs=3, learning_rate=0.02, verbose=0)
    clf.fit(TEXTS, LABELS, validation_data=(TEXTS[:12], LABELS[:12]))
    text = "what a great fun film not slow"
    (e,) = clf.explain([text])
    assert e.tokens == ["what", "a", "great", "fun", "film", "not", "slow"] and e.label == clf.predict([text])[0]
    assert e.probability == pytest.approx(float(clf.predict_proba([text]).max()), abs=1e-6)
    np.testing.assert_allclose(e.contributions, np.add(e.recurrent, e.ngram), atol=1e-6)
    # The n-gram part is exact: its sum is (1 - w) times the class's logit over the mean logit, bias aside.
    c = clf.classes_.index(e.label)
    z = np.asarray(clf.ngram_(np.array([text])))[0]
    bias = np.asarray(clf.ngram_.bias)
    w = clf.blend_weight_
    assert sum(e.ngram) == pytest.approx((1 - w) * ((z[c] - z.mean()) - (bias[c] - bias.mean())), abs=1e-4)
    assert e.gap < 0.05 * max(abs(sum(e.recurrent)) / max(w, 1e-6), 1.0)  # integrated gradients are complete
    other = "neg" if e.label == "pos" else "pos"
    assert clf.explain([text], [other])[0].label == other
    assert e.top(2)[0][1] == max(e.contributions)
    clf.save(tmp_path / "run")
    zoo_main(["explain", str(tmp_path / "run" / "export"), text, "--json"])  # (a run's export/: its run)
    assert json.loads(capsys.readouterr().out)["tokens"] == e.tokens
    with pytest.raises(ConfigError, match="not among the classes"):
        clf.explain([text], ["maybe"])


def test_a_multi_label_classifier_is_explained_per_label():
    lists = [["pos", "fun"], ["pos"], ["neg"], ["neg", "slow"], ["pos", "fun"], ["neg", "slow"]] * 6
    multi = TextClassifier(init="none", units=4, embedding_dim=4, epochs=2, multi_label=True, verbose=0)
    multi.fit(TEXTS, lists, validation_data=(TEXTS[:12], lists[:12]))
    (e,) = multi.explain(["slow dull film"], ["slow"])
    assert e.label == "slow" and len(e.contributions) == 3 and np.isfinite(e.contributions).all()


def test_ulmfit_weighs_classes_is_explained_and_range_tested(artifact_dir, tmp_path, monkeypatch):
    """One ULMFiT fit (its language model fine-tuned once, cached) for three features: class weights reach its
    member, its explanation, and lr_find on the model fit starts from (the head alone)."""
    seen = []
    run_stages = from_lm.run_stages
    monkeypatch.setattr(from_lm, "run_stages", lambda *a, **k: seen.append(k["class_weight"]) or run_stages(*a, **k))
    words = [f"w{i}" for i in range(40)]
    texts = [" ".join(words[(i * 3 + j) % 20 + 20 * (i % 4 == 0)] for j in range(8)) for i in range(48)]
    labels = ["ab"[i % 4 == 0] for i in range(48)]  # 12 of "b", 36 of "a"
    settings = {"init": "lm:tiny", "lm_epochs": 1, "lm_batch_size": 4, "bptt": 8, "epochs": 1, "verbose": 0,
                "class_weight": "balanced", "lm_cache_dir": str(tmp_path / "lm")}
    ulmfit = TextClassifier(**settings).fit(texts, labels, validation_data=([], []))
    assert seen == [{0: pytest.approx(48 / (2 * 36)), 1: pytest.approx(48 / (2 * 12))}]
    (e,) = ulmfit.explain(texts[:1])
    assert len(e.tokens) == 8 and np.any(np.asarray(e.recurrent) != 0) and e.gap < 0.05
    test = TextClassifier(**settings).lr_find(texts, labels, validation_data=([], []), steps=30)
    assert test.stage == "head" and np.isfinite(test.losses[0])  # gradual unfreezing: the head alone first
