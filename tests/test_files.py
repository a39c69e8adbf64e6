"""zoo.files: the one atomic writer (files and directories), with the umask's permissions."""

import errno
import os
import subprocess
import sys

import pytest

from zoo import files
from zoo.errors import ExportError


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with files.atomic_directory(tmp_path / "out") as tmp:
            files.write_text(os.path.join(tmp, "a.txt"), "half")
            raise RuntimeError("disk full")
    with pytest.raises(RuntimeError):
        with files.atomic_file(tmp_path / "b.txt") as f:
            f.write("half")
            raise RuntimeError("disk full")
    assert os.listdir(tmp_path) == []


def test_an_existing_directory_is_replaced_only_with_overwrite_and_only_if_zoo_wrote_it(tmp_path):
    with files.atomic_directory(tmp_path / "out", kind="export") as tmp:
        files.write_text(os.path.join(tmp, "old"), "x")
    with pytest.raises(FileExistsError):
        with files.atomic_directory(tmp_path / "out", kind="export"):
            pass
    with files.atomic_directory(tmp_path / "out", overwrite=True, kind="export") as tmp:
        files.write_text(os.path.join(tmp, "new"), "x")
    assert sorted(os.listdir(tmp_path / "out")) == [files.MARKER, "new"]
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".zoo-")]  # the old one is gone

    (tmp_path / "mine").mkdir()  # a user's folder: never replaced, overwrite or not
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    for kind in ("export", None):
        with pytest.raises(ExportError, match="mine: not a folder zoo wrote"):
            with files.atomic_directory(tmp_path / "mine", overwrite=True, kind=kind):
                pass
    with pytest.raises(ExportError, match="a zoo folder of kind 'export', expected 'run'"):  # zoo's, another kind
        with files.atomic_directory(tmp_path / "out", overwrite=True, kind="run"):
            pass
    with pytest.raises(ExportError, match="mine: not a folder zoo wrote"):
        files.remove_owned(tmp_path / "mine", ("backup",))
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep" and (tmp_path / "out" / "new").exists()
    (tmp_path / "link").symlink_to(tmp_path / "mine")
    with pytest.raises(ExportError, match="link: is a symbolic link, not a folder zoo wrote"):
        files.remove_owned(tmp_path / "link", ("logs",))
    assert files.remove_owned(tmp_path / "out", ("export",)) and not (tmp_path / "out").exists()


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(ExportError, match=r"out: cannot write it: no space left on the device; nothing was written"):
        with files.atomic_directory(tmp_path / "out", kind="export"):
            full()
    with pytest.raises(ExportError, match=r"b.txt: cannot write it: no space left"):
        with files.atomic_file(tmp_path / "b.txt") as f:
            monkeypatch.setattr(f, "write", full)
            f.write("x")
    assert os.listdir(tmp_path) == []


def test_a_real_full_disk_is_one_line_and_leaves_nothing(tmp_path):
    """A 60 KB tmpfs as the output: a classifier-sized write fails with one line, and nothing is left."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=60k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with pytest.raises(ExportError, match="no space left on the device"):
            with files.atomic_directory(mount / "out", kind="export") as tmp:
                with open(os.path.join(tmp, "big"), "wb") as f:
                    f.write(b"x" * 200_000)
        assert os.listdir(mount) == []
    finally:
        subprocess.run(["umount", str(mount)], check=True)


_PAUSED_SWAP = """
import os, sys, time
from zoo import files
real = files._exchange if sys.argv[2] == "exchange" else None
def paused(*args):
    print("paused", flush=True)
    time.sleep(60)
if real:
    files._exchange = lambda a, b: (paused(), real(a, b))[1]
else:  # no renameat2: killed between the two renames
    files._exchange = lambda a, b: False
    rename = os.rename
    def rename_then_pause(a, b):
        rename(a, b)
        if os.path.basename(b).startswith(files.OLD_PREFIX):
            paused()
    files.os = type(os)("os_shim")
    files.os.__dict__.update(os.__dict__)
    files.os.rename = rename_then_pause
with files.atomic_directory(sys.argv[1], overwrite=True, kind="export") as tmp:
    files.write_text(os.path.join(tmp, "version"), "new")
"""


@pytest.mark.parametrize("how", ["exchange", "two renames"])
def test_a_writer_killed_during_a_replacement_leaves_the_old_or_the_new_folder(tmp_path, how):
    target = tmp_path / "out"
    with files.atomic_directory(target, kind="export") as tmp:
        files.write_text(os.path.join(tmp, "version"), "old")
    writer = subprocess.Popen([sys.executable, "-c", _PAUSED_SWAP, str(target), how.split()[0]],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "paused"
        writer.kill()
    finally:
        writer.wait()
    files.recover(target)  # what every reader does first (a no-op with the exchange)
    assert (target / "version").read_text() in ("old", "new")
    with files.atomic_directory(target, overwrite=True, kind="export") as tmp:  # the next writer cleans up
        files.write_text(os.path.join(tmp, "version"), "newer")
    assert (target / "version").read_text() == "newer"
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    lock = files.DirectoryLock(tmp_path)
    other = subprocess.run([sys.executable, "-c", "import sys; from zoo import files; files.DirectoryLock(sys.argv[1])",
                            str(tmp_path)], capture_output=True, text=True)
    assert other.returncode != 0 and f"another zoo process (pid {os.getpid()}) is writing there" in other.stderr
    lock.release()
    files.DirectoryLock(tmp_path).release()  # free again


def test_outputs_get_the_umasks_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        with files.atomic_directory(tmp_path / "out") as tmp:
            files.write_json(os.path.join(tmp, "a.json"), {"x": 1})
    finally:
        os.umask(previous)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "out" / "a.json").stat().st_mode & 0o777 == 0o644


def test_a_killed_writers_leftovers_are_removed_by_the_next_write(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"{files.TEMP_PREFIX}{dead.stdout.strip()}-abc"
    stale.mkdir()
    live = tmp_path / f"{files.TEMP_PREFIX}{os.getpid()}-xyz"  # a write in progress in a live process stays
    live.mkdir()
    with files.atomic_directory(tmp_path / "out"):
        pass
    assert not stale.exists() and live.exists()


def test_a_folder_that_takes_no_new_entries_is_one_line():
    """/proc exists but no folder or file can be made in it (as on a read-only mount): ExportError, not mkdtemp's."""
    if not os.path.isdir("/proc"):
        pytest.skip("no /proc")
    with pytest.raises(ExportError, match="/proc/zoo-test: cannot write in the folder /proc"), \
            files.atomic_directory("/proc/zoo-test"):
        pass
    with pytest.raises(ExportError, match="/proc/zoo-test: cannot write in the folder /proc"), \
            files.atomic_file("/proc/zoo-test"):
        pass
