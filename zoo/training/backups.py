"""Backups that make a run resumable, and that know which run they belong to.

``backup_dir`` makes training resumable (:func:`zoo.training.stages.run_stages`
keeps Keras' ``BackupAndRestore`` state there, per stage). A backup is only
valid for the run that wrote it: resumed with other settings or other data,
Keras would restore weights of another shape (a long traceback) or, worse,
silently continue another run (epoch 20 "of 10", another learning rate or
seed). So :func:`open_backup` records, when it creates the folder, the
settings that shape training and a fingerprint of the data; a rerun whose
settings or data differ is refused with one line that names the differences
and the two ways out.

The folder is zoo's (its ``.zoo`` marker, :mod:`zoo.files`): an existing
folder that zoo did not create is refused rather than filled, and
:func:`remove_backup` deletes only a folder zoo marked as a backup.

What a resumed run reads back (Keras' weights and epoch, the extra state,
the per-stage history) is checked by the readers here, when the backup is
opened and again where it is read: a damaged file, or one zoo did not
write, is one :class:`~zoo.errors.DataError` line that names it, rather
than h5py's or numpy's traceback, or an epoch out of the run's range.

Example:

>>> import os, tempfile
>>> from zoo.config import ClassifierConfig
>>> folder = os.path.join(tempfile.mkdtemp(), "backup")
>>> open_backup(folder, ClassifierConfig(epochs=3), "data-sha")
>>> open_backup(folder, ClassifierConfig(epochs=5), "data-sha")
Traceback (most recent call last):
...
zoo.errors.ConfigError: `backup_dir` ...backup holds the backup of a run with other settings or data: `epochs` 3 there, 5 here; rerun with the same settings to resume it, or give a fresh `backup_dir` (or delete that one) to start over
>>> remove_backup(folder)
>>> os.path.exists(folder)
False
"""

import contextlib
import csv
import hashlib
import json
import os
import re

import numpy as np

from zoo.errors import ConfigError, DataError, ExportError
from zoo.files import check_replaceable, make_owned_directory, remove_owned, write_json

KIND = "backup"
RECORD = "run.json"  # in the backup folder: the settings and data it was made with
METADATA = "training_metadata.json"  # Keras' BackupAndRestore: the epochs it finished, in the stage's folder
WEIGHTS = "latest.weights.h5"  # Keras' BackupAndRestore: the weights and optimizer state, beside it
# Settings that do not change what is trained: where things are written and how much is printed.
NOT_SHAPING = ("verbose", "log_dir", "backup_dir", "lm_cache_dir")


