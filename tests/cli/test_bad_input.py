"""The bad-input matrix: the command line on every kind of bad input users hit (issue "Reliability").

Each case asserts the documented exit code of its kind (2 settings, 3 input, 4 output; docs/bad-input.md),
one ``error: ...`` line naming the problem, no traceback, and nothing written. The inputs that are odd but
valid (a very long text, empty texts, test = train, an empty class folder) train, with a warning where one
is due.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.cli.test_train import NEGATIVE, POSITIVE, RECIPE, _rows, _write_csv

pytestmark = pytest.mark.slow  # every case runs the command in a subprocess

# The bad training inputs, all in one subprocess (one TensorFlow import, not one per case): each runs the recipe as
# `python recipes/text_classifier.py ARGS` would (its __main__, its SystemExit's code, or 1 and the traceback for
# any other exception), with file descriptor 2 sent to a file of its own.
_CASES_DRIVER = """
import json, os, runpy, sys, traceback
recipe, runs = sys.argv[1], json.loads(sys.stdin.read())
results = []
for args, stderr_path in runs:
    sys.stderr.flush()
    saved = os.dup(2)
    with open(stderr_path, "w") as f:
        os.dup2(f.fileno(), 2)
    try:
        sys.argv = [recipe, *args]
        try:
            runpy.run_path(recipe, run_name="__main__")
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            if not isinstance(stop.code, (int, type(None))):
                print(stop.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
            code = 1
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
    results.append(code)
print(json.dumps(results))
"""


def _env(**extra):
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "ZOO_OFFLINE": "1", **extra}


def _zoo(*args, stdin=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "zoo", *args], input=stdin, capture_output=True, env=_env(),
                          cwd=cwd, timeout=600)


def _train(*args):
    return subprocess.run([sys.executable, RECIPE, *args], capture_output=True, text=True, env=_env(), timeout=600)


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    _write_csv(d / "train.csv", _rows(6))
    _write_csv(d / "test.csv", _rows(2))
    return d


def _case(d, name):
    """(extra arguments, exit code, text the error line must contain) of one bad training input."""
    if name == "missing file":
        return ["--train", str(d / "nope.csv")], 3, "nope.csv: no such file or directory"
    if name == "empty file":
        return ["--train", _write_csv(d / "empty.csv", [])], 3, "empty.csv: no data rows"
    if name == "missing column":
        return ["--train", _write_csv(d / "cols.csv", _rows(2), ("body", "label"))], 3, \
            "no column 'text' in the header row (columns: body, label); pass --text-column/--label-column"
    if name == "duplicate column":
        path = d / "dup.csv"
        path.write_text("text,label,text\n" + "".join(f"{t},pos,{t}\n" for t in POSITIVE * 2))
        return ["--train", str(path)], 3, "dup.csv:1: column 'text' appears 2 times in the header row"
    if name == "tsv named csv":
        path = d / "tabs.csv"
        path.write_text("text\tlabel\n" + "".join(f"{t}\tpos\n" for t in POSITIVE))
        return ["--train", str(path)], 3, "a tab-separated file? name it .tsv"
    if name == "text and labels from one column":  # it would train on the answers and score 1.0
        return ["--text-column", "label"], 2, "--text-column and --label-column both name 'label'"
    if name == "labels only in test":
        return ["--test", _write_csv(d / "t2.csv", _rows(1) + [("odd one", "meh")])], 3, "'meh'"
    if name == "non-UTF-8 line":
        (d / "latin1.csv").write_bytes(b"text,label\ngood,pos\ncaf\xe9 bad,neg\n")
        return ["--train", str(d / "latin1.csv")], 3, "latin1.csv:3: not valid UTF-8"
    if name == "inconsistent vectors":
        (d / "bad_vectors.txt").write_text("great 0.1 0.2 0.3\nfun 0.1 0.2\nfilm 0.1 0.2 0.3\n")
        return ["--init", str(d / "bad_vectors.txt")], 3, "bad_vectors.txt:2: expected 3 values"
    if name == "truncated vectors":
        (d / "trunc_vectors.txt").write_text("great 0.1 0.2 0.3\nfun 0.1 0.2")
        return ["--init", str(d / "trunc_vectors.txt")], 3, "trunc_vectors.txt:2"
    if name == "broken word2vec header":
        (d / "w2v.txt").write_text("3 3x\ngreat 0.1 0.2 0.3\nfun 0.1 0.2 0.3\nfilm 0.1 0.2 0.3\n")
        return ["--init", str(d / "w2v.txt")], 3, "w2v.txt:1: expected a 'COUNT DIM' header"
    if name == "vectors without the header their name promises":
        (d / "glove.vec").write_text("great 0.1 0.2 0.3\nfun 0.1 0.2 0.3\n")
        return ["--init", str(d / "glove.vec")], 3, "use format 'glove', --vectors-format"
    if name == "unknown language model":
        return ["--init", "lm:nope"], 3, "unknown pretrained model 'nope'"
    if name == "language model folder that is not there":  # (was in test_train.py's ULMFiT run)
        return ["--init", f"lm:{d / 'no_such_lm'}"], 3, f"unknown pretrained model '{d / 'no_such_lm'}'"
    if name == "init model: on a folder that is not a run":
        (d / "not_a_run").mkdir(exist_ok=True)
        return ["--init", f"model:{d / 'not_a_run'}"], 3, "not_a_run: not a saved TextClassifier (no classifier.json)"
    if name == "momentum without sgd":
        return ["--momentum", "0.5"], 2, "--momentum is a setting of optimizer='sgd', got optimizer='adam'"
    if name == "dropout out of range":
        return ["--dropout", "1.5"], 2, "--dropout must be a number in [0, 1) or None, got 1.5"
    if name == "bad sequence length":
        return ["--sequence-length", "q9"], 2, "--sequence-length must be an integer >= 1 or 'pNN'"
    if name in ("epochs 0", "epochs -1"):
        value = name.split()[1]
        return ["--epochs", value], 2, f"--epochs must be an integer >= 1 or None, got {value}"
    if name == "negative learning rate":
        return ["--learning-rate", "-1"], 2, "--learning-rate must be a number > 0"
    if name == "batch size 0":
        return ["--batch-size", "0"], 2, "--batch-size must be an integer >= 1, got 0"
    if name == "max tokens 0":
        return ["--max-tokens", "0"], 2, "--max-tokens must be an integer >= 3"
    if name == "embedding dim 0":
        return ["--embedding-dim", "0"], 2, "--embedding-dim must be an integer >= 1"
    if name == "negative clipnorm":
        return ["--clipnorm", "-1"], 2, "--clipnorm must be a number >= 0"
    if name == "negative patience":
        return ["--patience", "-1"], 2, "--patience must be an integer >= 0, got -1"
    if name == "tpu without a tpu":
        return ["--strategy", "tpu"], 2, "--strategy 'tpu': no TPU found"
    if name == "config value of the wrong type":
        (d / "best.json").write_text(json.dumps({"epochs": "ten"}))
        return ["--config", str(d / "best.json")], 2, f"{d / 'best.json'}: `epochs` must be an integer >= 1 or None, got 'ten'"
    if name == "backup dir is the output dir":  # (the backup is removed when the run finishes)
        return ["--backup-dir", "{out}"], 4, "run: is the output folder too"
    if name == "seed beyond what random states take":
        return ["--seed", str(2 ** 32)], 2, "--seed must be an integer in [0, 4294967295], got 4294967296"
    if name == "texts without a token":  # (TensorFlow's "Table not initialized" before)
        return ["--train", _write_csv(d / "blank.csv", [("...", "pos"), ("!!", "neg")] * 4)], 3, \
            "n-gram path: the 7 training texts hold no word (empty or only punctuation); pass hybrid=False"
    if name == "output dir inside the class folders read":  # its files would be a class on the next run
        for label, texts in (("pos", POSITIVE), ("neg", NEGATIVE)):
            (d / "folders" / label).mkdir(parents=True, exist_ok=True)
            for i, text in enumerate(texts * 2):
                (d / "folders" / label / f"{i}.txt").write_text(text)
        return ["--train", str(d / "folders"), "--output-dir", str(d / "folders" / "run")], 4, \
            f"--output-dir {d / 'folders' / 'run'}: is inside --train {d / 'folders'}, whose sub-folders are read"
    if name == "output dir is a file":
        (d / "a_file").write_text("x")
        return ["--output-dir", str(d / "a_file")], 4, "is a file, not a directory"
    raise AssertionError(name)


CASES = ["missing file", "empty file", "missing column", "duplicate column", "tsv named csv",
         "text and labels from one column", "labels only in test",
         "non-UTF-8 line", "inconsistent vectors", "truncated vectors", "broken word2vec header",
         "vectors without the header their name promises", "unknown language model",
         "language model folder that is not there",
         "init model: on a folder that is not a run", "momentum without sgd", "dropout out of range",
         "bad sequence length", "epochs 0", "epochs -1", "negative learning rate", "batch size 0", "max tokens 0",
         "embedding dim 0", "negative clipnorm", "negative patience", "tpu without a tpu",
         "config value of the wrong type", "backup dir is the output dir", "output dir is a file",
         "seed beyond what random states take", "texts without a token", "output dir inside the class folders read"]


def _one_error_line(stderr, expected):
    lines = [line for line in stderr.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and expected in lines[0], stderr[-2000:]
    assert "Traceback" not in stderr and stderr.strip().splitlines()[-1] == lines[0]


@pytest.fixture(scope="module")
def bad_runs(d, tmp_path_factory):
    """case -> (exit code, stderr, expected code, expected text, output dir) of every case of CASES, run in one
    subprocess (:data:`_CASES_DRIVER`)."""
    base = tmp_path_factory.mktemp("cases")
    runs, expected = [], {}
    for i, case in enumerate(CASES):
        override, code, text = _case(d, case)
        out = base / str(i) / "run"
        override = [str(out) if value == "{out}" else value for value in override]
        args = {"--train": str(d / "train.csv"), "--test": str(d / "test.csv"), "--init": "none",
                "--output-dir": str(out), "--epochs": "1"}
        args.update(zip(override[::2], override[1::2]))
        runs.append(([x for kv in args.items() for x in kv], str(base / f"{i}.stderr")))
        expected[case] = (code, text, out)
    driver = subprocess.run([sys.executable, "-c", _CASES_DRIVER, RECIPE], input=json.dumps(runs),
                            capture_output=True, text=True, env=_env(), timeout=600)
    assert driver.returncode == 0, driver.stderr[-3000:]
    codes = json.loads(driver.stdout.strip().splitlines()[-1])
    return {case: (codes[i], open(runs[i][1]).read(), *expected[case]) for i, case in enumerate(CASES)}


@pytest.mark.parametrize("case", CASES)
def test_bad_training_input(bad_runs, case):
    returncode, stderr, code, expected, out = bad_runs[case]
    assert returncode == code, stderr[-2000:]
    _one_error_line(stderr, expected)
    assert not out.exists()


def test_dry_run_checks_what_the_settings_say_together(d, capsys):
    from zoo.cli import main as zoo_main

    data = ["--train", str(d / "train.csv"), "--test", str(d / "test.csv")]
    with pytest.raises(SystemExit) as stop:
        zoo_main(["train", *data, "--label-separator", "|", "--dry-run"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip() == ("error: `label_separator` '|' reads several labels per row: pass "
                                               "`multi_label` too").replace("`label_separator`", "--label-separator") \
        .replace("`multi_label`", "--multi-label")
    zoo_main(["train", *data, "--label-separator", "|", "--multi-label", "--dry-run"])
    assert "settings checked" in capsys.readouterr().out
    (d / "separator.json").write_text(json.dumps({"label_separator": "|"}))  # the file is named, not a flag
    with pytest.raises(SystemExit):
        zoo_main(["train", *data, "--config", str(d / "separator.json"), "--dry-run"])
    assert capsys.readouterr().err.strip() == (f"error: {d / 'separator.json'}: `label_separator` '|' reads several "
                                               "labels per row: pass `multi_label` too")


def test_an_unwritable_output_dir(d, tmp_path):
    target = "/sys/zoo-test-output"
    if os.access("/sys", os.W_OK) and not os.path.exists(target):
        try:
            os.mkdir(target)
            os.rmdir(target)
            pytest.skip("/sys is writable here: no read-only place to test with")
        except OSError:
            pass
    result = _train("--train", str(d / "train.csv"), "--test", str(d / "test.csv"), "--init", "none",
                    "--output-dir", target)
    assert result.returncode == 4, result.stderr[-2000:]
    _one_error_line(result.stderr, "--output-dir /sys/zoo-test-output: cannot write in /sys")


def test_odd_but_valid_input_trains_with_warnings(finished):
    """A text over the csv module's default field limit, empty texts, and the test split the train split: the run
    (``finished``, on such a file) trains, and says so."""
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "2 of 51 texts are empty" in finished.stderr
    assert "the test split is the train split" in finished.stderr
    assert "Traceback" not in finished.stderr and "failed call to cuInit" not in finished.stderr


def test_an_empty_class_folder_is_named(tmp_path):
    for split in ("train", "test"):
        for label, texts in (("pos", POSITIVE), ("neg", NEGATIVE)):
            (tmp_path / split / label).mkdir(parents=True)
            for i, text in enumerate(texts * 3):
                (tmp_path / split / label / f"{i}.txt").write_text(text)
    (tmp_path / "train" / "neutral").mkdir()
    result = _train("--train", str(tmp_path / "train"), "--test", str(tmp_path / "test"), "--init", "none",
                    "--units", "8", "--epochs", "1", "--no-baseline", "--output-dir", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "neutral: no .txt files: class 'neutral' is left out" in result.stderr


# === zoo predict and zoo report ===


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One finished run, for the odd but valid input above and the tests of zoo predict, zoo report and the outputs
    below: the odd file as both train and test split, trained under umask 022 into the folder a run killed while
    writing left (its temporary export directory, a model.keras but no metrics.json, old TensorBoard events)."""
    from zoo.files import write_marker

    base = tmp_path_factory.mktemp("run")
    long_text = "great " * 30000  # 180,000 characters: over the csv module's default field limit
    train = _write_csv(base / "train.csv", _rows(6) + [(long_text, "pos"), ("", "neg"), ("   ", "pos")])
    out = base / "run"
    out.mkdir()
    write_marker(out, "run")  # what the killed run had written first
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = out / f".zoo-tmp-{dead.stdout.strip()}-export"
    leftover.mkdir()
    (leftover / "saved_model.pb").write_text("half")
    (out / "model.keras").write_text("from the killed run")
    (out / "logs" / "train").mkdir(parents=True)
    write_marker(out / "logs", "logs")
    (out / "logs" / "train" / "events.out.tfevents.old").write_text("old")
    code = ("import os, runpy, sys; os.umask(0o022); sys.argv = sys.argv[1:]; "
            "runpy.run_path(sys.argv[0], run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", code, RECIPE, "--train", train, "--test", train, "--init", "none",
                             "--units", "8", "--embedding-dim", "8", "--epochs", "1", "--output-dir", str(out)],
                            capture_output=True, text=True, env=_env(), timeout=600)
    result.out = out
    return result


