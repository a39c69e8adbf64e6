"""Reading labelled texts from local files: CSV, TSV, JSON lines, or one folder per class.

Every problem is one line naming the file, the line and what was expected:

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "train.csv")
>>> with open(path, "w") as f:
...     _ = f.write("review,label\\ngreat film,pos\\n")
>>> read_labelled_file(path)
Traceback (most recent call last):
...
zoo.errors.DataError: ...train.csv: no column 'text' in the header row (columns: review, label); pass `text_column`/`label_column` to pick others
>>> read_labelled_file(path, text_column="review")
(['great film'], ['pos'])
"""

import csv
import decimal
import json
import math
import os
import re
import stat
import sys
from pathlib import Path

import numpy as np

from zoo.data.labels import warn_label_twins
from zoo.errors import DataError
from zoo.files import MARKER
from zoo.log import logger

SUPPORTED_FORMATS = (".csv", ".tsv", ".jsonl", ".ndjson")
SKIPPED_CLASS_FOLDERS = {"unsup"}  # aclImdb's unlabelled reviews


def read_labelled_file(path, *, text_column="text", label_column="label", label_separator=None, multi_label=None):
    """Reads texts and string labels from one file or one folder of class folders.

    Formats, by extension:

    * ``.csv``: a header row naming the columns, RFC 4180 quoting.
    * ``.tsv``: a header row, tab-separated, no quoting (tabs and newlines
      cannot occur inside a field; quote characters are kept as text).
    * ``.jsonl`` / ``.ndjson``: one JSON object per line; blank lines skipped.
    * a directory: one sub-folder per class holding ``.txt`` files (the
      aclImdb layout); a sub-folder named ``unsup`` is skipped, and so are hidden files and folders.

    Files must be UTF-8 (a byte-order mark is allowed).

    Multi-label files (``multi_label``, implied by ``label_separator``): a
    label cell holds several labels split at ``label_separator`` (``"a|b"``),
    and in JSON lines a label field may also be a JSON list of strings
    (``["a", "b"]``). Every row needs at least one label; a label repeated in
    a row counts once.

    Args:
        path: The file or directory.
        text_column, label_column: Column or field names (unused for folders).
        label_separator: The string between the labels of one cell (None:
            one label per cell, or a JSON list).
        multi_label: Whether rows hold lists of labels (default: True when
            ``label_separator`` is given). Without it a JSON list is an error.

    Returns:
        ``(texts, labels)``: two lists of equal length; the labels are ``str``,
        or with ``multi_label`` lists of ``str``.

    Raises:
        DataError: one line naming the file (and line), the problem, and what
            was expected.

    Example:

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "train.tsv")
    >>> with open(path, "w") as f:
    ...     _ = f.write('sentence\\tlabel\\nit "works"\\t1\\n')
    >>> read_labelled_file(path, text_column="sentence")
    (['it "works"'], ['1'])
    """
    path = Path(path)
    if label_separator is not None and (not isinstance(label_separator, str) or not label_separator):
        raise DataError(f"label_separator: expected a non-empty string or None, got {label_separator!r}")
    if multi_label is None:
        multi_label = label_separator is not None
    elif label_separator is not None and not multi_label:
        raise DataError(f"label_separator {label_separator!r}: several labels per row need multi_label=True")
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if text_column == label_column and not path.is_dir():
        raise DataError(f"{path}: text_column and label_column both name {text_column!r}; expected two "
                        f"different columns")
    kind = _special_kind(path.stat().st_mode)
    if kind and not stat.S_ISFIFO(path.stat().st_mode):  # (a pipe streams a file, and is read once)
        raise DataError(f"{path}: is {kind}, not a file of labelled texts; expected a .csv, .tsv or .jsonl file "
                        "or a folder of class folders")
    labels = _Labels(label_column, label_separator, multi_label)
    if path.is_dir():
        texts, names = _read_class_folders(path)
        return texts, [[name] for name in names] if multi_label else names
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return _read_delimited(path, suffix, text_column, label_column, labels)
    if suffix in (".jsonl", ".ndjson"):
        return _read_json_lines(path, text_column, label_column, labels)
    raise DataError(f"{path}: unsupported format {suffix or '(no extension)'!r}: expected "
                    f"{', '.join(SUPPORTED_FORMATS)} or a directory with one sub-folder per class")


