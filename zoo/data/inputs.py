"""Checks of the estimator's in-memory inputs and their encoding: texts, labels, label lists, classes.

Each check returns its input in a plain form (a list of ``str``, plain
hashable labels) or raises one :class:`~zoo.errors.DataError` line naming
the argument and the item (:mod:`zoo.data.files` does the same for labelled
files, naming the file and line). Labels are encoded to class ids here,
once, for :class:`~zoo.text_classifier.TextClassifier` and the procedures
behind it.
"""

import decimal
import math

import numpy as np

from zoo.data.datasets import split_indices
from zoo.data.files import check_unicode
from zoo.data.labels import LabelIds, warn_label_twins
from zoo.errors import ConfigError, DataError
from zoo.log import logger


def split_validation(texts, y, validation_data, settings, no_labels, encode):
    """``(texts, y, valid_texts, valid_y)``: the given validation data (its labels through ``encode``), or a
    seeded ``validation_split`` of the training texts, or none (``valid_y`` is then ``no_labels``)."""
    if validation_data is not None:
        valid_texts, valid_labels = check_pair("validation_data", validation_data)
        valid_texts = check_texts("validation texts", valid_texts)
        valid_y = encode(valid_labels)
        if len(valid_y) != len(valid_texts):
            raise DataError(f"validation_data: {len(valid_texts)} texts and {len(valid_y)} labels; expected one "
                            "label per text")
        return texts, y, valid_texts, valid_y
    if settings.validation_split <= 0:
        return texts, y, [], no_labels
    keep, held = split_indices(y, settings.seed, test_size=settings.validation_split)
    return [texts[i] for i in keep], y[keep], [texts[i] for i in held], y[held]


def check_texts(what, texts):
    """``texts`` as a list of ``str``; a single string, None or a non-text item is a one-line DataError.

    Example:

    >>> check_texts("texts", "great fun film")
    Traceback (most recent call last):
    ...
    zoo.errors.DataError: texts: expected a list of texts, got one str ('great fun film'); wrap a single text in a list: [text]
    """
    if isinstance(texts, (str, bytes)):
        raise DataError(f"{what}: expected a list of texts, got one {type(texts).__name__} ({_shown(texts)}); wrap "
                        "a single text in a list: [text]")
    unordered = _container_kind(texts)
    if unordered:
        raise DataError(f"{what}: expected a list of texts, got {unordered}")
    try:
        texts = list(texts)
    except TypeError:
        got = "None" if texts is None else type(texts).__name__
        raise DataError(f"{what}: expected a list of texts, got {got}") from None
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise DataError(f"{what}: item {bad} is of type {type(texts[bad]).__name__}, expected str")
    check_unicode(what, texts)
    return texts


def _container_kind(values):
    """What is wrong with ``values`` as a sequence of texts or labels, or None: iterating a table gives its
    column names, a dict its keys, and a set an order of its own, so each would be classified without an error."""
    if hasattr(values, "columns") and hasattr(values, "iloc"):  # a pandas DataFrame (not imported here)
        columns = ", ".join(map(str, list(values.columns)[:3]))
        return f"a table ({type(values).__name__}, columns {columns}); pass one column: table[\"text\"]"
    if isinstance(values, dict):
        return "a dict (iterating it gives its keys); pass list(d.values()) or the list itself"
    if isinstance(values, (set, frozenset)):
        return f"a {type(values).__name__}, whose order is its own; pass a list (the outputs follow its order)"
    return None