@pytest.fixture
def run_dir(finished):
    assert finished.returncode == 0, finished.stderr[-3000:]
    return finished.out


def test_predict_bad_input(run_dir, tmp_path):
    bad_utf8 = _zoo("predict", str(run_dir / "export"), stdin=b"fine line\n\xff\xfe broken\n")
    assert bad_utf8.returncode == 3
    _one_error_line(bad_utf8.stderr.decode(), "stdin:2: not valid UTF-8")
    for content, name in ((b"", "empty"), (b"not a protobuf at all", "corrupt")):
        broken = tmp_path / name
        broken.mkdir()
        (broken / "saved_model.pb").write_bytes(content)
        result = _zoo("predict", str(broken), "some text")
        assert result.returncode == 3, result.stderr[-2000:]
        _one_error_line(result.stderr.decode(), f"{broken}: cannot load the SavedModel")
    odd = _zoo("predict", str(run_dir / "export"), "a\ttab", "two\nlines \\ and\rmore")
    assert odd.returncode == 0, odd.stderr[-2000:]
    fields = [line.split("\t") for line in odd.stdout.decode().splitlines()]
    assert [f[2] for f in fields] == ["a\\ttab", "two\\nlines \\\\ and\\rmore"]  # one field, one line each


def test_predict_reads_stdin_in_batches_with_bounded_memory(tmp_path):
    """50,000 lines through an export of the main job's size (BiLSTM 96 on 50-d embeddings, 30,000 words,
    328 tokens) stay under 1 GiB of memory."""
    script = ("import keras, numpy as np\n"
              "from zoo import build_bilstm\n"
              "from zoo.models.text_model import text_model\n"
              "from zoo.serving.export import export_text_classifier\n"
              "words = ['', '[UNK]'] + [f'w{i}' for i in range(30000)]\n"
              "vectorizer = keras.layers.TextVectorization(vocabulary=words, ragged=True)\n"
              "model = build_bilstm(len(words), 20, embedding_dim=50, units=96)\n"
              f"export_text_classifier(text_model(model, vectorizer, 328), [str(i) for i in range(20)], {str(tmp_path / 'export')!r})\n")
    made = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=_env(), timeout=600)
    assert made.returncode == 0, made.stderr[-2000:]
    lines = "".join(f"w{i % 30000} w{(i * 7) % 30000} a reply to the thread about w{i % 97}\n"
                    for i in range(50_000)).encode()
    # The command in a process of its own that samples its own anonymous memory (RssAnon: heap and tensors) every
    # 5 ms. Not the peak RSS: that counts the pages of TensorFlow's shared libraries too, and how many of those a
    # process maps depends on the page cache, i.e. on what else runs (1.2 GiB once beside the rest of the suite,
    # 0.77 GiB alone, for the same command).
    code = ("import sys, threading, time\n"
            "from zoo.cli import main\n"
            "peak = [0]\n"
            "def anon_kb():\n"
            "    with open('/proc/self/status') as f:\n"
            "        return next(int(line.split()[1]) for line in f if line.startswith('RssAnon:'))\n"
            "def sample():\n"
            "    while True:\n"
            "        peak[0] = max(peak[0], anon_kb())\n"
            "        time.sleep(0.005)\n"
            "threading.Thread(target=sample, daemon=True).start()\n"
            "try:\n"
            f"    main(['predict', {str(tmp_path / 'export')!r}])\n"
            "finally:\n"
            "    peak[0] = max(peak[0], anon_kb())\n"
            "    print('peak_anon_kb', peak[0], file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", code], input=lines, capture_output=True, env=_env(), timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.decode().count("\n") == 50_000
    peak_kb = int(result.stderr.decode().strip().splitlines()[-1].split()[1])
    assert peak_kb < 1024 * 1024, f"peak anonymous memory {peak_kb / 1024:.0f} MiB"