# === Local files ===


def _utf8_lines(path):
    """Yields ``(line_number, line)``, decoding line by line to report the bad line."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                yield number, raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise DataError(_not_utf8(path, number, raw, e.start)) from None


def _not_utf8(path, line, raw, offset):
    """The message for an undecodable byte at ``offset`` of line ``raw``."""
    return (f"{path}:{line}: not valid UTF-8 (byte 0x{raw[offset]:02x} at column {offset + 1}); "
            f"expected UTF-8 text, re-save the file as UTF-8")


def _read_delimited(path, suffix, text_column, label_column, labels_of):
    tsv = suffix == ".tsv"
    # TSV exports seldom quote, and a stray quote in a text must not swallow the following lines.
    quoting = csv.QUOTE_NONE if tsv else csv.QUOTE_MINIMAL
    rows = _numbered_rows(path, delimiter="\t" if tsv else ",", quoting=quoting)
    header = next(rows, (None, None, None))[2]
    if header is None:
        raise DataError(f"{path}: no data rows: the file is empty (expected a header row naming "
                        f"the columns {text_column!r} and {label_column!r}, then one row per example)")
    header = [name.strip() for name in header]
    for column in (text_column, label_column):
        if column not in header:
            hint = ""
            if not tsv and len(header) == 1 and "\t" in header[0]:
                hint = " (the header has tabs, no commas: a tab-separated file? name it .tsv)"
            raise DataError(f"{path}: no column {column!r} in the header row (columns: {', '.join(header)}); "
                            f"pass `text_column`/`label_column` to pick others{hint}")
        if header.count(column) > 1:
            where = [i + 1 for i, name in enumerate(header) if name == column]
            raise DataError(f"{path}:1: column {column!r} appears {len(where)} times in the header row (columns "
                            f"{', '.join(map(str, where))}); expected each column once")
    text_at, label_at = header.index(text_column), header.index(label_column)
    texts, labels = [], []
    for line, end, row in rows:
        if len(row) != len(header):
            raise DataError(f"{path}:{line}: expected {len(header)} fields, got {len(row)}"
                            f"{_field_count_hint(tsv, line, end)}")
        if [cell.strip().lstrip("\ufeff") for cell in row] == header:  # (read on, it trains a class named `label`)
            raise DataError(f"{path}:{line}: the header row again ({', '.join(header)}): files joined with their "
                            "headers (cat a.csv b.csv)? expected one header row, then one row per example")
        texts.append(row[text_at])
        labels.append(labels_of.cell(row[label_at], path, line))
    if not texts:
        raise DataError(f"{path}: no data rows after the header row (expected one row per example)")
    return texts, labels


def _numbered_rows(path, delimiter, quoting):
    """Yields ``(first_line, last_line, fields)`` of non-blank CSV records."""
    # Python's csv module refuses fields over 131,072 characters by default; a long review or document is
    # data, not an error (JSON lines have no such limit).
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    lines = (line for _, line in _utf8_lines(path))
    reader = csv.reader(lines, delimiter=delimiter, quoting=quoting)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            reason = str(e)
            if "new-line character seen in unquoted field" in reason:  # (Python's hint names an open() mode)
                reason = ("a carriage return (\\r) alone ends a line inside a field (an old Mac file?); expected "
                          "lines that end in \\n or \\r\\n")
            raise DataError(f"{path}:{start}: malformed {path.suffix[1:].upper()} record: {reason}") from None
        if len(row) > 1 or (row and row[0].strip()):  # blank lines read as [] or ['  ']
            yield start, reader.line_num, row


def _field_count_hint(tsv, start, end):
    if end > start:  # a quoted field ran on past its line
        return f" (the record spans lines {start}-{end}: check for an unbalanced quote)"
    return "" if tsv else " (quote fields that contain commas)"


_JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number",
               bool: "boolean", type(None): "null"}


def check_unicode(what, texts, name=lambda i: f"item {i}"):
    r"""A one-line DataError for the first of ``texts`` (strings) that UTF-8 cannot encode: one holding a lone
    surrogate, from a JSON escape such as ``"\ud800"`` or from bytes that were not UTF-8 (Python decodes a command
    line's that way). TensorFlow would fail on it mid-run with its own traceback.

    >>> check_unicode("texts", ["fine", "caf\udce9"])
    Traceback (most recent call last):
    ...
    zoo.errors.DataError: texts: item 1 is not valid text: '\udce9' at column 4 is a lone surrogate (the byte 0xe9 of text that is not UTF-8?); expected UTF-8 text
    """
    try:
        "".join(texts).encode("utf-8")
        return
    except UnicodeEncodeError:
        pass
    for i, text in enumerate(texts):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            char = text[error.start]
            byte = f" (the byte 0x{ord(char) - 0xDC00:02x} of text that is not UTF-8?)" if 0xDC80 <= ord(char) <= 0xDCFF \
                else ""
            raise DataError(f"{what}: {name(i)} is not valid text: {char!r} at column {error.start + 1} is a lone "
                            f"surrogate{byte}; expected UTF-8 text") from None


def _read_json_lines(path, text_column, label_column, labels_of):
    texts, labels = [], []
    for line, content in _utf8_lines(path):
        if not content.strip():
            continue
        try:
            record = json.loads(content, parse_int=_json_int, object_pairs_hook=_JSONObject)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{line}: invalid JSON ({e.msg} at column {e.colno}); "
                            f"expected one JSON object per line") from None
        except RecursionError:
            raise DataError(f"{path}:{line}: JSON nested too deeply; expected one JSON object per line, "
                            "its label a string or number") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}:{line}: expected a JSON object, got {_JSON_TYPES.get(type(record))}")
        for field in (text_column, label_column):
            if record.keys_read.count(field) > 1:
                raise DataError(f"{path}:{line}: field {field!r} appears {record.keys_read.count(field)} times in "
                                "the object; expected it once (a JSON reader keeps one of them, and which one differs)")
        for field in (text_column, label_column):
            if field not in record:
                raise DataError(f"{path}:{line}: no field {field!r} (fields: {', '.join(record) or 'none'}); "
                                f"pass `text_column`/`label_column` to pick others")
        text, label = record[text_column], record[label_column]
        if not isinstance(text, str):
            raise DataError(f"{path}:{line}: field {text_column!r}: expected a string, "
                            f"got {_JSON_TYPES.get(type(text))}")
        strings = [text, *(v for v in (label if isinstance(label, list) else [label]) if isinstance(v, str))]
        check_unicode(f"{path}:{line}", strings, lambda i: f"field {text_column if i == 0 else label_column!r}")
        texts.append(text)
        labels.append(labels_of.json(label, path, line))
    if not texts:
        raise DataError(f"{path}: no data rows (expected one JSON object per line)")
    return texts, labels


class _JSONObject(dict):
    """A JSON object that remembers its keys as written (``keys_read``), repeats included: Python's json keeps the
    last of two "label" fields silently, other readers the first, so the label read is not what it seems."""

    def __init__(self, pairs):
        super().__init__(pairs)
        self.keys_read = [key for key, _ in pairs]


_JSON_TYPES[_JSONObject] = "object"


def _json_int(digits):
    """A JSON integer; one of more digits than Python turns into an ``int`` (its default limit is 4,300:
    ``sys.get_int_max_str_digits``) stays the digits it is written with: as a label, that is its name."""
    return int(digits) if len(digits) <= 4000 else digits


def _json_label(value, path, line, field):
    if isinstance(value, list):
        raise DataError(f"{path}:{line}: field {field!r}: a JSON list of labels needs a multi-label run "
                        f"(multi_label=True, --multi-label); expected a string or number label, got array")
    if isinstance(value, dict):
        raise DataError(f"{path}:{line}: field {field!r}: expected a string or number label, "
                        f"got {_JSON_TYPES[type(value)]}")
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as JSON and a CSV cell spell them, not Python's "True"
    if isinstance(value, float) and not math.isfinite(value):
        raise DataError(f"{path}:{line}: field {field!r}: expected a string or number label, got {value}")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 1.0 and 1 name the same class
    return str(value)


def _label(value, path, line, column):
    label = value.strip()
    if not label:
        raise DataError(f"{path}:{line}: empty label in {column!r}; expected a class name")
    return label


class _Labels:
    """Reads one row's label cell: a class name, or with ``multi_label`` a list of them."""

    def __init__(self, column, separator, multi_label):
        self.column, self.separator, self.multi_label = column, separator, multi_label

    def cell(self, value, path, line):
        """A CSV/TSV cell (or a JSON string): one label, or the labels between separators."""
        if not self.multi_label:
            return _label(value, path, line, self.column)
        if not value.strip():
            raise DataError(f"{path}:{line}: empty label list in {self.column!r}; expected at least one label"
                            + (f" (labels separated by {self.separator!r})" if self.separator else ""))
        parts = value.split(self.separator) if self.separator else [value]
        labels = [part.strip() for part in parts]
        if not all(labels):
            raise DataError(f"{path}:{line}: empty label in {self.column!r} ({value!r}); expected labels "
                            f"separated by one {self.separator!r}, none empty")
        return list(dict.fromkeys(labels))

    def json(self, value, path, line):
        """A JSON label field: a string or number, or with ``multi_label`` also a list of strings."""
        if not self.multi_label:
            return _label(_json_label(value, path, line, self.column), path, line, self.column)
        if isinstance(value, str):
            return self.cell(value, path, line)
        if not isinstance(value, list):  # a number: one label
            return [_label(_json_label(value, path, line, self.column), path, line, self.column)]
        if not value:
            raise DataError(f"{path}:{line}: field {self.column!r}: empty label list []; expected at least one label")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise DataError(f"{path}:{line}: field {self.column!r}: item {i} of the label list is "
                                f"{_JSON_TYPES.get(type(item), type(item).__name__)} {json.dumps(item)[:40]}; "
                                "expected a string label")
            if not item.strip():
                raise DataError(f"{path}:{line}: field {self.column!r}: item {i} of the label list is an empty "
                                "string; expected a label")
        return list(dict.fromkeys(item.strip() for item in value))


def _read_class_folders(path):
    folders = sorted(d for d in path.iterdir()
                     if d.is_dir() and d.name not in SKIPPED_CLASS_FOLDERS and not d.name.startswith("."))
    for folder in [d for d in folders if (d / MARKER).exists()]:
        # A folder zoo wrote (a run, a backup) holds its own files, not texts of a class: read as one, a run's
        # notes would train a class named after it, and the report would count a class the test split lacks.
        logger.warning(f"{folder}: a folder zoo wrote (it holds {MARKER}), not a class: left out")
        folders.remove(folder)
    for folder in folders:  # a class is named after its folder: the name is a label, and must be text
        check_unicode(str(folder), [folder.name], lambda _: "the folder's name (a class name)")
    if not folders:
        raise DataError(f"{path}: no class sub-folders (expected one folder per class holding .txt files, "
                        f"e.g. {path / 'pos'}/*.txt and {path / 'neg'}/*.txt)")
    texts, labels = [], []
    for folder in folders:
        # Hidden files are left out as hidden folders are: macOS puts a binary "._NAME.txt" (AppleDouble) beside
        # each file it copies to a foreign disk or zip, and an editor its ".NAME.txt.swp"-like files.
        files = sorted(file for file in folder.glob("*.txt") if not file.name.startswith("."))
        if not files:
            logger.warning(f"{folder}: no .txt files: class {folder.name!r} is left out")
        for file in files:
            texts.append(_read_text_file(file))
            labels.append(folder.name)
    if not texts:
        raise DataError(f"{path}: no data rows: no .txt files in the class sub-folders "
                        f"({', '.join(d.name for d in folders)})")
    return texts, labels


def _read_text_file(file):
    try:
        kind = _special_kind(os.stat(file).st_mode)
        if kind:  # a FIFO would block the run for ever, /dev/zero fill the memory: neither holds a text
            raise DataError(f"{file}: is {kind}, not a regular file; expected a UTF-8 text file of the class "
                            f"{file.parent.name!r}")
        raw = file.read_bytes()
    except OSError as error:  # a folder named *.txt, a link to nothing, no permission
        what = "a link to a missing file" if file.is_symlink() and not file.exists() else error.strerror
        raise DataError(f"{file}: cannot read it ({what}); expected a UTF-8 text file of the class "
                        f"{file.parent.name!r}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line_start = raw.rfind(b"\n", 0, e.start) + 1
        line = raw.count(b"\n", 0, e.start) + 1
        raise DataError(_not_utf8(file, line, raw[line_start:], e.start - line_start)) from None


def _special_kind(mode):
    """What a file of ``mode`` (``os.stat``'s, after links) is when it is neither a regular file nor a folder."""
    kinds = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((what for test, what in kinds if test(mode)), None)


# === Labels ===


def class_names_of(labels, path):
    names = sorted(set(labels))
    if all(re.fullmatch(r"[+-]?\d+", name) for name in names):
        names.sort(key=lambda name: (decimal.Decimal(name), name))  # (int() refuses thousands of digits)
    if len(names) < 2:
        raise DataError(f"{path}: expected at least 2 classes, got {len(names)} ({', '.join(names)})")
    warn_label_twins(str(path), names)
    return names


def encode_labels(labels, class_names, path, train_path):
    ids = {name: i for i, name in enumerate(class_names)}
    unknown = sorted(set(labels) - ids.keys())
    if unknown:
        shown = ", ".join(repr(name) for name in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise DataError(f"{path}: {len(unknown)} label(s) not in the train file {train_path}: {shown} "
                        f"(train labels: {', '.join(class_names[:10])}{', ...' if len(class_names) > 10 else ''})")
    return np.array([ids[label] for label in labels], dtype=np.int64)


def multi_label_names_of(label_lists, path):
    """The sorted labels of multi-label rows (numerically when all are integers)."""
    return class_names_of([label for labels in label_lists for label in labels], path)


def encode_label_lists(label_lists, class_names, path, train_path):
    """Multi-label rows as a 0/1 ``int64`` matrix ``(rows, len(class_names))``; unknown labels are an error."""
    known = set(class_names)
    unknown = sorted({label for labels in label_lists for label in labels} - known)
    if unknown:
        shown = ", ".join(repr(name) for name in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise DataError(f"{path}: {len(unknown)} label(s) not in the train file {train_path}: {shown} "
                        f"(train labels: {', '.join(class_names[:10])}{', ...' if len(class_names) > 10 else ''})")
    return indicator_matrix(label_lists, class_names)


def indicator_matrix(label_lists, class_names):
    """0/1 ``int64`` matrix of label lists, one column per class name (names not among them are ignored)."""
    ids = {name: i for i, name in enumerate(class_names)}
    matrix = np.zeros((len(label_lists), len(class_names)), np.int64)
    for row, labels in enumerate(label_lists):
        matrix[row, [ids[label] for label in labels if label in ids]] = 1
    return matrix