def check_labels(what, labels, size=None):
    """``labels`` as a list of plain hashable values, one per text (``size``); None, NaN, a list or a single
    string among them is a one-line DataError (they would otherwise become classes of their own)."""
    if labels is None or isinstance(labels, (str, bytes)):
        raise DataError(f"{what}: expected a list of labels, one per text, got "
                        + ("None" if labels is None else f"one {type(labels).__name__} ({_shown(labels)})"))
    unordered = _container_kind(labels)
    if unordered:
        raise DataError(f"{what}: expected a list of labels, one per text, got {unordered}")
    try:
        labels = [_plain(v) for v in labels]
    except TypeError:
        raise DataError(f"{what}: expected a list of labels, got {type(labels).__name__}") from None
    for i, value in enumerate(labels):
        missing = _missing(value)
        if missing:
            raise DataError(f"{what}: item {i} is {missing}; every text needs a label (drop the unlabelled ones, or "
                            "pass them as unlabelled_texts)")
        if isinstance(value, (list, tuple, set, dict, np.ndarray)):
            raise DataError(f"{what}: item {i} is of type {type(value).__name__}; several labels per text need "
                            "multi_label=True")
        if not isinstance(value, LABEL_TYPES):
            # Why: classifier.json keeps the classes as JSON, which has no dates, Decimals or bytes: such a class
            # was saved as its str() and loaded back as another label, or not loaded at all.
            raise DataError(f"{what}: item {i} is of type {type(value).__name__} ({_shown(value)}); expected a "
                            "label that is a str, int, float or bool")
        if isinstance(value, float) and not math.isfinite(value):
            raise DataError(f"{what}: item {i} is {value}; expected a finite number or a string label")
        if isinstance(value, int) and not isinstance(value, bool) and _too_long(value):
            raise DataError(f"{what}: item {i} is an integer of more than {_MAX_DIGITS} digits; give such labels "
                            "as strings")
        if isinstance(value, str):
            check_unicode(what, [value], lambda _, i=i: f"item {i}")
        if isinstance(value, str) and len(value) > _MAX_LABEL_CHARS:
            raise DataError(f"{what}: item {i} is a label of {len(value):,} characters ({_shown(value)}); expected "
                            f"at most {_MAX_LABEL_CHARS:,} (a text in the label column?)")
    _check_no_bool_numbers(what, labels)
    if size is not None and len(labels) != size:
        raise DataError(f"{what}: {len(labels)} labels for {size} texts; expected one label per text")
    return labels


LABEL_TYPES = (str, int, float)  # (bool is an int): what classifier.json keeps as it was given


def _missing(value):
    """How a missing label reads (``None``, ``NaN``, pandas' ``<NA>`` or ``NaT``), or None for a present one.
    pandas is not imported: its missing values are known by their type's name (a nullable column gives pd.NA)."""
    if value is None:
        return "None"
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if type(value).__name__ in ("NAType", "NaTType"):
        return "missing (pandas' " + str(value) + ")"
    return None


def _check_no_bool_numbers(what, labels, names=None):
    """Refuses bools among numbers: Python's ``True == 1`` (and ``hash(True) == hash(1)``) would make them one
    class, the first spelling its name, and ``[1, True]`` would read as a single class. ``names[i]``: how label
    ``i`` is named (default ``item i is``)."""
    first_bool = next((i for i, v in enumerate(labels) if isinstance(v, bool)), None)
    if first_bool is None:
        return
    number = next((i for i, v in enumerate(labels) if isinstance(v, (int, float)) and not isinstance(v, bool)), None)
    if number is not None:
        name = (lambda i: names[i]) if names else (lambda i: f"item {i} is")
        raise DataError(f"{what}: {name(first_bool)} {labels[first_bool]!r}, a bool, and {name(number)} the number "
                        f"{labels[number]!r}; Python counts True as 1, so they would be one class; expected labels of "
                        "one type")


_MAX_DIGITS = 4000  # Python converts integers of more digits to text only after sys.set_int_max_str_digits
_MAX_LABEL_CHARS = 10_000


def _too_long(value):
    return abs(value).bit_length() > _MAX_DIGITS * 3.33


def _shown(value, width=40):
    text = repr(value[:width + 1] if isinstance(value, (str, bytes)) else value)
    return text if len(text) <= width else text[:width - 3] + "..."