def test_report_names_bad_run_dirs_and_keeps_the_good_rows(run_dir, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    truncated = tmp_path / "truncated"
    truncated.mkdir()
    (truncated / "config.json").write_text((run_dir / "config.json").read_text())
    (truncated / "metrics.json").write_text('{"accuracy": 0.5, "macro')
    result = _zoo("report", str(run_dir), str(empty), str(truncated))
    assert result.returncode == 0, result.stderr
    out, err = result.stdout.decode(), result.stderr.decode()
    assert f"| {run_dir.name} |" in out
    assert f"{empty / 'config.json'}: missing" in err and f"{truncated / 'metrics.json'}: cannot read it" in err
    only_bad = _zoo("report", str(empty))
    assert only_bad.returncode == 3 and "Traceback" not in only_bad.stderr.decode()


# === Outputs ===


def test_a_killed_write_leaves_nothing_a_rerun_trips_over(run_dir):
    """A run killed while writing (its temporary directory left, model.keras but no metrics.json) is rerun as is
    (``run_dir`` is that rerun)."""
    assert (run_dir / "metrics.json").exists() and (run_dir / "model.keras").read_bytes() != b"from the killed run"
    assert not list(run_dir.glob(".zoo-tmp-*"))  # the killed run's temporary export directory too
    assert not (run_dir / "logs" / "train" / "events.out.tfevents.old").exists()  # no mixing with the old events


def test_every_output_is_readable_by_others_under_umask_022(run_dir):
    for root, dirs, files in os.walk(run_dir):  # (run_dir ran under umask 022)
        for name in dirs:
            assert os.stat(os.path.join(root, name)).st_mode & 0o005 == 0o005, os.path.join(root, name)
        for name in files:
            assert os.stat(os.path.join(root, name)).st_mode & 0o004, os.path.join(root, name)


def test_the_help_lists_init_and_every_command_exits_the_same_way():
    shown = _train("--help")
    assert shown.returncode == 0 and "--init INIT" in shown.stdout and "lm:ARTIFACT" in shown.stdout
    usage = _train("--no-such-flag")
    assert usage.returncode == 2 and "unrecognized arguments: --no-such-flag" in usage.stderr
