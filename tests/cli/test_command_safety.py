"""zoo lr-find, zoo tune and zoo pretrain-lm keep the contract of docs/bad-input.md, as zoo train does.

* ``lr-find --overwrite`` replaces only its own results; other files in the folder are carried over;
* ``pretrain-lm --name`` is one plain artifact name, checked before anything runs (the registry refuses others too);
* a damaged language-model artifact (``--init lm:DIR``) is one line naming the file, exit 3, nothing left behind;
* a second ``zoo tune`` on the same folder is refused while the first runs;
* Ctrl-C and SIGTERM say what a rerun does.

Each test runs the command in this process on tiny files, with the slow part (training) replaced where the check
under test comes before or after it.
"""

import csv
import json
import os
import types

import numpy as np
import pytest

from zoo import interrupts
from zoo.cli import main as zoo
from zoo.errors import ConfigError, PretrainedError
from zoo.files import DirectoryLock, write_marker

POSITIVE = ["great fun film", "loved every minute", "a wonderful cast", "great acting and story"]
NEGATIVE = ["boring and slow", "a dull mess", "awful plot", "slow boring acting"]


def _write_csv(path, n):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("text", "label"))
        writer.writerows([(t, "pos") for t in POSITIVE] * n + [(t, "neg") for t in NEGATIVE] * n)
    return str(path)


@pytest.fixture
def files(tmp_path):
    return {"train": _write_csv(tmp_path / "train.csv", 3), "test": _write_csv(tmp_path / "test.csv", 1)}


def _run(capsys, *argv):
    """``zoo ARGV`` in this process: ``(exit code, stdout, stderr)``."""
    try:
        code = zoo(list(argv))
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(err, expected):
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith("error: ") and expected in lines[-1], err[-2000:]
    assert sum(line.startswith("error:") for line in lines) == 1 and "Traceback" not in err, err[-2000:]
    return lines[-1]


def _tree(path):
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


# === lr-find ===


class _FakeRangeTest:
    """What TextClassifier.lr_find returns, without the training: the folder's writing is what is tested."""

    rates, losses = [1e-3, 1e-2], [0.7, 0.6]
    suggested, minimum, steepest, stopped = 1e-3, 1e-2, 1e-2, "the last step (2)"

    def to_dict(self):
        return {"rates": self.rates, "losses": self.losses}

    def plot(self, path):
        with open(path, "wb") as f:
            f.write(b"png")


def _fake_classifier(monkeypatch, range_test=None):
    from zoo.cli import lr_find

    def lr_find_method(*args, **kwargs):
        if range_test is None:
            return _FakeRangeTest()
        return range_test()

    monkeypatch.setattr(lr_find, "text_classifier", types.SimpleNamespace(
        TextClassifier=lambda **settings: types.SimpleNamespace(lr_find=lr_find_method)))


def _lr_find_args(files, out):
    return ["lr-find", "--train", files["train"], "--test", files["test"], "--init", "none", "--output-dir", str(out)]


def test_lr_find_overwrite_replaces_its_results_and_keeps_the_users_files(files, tmp_path, monkeypatch, capsys):
    out = tmp_path / "lr"
    _fake_classifier(monkeypatch)
    assert _run(capsys, *_lr_find_args(files, out))[0] == 0
    (out / "lr_find.json").write_text('{"old": true}')  # an earlier result, to be replaced
    (out / "mynote.txt").write_text("my note")
    (out / "mine").mkdir()
    (out / "mine" / "data.txt").write_text("my data")
    code, _, err = _run(capsys, *_lr_find_args(files, out))
    assert code == 4
    _one_error_line(err, "holds a range test already; pass --overwrite")
    code, _, err = _run(capsys, *_lr_find_args(files, out), "--overwrite")
    assert code == 0, err
    assert (out / "mynote.txt").read_text() == "my note" and (out / "mine" / "data.txt").read_text() == "my data"
    assert "range_test" in json.loads((out / "lr_find.json").read_text())  # the new result, not the old one
    assert (out / "lr_find.png").read_bytes() == b"png"


def test_an_interrupted_lr_find_says_nothing_was_written_and_what_a_rerun_does(files, tmp_path, monkeypatch, capsys):
    def terminated():
        raise interrupts.Terminated

    _fake_classifier(monkeypatch, range_test=terminated)
    code, _, err = _run(capsys, *_lr_find_args(files, tmp_path / "lr"))
    assert code == 143
    _one_error_line(err, f"error: terminated; nothing was written to {tmp_path / 'lr'}: rerun the same command to "
                         "run the range test again")
    assert not (tmp_path / "lr").exists()


# === pretrain-lm --name, and the registry ===


