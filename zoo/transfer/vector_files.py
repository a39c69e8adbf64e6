"""Word-vector files in every format zoo reads: word2vec text and binary, fastText ``.vec`` and ``.bin``,
GloVe text, gensim ``.kv`` (a pickle: only when allowed); each broken file is one
:class:`~zoo.errors.VectorsError` line naming the file, the line and what was expected.

:mod:`zoo.transfer.vectors` resolves names (GloVe, shipped and gensim-data
vectors) and aligns vectors with a vocabulary; this module only reads files.
"""

from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

from zoo.config import VECTOR_FORMATS, VECTOR_NAMES
from zoo.errors import VectorsError

_FORMATS = VECTOR_FORMATS
# Text formats -> whether their first line is a "COUNT DIM" header.
_TEXT_FORMATS = {"word2vec-txt": True, "fasttext-vec": True, "glove": False}
_SUFFIXES = {".vec": "fasttext-vec", ".kv": "kv"}
# gensim opens these through smart_open, so "vecs.txt.gz" is still a ".txt" file.
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".lz4")
# First four bytes of a fastText .bin model (int32 793712314, little-endian).
_FASTTEXT_MAGIC = (793712314).to_bytes(4, "little")


def read_vectors_file(path, fmt, limit, allow_pickle=False):
    """The vectors in the file ``path`` (a ``Path``) in format ``fmt`` (None: guessed from the name and first
    bytes), at most ``limit`` words; a ``.kv`` pickle only with ``allow_pickle``."""
    if fmt is not None and fmt not in _FORMATS:
        raise VectorsError(f"{path}: unknown vectors format {fmt!r}; supported: {', '.join(_FORMATS)}")
    _check_exists(path)
    fmt = fmt or _guess_format(path)
    if fmt == "kv" and not allow_pickle:  # checked before the file is opened
        raise VectorsError(f"{path}: gensim's .kv format is a pickle, and loading a pickle runs any code it holds; "
                           f"pass --allow-pickle (allow_pickle=True) only for files you trust, or convert it to "
                           f"word2vec text/binary (KeyedVectors.save_word2vec_format)")
    if fmt in _TEXT_FORMATS:
        kv = _load_text(path, has_header=_TEXT_FORMATS[fmt], limit=limit)
    elif fmt == "word2vec-bin":
        kv = _load_word2vec_bin(path, limit)
    elif fmt == "fasttext-bin":
        kv = _load_fasttext_bin(path)
    else:
        kv = first_words(_load_kv(path), limit)
    return _check_finite(path, kv, line_of=(lambda row: row + 1 + _TEXT_FORMATS[fmt]) if fmt in _TEXT_FORMATS
                         else None)


def _check_finite(path, kv, line_of=None):
    """``kv``, or one VectorsError naming the first word (and, in a text file, its line) whose vector holds NaN
    or an infinity: gensim reads ``nan`` and ``inf`` as numbers, and the model would train on them."""
    finite = np.isfinite(kv.vectors).all(axis=1)
    if finite.all():
        return kv
    row = int(np.flatnonzero(~finite)[0])
    value = kv.vectors[row][~np.isfinite(kv.vectors[row])][0]
    where = f"{path}:{line_of(row)}" if line_of else str(path)
    raise VectorsError(f"{where}: the vector of {kv.index_to_key[row]!r} holds {value}; expected finite numbers")


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
        raise VectorsError(f"{path}: cannot read it: {short_error(e)}") from None


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


def short_error(error):
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
        raise VectorsError(f"{path}: cannot read word vectors: {short_error(e)}") from None


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
    return VectorsError(f"{path}: cannot read word vectors: {short_error(error)}")


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
        raise VectorsError(f"{path}: damaged word2vec binary file: {short_error(e)}") from None


def _load_fasttext_bin(path):
    from gensim.models.fasttext import load_facebook_vectors

    try:
        return load_facebook_vectors(str(path))
    except Exception as e:  # struct.error, AssertionError, ... on a cut-off file
        raise VectorsError(f"{path}: truncated or damaged fastText binary model: {short_error(e)}") from None


def _load_kv(path):
    """gensim's native format: a pickle (only with ``allow_pickle``: see :func:`load_vectors`)."""
    try:
        loaded = KeyedVectors.load(str(path))
    except FileNotFoundError as e:  # the .vectors.npy saved beside large .kv files
        raise VectorsError(f"{path}: a file it refers to is missing: {e.filename}") from None
    except Exception as e:
        raise VectorsError(f"{path}: not a gensim KeyedVectors file: {short_error(e)}") from None
    # A whole Word2Vec / FastText model saved with .save() carries its vectors in .wv.
    loaded = getattr(loaded, "wv", loaded)
    if not isinstance(loaded, KeyedVectors):
        raise VectorsError(f"{path}: expected gensim KeyedVectors, got {type(loaded).__name__}")
    return loaded


def first_words(kv, limit):
    """The first ``limit`` words as a new in-memory ``KeyedVectors``."""
    # FastTextKeyedVectors also hold n-gram buckets that a plain copy would drop.
    # Otherwise always copy, so memory-mapped (read-only) vectors never leak out.
    if limit is None or type(kv) is not KeyedVectors:
        return kv
    head = KeyedVectors(kv.vector_size)
    head.add_vectors(kv.index_to_key[:limit], np.array(kv.vectors[:limit]))
    return head


