"""zoo.files: the one atomic writer (files and directories), with the umask's permissions."""

import os
import subprocess
import sys

import pytest

from zoo import files


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


def test_an_existing_directory_is_replaced_only_with_overwrite(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old").write_text("keep")
    with pytest.raises(FileExistsError):
        with files.atomic_directory(tmp_path / "out"):
            pass
    with files.atomic_directory(tmp_path / "out", overwrite=True) as tmp:
        files.write_text(os.path.join(tmp, "new"), "x")
    assert sorted(os.listdir(tmp_path / "out")) == ["new"]


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