@pytest.mark.parametrize("name", ["../../evil", ".", "..", ".hidden", "a/b", "a\\b", "x" * 101])
def test_pretrain_lm_refuses_a_name_that_is_not_a_plain_name_before_anything_runs(name, tmp_path, monkeypatch,
                                                                                     capsys):
    from zoo.transfer import pretraining

    monkeypatch.setenv("ZOO_PRETRAINED_DIR", str(tmp_path / "pretrained"))
    (tmp_path / "pretrained").mkdir()
    monkeypatch.setattr(pretraining, "pretrain", lambda *a, **k: pytest.fail("trained before the name was checked"))
    for extra in ([], ["--dry-run"]):
        code, _, err = _run(capsys, "pretrain-lm", "--register", "--name", name, "--output-dir",
                            str(tmp_path / "lm"), *extra)
        assert code == 2
        _one_error_line(err, f"--name {name!r}: not a plain artifact name")
    assert not (tmp_path / "lm").exists() and os.listdir(tmp_path / "pretrained") == []
    assert sorted(os.listdir(tmp_path)) == ["pretrained"]  # nothing beside it either (../../evil)


def test_a_plain_name_passes_the_check(tmp_path, monkeypatch, capsys):
    code, out, err = _run(capsys, "pretrain-lm", "--register", "--name", "my-lm_v2.1", "--output-dir",
                          str(tmp_path / "lm"), "--dry-run")
    assert code == 0 and "name='my-lm_v2.1'" in out, err


def test_the_registry_refuses_a_name_that_is_not_a_plain_name(artifact_dir, tmp_path):
    from zoo.transfer import pretrained

    path, _ = artifact_dir
    manifest = tmp_path / "pretrained" / "manifest.json"
    before = manifest.read_bytes()
    for name in ("../../evil", ".", "a/b"):
        with pytest.raises(ConfigError, match="not a plain artifact name"):
            pretrained.register(path, name)
    assert manifest.read_bytes() == before
    assert pretrained.register(path, "tiny-2")["vocab_size"] == 60  # a plain name registers


def test_an_interrupted_pretraining_says_nothing_was_saved(tmp_path, monkeypatch, capsys):
    from zoo.transfer import pretraining

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pretraining, "pretrain", interrupted)
    code, _, err = _run(capsys, "pretrain-lm", "--output-dir", str(tmp_path / "lm"))
    assert code == 130
    _one_error_line(err, f"error: interrupted; nothing was written to {tmp_path / 'lm'} (a language model's training "
                         "keeps no backup): rerun the same command to start it over")


def test_what_a_rerun_of_an_interrupted_pretraining_does(tmp_path):
    from zoo.cli.pretrain_lm import _what_a_rerun_does

    args = types.SimpleNamespace(write_ids=None, from_ids="ids.npz", output_dir=str(tmp_path / "lm"), register=True)
    assert "train again from the id file ids.npz" in _what_a_rerun_does(args)
    (tmp_path / "lm").mkdir()
    (tmp_path / "lm" / "metadata.json").write_text("{}")
    assert "was written, but maybe not registered" in _what_a_rerun_does(args)
    ids = types.SimpleNamespace(write_ids="ids.npz", from_ids=None, output_dir=None, register=False)
    assert _what_a_rerun_does(ids).startswith("nothing was written to ids.npz")


# === Damaged language-model artifacts ===


