"""Labels that used to end in a traceback (issue "Never lose a user's files": tracebacks that remain)."""

import pytest

from zoo.data.files import class_names_of, read_labelled_file
from zoo.errors import DataError


def test_a_label_of_thousands_of_digits_is_a_label(tmp_path):
    big = "9" * 5000
    (tmp_path / "a.jsonl").write_text(f'{{"text": "x y", "label": {big}}}\n{{"text": "z", "label": 3}}\n')
    texts, labels = read_labelled_file(tmp_path / "a.jsonl")
    assert labels == [big, "3"]
    assert class_names_of(labels + ["10"], "a.jsonl") == ["3", "10", big]  # numerically, as before


@pytest.mark.parametrize("line, message", [
    ('{"text": "x", "label": ' + "[" * 100_000 + "]" * 100_000 + "}", "a.jsonl:1: JSON nested too deeply"),
    ('{"text": "x", "label": NaN}', "a.jsonl:1: field 'label': expected a string or number label, got nan"),
])
def test_json_that_is_not_a_label_is_one_line(tmp_path, line, message):
    (tmp_path / "a.jsonl").write_text(line + "\n")
    with pytest.raises(DataError, match=message):
        read_labelled_file(tmp_path / "a.jsonl")


def test_labels_that_differ_only_in_spaces_are_refused_and_in_case_warned(caplog):
    import logging

    from zoo.data.inputs import label_targets

    with pytest.raises(DataError, match="'pos' and 'pos ' differ only in surrounding spaces"):
        label_targets(["pos ", "pos", "neg"], 3)
    with pytest.raises(DataError, match="labels: 1 label.s. not among the classes: 'neg'"):  # (not "2 classes")
        label_targets(["pos", "neg"], 2, classes=["pos"])
    zoo_logger = logging.getLogger("zoo")
    zoo_logger.addHandler(caplog.handler)  # (zoo's logger does not propagate)
    try:
        classes, _, _, _ = label_targets(["Pos", "pos", "neg"], 3)
        label_targets(["pos", "neg"], 2, classes=["neg", "pos", "neutral"])
        label_targets(["1", "1.0", "2"], 3)
    finally:
        zoo_logger.removeHandler(caplog.handler)
    assert classes == ["Pos", "neg", "pos"] and "'Pos' and 'pos' differ only in case" in caplog.text
    assert "'1' and '1.0' are the same number; they are two classes" in caplog.text
    assert "classes: 'neutral' has no training text" in caplog.text


def test_json_booleans_are_labels_spelled_as_json(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "x", "label": true}\n{"text": "y", "label": false}\n')
    assert read_labelled_file(tmp_path / "a.jsonl")[1] == ["true", "false"]


def test_a_lone_surrogate_is_one_line_naming_the_row_and_field(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "ok", "label": "pos"}\n{"text": "ok \\ud800", "label": "neg"}\n')
    with pytest.raises(DataError, match=r"a.jsonl:2: field 'text' is not valid text: '\\ud800' at column 4 is a "
                                        "lone surrogate; expected UTF-8 text"):
        read_labelled_file(tmp_path / "a.jsonl")


@pytest.mark.parametrize("entry", ["folder", "dangling link"])
def test_a_class_folder_entry_that_is_no_file_is_one_line(tmp_path, entry):
    for label in ("pos", "neg"):
        (tmp_path / label).mkdir()
        (tmp_path / label / "1.txt").write_text("some text")
    odd = tmp_path / "pos" / "2.txt"
    odd.mkdir() if entry == "folder" else odd.symlink_to(tmp_path / "nowhere")
    reason = "Is a directory" if entry == "folder" else "a link to a missing file"
    with pytest.raises(DataError, match=f"2.txt: cannot read it .{reason}.; expected a UTF-8 text file of the class "
                                        "'pos'"):
        read_labelled_file(tmp_path)


def test_old_mac_line_ends_are_named_as_such(tmp_path):
    (tmp_path / "a.csv").write_bytes(b"text,label\rgood film,pos\rbad film,neg\r")
    with pytest.raises(DataError, match=r"a.csv:1: malformed CSV record: a carriage return \(\\r\) alone ends a line"):
        read_labelled_file(tmp_path / "a.csv")