def check_batch_size(batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ConfigError("batch_size", f"`batch_size` must be an integer >= 1, got {batch_size!r}")
    return int(batch_size)


def check_pair(what, data):
    """``(texts, labels)`` of ``validation_data`` or ``baseline``; anything else is a one-line DataError."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise DataError(f"{what}: expected a (texts, labels) pair, got {type(data).__name__}")
    return data


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def class_order(labels):
    """Sorted distinct labels; numerically when they are numbers or integer strings.

    Example:

    >>> class_order(["10", "9", "10"]), class_order(["b", "a"])
    (['9', '10'], ['a', 'b'])
    """
    values = sorted({_plain(v) for v in labels}, key=str)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return sorted(values)
    if all(isinstance(v, str) and v.lstrip("+-").isdigit() for v in values):
        # Decimal, not int: an integer string of thousands of digits is still a label (int() refuses it).
        return sorted(values, key=lambda v: (decimal.Decimal(v), v))
    return values


def resolve_classes(classes, labels):
    """The class order: the given ``classes`` (distinct, no None), or :func:`class_order` of the labels."""
    if classes is None:
        return _distinct_names("labels", class_order(labels))
    classes = check_labels("classes", classes)
    seen = set()
    for value in classes:
        if value in seen:
            raise DataError(f"classes: {_shown(value)} appears more than once; expected distinct labels")
        seen.add(value)
    known = set(labels)
    unseen = [c for c in classes if c not in known]
    if unseen:  # (zoo train leaves an empty class folder out, with a warning too)
        logger.warning(f"classes: {', '.join(map(_shown, unseen[:5]))} {'has' if len(unseen) == 1 else 'have'} no "
                       "training text: the model gets an output it never learns")
    return _distinct_names("classes", classes)


def _distinct_names(what, classes):
    """``classes``, refused when two of them print the same (``1`` and ``"1"``) or differ only in surrounding
    spaces (``"pos "`` and ``"pos"``: a CSV file's cells are stripped, so the command line would read them as one
    class): reports, the export's label strings and the saved classifier name a class by its text. Two that differ
    only in case (``"Pos"``, ``"pos"``) stay two classes, with a warning."""
    clash = name_clash(classes)
    if clash:
        raise DataError(f"{what}: {clash}")
    warn_label_twins(what, classes)
    return classes


def name_clash(classes):
    """What makes two of ``classes`` one name (see :func:`_distinct_names`), or None. A saved classifier's
    ``classes`` are checked with it too when it is loaded (:mod:`zoo.classifier_files`)."""
    named, stripped = {}, {}
    for value in classes:
        other = named.setdefault(str(value), value)
        if other is not value:
            first, second = sorted((other, value), key=lambda v: type(v).__name__)  # (a set's order varies)
            return (f"{_shown(first)} and {_shown(second)} are different labels that read the same; expected labels "
                    "of one type (all strings or all numbers)")
        text = str(value).strip()
        other = stripped.setdefault(text, value)
        if other is not value:
            first, second = sorted((str(other), str(value)))
            return (f"{_shown(first)} and {_shown(second)} differ only in surrounding spaces; expected one spelling "
                    "per class")
    return None


def encode_labels(what, labels, classes):
    index = {c: i for i, c in enumerate(classes)}
    labels = check_labels(what, labels)
    unknown = sorted({_shown(v) for v in labels if v not in index})
    if unknown:
        shown = ", ".join(unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise DataError(f"{what}: {len(unknown)} label(s) not among the classes: {shown} "
                        f"(classes: {', '.join(map(str, classes[:10]))}{', ...' if len(classes) > 10 else ''})")
    return np.array([index[v] for v in labels], np.int64)


# --- multi-label helpers ---


def check_label_lists(what, labels, size=None):
    """Each item a list of labels (a list, tuple, set or array; not a string), each label checked as in
    :func:`check_labels`; one list per text (``size``)."""
    if labels is None or isinstance(labels, (str, bytes)):
        raise DataError(f"{what}: expected a list of label lists, one per text, got "
                        + ("None" if labels is None else f"one {type(labels).__name__}"))
    if isinstance(labels, np.ndarray) and labels.ndim == 2 and labels.dtype.kind in "biuf" and labels.size \
            and np.isin(labels, (0, 1)).all():
        # Why: a 0/1 matrix (scikit-learn's MultiLabelBinarizer) read row by row is label *names*: every text
        # would get the classes 0 and 1, and the model would train without an error on nothing.
        raise DataError(f"{what}: a 0/1 matrix of shape {labels.shape}, whose rows would be read as label names "
                        "(0 and 1); expected a list of label lists ([['sports', 'news'], ...]), or "
                        "zoo.data.labels.LabelIds(matrix, classes)")
    rows = list(labels)
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not isinstance(row, (list, tuple, set, frozenset, np.ndarray)):
            raise DataError(f"{what}: item {i} is of type {type(row).__name__}, expected a list of labels "
                            "(multi_label=True)")
    if size is not None and len(rows) != size:
        raise DataError(f"{what}: {len(rows)} label lists for {size} texts; expected one list per text")
    rows = [check_labels(f"{what}, item {i}", row) for i, row in enumerate(rows)]
    # (across the lists too: a bool in one list and a number in another would be one class)
    _check_no_bool_numbers(what, [v for row in rows for v in row],
                           [f"item {i} holds" for i, row in enumerate(rows) for _ in row])
    return rows


def encode_label_lists(what, label_lists, classes):
    """A 0/1 float32 matrix ``(texts, classes)``; labels not among ``classes`` are an error."""
    encode_labels(what, [v for row in label_lists for v in row], classes)  # the one-line error for unknown labels
    index = {c: i for i, c in enumerate(classes)}
    y = np.zeros((len(label_lists), len(classes)), np.float32)
    for row, values in enumerate(label_lists):
        y[row, [index[v] for v in values]] = 1.0
    return y




def label_targets(labels, size, classes=None, *, multi_label=False):
    """The training targets of ``labels`` (one per text, ``size`` texts).

    Returns:
        ``(classes, y, no_labels, encode)``: the class order, the encoded
        labels (class ids; with ``multi_label``, a 0/1 matrix), the empty
        targets of no validation split, and the function that encodes
        validation labels the same way.

    Example:

    >>> classes, y, _, encode = label_targets(["b", "a", "b"], 3)
    >>> classes, y.tolist(), encode(["a"]).tolist()
    (['a', 'b'], [1, 0, 1], [0])
    """
    if isinstance(labels, LabelIds):  # encoded already (a dataset's labels): checked, not encoded again
        classes = given_ids_classes(labels, classes, multi_label)
        y = encoded_ids("labels", labels, size, classes, multi_label)
        no_labels = np.zeros((0, len(classes)), np.float32) if multi_label else np.zeros(0, np.int64)
        return classes, y, no_labels, lambda valid: encode_given("validation labels", valid, None, classes,
                                                                 multi_label=multi_label)
    if multi_label:
        label_lists = check_label_lists("labels", labels, size)
        classes = resolve_classes(classes, [v for row in label_lists for v in row])
        if not classes:
            raise DataError("labels: expected at least 1 label among the label lists, got none")
        return (classes, encode_label_lists("labels", label_lists, classes),
                np.zeros((0, len(classes)), np.float32),
                lambda valid: encode_label_lists("validation labels", check_label_lists("validation labels", valid),
                                                 classes))
    labels = check_labels("labels", labels, size)
    classes = resolve_classes(classes, labels)
    y = encode_labels("labels", labels, classes)  # (first: a label `classes` leaves out is the likelier slip)
    if len(classes) < 2:
        raise DataError(f"labels: expected at least 2 classes, got {len(classes)} ({classes})")
    return classes, y, np.zeros(0, np.int64), lambda valid: encode_labels("validation labels", valid, classes)


def encode_given(what, labels, size, classes, *, multi_label=False):
    """Labels given for ``size`` texts, checked and encoded against ``classes`` (label lists: a 0/1 matrix;
    :class:`~zoo.data.labels.LabelIds` checked and taken as they are)."""
    if isinstance(labels, LabelIds):
        return encoded_ids(what, labels, size, classes, multi_label)
    if multi_label:
        return encode_label_lists(what, check_label_lists(what, labels, size), classes)
    return encode_labels(what, check_labels(what, labels, size), classes)


def given_ids_classes(labels, classes, multi_label):
    """The classes of :class:`~zoo.data.labels.LabelIds`, which ``classes`` (if given) must equal."""
    if classes is not None and list(classes) != labels.classes:
        raise DataError(f"classes: the labels are class ids into {_shown(labels.classes)}, but classes is "
                        f"{_shown(list(classes))}; pass the same classes or none")
    if len(labels.classes) < (1 if multi_label else 2):
        raise DataError(f"labels: expected at least {1 if multi_label else 2} classes, got {labels.classes}")
    return labels.classes


def encoded_ids(what, labels, size, classes, multi_label):
    """The ids of :class:`~zoo.data.labels.LabelIds` for ``size`` texts (None: any), encoded against ``classes``."""
    if labels.classes != list(classes):
        raise DataError(f"{what}: class ids into {_shown(labels.classes)}, expected ids into {_shown(list(classes))}")
    if labels.multi_label != multi_label:
        raise DataError(f"{what}: " + ("a 0/1 matrix of labels, but the classifier is single-label" if
                                        labels.multi_label else "one class id per text; expected a 0/1 matrix "
                                                                "(multi_label=True)"))
    if size is not None and len(labels) != size:
        raise DataError(f"{what}: {len(labels)} labels for {size} texts; expected one per text")
    return labels.ids


def baseline_pair(baseline, stored, encode):
    """``(texts, encoded labels)`` the baseline trains on, from ``evaluate``'s ``baseline``: False/None (none),
    True (``stored``: every labelled text fit was given) or a ``(texts, labels)`` pair (through ``encode``)."""
    if baseline is False or baseline is None:
        return None
    if baseline is True:
        if stored is None:
            raise ConfigError("baseline", "`baseline=True` needs the training texts, which a loaded classifier "
                                          "does not have: pass baseline=(texts, labels)")
        return stored
    train_texts, train_labels = check_pair("baseline", baseline)
    train_texts = check_texts("baseline texts", train_texts)
    return train_texts, encode("baseline labels", train_labels, len(train_texts))


def unlabelled_only(unlabelled_texts, labelled):
    """``unlabelled_texts`` without the ``labelled`` ones (a labelled text is not unlabelled); [] for None."""
    if unlabelled_texts is None:
        return []
    labelled = set(labelled)
    return [t for t in check_texts("unlabelled texts", unlabelled_texts) if t not in labelled]


def check_min_confidence(value):
    """None, or a number in [0, 1] (``predict``'s ``min_confidence``)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float, np.floating))
                              or not 0.0 <= value <= 1.0):
        raise ConfigError("min_confidence", f"`min_confidence` must be a number in [0, 1], got {value!r}")



def check_flag(name, value):
    """``value`` of a True/False argument (``overwrite``, ``fixed_length``): a str such as ``"no"`` is truthy, so
    ``save(path, overwrite="no")`` would replace the saved classifier."""
    if type(value).__module__ == "numpy" and getattr(value, "dtype", None) == np.bool_ and np.ndim(value) == 0:
        value = bool(value)
    if not isinstance(value, bool):
        raise ConfigError(name, f"`{name}` must be True or False, got {type(value).__name__} {_shown(value)}")
    return value


def check_count(name, value, minimum=1):
    """An integer argument >= ``minimum`` (``explain``'s ``steps``): ``int()`` would truncate 2.5 and take
    ``"3"``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(name, f"`{name}` must be an integer >= {minimum}, got {_shown(value)}")
    return int(value)


def check_fixed_blend(value):
    """None, or ``fit``'s ``fixed_blend``: ``(temperature > 0, weight in [0, 1], bigram weight in [0, 1] or None,
    weighting)`` (the weighting may be left out: TF-IDF), as init auto passes it."""
    def number(v, low, high):
        return (isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool)
                and math.isfinite(v) and low <= v <= high)

    if value is None:
        return None
    ok = (isinstance(value, (tuple, list)) and len(value) in (3, 4) and number(value[0], 1e-12, math.inf)
          and number(value[1], 0.0, 1.0) and (value[2] is None or number(value[2], 0.0, 1.0))
          and (len(value) == 3 or value[3] in ("tfidf", "nb")))
    if not ok:
        raise ConfigError("fixed_blend", "`fixed_blend` must be None or (temperature > 0, weight in [0, 1], bigram "
                                         f"weight in [0, 1] or None, 'tfidf' or 'nb'), got {_shown(value)}")
    return tuple(value)


def check_rate(name, value):
    """A finite number > 0 (``lr_find``'s ``start_lr`` and ``end_lr``), checked before anything is built: a str
    or NaN failed only once the model was ready, as a TypeError or a message about the other rate."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise ConfigError(name, f"`{name}` must be a finite number > 0, got {_shown(value)}")
    return float(value)