def _damage(path, file, how):
    if how == "truncated":
        data = (path / file).read_bytes()
        (path / file).write_bytes(data[:len(data) // 2])
    elif how == "flipped":  # inside the compressed data: the archive's index still reads
        data = bytearray((path / file).read_bytes())
        data[len(data) // 3] ^= 0xFF
        (path / file).write_bytes(bytes(data))
    elif how == "npy":
        np.save(path / "plain.npy", np.zeros(3, "float16"))
        os.replace(path / "plain.npy", path / file)
    elif how == "missing array":
        with np.load(path / file) as arrays:
            kept = {k: arrays[k] for k in arrays.files[1:]}
        np.savez(path / file, **kept)
    elif how in ("strings", "nan"):
        with np.load(path / file) as arrays:
            kept = {k: arrays[k] for k in arrays.files}
        first = arrays.files[0]
        kept[first] = np.full(kept[first].shape, "x") if how == "strings" else np.full(kept[first].shape, np.nan)
        np.savez(path / file, **kept)
    else:
        (path / file).write_bytes(how.encode("latin-1"))  # ("\xff": a byte that is not UTF-8)


DAMAGES = [
    ("weights.npz", "truncated", "weights.npz: cannot read the weights (BadZipFile"),
    ("weights.npz", "flipped", "weights.npz: cannot read the weights"),
    ("weights.npz", "npy", "weights.npz: not an npz archive of weights"),
    ("weights.npz", "missing array", "weights.npz: no weights for"),
    ("weights.npz", "strings", "values, expected floats"),
    ("weights.npz", "nan", "holds NaN or infinite values"),
    ("config.json", "[]", "config.json: expected an object, got an array"),
    ("config.json", '{"format": 1, "model": "lstm_lm", "lm": [], "standardize": "zoo"}',
     "config.json: 'lm' must be an object"),
    ("config.json", '{"format": 1, "model": "lstm_lm", "lm": {}}', "config.json: 'standardize' must be the name"),
    ("config.json", "{", "config.json: not valid JSON"),
    ("vocab.json", '{"a": 1}', "vocab.json: expected an array, got an object"),
    ("vocab.json", "[1, 2]", "vocab.json: item 0 is a number, expected a string token"),
    ("metadata.json", "[]", "metadata.json: expected an object, got an array"),
    ("metadata.json", "\xff", "metadata.json: not valid JSON"),
]


@pytest.mark.parametrize("file,how,expected", DAMAGES, ids=[f"{f}-{h[:12]}" for f, h, _ in DAMAGES])
def test_a_damaged_artifact_is_one_error_naming_the_file(tmp_path, monkeypatch, file, how, expected):
    from tests.helpers import LM_VOCAB, tiny_lm
    from zoo.transfer import pretrained

    monkeypatch.setenv("ZOO_PRETRAINED_DIR", str(tmp_path / "pretrained"))  # (an empty registry)
    path = tmp_path / "copy"  # outside the manifest: loaded unverified, so each file's own check is what runs
    pretrained.save_artifact(tiny_lm(), [""] + [f"w{i}" for i in range(LM_VOCAB - 1)], {}, path)
    _damage(path, file, how)
    with pytest.raises(PretrainedError) as error:
        pretrained.load(str(path))
    message = str(error.value)
    assert message.startswith(f"{path / file}: ") and expected in message and "\n" not in message, message


def test_a_damaged_artifact_as_init_is_exit_3_and_leaves_no_output_dir(files, tmp_path, capsys):
    from tests.helpers import LM_VOCAB, tiny_lm
    from zoo.transfer import pretrained

    words = sorted({w for t in POSITIVE + NEGATIVE for w in t.split()})
    path = tmp_path / "lm"
    pretrained.save_artifact(tiny_lm(), ["", "[UNK]"] + words + [f"w{i}" for i in range(LM_VOCAB - 2 - len(words))],
                             {}, path)
    for file, how in (("weights.npz", "truncated"), ("config.json", "[]")):
        _damage(path, file, how)
        out = tmp_path / "run"
        code, _, err = _run(capsys, "train", "--train", files["train"], "--test", files["test"], "--init",
                            f"lm:{path}", "--epochs", "1", "--batch-size", "8", "--no-baseline", "--output-dir",
                            str(out))
        assert code == 3
        _one_error_line(err, f"{path / file}: ")
        assert not out.exists()


# === tune: one search per folder, and what Ctrl-C says ===

TINY_SPACE = json.dumps({"units": [4, 8], "num_layers": 1, "model": ["lstm"]})


def _tune_args(files, out, *extra):
    return ["tune", "--train", files["train"], "--test", files["test"], "--init", "none", "--tuner", "random",
            "--max-trials", "1", "--epochs", "1", "--space", TINY_SPACE, "--output-dir", str(out), *extra]


def test_a_second_search_on_the_same_folder_is_refused(files, tmp_path, monkeypatch, capsys):
    from zoo.training import tuning

    out = tmp_path / "search"
    out.mkdir()
    write_marker(out, "tune")
    (out / "mine.txt").write_text("my note")
    lock = DirectoryLock(out)  # the first search, running (flock: refused to another open file, this process too)
    monkeypatch.setattr(tuning, "prepare", lambda *a: pytest.fail("the second search loaded the data"))
    try:
        before = _tree(out)
        for extra in ([], ["--overwrite"]):
            code, _, err = _run(capsys, *_tune_args(files, out, *extra))
            assert code == 4
            _one_error_line(err, f"--output-dir {out}: another zoo process (pid {os.getpid()}) is writing there")
            assert _tree(out) == before
    finally:
        lock.release()


@pytest.mark.parametrize("overwrite", [False, True])
def test_an_interrupted_search_says_how_to_resume_and_a_new_folder_goes(files, tmp_path, monkeypatch, capsys,
                                                                         overwrite):
    from zoo.training import tuning

    def terminated(*args):
        raise interrupts.Terminated  # while the data loads: before any trial

    monkeypatch.setattr(tuning, "prepare", terminated)
    out = tmp_path / "search"
    code, _, err = _run(capsys, *_tune_args(files, out, *(["--overwrite"] if overwrite else [])))
    assert code == 143
    how = "rerun the same command without --overwrite" if overwrite else "rerun the same command"
    _one_error_line(err, f"error: terminated; {how} to resume the search in {out} (finished trials are kept")
    assert not out.exists()  # made by this run, nothing of a search in it yet


def test_the_lock_is_released_when_a_search_ends(files, tmp_path, monkeypatch, capsys):
    from zoo.errors import SearchError
    from zoo.training import tuning

    def fails(*args):
        raise SearchError("no validation split")

    monkeypatch.setattr(tuning, "prepare", fails)
    out = tmp_path / "search"
    out.mkdir()
    (out / "mine.txt").write_text("my note")  # not zoo's: refused before the lock
    assert _run(capsys, *_tune_args(files, out))[0] == 4
    (out / "mine.txt").unlink()
    assert _run(capsys, *_tune_args(files, out))[0] == 2
    assert out.exists()  # the user's empty folder stays
    DirectoryLock(out).release()  # free again
