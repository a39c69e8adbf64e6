"""Pretrained artifacts: the manifest, checksums, clear errors, and a reproducible pretraining run."""

import json
import os

import numpy as np
import pytest
from keras import ops

from tests.helpers import LM_VOCAB as VOCAB
from zoo.errors import PretrainedError
from zoo.transfer import pretrained


def test_artifact_round_trip_through_the_manifest(artifact_dir):
    path, lm = artifact_dir
    assert pretrained.list_pretrained() == ["tiny"]
    art = pretrained.load("tiny")
    assert art.vocab[2] == "w0" and art.metadata["heldout_perplexity"] == 12.3
    for a, b in zip(lm.weights, art.lm.weights):
        np.testing.assert_array_equal(ops.convert_to_numpy(a).astype("float16"), ops.convert_to_numpy(b))
    entry = pretrained.read_manifest()["artifacts"]["tiny"]
    assert entry["vocab_size"] == VOCAB and set(entry["files"]) == set(pretrained.FILES)


def test_artifact_checksum_fails_on_a_flipped_byte(artifact_dir):
    path, _ = artifact_dir
    weights = path / "weights.npz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(PretrainedError, match="weights.npz: sha256 mismatch"):
        pretrained.load("tiny")


def test_artifact_errors_are_clear(artifact_dir, tmp_path):
    path, lm = artifact_dir
    with pytest.raises(PretrainedError, match="unknown pretrained model 'nope'.*known: tiny"):
        pretrained.load("nope")
    with pytest.raises(PretrainedError, match="already exists"):
        pretrained.save_artifact(lm, ["x"] * VOCAB, {}, path)
    (path / "vocab.json").unlink()
    with pytest.raises(PretrainedError, match="vocab.json: missing file"):
        pretrained.load("tiny")
    # Outside the manifest (unverified), an incompatible config is named.
    copy = tmp_path / "copy"
    pretrained.save_artifact(lm, ["x"] * VOCAB, {}, copy)
    config = json.loads((copy / "config.json").read_text())
    config["lm"]["embedding_dim"] = 16
    config["lm"]["units"] = 16
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(PretrainedError, match=r"embedding/embeddings has shape \(60, 8\), the config needs \(60, 16\)"):
        pretrained.load(str(copy))
    config["lm"]["layers"] = 3
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(PretrainedError, match="incompatible config.*layers"):
        pretrained.load(str(copy))


def test_committed_manifest_matches_its_files():
    """Every artifact committed under pretrained/ is listed with the right checksums."""
    directory = pretrained.pretrained_dir()
    manifest = pretrained.read_manifest(directory)
    for name, entry in manifest.get("artifacts", {}).items():
        pretrained.verify(directory / entry["path"], entry)
        assert entry["size_bytes"] <= 20 * 2**20, f"{name} is over 20 MB"
        assert entry["heldout_perplexity"] > 1


# Runs recipes/pretrain_lm.py in its own process (it turns on TensorFlow op determinism, which is
# process-wide) on a tiny synthetic corpus in place of the five real sources.
_PRETRAIN = """
import runpy
import sys
import numpy as np
from zoo.data import corpus
rng = np.random.default_rng(0)
words = [f"w{{i}}" for i in range(40)]
docs = [" ".join(rng.choice(words, 120)) for _ in range(12)]
corpus.load_documents = lambda source: docs
sys.argv = ["pretrain_lm.py", *sys.argv[1:]]
runpy.run_path({recipe!r}, run_name="__main__")
"""


def _pretrain(*args):
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = _PRETRAIN.format(recipe=os.path.join(root, "recipes", "pretrain_lm.py"))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow
def test_pretrain_lm_from_metadata_reproduces_the_artifact(tmp_path):
    first, again = tmp_path / "first", tmp_path / "again"
    _pretrain("--output-dir", str(first), "--sources", "wikipedia", "--vocab-size", "30", "--embedding-dim", "8",
              "--num-layers", "1", "--num-sampled", "4", "--epochs", "2", "--batch-size", "4", "--bptt", "8",
              "--heldout-fraction", "0.2")
    out = _pretrain("--from-metadata", str(first / "metadata.json"), "--output-dir", str(again))
    assert f"reproduction of {first}: weights identical, vocabulary identical" in out
    check = pretrained.compare(first, again)
    assert check["identical_weights"] and check["same_vocab"]
    assert check["heldout_perplexity"][0] == check["heldout_perplexity"][1] > 1
    with np.load(again / "weights.npz") as arrays:  # one weight nudged: no longer identical
        changed = {key: arrays[key] for key in arrays.files}
    key = sorted(changed)[0]
    changed[key] = changed[key] + np.float16(0.5)
    np.savez_compressed(again / "weights.npz", **changed)
    check = pretrained.compare(first, again)
    assert not check["identical_weights"] and check["max_abs_diff"] == pytest.approx(0.5, abs=1e-3)