def data_fingerprint(*parts):
    """A sha256 over texts and labels (lists or arrays), to tell one run's data from another's.

    Example:

    >>> data_fingerprint(["a b", "c"], [0, 1]) == data_fingerprint(["a b", "c"], [0, 1])
    True
    >>> data_fingerprint(["a b", "c"], [0, 1]) == data_fingerprint(["a", "b c"], [0, 1])
    False
    """
    digest = hashlib.sha256()
    for part in parts:
        items = part.tolist() if hasattr(part, "tolist") else list(part)
        digest.update(json.dumps(items, ensure_ascii=False, default=str).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def open_backup(backup_dir, settings, data):
    """Creates the backup folder ``backup_dir`` with its record, or checks an existing one against them.

    Args:
        backup_dir: the folder (created if absent; an empty one is used).
        settings: the run's :class:`zoo.config.ClassifierConfig` (or any
            config with ``to_dict``) as resolved for training.
        data: a fingerprint of the data (:func:`data_fingerprint`).

    Raises:
        ExportError: ``backup_dir`` is a file, or a folder zoo did not write.
        ConfigError: the backup belongs to a run with other settings or data.
    """
    wanted = {"settings": _shaping(settings), "data": data}
    check_replaceable(backup_dir, (KIND,), what="`backup_dir`")
    record = os.path.join(backup_dir, RECORD)
    if os.path.exists(record):
        _check_same(backup_dir, _read(record), wanted)
        check_backup_files(backup_dir)  # now, before training starts or writes anything
        return
    make_owned_directory(backup_dir, KIND)
    write_json(record, wanted)


def remove_backup(backup_dir):
    """Deletes a finished run's backup folder (only one zoo marked as a backup; see :mod:`zoo.files`); inside
    :func:`removed_when_written`, once its block ends."""
    if backup_dir and _deferred is not None:
        _deferred.append(backup_dir)
    elif backup_dir:
        remove_owned(backup_dir, (KIND,))


_deferred = None  # the backups whose removal waits for the end of a removed_when_written block, or None


@contextlib.contextmanager
def removed_when_written():
    """Backups that a fit finishes inside this block are removed when it ends, and kept if it ends with an
    error or Ctrl-C. Why: ``zoo train`` evaluates and writes its run after the fit; a backup removed when the
    training ended made Ctrl-C there lose the trained model while the message said to resume from it. Rerun,
    the kept backup's finished stages load their weights, and the run ends as it would have."""
    global _deferred
    outer, _deferred = _deferred, []
    try:
        yield
        pending = _deferred
    finally:
        _deferred = outer
    for backup_dir in dict.fromkeys(pending):
        remove_backup(backup_dir)


def _shaping(settings):
    values = settings.to_dict() if hasattr(settings, "to_dict") else dict(settings)
    return {k: v for k, v in values.items() if k not in NOT_SHAPING}


def _read(record):
    try:
        with open(record, encoding="utf-8") as f:
            saved = json.load(f)
    except (OSError, ValueError):
        saved = None
    if not isinstance(saved, dict) or not isinstance(saved.get("settings"), dict):
        raise ExportError(f"{record}: not a backup record zoo can read; delete the backup folder "
                          f"{os.path.dirname(record)} to start over")
    return saved


def _check_same(backup_dir, saved, wanted):
    before, now = saved["settings"], wanted["settings"]
    differ = [f"`{k}` {_shown(before.get(k))} there, {_shown(now.get(k))} here"
              for k in sorted(set(before) | set(now)) if before.get(k) != now.get(k)]
    if saved.get("data") != wanted["data"]:
        differ.append("other training data")
    if differ:
        shown = "; ".join(differ[:6]) + (f"; and {len(differ) - 6} more" if len(differ) > 6 else "")
        raise ConfigError("backup_dir", f"`backup_dir` {backup_dir} holds the backup of a run with other settings or data: "
                                        f"{shown}; rerun with the same settings to resume it, or give a fresh "
                                        "`backup_dir` (or delete that one) to start over")


def _shown(value):
    text = "none" if value is None else value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


# === What a resumed run reads back ===


def check_backup_files(backup_dir):
    """Reads every file of the backup folder ``backup_dir`` (and the folders in it) that a resumed run reads back.

    Raises:
        DataError: one is damaged or not one zoo wrote (see :func:`damaged`).
    """
    for root, _, names in os.walk(backup_dir):
        for name in names:
            path = os.path.join(root, name)
            if name == METADATA:
                resumed_epoch(root, backup_dir=backup_dir)
            elif name == WEIGHTS or name.endswith(".done.weights.h5"):
                check_weights(path, backup_dir)
            elif name.endswith(".state.npz"):
                read_state(path, backup_dir)
            elif name.endswith(".csv"):
                read_history(path, backup_dir)


def damaged(path, backup_dir, what, error=None):
    """The error for a backup file that cannot be resumed from; ``what``: what was expected (and found), followed
    by the first line of ``error``, the reader's exception, if given."""
    if error is not None:
        text = (str(error).strip().splitlines() or [type(error).__name__])[0]
        what += ": " + (text if len(text) <= 120 else text[:117] + "...")
    return DataError(f"{path}: damaged, or not a file zoo wrote ({what}); delete the backup folder {backup_dir} "
                     "or give another `backup_dir` to start over")


def resumed_epoch(backup, epochs=None, backup_dir=None):
    """The epochs a stage's folder of Keras' ``BackupAndRestore`` finished (it records them beside its weights);
    0 without one. ``epochs``: the stage's, the most there can be.

    Raises:
        DataError: the record is not JSON, or its epoch not an integer from 0 to ``epochs``.
    """
    path = os.path.join(backup, METADATA)
    if not os.path.exists(path):
        return 0
    backup_dir = backup_dir or os.path.dirname(os.path.normpath(backup))
    try:
        with open(path, encoding="utf-8") as f:
            saved = json.load(f)
    except (OSError, ValueError) as error:
        raise damaged(path, backup_dir, "expected Keras' JSON record of the epoch", error) from None
    epoch = saved.get("epoch") if isinstance(saved, dict) else None
    # Checked here, as Keras takes it as it is: a negative epoch trains more epochs than planned, a huge one
    # stalls the replay of the shuffle passes.
    if type(epoch) is not int or epoch < 0 or (epochs is not None and epoch > epochs):
        expected = "an integer >= 0" if epochs is None else f"an integer from 0 to {epochs}"
        got = "no epoch" if epoch is None else _shown(json.dumps(epoch, default=str))
        raise damaged(path, backup_dir, f"expected the epoch as {expected}, got {got}")
    return epoch


def check_weights(path, backup_dir):
    """Reads all of the Keras weights file ``path`` (HDF5), so that a truncated or foreign one is caught here.

    Raises:
        DataError: it is not HDF5, or cannot be read to its end.
    """
    import h5py

    def read(_, item):
        if isinstance(item, h5py.Dataset):
            item[()]  # (visititems stops at a callback's first value other than None)

    try:
        with h5py.File(path, "r") as f:
            f.visititems(read)
    except Exception as error:  # noqa: BLE001 - whatever h5py fails with, the file cannot be restored from
        raise damaged(path, backup_dir, "expected Keras weights (HDF5)", error) from None


def read_state(path, backup_dir):
    """The arrays of a stage's extra state (``<stage>.state.npz``: its epoch, dropout seeds, early stopping).

    Raises:
        DataError: it is not an ``.npz`` of plain arrays with an integer epoch, or cannot be read to its end.
    """
    try:
        with np.load(path) as saved:  # (no allow_pickle: a pickle in a backup is not zoo's)
            arrays = {k: saved[k] for k in saved.files}
    except Exception as error:  # noqa: BLE001 - whatever numpy or zipfile fails with, the file is unreadable
        if "pickle" in str(error):  # (numpy's message suggests loading it anyway: not for a file zoo did not write)
            raise damaged(path, backup_dir, "expected numpy arrays (.npz), got pickled data") from None
        raise damaged(path, backup_dir, "expected numpy arrays (.npz)", error) from None
    other = [k for k in arrays if k not in ("epoch", "es_wait", "es_best_epoch", "es_best")
             and not re.fullmatch(r"(seed|es_weight)_[0-9]+", k)]
    if other:
        raise damaged(path, backup_dir, f"expected the epoch, dropout seeds and early stopping's state, got an "
                                        f"array {_shown(other[0])}")
    epoch = arrays.get("epoch")
    if epoch is None or epoch.shape or epoch.dtype.kind not in "iu" or int(epoch) < 0:
        raise damaged(path, backup_dir, f"expected an integer epoch >= 0, got {_shown_array(epoch)}")
    scalars = ("es_wait", "es_best_epoch", "es_best")
    if any(k in arrays for k in scalars):
        bad = [k for k in scalars if k not in arrays or arrays[k].shape or arrays[k].dtype.kind not in "iuf"]
        if bad:
            raise damaged(path, backup_dir, f"expected early stopping's {', '.join(scalars)} as numbers, got "
                                            + ", ".join(f"{k} {_shown_array(arrays.get(k))}" for k in bad))
    return arrays


def read_history(path, backup_dir):
    """The rows of a stage's CSV log (Keras' ``CSVLogger``): ``{epoch: {metric: value}}``, an epoch re-run after a
    crash once.

    Raises:
        DataError: a row without an integer epoch or with a value that is not a number.
    """
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = {int(row["epoch"]): row for row in csv.DictReader(f)}
        # "NA": Keras' CSVLogger for a value the epoch did not have (val_* without validation data)
        return {e: {k: float(v) for k, v in row.items() if k != "epoch" and v != "NA"} for e, row in rows.items()}
    except (OSError, ValueError, KeyError, TypeError, csv.Error) as error:
        raise damaged(path, backup_dir, "expected Keras' CSV log, a row per epoch", error) from None


def _shown_array(value):
    return "none" if value is None else f"{value.dtype} of shape {value.shape}" if value.shape else _shown(
        str(value.item()))
