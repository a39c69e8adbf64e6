"""``zoo train`` never runs code from a file it reads as data (issue #33): pickles need ``--allow-pickle``.

Each probe is a pickle that creates a marker file when it is unpickled; the command must stop with one
``error: ...`` line (exit code 3, what the command reads; docs/bad-input.md), no traceback, nothing written,
and no marker.
"""

import os
import pickle
import subprocess
import sys
import zlib

import pytest

from tests.cli.test_train import _rows, _write_csv

pytestmark = pytest.mark.slow  # every case runs the command in a subprocess


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def _zoo_train(tmp_path, *args, **env):
    train, test = _write_csv(tmp_path / "train.csv", _rows(3)), _write_csv(tmp_path / "test.csv", _rows(1))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "ZOO_OFFLINE": "1", "ZOO_HOME": str(tmp_path / "home"),
           "SCIKIT_LEARN_DATA": str(tmp_path / "sklearn"), **env}
    data = [] if "--dataset" in args else ["--train", train, "--test", test]
    return subprocess.run([sys.executable, "-m", "zoo", "train", *data, "--epochs", "1", "--units", "4",
                           "--output-dir", str(tmp_path / "run"), *args],
                          capture_output=True, text=True, env=env, timeout=600)


def _one_error_line(result, expected):
    """Exit code 3 and one ``error:`` line that is (or, for ``expected`` ending in "...", starts with) ``expected``."""
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("error:")]
    assert result.returncode == 3, result.stderr[-2000:]
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith(expected[:-3]) if expected.endswith("...") else lines[0] == expected, lines[0]
    assert "Traceback" not in result.stderr


def test_a_kv_file_needs_allow_pickle(tmp_path):
    evil = tmp_path / "evil.kv"
    evil.write_bytes(pickle.dumps(_Payload(tmp_path / "marker")))

    refused = _zoo_train(tmp_path, "--init", str(evil))
    _one_error_line(refused, f"error: {evil}: gensim's .kv format is a pickle, and loading a pickle runs any code it "
                             "holds; pass --allow-pickle (allow_pickle=True) only for files you trust, or convert it "
                             "to word2vec text/binary (KeyedVectors.save_word2vec_format)")
    assert not (tmp_path / "marker").exists() and not (tmp_path / "run").exists()

    # The flag reaches the loader: the file is unpickled (so its code runs), and it is no word vectors.
    trusted = _zoo_train(tmp_path, "--init", str(evil), "--allow-pickle")
    assert (tmp_path / "marker").exists()
    _one_error_line(trusted, f"error: {evil}: not a gensim KeyedVectors file: ...")


def test_a_planted_20newsgroups_cache_runs_no_code(tmp_path):
    """The main job's data: scikit-learn's cache (a pickle) is read through a restricted unpickler."""
    planted = tmp_path / "sklearn" / "20news-bydate_py3.pkz"
    planted.parent.mkdir()
    planted.write_bytes(zlib.compress(pickle.dumps({"train": _Payload(tmp_path / "marker")})))

    result = _zoo_train(tmp_path, "--dataset", "20newsgroups", "--init", "none")
    _one_error_line(result, f"error: {planted}: not scikit-learn's 20 Newsgroups cache: the pickle asks for io.open, "
                            "which that cache never holds, so zoo does not load it (a planted or foreign file?); "
                            "delete it to fetch the data again")
    assert not (tmp_path / "marker").exists() and not (tmp_path / "run").exists()
