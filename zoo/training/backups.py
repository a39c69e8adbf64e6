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

import hashlib
import json
import os

from zoo.errors import ConfigError, ExportError
from zoo.files import check_replaceable, make_owned_directory, remove_owned, write_json

KIND = "backup"
RECORD = "run.json"  # in the backup folder: the settings and data it was made with
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
        return
    make_owned_directory(backup_dir, KIND)
    write_json(record, wanted)


def remove_backup(backup_dir):
    """Deletes a finished run's backup folder (only one zoo marked as a backup; see :mod:`zoo.files`)."""
    if backup_dir:
        remove_owned(backup_dir, (KIND,))


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
