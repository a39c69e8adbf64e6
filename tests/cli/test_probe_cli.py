"""Bad input and faults through the command line that a probe found (docs/bad-input.md): each is one ``error:``
line with its exit code, and leaves nothing half-written. These run in-process and start no TensorFlow."""

import os
import stat

import pytest

import zoo.cli
from zoo.cli import flags
from zoo.cli import train as train_cli
from zoo.config import ClassifierConfig, DataConfig, RunConfig
from zoo.data.files import read_labelled_file
from zoo.errors import ConfigError, DataError, Interrupted
from zoo.files import MARKER


def _one_line(capsys, code, call):
    with pytest.raises(SystemExit) as stop:
        call()
    err = capsys.readouterr().err
    assert stop.value.code == code, err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err


@pytest.mark.parametrize("argv, expected", [
    (["train", "--epochs"], "argument --epochs: expected one argument (`zoo train --help` lists the flags)"),
    (["train", "--config"], "argument --config: expected one argument"),
    (["train", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["train", "--overwrite=yes"], "argument --overwrite/--no-overwrite: ignored explicit argument 'yes'"),
    (["train", "--config", ""], "--config must be the path of a JSON file of settings, got ''"),
    (["predict", "export", "--batch-size", "q"], "argument --batch-size: invalid int value: 'q'"),
    (["explain", "run", "--top", "x"], "argument --top: invalid int value: 'x'"),
    (["report"], "the following arguments are required: RUN_DIR"),
])
def test_usage_errors_are_one_line(capsys, argv, expected):
    """argparse's own errors printed the whole usage block (some 60 lines for zoo train) before `PROG: error:`."""
    assert expected in _one_line(capsys, 2, lambda: zoo.cli.main(argv))


def test_an_unknown_command_is_one_line(capsys):
    assert zoo.cli.main(["trian"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [err.strip()] and err.startswith("error: unknown command 'trian'; expected one of train")


def test_an_error_quoting_a_line_break_stays_one_line(tmp_path, capsys):
    """A CSV header's quoted column name may hold a line break (or a terminal escape): quoted as is, the error
    line was two."""
    path = tmp_path / "train.csv"
    path.write_text('"te\nxt\x1b[2J",label\ngood,pos\nbad,neg\n')
    with pytest.raises(DataError) as error:
        read_labelled_file(path)
    err = _one_line(capsys, 3, lambda: flags.fail_with(error.value))
    assert "(columns: te\\nxt\\x1b[2J, label)" in err
    assert flags.one_line("a\u2028b\x85c\rd") == "a\\u2028b\\x85c\\rd"


def _class_folders(root, extra=None):
    for label in ("pos", "neg"):
        (root / label).mkdir(parents=True)
        (root / label / "1.txt").write_text(f"a {label} text")
    if extra:
        extra(root)
    return root


def test_a_class_folder_whose_name_is_not_utf8_is_refused_before_training(tmp_path):
    """Its name is a class name: a lone surrogate trained a whole run, then failed writing classifier.json with a
    traceback, leaving the run folder behind."""
    root = os.fsencode(tmp_path / "data")
    os.makedirs(os.path.join(root, b"p\xe9s"))
    os.makedirs(os.path.join(root, b"neg"))
    for label in (b"p\xe9s", b"neg"):
        with open(os.path.join(root, label, b"1.txt"), "w") as f:
            f.write("text")
    with pytest.raises(DataError, match=r"the folder's name \(a class name\) is not valid text: .*the byte 0xe9"):
        read_labelled_file(os.fsdecode(root))


def test_hidden_files_in_class_folders_are_left_out(tmp_path):
    """macOS' AppleDouble files (._NAME.txt, binary) stopped a run as "not valid UTF-8"."""
    def plant(root):
        (root / "pos" / "._1.txt").write_bytes(b"\x00\x05\x16\x07\xff\xfe")
        (root / "neg" / ".notes.txt").write_text("not a text of the class")

    texts, labels = read_labelled_file(_class_folders(tmp_path / "data", plant))
    assert sorted(zip(labels, texts)) == [("neg", "a neg text"), ("pos", "a pos text")]


def test_a_fifo_or_device_among_the_texts_is_named_not_read(tmp_path):
    """A FIFO named *.txt blocked the run for ever (and /dev/zero would fill the memory)."""
    root = _class_folders(tmp_path / "data", lambda root: os.mkfifo(root / "neg" / "2.txt"))
    with pytest.raises(DataError, match=r"neg/2.txt: is a named pipe \(FIFO\), not a regular file"):
        read_labelled_file(root)
    os.remove(root / "neg" / "2.txt")
    os.symlink("/dev/zero", root / "neg" / "2.txt")
    with pytest.raises(DataError, match="neg/2.txt: is a character device, not a regular file"):
        read_labelled_file(root)
    os.symlink("/dev/zero", tmp_path / "train.csv")
    with pytest.raises(DataError, match="train.csv: is a character device, not a file of labelled texts"):
        read_labelled_file(tmp_path / "train.csv")
    assert stat.S_ISCHR(os.stat(tmp_path / "train.csv").st_mode)


@pytest.fixture
def run_without_tensorflow(tmp_path, monkeypatch):
    """``train.run`` up to the job itself, which raises the given exception after making the run's logs/ (as a
    run interrupted or failing mid-training has)."""
    (tmp_path / "train.csv").write_text("text,label\na,pos\nb,neg\n")
    monkeypatch.setattr(train_cli, "start_tensorflow", lambda: None)

    class Strategy:
        get_strategy = staticmethod(lambda name: None)
        is_chief = staticmethod(lambda strategy: True)

    monkeypatch.setattr(train_cli, "distribute", Strategy)
    out = tmp_path / "run"

    def run(error, **settings):
        def job(data, output, *args):
            os.makedirs(out / "logs")
            assert (out / MARKER).exists()
            raise error

        monkeypatch.setattr(train_cli, "_run", job)
        data = DataConfig(train=str(tmp_path / "train.csv"), test=str(tmp_path / "train.csv"))
        return train_cli.run(data, RunConfig(output_dir=str(out)), ClassifierConfig(init="none", **settings))

    return run, out


def test_ctrl_c_without_a_backup_leaves_no_run_folder(run_without_tensorflow):
    """"nothing was saved" left a run folder holding a marker, a lock and empty logs."""
    run, out = run_without_tensorflow
    with pytest.raises(Interrupted, match="nothing was saved"):
        run(KeyboardInterrupt())
    assert not out.exists()


def test_ctrl_c_with_a_backup_keeps_the_run_folder_to_resume(run_without_tensorflow, tmp_path):
    run, out = run_without_tensorflow
    with pytest.raises(Interrupted, match="resume from the backup"):
        run(KeyboardInterrupt(), backup_dir=str(tmp_path / "backup"))
    assert (out / "logs").is_dir()  # (the resumed run's TensorBoard logs go on there)


def test_a_fault_that_is_not_a_zoo_error_leaves_no_run_folder(run_without_tensorflow):
    """A fault of zoo's own (its traceback is the report) left the half-made run folder behind."""
    run, out = run_without_tensorflow
    with pytest.raises(UnicodeEncodeError):
        run(UnicodeEncodeError("utf-8", "\udce9", 0, 1, "surrogates not allowed"))
    assert not out.exists()


@pytest.mark.parametrize("budget, setting", [({"max_train_examples": 1}, "--max-train-examples 1"),
                                             ({"labels": 1}, "--labels 1"), ({"dev": 7}, "--dev 7")])
def test_a_budget_that_leaves_one_class_is_one_line(tmp_path, capsys, budget, setting):
    """scikit-learn's "needs samples of at least 2 classes" ended the run with a traceback, after the training."""
    from zoo.data import datasets

    path = tmp_path / "train.csv"
    path.write_text("text,label\n" + "".join(f"text {i},{'pos' if i % 2 else 'neg'}\n" for i in range(8)))
    data = DataConfig(train=str(path), test=str(path), **budget)
    with pytest.raises(ConfigError) as error:
        datasets.load_for_training(data, validation_split=0.1, seed=0)
    capsys.readouterr()  # (the warnings logged while the data loaded)
    err = _one_line(capsys, 2, lambda: flags.fail_with(error.value))
    assert f"error: {setting}: the train split keeps 1 example(s), all of the class" in err


def test_a_json_lines_field_given_twice_is_named(tmp_path):
    """Python's json keeps the last of two "label" fields silently (other readers the first)."""
    path = tmp_path / "train.jsonl"
    path.write_text('{"text": "a", "label": "b"}\n{"text": "a", "label": "pos", "label": "neg"}\n')
    with pytest.raises(DataError, match=r"train.jsonl:2: field 'label' appears 2 times in the object; expected it once"):
        read_labelled_file(path)
    path.write_text('{"text": "a", "label": "pos", "meta": {"label": 1, "label": 2}}\n{"text": "b", "label": "neg"}\n')
    assert read_labelled_file(path) == (["a", "b"], ["pos", "neg"])  # (only the fields read count)


def test_explain_keeps_a_text_with_a_line_break_on_its_line(tmp_path, monkeypatch, capsys):
    """A text's line break, written as is, passed for the start of the next text's two lines."""
    from zoo.cli import explain

    class Explanation:
        label, probability, text = "pos", 0.9, "first line\nsecond\tcolumn"

        def top(self, k):
            return [("first", 0.5)]

    class Classifier:
        classes_ = ("neg", "pos")

        def explain(self, texts, labels, steps):
            return [Explanation() for _ in texts]

    class Loader:
        class TextClassifier:
            load = staticmethod(lambda path: Classifier())

    monkeypatch.setattr(explain, "start_tensorflow", lambda: None)
    monkeypatch.setattr(explain, "text_classifier", Loader)
    explain.main([str(tmp_path), "first line\nsecond\tcolumn"])
    assert capsys.readouterr().out == "pos\t0.9000\tfirst line\\nsecond\\tcolumn\n\tfirst +0.500\n"


@pytest.mark.parametrize("suffix, sep", [(".csv", ","), (".tsv", "\t")])
def test_a_header_row_repeated_inside_the_file_is_named(tmp_path, suffix, sep):
    """Two files joined with their headers (and byte-order marks) trained a class named 'label' on the text 'text'."""
    path = tmp_path / f"train{suffix}"
    header = f"text{sep}label\n".encode()
    path.write_bytes(b"\xef\xbb\xbf" + header + f"good{sep}pos\n".encode() + b"\xef\xbb\xbf" + header
                     + f"bad{sep}neg\n".encode())
    with pytest.raises(DataError, match=rf"train{suffix}:3: the header row again \(text, label\): files joined"):
        read_labelled_file(path)


def test_an_output_dir_name_too_long_is_refused_before_anything_runs(tmp_path):
    """It failed with OSError's traceback once TensorFlow had started (and a folder zoo makes elsewhere, after the
    training)."""
    from zoo.errors import ExportError
    from zoo.files import make_owned_directory

    long = tmp_path / "runs" / ("x" * 300)
    with pytest.raises(ExportError, match=r"the name x{40}\.\.\. is 300 bytes long, more than the \d+ the file"):
        train_cli.check_output_dir(str(long), overwrite=False)
    for name in ("backup_dir", "log_dir", "lm_cache_dir"):  # (--log-dir: TensorFlow's traceback, at the first epoch)
        with pytest.raises(ExportError, match=rf"^`{name}` .*: the name x{{40}}\.\.\. is 300 bytes long"):
            train_cli.check_other_dirs(ClassifierConfig(init="none", **{name: str(long)}), str(tmp_path / "run"))
    with pytest.raises(ExportError, match="cannot make the folder"):
        make_owned_directory(long, "logs")
    assert not os.path.exists(long)
