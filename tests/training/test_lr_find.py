"""The learning-rate range test runs on the model fit would start from, for each way to start, from Python and
the CLI; it suggests a rate below the loss's minimum and stops once the loss diverges."""

import json

import numpy as np
import pytest

from zoo.cli import main as zoo_main
from zoo.errors import ConfigError
from zoo.text_classifier import TextClassifier

TEXTS = ["great fun film", "loved every minute", "boring and slow", "a dull mess"] * 16
LABELS = ["pos", "pos", "neg", "neg"] * 16


def test_word_vector_range_test_suggests_a_rate_and_fits_nothing():
    clf = TextClassifier(init="none", units=4, embedding_dim=4, verbose=0)
    # Each text has either label equally often: the best loss is log 2, and far too high a rate overshoots it.
    noisy = ["pos" if (i // 4) % 2 else "neg" for i in range(len(TEXTS))]
    test = clf.lr_find(TEXTS, noisy, start_lr=1e-5, end_lr=1e3, steps=60)
    assert test.stage == "train" and len(test.rates) == len(test.losses) == len(test.smoothed) <= 60
    assert np.all(np.diff(test.rates) > 0) and test.rates[0] == pytest.approx(1e-5)
    # Rates up to 1e3 make Adam's steps huge: the test stops before the last step, the loss diverged.
    assert len(test.rates) < 60 and test.stopped.startswith(("the loss diverged", "the loss was not finite"))
    assert test.suggested == pytest.approx(test.minimum / 10) and 1e-5 < test.minimum < 1e3
    assert not hasattr(clf, "model_")  # nothing was fitted


def test_a_multi_label_range_test_runs_on_its_sigmoid_model():
    lists = [["pos", "fun"], ["pos"], ["neg"], ["neg", "slow"]] * 16
    multi = TextClassifier(init="none", units=4, embedding_dim=4, multi_label=True, verbose=0)
    test = multi.lr_find(TEXTS, lists, steps=30)
    assert test.stage == "train" and np.isfinite(test.losses[0]) and test.losses[0] < 1.0  # (binary CE, 4 labels)
    # (ULMFiT's range test: tests/evaluation/test_explanations.py, with its one ULMFiT fit)


def test_zoo_lr_find_writes_its_folder_and_refuses_to_overwrite(tmp_path, capsys):
    rows = ["text,label"] + [f"{t},{label}" for t, label in zip(TEXTS, LABELS)]
    for split in ("train", "test"):
        (tmp_path / f"{split}.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "lr"
    argv = ["lr-find", "--train", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv"), "--init",
            "none", "--units", "4", "--embedding-dim", "4", "--steps", "30", "--output-dir", str(out)]
    zoo_main(argv)
    saved = json.loads((out / "lr_find.json").read_text())
    assert len(saved["range_test"]["rates"]) == 30 and (out / "lr_find.png").stat().st_size > 1000
    assert "suggested learning rate" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        zoo_main(argv)
    assert exit_info.value.code != 0 and "holds a range test already" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="init auto"):
        TextClassifier(init="auto").lr_find(TEXTS, LABELS)
