"""Writing outputs atomically, with the permissions the umask gives.

Every file zoo writes (reports, configs, artifacts, exports) goes through
these helpers, so a crash never leaves a half-written file or directory: a
file is written beside its target and renamed over it; a directory is built
in a hidden temporary sibling and renamed into place. ``tempfile`` creates
those with mode 0600/0700, which would make an export unreadable to a
serving account; they get the umask's usual 0644/0755 before the rename.

Example:

>>> import tempfile, os
>>> folder = tempfile.mkdtemp()
>>> write_json(os.path.join(folder, "a.json"), {"x": 1})
>>> with atomic_directory(os.path.join(folder, "out")) as tmp:
...     write_text(os.path.join(tmp, "b.txt"), "hi")
>>> sorted(os.listdir(folder))
['a.json', 'out']
"""

import contextlib
import json
import os
import shutil
import tempfile

TEMP_PREFIX = ".zoo-tmp-"


def _prefix():
    # The writer's pid is in the name, so a later run can tell a killed writer's leftovers from a live one's.
    return f"{TEMP_PREFIX}{os.getpid()}-"


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


@contextlib.contextmanager
def atomic_file(path, binary=False):
    """Yields a file open for writing that becomes ``path`` when the block ends without an error."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_prefix(), dir=directory)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            yield f
        _share(tmp, directory=False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path, text):
    """Writes ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_file(path) as f:
        f.write(text)


def write_json(path, data):
    """Writes ``data`` as indented JSON (non-JSON values as ``str``), atomically."""
    write_text(path, json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def atomic_directory(path, overwrite=False):
    """Yields a temporary directory that becomes ``path`` when the block ends without an error.

    On an error the temporary directory is removed and ``path`` is untouched.
    An existing ``path`` is replaced only with ``overwrite=True``.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(path)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    remove_stale_temporaries(parent)
    tmp = tempfile.mkdtemp(prefix=_prefix(), dir=parent)
    try:
        yield tmp
        _share(tmp, directory=True)
        if os.path.exists(path):
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


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


def remove_stale_temporaries(directory):
    """Removes what a killed writer left in ``directory``: hidden ``.zoo-tmp-PID-*`` entries of dead processes."""
    if not os.path.isdir(directory):
        return
    for name in os.listdir(directory):
        pid = name[len(TEMP_PREFIX):].split("-", 1)[0]
        if name.startswith(TEMP_PREFIX) and pid.isdigit() and not _alive(int(pid)):
            target = os.path.join(directory, name)
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(target)
