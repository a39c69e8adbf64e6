"""Writing outputs safely: atomic writes, crash-safe replacement, and deleting only what zoo wrote.

Every file and folder zoo writes (reports, configs, saved classifiers, exports,
artifacts, backups) goes through these helpers, which keep three promises:

* **Nothing half-written.** A file is written beside its target and renamed
  over it; a folder is built in a hidden temporary sibling
  (``.zoo-tmp-PID-*``) and renamed into place. ``tempfile`` creates those
  with mode 0600/0700, which would make an export unreadable to a serving
  account; they get the umask's usual 0644/0755 before the rename.
* **The old or the new, never neither.** Replacing a folder swaps the
  finished new one with the old one in one ``renameat2(RENAME_EXCHANGE)``
  call (Linux), so at every instant one complete folder is at the path; the
  old one is then removed from its hidden temporary name. Where the kernel
  or file system cannot exchange, two renames are used, and a crash between
  them is repaired by the next writer in that folder (:func:`remove_stale_temporaries`).
* **Only zoo's folders are deleted or replaced.** A folder zoo creates (a
  run, an export, a saved classifier, a backup, TensorBoard logs, a cache)
  holds a marker file, ``.zoo`` (JSON: what it is and which zoo wrote it).
  Before replacing or deleting a folder, zoo checks the marker; a folder
  without it is refused with one line naming it, unless it is empty.

A full disk is one line too (:class:`zoo.errors.ExportError`), and what was
being written is removed.

Example:

>>> import tempfile, os
>>> folder = tempfile.mkdtemp()
>>> write_json(os.path.join(folder, "a.json"), {"x": 1})
>>> with atomic_directory(os.path.join(folder, "out"), kind="export") as tmp:
...     write_text(os.path.join(tmp, "b.txt"), "hi")
>>> sorted(os.listdir(folder)), marked_kind(os.path.join(folder, "out"))
(['a.json', 'out'], 'export')
>>> os.mkdir(os.path.join(folder, "mine")); write_text(os.path.join(folder, "mine", "notes.txt"), "keep")
>>> remove_owned(os.path.join(folder, "mine"), kinds=("export",))
Traceback (most recent call last):
...
zoo.errors.ExportError: ...mine: not a folder zoo wrote (no .zoo marker in it), so zoo will not delete it
"""

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import shutil
import tempfile
import time

from zoo.errors import ConfigError, ExportError
from zoo.version import __version__

TEMP_PREFIX = ".zoo-tmp-"
OLD_PREFIX = ".zoo-old-"  # the replaced folder between two plain renames (no renameat2)
MARKER = ".zoo"  # in every folder zoo creates: the proof that zoo may replace or delete it
LOCK = ".zoo-lock"  # held (flock) by the process writing a run folder
_OWN_ENTRIES = (MARKER, LOCK)  # a folder holding only these is empty for zoo's purposes

# Disk full (ENOSPC) or over quota (EDQUOT): TensorFlow's savers raise their own error types with the OS's text.
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_DISK_FULL_TEXTS = ("No space left on device", "Disk quota exceeded")


def _prefix():
    # The writer's pid is in the name, so a later run can tell a killed writer's leftovers from a live one's.
    return f"{TEMP_PREFIX}{os.getpid()}-"


