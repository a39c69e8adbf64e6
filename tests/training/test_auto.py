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
def test_auto_compares_the_candidates_on_validation_and_keeps_the_best(artifact_dir, tmp_path, monkeypatch):
    texts, labels = _data(48, 0)
    valid = _data(16, 1)
    before_refit = []

    def refit(chosen, *args):  # what the compared model predicts, before its n-gram path trains on validation too
        before_refit.append((chosen.predict(valid[0]), chosen.ngram_))
        refit_ngram_path(chosen, *args)

    refit_ngram_path = auto._refit_ngram_path
    monkeypatch.setattr(auto, "_refit_ngram_path", refit)
    clf = TextClassifier(**TINY, auto_vectors=_vectors(tmp_path / "v.txt"))
    clf.fit(texts, labels, validation_data=valid)
    report = clf.fit_info_["auto"]
    names = [c["name"] for c in report["candidates"]]
    assert names[:3] == ["vectors", "lm_probe", "ulmfit"] and len(names) == 4
    assert report["validation"] == "the validation split"
    scores = {c["name"]: c["valid_accuracy"] for c in report["candidates"]}
    first, second = auto.pair(report["candidates"][:3])
    assert names[3] == f"{first['name']}+{second['name']}" and report["candidates"][3]["members"] == [
        first["name"], second["name"]]
    assert scores[report["chose"]] == max(scores.values())
    chosen = next(c for c in report["candidates"] if c["name"] == report["chose"])
    assert clf.settings_.init == (chosen.get("settings") or first["settings"])["init"]
    assert len(clf.companions_) == (1 if chosen.get("members") else 0)
    (predicted, ngram), = before_refit
    accuracy = np.mean(np.array(predicted) == np.array(valid[1]))
    assert accuracy == pytest.approx(scores[report["chose"]])  # the compared models themselves
    # Then, everything chosen, the n-gram path trains on the validation texts too, as fit's ngram_refit does.
    assert clf.ngram_ is not ngram and clf.fit_info_["hybrid"]["refit"]["texts"] == 64 and clf.settings_.ngram_refit


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
    assert len(clf._baseline_data[0]) == 40  # trained again on every labelled text
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


@pytest.mark.slow
def test_a_winning_pair_is_trained_again_on_all_as_one_classifier(artifact_dir, tmp_path, monkeypatch):
    texts, labels = _data(40, 3)
    # Whatever the tiny data says, the pair wins here: what follows a pair's win is under test.
    monkeypatch.setattr(auto, "best", lambda results: next(r for r in results if r.get("members")))
    # A budget (0.6 s of estimates) for the vectors, the fine-tuning and the probe but not ULMFiT (0.8 s): the pair
    # is the two that ran (the comparison of all three is the test above), and a skip leaves the pair as it is.
    clf = TextClassifier(**{**TINY, "auto_budget": 0.01}, auto_vectors=_vectors(tmp_path / "v.txt"))
    clf.fit(texts, labels, validation_data=([], []))
    report = clf.fit_info_["auto"]
    assert [c["name"] for c in report["candidates"] if c.get("skipped")] == ["ulmfit"]
    pair = report["candidates"][-1]
    assert sorted(pair["members"]) == ["lm_probe", "vectors"]
    assert report["chose"] == pair["name"] and len(clf.companions_) == 1
    first, second = (next(c for c in report["candidates"] if c["name"] == n) for n in pair["members"])
    assert clf.settings_.init == first["settings"]["init"]
    assert clf.companions_[0].settings_.init == second["settings"]["init"] and clf.companions_[0].ngram_ is None
    assert len(clf._baseline_data[0]) == 40 and len(clf.companions_[0]._baseline_data[0]) == 40  # both on all
    assert clf.blend_weight_ == pair["blend_weight"] == clf.fit_info_["hybrid"]["blend_weight"]
    assert not clf.fit_info_["hybrid"]["valid_accuracy"]  # the report says: chosen by the comparison, then fixed
    clf.save(tmp_path / "c")
    probe = texts[:5] + ["w1 w2 unknown"]
    np.testing.assert_array_equal(TextClassifier.load(tmp_path / "c").predict_proba(probe), clf.predict_proba(probe))



def test_a_language_model_that_cannot_read_the_script_gives_way_and_chinese_is_counted_by_characters(monkeypatch):
    settings = ClassifierConfig(init="auto")  # the committed language model: an English vocabulary
    chinese = ["这本书很好看，值得一读", "质量太差了，不推荐"] * 3
    init, why = auto.language_model(settings, chinese)
    assert "vocabulary holds under 50% of their characters" in why
    assert init == "lm:zh-pd1998-char-lm"  # the committed Chinese one instead
    thai = ["หนังสือเล่มนี้ดีมาก", "คุณภาพแย่มาก ไม่แนะนำ"] * 3
    assert auto.language_model(settings, thai)[0] is None  # the Chinese model does not read Thai either
    assert auto.language_model(settings, ["a great read", "poor quality"]) == (settings.auto_lm, None)
    monkeypatch.setattr("zoo.training.auto.list_pretrained", lambda: ["wiki-books-lstm-lm-v2"])
    assert auto.language_model(settings, chinese)[0] is None  # none reads Chinese: the candidates are skipped
    assert auto.word_count(["这本书很好看 ok"]) == 7  # six characters and a word, not two "words"
    assert auto.word_count(chinese) == sum(len(t) for t in chinese)  # each character, the comma too
