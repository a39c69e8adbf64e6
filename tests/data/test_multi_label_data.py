"""Multi-label data: label cells with a separator, JSON lists, bad cells (one line naming file and line),
the indicator matrices of load_files, and the committed debtags snapshot."""

import gzip
import json

import pytest

from zoo.data import debtags
from zoo.data.datasets import load_dataset, load_files, resplit
from zoo.data.files import read_labelled_file
from zoo.errors import DataError


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_separator_splits_each_cell(tmp_path):
    csv = _write(tmp_path, "a.csv", 'text,label\n"x, y",a|b\nz, c \nw,a|a\n')
    assert read_labelled_file(csv, label_separator="|") == (["x, y", "z", "w"], [["a", "b"], ["c"], ["a"]])
    tsv = _write(tmp_path, "a.tsv", "text\tlabel\nx\ta;b\n")
    assert read_labelled_file(tsv, label_separator=";")[1] == [["a", "b"]]
    # multi_label without a separator: one label per cell, as a list
    assert read_labelled_file(csv, multi_label=True)[1] == [["a|b"], ["c"], ["a|a"]]


def test_json_lists_strings_and_numbers_are_labels(tmp_path):
    path = _write(tmp_path, "a.jsonl", '{"text": "x", "label": ["a", "b"]}\n\n{"text": "y", "label": "c|d"}\n'
                                       '{"text": "z", "label": 3}\n')
    assert read_labelled_file(path, label_separator="|")[1] == [["a", "b"], ["c", "d"], ["3"]]
    assert read_labelled_file(path, multi_label=True)[1] == [["a", "b"], ["c|d"], ["3"]]


@pytest.mark.parametrize("name, text, options, message", [
    ("a.csv", "text,label\nx,a||b\n", {"label_separator": "|"}, "a.csv:2: empty label in 'label' ('a||b')"),
    ("a.csv", "text,label\nx,a\ny,|\n", {"label_separator": "|"}, "a.csv:3: empty label in 'label'"),
    ("a.csv", "text,label\nx,a\ny, \n", {"label_separator": "|"}, "a.csv:3: empty label list in 'label'"),
    ("a.jsonl", '{"text": "x", "label": "a"}\n{"text": "y", "label": []}\n', {"multi_label": True},
     "a.jsonl:2: field 'label': empty label list []"),
    ("a.jsonl", '{"text": "x", "label": ["a", 1]}\n', {"multi_label": True},
     "a.jsonl:1: field 'label': item 1 of the label list is number 1; expected a string label"),
    ("a.jsonl", '{"text": "x", "label": ["a", ["b"]]}\n', {"multi_label": True},
     "a.jsonl:1: field 'label': item 1 of the label list is array"),
    ("a.jsonl", '{"text": "x", "label": ["a", " "]}\n', {"multi_label": True},
     "a.jsonl:1: field 'label': item 1 of the label list is an empty string"),
    ("a.jsonl", '{"text": "x", "label": "a"}\n{"text": "y", "label": ["a"]}\n', {},
     "a.jsonl:2: field 'label': a JSON list of labels needs a multi-label run"),
    ("a.jsonl", '{"text": "x", "label": {"a": 1}}\n', {"multi_label": True},
     "a.jsonl:1: field 'label': expected a string or number label, got object"),
])
def test_bad_label_cells_are_one_line_naming_file_and_line(tmp_path, name, text, options, message):
    path = _write(tmp_path, name, text)
    with pytest.raises(DataError) as info:
        read_labelled_file(path, **options)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(info.value).startswith(str(path))


def test_a_separator_needs_multi_label(tmp_path):
    path = _write(tmp_path, "a.csv", "text,label\nx,a\n")
    with pytest.raises(DataError, match="label_separator '|': several labels per row need multi_label=True"):
        read_labelled_file(path, label_separator="|", multi_label=False)
    with pytest.raises(DataError, match="label_separator: expected a non-empty string"):
        read_labelled_file(path, label_separator="")


def test_load_files_gives_indicator_matrices(tmp_path):
    train = _write(tmp_path, "train.csv", "text,label\n" + "a b,x|y\nc,y\nd,z\ne f,x\n" * 5)
    test = _write(tmp_path, "test.jsonl", '{"text": "a", "label": ["y", "x"]}\n{"text": "d", "label": ["z"]}\n')
    ds = load_files(train, test, label_separator="|", validation_split=0.2, seed=0)
    assert ds.multi_label and ds.class_names == ["x", "y", "z"] and ds.summary()["multi_label"]
    assert ds.train_labels.shape == (16, 3) and ds.valid_labels.shape == (4, 3)
    assert ds.test_labels.tolist() == [[1, 1, 0], [0, 0, 1]] and ds.label_lists("test") == [["x", "y"], ["z"]]
    assert resplit(ds, validation_split=0.0).valid_labels.shape == (4, 3)  # the valid split stays
    bad = _write(tmp_path, "bad.jsonl", '{"text": "a", "label": ["w"]}\n')
    with pytest.raises(DataError, match="bad.jsonl: 1 label\\(s\\) not in the train file .*'w'"):
        load_files(train, bad, label_separator="|")


def test_parse_packages_keeps_tagged_packages():
    lines = ["Package: vim", "Source: vim (2:9.0)", "Description: Vi IMproved - enhanced vi editor",
             "Tag: use::editing, works-with::text,", " role::program", "", "Package: untagged", "Description: x", ""]
    assert debtags.parse_packages(lines) == (["vim: Vi IMproved - enhanced vi editor"],
                                             [["role::program", "use::editing", "works-with::text"]])


def test_the_debtags_snapshot_loads_offline_with_fixed_splits():
    ds = load_dataset("debtags", validation_split=0.3)  # the splits are the snapshot's own
    assert ds.summary() == {"train": 4242, "valid": 585, "test": 1208, "num_classes": 33, "source": ds.source,
                            "multi_label": True}
    assert all(name.split("::")[0] in debtags.FACETS for name in ds.class_names)
    assert ds.train_labels.sum(0).min() >= 50 and ds.test_labels.sum(1).min() >= 1  # every text has a tag
    with gzip.open(debtags.SNAPSHOT, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    split_of = {}
    for row in rows:  # grouped by source package: no source in two splits
        assert split_of.setdefault(row["source"], row["split"]) == row["split"]
    assert debtags.SNAPSHOT.with_suffix("").with_suffix(".md").exists()


def test_a_broken_snapshot_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"text": "a", "labels": ["x"], "split": "train"}) + "\n")
        f.write(json.dumps({"text": "b", "labels": [], "split": "train"}) + "\n")
    with pytest.raises(DataError, match="bad.jsonl.gz:2: not a debtags snapshot line"):
        debtags.load_snapshot(path)
