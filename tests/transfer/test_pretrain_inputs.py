"""zoo pretrain-lm's inputs: corpus sources checked with the settings, a corpus with no held-out text refused before
training (and before --write-ids writes), an empty --output-dir taken as a new one."""

import dataclasses

import numpy as np
import pytest

from zoo.cli import pretrain_lm
from zoo.config import PretrainConfig
from zoo.config.jobs import CORPUS_SOURCES
from zoo.data import corpus
from zoo.errors import ConfigError
from zoo.transfer import lm_ids

SETTINGS = {"sources": "wikipedia", "vocab_size": 30, "heldout_fraction": 0.3, "embedding_dim": 8, "num_layers": 1,
            "num_sampled": 0, "epochs": 1, "batch_size": 4, "bptt": 8}
FLAGS = [part for k, v in SETTINGS.items() for part in ("--" + k.replace("_", "-"), str(v))]


def _documents(monkeypatch, count):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    monkeypatch.setattr(corpus, "load_documents", lambda source: [" ".join(rng.choice(words, 120))
                                                                  for _ in range(count)])


def _one_line_exit(capsys, argv, code):
    with pytest.raises(SystemExit) as stopped:
        pretrain_lm.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("error") or "Traceback" in line]
    assert stopped.value.code == code and len(errors) == 1 and errors[0].startswith("error: "), (stopped.value, err)
    return errors[0]


@pytest.mark.parametrize("sources, expected", [("nope", "'nope' is not a corpus source"),
                                               (" bible", "' bible' is not a corpus source"),
                                               ("bible,,bible", "'' is not a corpus source"),
                                               ("bible,bible", "names 'bible' twice")])
def test_sources_are_checked_with_the_settings(capsys, tmp_path, sources, expected):
    with pytest.raises(ConfigError, match=expected):
        PretrainConfig(sources=sources)
    err = _one_line_exit(capsys, ["--sources", sources, "--output-dir", str(tmp_path / "lm"), "--dry-run"], 2)
    assert err.startswith(f"error: --sources {sources!r}: ") and expected in err
    assert "twice" in err or "people_daily" in err  # an unknown name lists the known ones
    assert corpus.SOURCES == CORPUS_SOURCES and set(corpus.DEFAULT_SOURCES) < set(CORPUS_SOURCES)


def test_a_corpus_with_no_heldout_tokens_is_refused_before_training(monkeypatch, capsys, tmp_path):
    _documents(monkeypatch, 1)  # a source capped to one document holds none out (documents are held out whole)
    expected = "the corpus gives 0 held-out tokens; expected at least 2"
    err = _one_line_exit(capsys, ["--write-ids", str(tmp_path / "ids.npz"), *FLAGS], 3)
    assert expected in err and "wikipedia keeps 1 document" in err and "--max-words-per-source" in err
    assert not (tmp_path / "ids.npz").exists()  # no id file that cannot be trained from
    err = _one_line_exit(capsys, ["--output-dir", str(tmp_path / "lm"), *FLAGS], 3)
    assert expected in err and not (tmp_path / "lm").exists()
    # An id file without held-out tokens (written by an earlier zoo) is refused before training too.
    ids = tmp_path / "old.npz"
    lm_ids.write_ids(ids, [2, 3, 4] * 50, [], ["", "[UNK]", "xxbos", "a", "b"],
                     {"settings": dataclasses.asdict(PretrainConfig.from_dict(SETTINGS))})
    err = _one_line_exit(capsys, ["--from-ids", str(ids), "--output-dir", str(tmp_path / "lm")], 3)
    assert f"{ids} gives 0 held-out tokens; expected at least 2" in err and not (tmp_path / "lm").exists()


def test_an_empty_output_dir_is_taken_as_a_new_one(monkeypatch, capsys, tmp_path):
    _documents(monkeypatch, 12)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine\n")
    err = _one_line_exit(capsys, ["--output-dir", str(tmp_path / "full"), *FLAGS], 4)
    assert "already exists" in err and (tmp_path / "full" / "notes.txt").read_text() == "mine\n"
    (tmp_path / "empty").mkdir()
    pretrain_lm.main(["--output-dir", str(tmp_path / "empty"), *FLAGS])
    assert "wrote " in capsys.readouterr().out
    assert (tmp_path / "empty" / "weights.npz").exists() and (tmp_path / "empty" / ".zoo").exists()
