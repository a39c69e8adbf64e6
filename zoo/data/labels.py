"""Labels already encoded: :class:`LabelIds`, what a dataset's labels are (``TextDataset.labels(split)``), given
to :meth:`zoo.TextClassifier.fit` and ``evaluate`` as they are, so labels read from a file or a built-in dataset
are encoded once (when read) and not turned into names and back."""

import dataclasses

import numpy as np

from zoo.errors import DataError
from zoo.log import logger


@dataclasses.dataclass(frozen=True, eq=False)
class LabelIds:
    """Labels as class ids into ``classes`` (int64, one per text), or for a multi-label task a 0/1 matrix
    ``(texts, classes)``.

    Example:

    >>> labels = LabelIds([1, 0, 1], ["neg", "pos"])
    >>> len(labels), labels.take([2, 0]).ids.tolist(), labels.names()
    (3, [1, 1], ['pos', 'neg', 'pos'])
    """

    ids: np.ndarray
    classes: list

    def __post_init__(self):
        raw = np.asarray(self.ids)
        object.__setattr__(self, "classes", list(self.classes))
        n = len(self.classes)
        if raw.ndim == 2 and raw.shape[1] == n:  # multi-label
            ids = raw.astype(np.float32)
            if not np.isin(ids, (0.0, 1.0)).all():
                raise DataError("labels: a multi-label matrix holds 0/1 values only")
        elif raw.ndim == 1 and (raw.dtype.kind in "iu" or not len(raw)):
            ids = raw.astype(np.int64)
            if len(ids) and (ids.min() < 0 or ids.max() >= n):
                raise DataError(f"labels: expected class ids in 0..{n - 1}, got values from {ids.min()} to "
                                f"{ids.max()}")
        else:
            raise DataError(f"labels: expected integer class ids (one per text) or a 0/1 matrix with {n} columns, "
                            f"got an array of shape {raw.shape} ({raw.dtype})")
        object.__setattr__(self, "ids", ids)

    @property
    def multi_label(self):
        return self.ids.ndim == 2

    def __len__(self):
        return len(self.ids)

    def take(self, indices):
        """The labels at ``indices``, as :class:`LabelIds`."""
        return LabelIds(self.ids[np.asarray(indices, np.int64)], self.classes)

    def names(self):
        """The labels as names (values of ``classes``): a list, or a list of lists for multi-label."""
        if self.multi_label:
            return [[self.classes[j] for j in np.flatnonzero(row)] for row in self.ids]
        return [self.classes[i] for i in self.ids]


def warn_label_twins(what, names):
    """Logs a warning for two class names that differ only in case (``"Pos"``, ``"pos"``) or that spell one
    number two ways (``"1"``, ``"1.0"``): they stay two classes, but a typo or a column written by two programs
    is likelier than two classes meant to be told apart that way."""
    seen = {}
    for name in map(str, names):
        for key, how in ((name.strip().casefold(), "differ only in case"), (_number(name), "are the same number")):
            if key is None:
                continue
            other = seen.setdefault((how, key), name)
            if other != name:
                first, second = sorted((other, name))
                logger.warning(f"{what}: {first!r} and {second!r} {how}; they are two classes")
                break


def _number(name):
    """``name`` as a number, or None where it is not one (NaN and the infinities are not: as labels, they are
    names)."""
    try:
        value = float(name)
    except ValueError:
        return None
    return value if np.isfinite(value) else None
