"""init="auto": the candidates, the budget, the choice on validation only, the refit without a validation split."""

import numpy as np
import pytest

from tests.helpers import LM_VOCAB
from zoo import TextClassifier
from zoo.config import ClassifierConfig
from zoo.errors import ConfigError
from zoo.training import auto

WORDS = [f"w{i}" for i in range(LM_VOCAB - 2)]


def _data(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    texts = [" ".join(rng.choice(WORDS[:20] if y else WORDS[20:40], 30)) for y in labels]
    return texts, ["ab"[y] for y in labels]


def _vectors(path):
    with open(path, "w") as f:
        for i, w in enumerate(WORDS):
            f.write(w + " " + " ".join(f"{((i * 7 + j) % 11) / 10 - 0.5:.2f}" for j in range(6)) + "\n")
    return str(path)


TINY = dict(init="auto", auto_lm="lm:tiny", lm_epochs=1, lm_batch_size=4, bptt=8, epochs=1, batch_size=8,
            units=4, verbose=0)


@pytest.mark.slow
def test_auto_compares_the_candidates_on_validation_and_keeps_the_best(artifact_dir, tmp_path):
    texts, labels = _data(48, 0)
    valid = _data(16, 1)
    clf = TextClassifier(**TINY, auto_vectors=_vectors(tmp_path / "v.txt"))
    clf.fit(texts, labels, validation_data=valid)
    report = clf.fit_info_["auto"]
    assert [c["name"] for c in report["candidates"]] == ["vectors", "lm_probe", "ulmfit"]
    assert report["validation"] == "the validation split"
    scores = {c["name"]: c["valid_accuracy"] for c in report["candidates"]}
    assert scores[report["chose"]] == max(scores.values())
    chosen = next(c for c in report["candidates"] if c["name"] == report["chose"])
    assert clf.settings_.init == chosen["settings"]["init"]
    accuracy = np.mean(np.array(clf.predict(valid[0])) == np.array(valid[1]))
    assert accuracy == pytest.approx(scores[report["chose"]])  # no refit: the compared model itself


@pytest.mark.slow
def test_auto_without_validation_holds_out_part_then_trains_the_winner_on_all(artifact_dir, tmp_path):
    texts, labels = _data(40, 2)
    clf = TextClassifier(**TINY, auto_vectors=_vectors(tmp_path / "v.txt"), auto_budget=1e-6)
    clf.fit(texts, labels, validation_data=([], []))
    report = clf.fit_info_["auto"]
    # A budget of nothing: the language-model candidates are skipped with their estimate, vectors always run.
    assert report["chose"] == "vectors" and [c.get("skipped") is not None for c in report["candidates"]] == [
        False, True, True]
    assert report["validation"].startswith("a seeded 20%")
    assert len(clf._train_data[0]) == 40  # trained again on every labelled text
    assert clf.blend_weight_ == clf.fit_info_["hybrid"]["blend_weight"]


def test_estimates_grow_with_the_texts():
    s = ClassifierConfig(init="auto")
    assert auto.finetune_seconds(s, ["a b c"] * 2000) == pytest.approx(2 * auto.finetune_seconds(s, ["a b c"] * 1000))
    assert auto.ulmfit_seconds(s, ["w " * 300]) == auto.ulmfit_seconds(s, ["w " * 256])  # cut at 256 tokens


def test_auto_settings_are_checked():
    with pytest.raises(ConfigError, match="`auto_lm` must be 'lm:ARTIFACT'"):
        ClassifierConfig(init="auto", auto_lm="glove-6b-50d")
    with pytest.raises(ConfigError, match="`frozen_epochs` with init='auto'"):
        ClassifierConfig(init="auto", frozen_epochs=2)
