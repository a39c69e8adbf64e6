"""Language-model pretraining without TensorFlow: the id file, its windows, the artifact, and training on PyTorch."""

import dataclasses
import json
import os
import subprocess

import numpy as np
import pytest

from tests.models.test_backends import REPO_ROOT, backends_python
from zoo.cli import pretrain_lm
from zoo.config import PretrainConfig
from zoo.data import corpus
from zoo.data.token_stream import lm_dataset
from zoo.errors import ConfigError, DataError
from zoo.training.lm_windows import LMWindows
from zoo.transfer import lm_ids, pretrained, pretraining

# A tiny run: 12 documents of 120 words from 40, 2 held out.
SETTINGS = {"sources": "wikipedia", "vocab_size": 30, "heldout_fraction": 0.2, "embedding_dim": 8, "num_layers": 1,
            "num_sampled": 4, "epochs": 1, "batch_size": 4, "bptt": 8}
FLAGS = [part for k, v in SETTINGS.items() for part in ("--" + k.replace("_", "-"), str(v))]


@pytest.fixture
def synthetic_corpus(monkeypatch):
    """The corpus sources read synthetic documents (as tests/transfer/test_pretrained.py's pretraining run)."""
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    docs = [" ".join(rng.choice(words, 120)) for _ in range(12)]
    monkeypatch.setattr(corpus, "load_documents", lambda source: docs)
    return docs


def _one_line_exit(capsys, argv, code):
    with pytest.raises(SystemExit) as stopped:
        pretrain_lm.main(argv)
    err = capsys.readouterr().err.strip()
    assert stopped.value.code == code and err.startswith("error: ") and "\n" not in err, (stopped.value.code, err)
    return err


def test_id_file_round_trip(tmp_path, synthetic_corpus):
    config = PretrainConfig.from_dict(SETTINGS)
    path = tmp_path / "ids.npz"
    meta, size = pretraining.write_ids(config, path, command="test")
    _, vocab, train, heldout = pretraining.tokenize(config)  # what zoo pretrain-lm trains on
    ids = lm_ids.read_ids(path)
    assert ids.train.dtype == ids.heldout.dtype == np.uint8  # 30 tokens
    np.testing.assert_array_equal(ids.train, train)
    np.testing.assert_array_equal(ids.heldout, heldout)
    assert ids.vocab == [str(t) for t in vocab] and ids.vocab[:2] == ["", "[UNK]"]
    assert ids.meta == meta and meta["settings"] == dataclasses.asdict(config)
    assert meta["corpus"]["sources"]["wikipedia"]["heldout_documents"] == 2
    assert meta["train_tokens"] == len(train) and os.path.getsize(path) == size
    with np.load(path, allow_pickle=False) as npz:  # no pickles anywhere
        assert sorted(npz.files) == sorted(lm_ids.ARRAYS)
    assert lm_ids.read_ids(path, arrays=False).train is None


def _npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def test_id_file_errors_are_one_line(tmp_path, capsys):
    good = tmp_path / "good.npz"
    lm_ids.write_ids(good, [2, 3, 4] * 50, [2, 3], ["", "[UNK]", "xxbos", "a", "b"], {"settings": {}})
    meta = json.loads(str(np.load(good)["meta"][()]))
    (tmp_path / "text.npz").write_text("not an archive\n")
    (tmp_path / "cut.npz").write_bytes(good.read_bytes()[:200])
    _npz(tmp_path / "other.npz", weights=np.zeros(3))
    _npz(tmp_path / "beyond.npz", train=np.array([2, 9], "uint8"), heldout=np.array([2], "uint8"),
         vocab=np.array(["", "[UNK]", "xxbos", "a", "b"]), meta=np.array(json.dumps(meta)))
    _npz(tmp_path / "future.npz", train=np.array([2], "uint8"), heldout=np.array([2], "uint8"),
         vocab=np.array(["", "[UNK]", "xxbos", "a", "b"]), meta=np.array(json.dumps({**meta, "format": 2})))
    expected = {"missing.npz": "no such id file", "text.npz": "not an id file of zoo pretrain-lm --write-ids",
                "cut.npz": "BadZipFile", "other.npz": "no train, heldout, vocab, meta in it",
                "beyond.npz": "train has id 9, beyond the vocabulary of 5 tokens",
                "future.npz": "id file format 2, and this zoo reads format 1"}
    for name, message in expected.items():
        with pytest.raises(DataError, match=message) as error:
            lm_ids.read_ids(tmp_path / name)
        assert str(error.value).startswith(str(tmp_path / name)) and "\n" not in str(error.value)
    # The command line: exit 3 for the file, 2 for a setting that made the ids, 4 for a file it will not replace.
    err = _one_line_exit(capsys, ["--from-ids", str(tmp_path / "cut.npz"), "--output-dir", str(tmp_path / "x")], 3)
    assert "cut.npz: not an id file" in err
    lm_ids.write_ids(good, [2, 3, 4] * 50, [2, 3], ["", "[UNK]", "xxbos", "a", "b"],
                     {"settings": dataclasses.asdict(PretrainConfig.from_dict(SETTINGS))})
    err = _one_line_exit(capsys, ["--from-ids", str(good), "--output-dir", str(tmp_path / "x"), "--vocab-size", "99",
                                  "--dry-run"], 2)
    assert "--vocab-size is 99, but" in err and "write another id file with --write-ids" in err
    _one_line_exit(capsys, ["--write-ids", str(tmp_path / "text.npz")], 4)
    assert (tmp_path / "text.npz").read_text() == "not an archive\n" and not (tmp_path / "x").exists()