def temporary_name(name):
    """A hidden name for a temporary entry beside ``name`` (``.zoo-tmp-PID-NAME-xxxxxxxx``):
    :func:`remove_stale_temporaries` removes it once this process is gone, should it be killed mid-write."""
    return f"{_prefix()}{name}-{os.urandom(4).hex()}"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _share(path, directory):
    """Gives ``path`` the mode a plain ``open``/``mkdir`` would have (0666/0777 less the umask)."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def disk_full(error):
    """Whether ``error`` (an ``OSError`` or a TensorFlow error) says the disk or the quota is full."""
    if isinstance(error, OSError) and error.errno in _DISK_FULL_ERRNOS:
        return True
    return any(text in str(error) for text in _DISK_FULL_TEXTS)


def _disk_full_error(path, error):
    reason = "no space left on the device" if "quota" not in str(error).lower() else "over the disk quota"
    return ExportError(f"{path}: cannot write it: {reason}; nothing was written (free some space and rerun)")


# === Markers: what zoo wrote ===


def path_argument(value, parameter="path"):
    """``value`` as a ``pathlib.Path``, or one ConfigError naming ``parameter`` where it is not a path (None, a
    number: ``Path(None)`` would be Python's own TypeError)."""
    import pathlib

    if isinstance(value, (str, os.PathLike)) and not isinstance(value, bytes) and os.fspath(value) != "":
        return pathlib.Path(value)
    got = "an empty string" if value == "" else f"{type(value).__name__} {value!r}"[:80]
    raise ConfigError(parameter, f"`{parameter}` must be a folder path (a str or os.PathLike), got {got}")


def write_marker(directory, kind):
    """Marks ``directory`` as a folder zoo wrote, of ``kind`` (``run``, ``export``, ``classifier``, ...)."""
    record = {"written_by": "zoo", "kind": kind, "zoo_version": __version__,
              "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    path = os.path.join(directory, MARKER)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(record, f)
        f.write("\n")
    _share(path, directory=False)


def marked_kind(directory):
    """The kind in ``directory``'s ``.zoo`` marker, or None when it has none (or is not a folder zoo wrote)."""
    try:
        with open(os.path.join(directory, MARKER), encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("written_by") != "zoo" or not isinstance(record.get("kind"), str):
        return None
    return record["kind"]


def is_empty(directory):
    """Whether ``directory`` holds nothing but zoo's own marker and lock."""
    return all(name in _OWN_ENTRIES for name in os.listdir(directory))


def is_empty_folder(path):
    """Whether ``path`` is an existing folder (not a link) that :func:`is_empty`: a writer takes it over as if it
    were not there, as :func:`check_replaceable` allows."""
    return os.path.isdir(path) and not os.path.islink(path) and is_empty(path)


def check_replaceable(path, kinds, what=None):
    """Raises ExportError unless ``path`` is absent, an empty folder, or a folder zoo marked as one of ``kinds``.

    ``what`` names the path in the message (a setting such as ```output_dir```; default: the path alone).
    """
    path = os.fspath(path)
    name = f"{what} {path}" if what else path
    if os.path.islink(path):
        raise ExportError(f"{name}: is a symbolic link; zoo will not replace it (give the folder it points to)")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ExportError(f"{name}: is a file, not a directory; zoo will not replace it")
    if not os.path.exists(path) or is_empty(path):
        return
    kind = marked_kind(path)
    if kind is None:
        raise ExportError(f"{name}: not a folder zoo wrote (no {MARKER} marker in it), so zoo will not replace "
                          "it; choose a new or empty folder (a folder written by zoo 0.3 or earlier has no marker: "
                          "move it away yourself)")
    if kind not in kinds:
        raise ExportError(f"{name}: a zoo folder of kind {kind!r}, expected {' or '.join(map(repr, kinds))}; zoo will "
                          "not replace it with another kind; choose another folder")


def remove_owned(path, kinds):
    """Deletes the folder ``path`` if zoo marked it as one of ``kinds`` (or it is empty); else ExportError.

    Returns True if something was removed. Everything zoo deletes goes through here or removes its own
    hidden temporaries.
    """
    path = os.fspath(path)
    if not os.path.lexists(path):
        return False
    if os.path.islink(path) or not os.path.isdir(path):
        what = "a symbolic link" if os.path.islink(path) else "a file"
        raise ExportError(f"{path}: is {what}, not a folder zoo wrote, so zoo will not delete it")
    if marked_kind(path) not in kinds and not is_empty(path):
        raise ExportError(f"{path}: not a folder zoo wrote (no {MARKER} marker in it), so zoo will not delete it")
    shutil.rmtree(path)
    return True


def make_owned_directory(path, kind):
    """Creates ``path`` (and its parents) marked as zoo's; an existing folder must be zoo's of ``kind`` or empty
    (it is then marked). Returns True when this call created it."""
    path = os.fspath(path)
    check_replaceable(path, (kind,))
    created = not os.path.exists(path)
    try:
        os.makedirs(path, exist_ok=True)
        if marked_kind(path) != kind:  # new, or empty (an empty folder is anyone's to use)
            write_marker(path, kind)
    except OSError as error:  # a name too long for the file system, a read-only place, a full disk
        if created and os.path.isdir(path) and is_empty(path):
            shutil.rmtree(path, ignore_errors=True)
        if disk_full(error):
            raise _disk_full_error(path, error) from None
        raise ExportError(f"{path}: cannot make the folder ({error.strerror or error})") from None
    return created


# === Files ===


def _cannot_write_in(path, folder, error):
    if disk_full(error):
        return _disk_full_error(path, error)
    return ExportError(f"{path}: cannot write in the folder {folder} ({error.strerror or error})")


@contextlib.contextmanager
def atomic_file(path, binary=False):
    """Yields a file open for writing that becomes ``path`` when the block ends without an error.

    Raises:
        ExportError: the disk is full (the partial file is removed).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_prefix(), dir=directory)
    except OSError as error:  # a file where a folder belongs, a read-only or special file system (/proc)
        raise _cannot_write_in(path, directory, error) from None
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            yield f
        _share(tmp, directory=False)
        os.replace(tmp, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(error, Exception) and disk_full(error):
            raise _disk_full_error(path, error) from None
        raise


def write_text(path, text):
    """Writes ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_file(path) as f:
        f.write(text)


def write_json(path, data):
    """Writes ``data`` as indented JSON (non-JSON values as ``str``), atomically."""
    write_text(path, json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


# === Folders ===


@contextlib.contextmanager
def atomic_directory(path, overwrite=False, kind=None, carry=None):
    """Yields a temporary folder that becomes ``path`` when the block ends without an error.

    On an error the temporary folder is removed and ``path`` is untouched.
    An existing ``path`` is replaced only with ``overwrite=True``, and only if
    it is empty or zoo marked it as ``kind`` (:func:`check_replaceable`); the
    replacement is crash-safe (:func:`swap_directory`).

    Args:
        path: the folder to write.
        overwrite: replace an existing ``path``.
        kind: the marker written into the new folder (None: no marker; such a
            folder can only be written once).
        carry: ``carry(name)`` says which entries of the replaced folder go
            over to the new one (those it does not have itself), e.g. a run's
            TensorBoard logs; they are copied as hard links before the swap,
            so the old folder stays whole until then. Default: none.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
        ExportError: ``path`` is not zoo's to replace, or the disk is full.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.lexists(path) and not overwrite:
        raise FileExistsError(path)
    if os.path.lexists(path):
        check_replaceable(path, (kind,) if kind else ())
    parent = os.path.dirname(path)
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as error:  # a file where a folder of the path belongs, a read-only place
        raise ExportError(f"{path}: cannot make the folder {parent} it goes in ({error.strerror or error})") from None
    remove_stale_temporaries(parent)
    try:
        tmp = tempfile.mkdtemp(prefix=_prefix(), dir=parent)
    except OSError as error:  # a read-only or special file system (/proc): the folder exists, nothing goes in it
        raise _cannot_write_in(path, parent, error) from None
    try:
        if kind:
            write_marker(tmp, kind)
        yield tmp
        _share(tmp, directory=True)
        if carry is not None and os.path.isdir(path):
            for name in os.listdir(path):  # (zoo's own transient entries, .zoo-tmp-* and the like, stay behind)
                if name != MARKER and not name.startswith(MARKER + "-") and carry(name) and \
                        not os.path.lexists(os.path.join(tmp, name)):
                    _link_copy(os.path.join(path, name), os.path.join(tmp, name))
        swap_directory(tmp, path)
    except BaseException as error:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(error, Exception) and disk_full(error):
            raise _disk_full_error(path, error) from None
        raise


def _link_copy(source, target):
    """A copy of the file or folder ``source`` made of hard links (no data copied; a plain copy where the file
    system has no hard links). Not a move: until the swap, the old folder must stay whole."""
    if os.path.isdir(source) and not os.path.islink(source):
        shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(source, target)


def _link_or_copy(source, target):
    if os.path.islink(source):
        os.symlink(os.readlink(source), target)
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def swap_directory(new, path):
    """Puts the finished folder ``new`` at ``path``; the folder that was there, if any, is removed.

    With ``renameat2(RENAME_EXCHANGE)`` the two swap in one step, so a crash
    at any instant leaves one complete folder at ``path`` (the old one ends up
    under ``new``'s hidden temporary name, removed next). Without it, ``path``
    is first renamed to a hidden ``.zoo-old-PID-NAME``; a crash before the
    second rename leaves it there, and :func:`remove_stale_temporaries` puts it
    back.
    """
    path = os.path.abspath(os.fspath(path))
    if not os.path.lexists(path):
        os.rename(new, path)
        return
    if _exchange(new, path):
        shutil.rmtree(new, ignore_errors=True)  # now the old folder
        return
    parent, name = os.path.split(path)
    old = os.path.join(parent, f"{OLD_PREFIX}{os.getpid()}-{name}")
    os.rename(path, old)
    os.rename(new, path)
    shutil.rmtree(old, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a, b):
    """Atomically exchanges the paths ``a`` and ``b`` (Linux ``renameat2``); False where that is not possible."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # not glibc >= 2.28 (macOS, musl, Windows)
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):  # the kernel or file system cannot
        return False
    raise OSError(code, os.strerror(code), b)


@contextlib.contextmanager
def temporary_directory_beside(path):
    """A temporary directory in ``path``'s parent (same file system, so ``os.replace`` from it is atomic)."""
    parent = os.path.dirname(os.path.abspath(os.fspath(path)))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=_prefix(), dir=parent)
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def recover(path):
    """Before reading the folder ``path``: if a writer killed between its two renames (no ``renameat2``) left it
    moved aside, it goes back (see :func:`swap_directory`)."""
    parent = os.path.dirname(os.path.abspath(os.fspath(path)))
    if not os.path.lexists(path) and os.path.isdir(parent):
        remove_stale_temporaries(parent, remove=False)


def remove_stale_temporaries(directory, remove=True):
    """Cleans what a killed writer left in ``directory``: its hidden ``.zoo-tmp-PID-*`` entries are removed
    (unless ``remove`` is False), and a folder it had moved aside to ``.zoo-old-PID-NAME`` goes back to ``NAME``
    if nothing took its place."""
    if not os.path.isdir(directory):
        return
    for name in os.listdir(directory):
        for prefix in (TEMP_PREFIX, OLD_PREFIX):
            if not name.startswith(prefix):
                continue
            pid, _, rest = name[len(prefix):].partition("-")
            if not pid.isdigit() or _alive(int(pid)):
                continue
            target = os.path.join(directory, name)
            if prefix == OLD_PREFIX and rest and not os.path.lexists(os.path.join(directory, rest)):
                os.rename(target, os.path.join(directory, rest))
            elif not remove:
                continue
            elif os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(target)


# === One writer per run folder ===


class DirectoryLock:
    """An exclusive lock on a folder for this process's lifetime (``flock`` on its ``.zoo-lock``).

    The kernel releases it when the process ends, however it ends, so a
    killed run never leaves a stale lock. A second process is refused with one
    line naming the holder's pid.
    """

    def __init__(self, directory, what="`output_dir`"):
        import fcntl

        self.path = os.path.join(os.fspath(directory), LOCK)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise ExportError(f"{what} {directory}: another zoo process (pid {holder}) is writing there; wait for it "
                              f"to finish or choose another {what}") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd

    def release(self):
        import fcntl

        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def sha256_file(path, chunk=1 << 20):
    """The sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()