def test_windows_are_lm_datasets():
    stream = np.arange(2, 4002)
    for variable in (True, False):
        ds, steps = lm_dataset(stream, batch_size=4, bptt=20, seed=3, variable=variable)
        windows = LMWindows(stream.astype("uint16"), batch_size=4, bptt=20, seed=3, variable=variable)
        assert len(windows) == steps
        for _ in range(2):  # two epochs, each its own arrangement
            windows.on_epoch_begin()
            expected = [(x.numpy(), y.numpy()) for x, y in ds]
            got = [windows[k] for k in range(len(windows))]
            for (x, y), (gx, gy) in zip(expected, got, strict=True):
                assert gx.dtype == np.int32
                np.testing.assert_array_equal(gx, x)
                np.testing.assert_array_equal(gy, y)
    with pytest.raises(ConfigError, match="too short"):
        LMWindows(np.arange(50), batch_size=4, bptt=20)


def test_lm_train_throughput_on_this_backend():
    ids = np.random.default_rng(0).integers(2, 40, 500)
    speed = lm_ids.lm_train_throughput(ids, 40, units=8, num_layers=1, embedding_dim=8, batch_size=4, bptt=8,
                                       steps=2, warmup_steps=1, num_sampled=4)
    assert speed["tokens_per_second"] > 0 and speed["tokens_per_step"] == 32 and speed["steps"] == 2
    assert speed["backend"] == "tensorflow" and speed["peak_memory_bytes"] is None  # a CPU


# Runs in .venv-backends (Keras on PyTorch, no TensorFlow installed): the command, then the timing helper.
_FROM_IDS = """
import json, sys
from zoo.cli import main
main(["pretrain-lm", "--from-ids", sys.argv[1], "--output-dir", sys.argv[2], "--learning-rate", "0.01"])
from zoo.transfer.lm_ids import lm_train_throughput, read_ids
ids = read_ids(sys.argv[1])
speed = lm_train_throughput(ids.train, len(ids.vocab), units=8, num_layers=1, embedding_dim=8, batch_size=4, bptt=8,
                            steps=2, warmup_steps=1, num_sampled=4)
print(json.dumps({"speed": speed, "imported": sorted(m for m in ("tensorflow", "sklearn") if m in sys.modules)}))
"""


@pytest.mark.slow
def test_pretrain_from_ids_on_pytorch_then_finetune_here(tmp_path, synthetic_corpus, capsys):
    python, why = backends_python()
    if python is None:
        pytest.skip(why)
    ids, artifact = tmp_path / "ids.npz", tmp_path / "lm"
    pretrain_lm.main(["--write-ids", str(ids), *FLAGS])
    assert "wrote" in capsys.readouterr().out
    env = {**os.environ, "KERAS_BACKEND": "torch", "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([python, "-c", _FROM_IDS, str(ids), str(artifact)], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "held-out perplexity" in result.stdout and "(torch)" in result.stdout
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["imported"] == [] and report["speed"]["backend"] == "torch"
    assert report["speed"]["tokens_per_second"] > 0

    # Here, under TensorFlow: the artifact loads as --init lm: loads it, and a classifier fine-tunes from it.
    from zoo import TextClassifier

    art = pretrained.load(str(artifact))
    assert art.metadata["backend"] == "torch" and art.metadata["heldout_perplexity"] > 1
    assert art.vocab == lm_ids.read_ids(ids).vocab and art.lm.lm_config["embedding_dim"] == 8
    texts = [doc[:200] for doc in synthetic_corpus] * 2
    labels = ["ab"[i % 2] for i in range(len(texts))]
    clf = TextClassifier(init=f"lm:{artifact}", lm_epochs=1, lm_batch_size=4, bptt=8, epochs=1, batch_size=8,
                         sequence_length=16, max_tokens=100, hybrid=False, gradual_unfreezing=False)
    clf.fit(texts, labels)
    assert clf.predict_proba(texts[:3]).shape == (3, 2)
