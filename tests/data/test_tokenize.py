import keras
import pytest
import tensorflow as tf

from zoo.data.text import make_vectorizer
from zoo.data.tokenize import standardize_text, standardize_words, standardizer, standardizer_name
from zoo.errors import ConfigError


def tokens(text, words_only=False):
    function = standardize_words if words_only else standardize_text
    return function(tf.constant([text])).numpy()[0].decode("utf-8").split()


@pytest.mark.parametrize("text, expected", [
    # HTML tags and entities go; line breaks no longer glue words (0.1: "itbr", "teabr").
    ("I loved it<br /><br />The tea", ["i", "loved", "it", "the", "tea"]),
    ("<p class='x'>Fish &amp; chips &quot;ok&quot;</p>", ["fish", "&", "chips", "ok"]),
    # Comparisons are not tags.
    ("a < b > c", ["a", "<", "b", ">", "c"]),
    # Contractions split as GloVe 6B (Stanford tokenizer) has them.
    ("You've shouldn't can't I'm they'll he'd John's", ["you", "'ve", "should", "n't", "ca", "n't", "i", "'m",
                                                        "they", "'ll", "he", "'d", "john", "'s"]),
    ("It\u2019s fine", ["it", "'s", "fine"]),  # a typographic apostrophe
    # Punctuation split off, not deleted; quotes are tokens, inner apostrophes kept.
    ("Wow!!! Really, (great).", ["wow", "!", "!", "!", "really", ",", "(", "great", ")", "."]),
    ("'quoted' the dogs' o'neil", ["'", "quoted", "'", "the", "dogs", "'", "o'neil"]),
    # URLs and e-mail addresses become one token each.
    ("see https://example.org/a?b=1 or www.x.com, mail me@mail.example.com",
     ["see", "url", "or", "url", ",", "mail", "email"]),
    # Non-ASCII letters stay inside their words; spaced scripts keep their words.
    ("Café NAÏVE Straße résumé Москва", ["café", "naïve", "straße", "résumé", "москва"]),
    # Scripts written without spaces: a token per character (issue "zoo reads Chinese").
    ("这本书很好看，值得一读！", ["这", "本", "书", "很", "好", "看", ",", "值", "得", "一", "读", "!"]),
    ("カタカナとひらがなの漢字。", ["カ", "タ", "カ", "ナ", "と", "ひ", "ら", "が", "な", "の", "漢", "字", "。"]),
    ("我用iPhone 12拍照，效果don't bad", ["我", "用", "iphone", "12", "拍", "照", ",", "效", "果", "do", "n't", "bad"]),
    # Full-width forms are their ASCII letters, digits and punctuation; the ideographic space a space.
    ("价格：１２８元（ＶＩＰ）　好", ["价", "格", ":", "128", "元", "(", "vip", ")", "好"]),
    ("東京", ["東", "京"]),
    # Thai, Lao, Khmer and Myanmar are written without spaces between words too: a token per code point.
    ("ดีมาก!", ["ด", "ี", "ม", "า", "ก", "!"]),
    ("ສະບາຍດີ ok", ["ສ", "ະ", "ບ", "າ", "ຍ", "ດ", "ີ", "ok"]),
    ("ល្អ", ["ល", "្", "អ"]),
    ("ကောင်း", ["က", "ေ", "ာ", "င", "်", "း"]),
    ("", []),
])
def test_zoo_standardizer(text, expected):
    assert tokens(text) == expected


def test_words_standardizer_drops_punctuation_tokens_only():
    assert tokens("Don't stop, it's <b>fun</b>!!", words_only=True) == ["do", "n't", "stop", "it", "'s", "fun"]


def test_vectorizer_with_the_standardizer_saves_and_loads(tmp_path):
    vectorizer = make_vectorizer(["It's fun!", "no fun"], standardize=standardizer("zoo"))
    assert "'s" in vectorizer.get_vocabulary() and "!" in vectorizer.get_vocabulary()
    model = keras.Sequential([keras.Input(shape=(), dtype="string"), vectorizer])
    model.save(tmp_path / "v.keras")
    loaded = keras.models.load_model(tmp_path / "v.keras")
    assert loaded(tf.constant(["It's fun!"])).to_list() == vectorizer(tf.constant(["It's fun!"])).to_list()


def test_names_round_trip_and_unknown_names_are_errors():
    for name in ("zoo", "zoo_words", "lower_and_strip_punctuation"):
        assert standardizer_name(standardizer(name)) == name
    with pytest.raises(ConfigError, match="`standardize` must be one of"):
        standardizer("nltk")


ENGLISH = ["It's <b>GREAT</b>, isn't it?", "Don't STOP: 3.5% off (today) -- e-mail me@x.org!", "naïve café's \"résumé\"",
           "tabs\tand\nnewlines", "a_b [c] {d} ~e~ `f` |g| #h @i ^j"]


def test_the_language_models_standardizer_is_keras_own_on_text_without_unspaced_scripts():
    """``lower_and_strip_punctuation`` is now zoo's (unspaced scripts split into characters), and on any other
    text exactly Keras' built-in, so the committed language models' vocabularies still fit."""
    from zoo.data.tokenize import standardize_lm

    keras_own = keras.layers.TextVectorization(standardize="lower_and_strip_punctuation", split=None)
    ours = keras.layers.TextVectorization(standardize=standardize_lm, split=None)
    keras_own.adapt(ENGLISH), ours.adapt(ENGLISH)
    assert keras_own.get_vocabulary() == ours.get_vocabulary()
    assert standardize_lm(tf.constant(["好书ＡＢ!"])).numpy()[0].decode().split() == ["好", "书", "ab"]
    assert standardizer("lower_and_strip_punctuation") is standardize_lm
    assert standardizer_name(standardize_lm) == "lower_and_strip_punctuation"


def test_script_rule():
    from zoo.data.tokenize import is_unspaced, unspaced_share

    assert is_unspaced(["这本书很好看", "质量不错, iPhone 12 Pro Max"]) and is_unspaced(["ひらがなとカタカナ"])
    assert not is_unspaced(["The capital of China is 北京.", "no letters here: 123"])
    assert unspaced_share(["", "123"]) == 0.0
    assert is_unspaced(["หนังสือเล่มนี้ดีมาก"]) and not is_unspaced(["หนังสือเล่มนี้ดีมาก"], han_or_kana=True)


def test_python_splits_unspaced_scripts_as_the_tensorflow_ops_do():
    """``space_unspaced`` (plain Python: token counts, the script rule) and ``split_unspaced`` (the RE2 script
    properties the model runs) agree on every assigned character of the Southeast Asian blocks and beside them,
    and on samples of the Han and kana letters. (Python's Han and kana ranges also hold a few marks of the Common
    script, such as the prolonged sound mark U+30FC, that RE2 splits off only beside those letters.)"""
    import unicodedata

    from zoo.data.tokenize import space_unspaced, split_unspaced

    points = [*range(0x0D80, 0x1A20), *range(0xA9C0, 0xAA90), *range(0x3041, 0x3097, 5), *range(0x30A1, 0x30FB, 5),
              *range(0x4DB0, 0x4E10), *range(0x9FF0, 0xA010), *range(0xF8F0, 0xFB10, 7), *range(0xFF71, 0xFF9E),
              0x1F600, 0x20000, 0x2A6D6]
    chars = [chr(p) for p in points if unicodedata.category(chr(p)) not in ("Cn", "Cs", "Co")]
    texts = ["a" + c + "b" for c in chars]
    ops = [t.decode("utf-8") for t in split_unspaced(tf.constant(texts)).numpy()]
    differ = [f"U+{ord(c):04X}" for c, t, o in zip(chars, texts, ops) if space_unspaced(t) != o]
    assert not differ, differ


def test_a_spaced_pretraining_corpus_is_tokenized_as_keras_does():
    """The committed English language models were tokenized by Keras' own "lower_and_strip_punctuation": a corpus
    with a full-width sign or a Han name in it must give Keras' tokens, or their streams no longer reproduce."""
    from zoo.data.token_stream import lm_vectorizer
    from zoo.data.tokenize import lm_corpus_standardizer, standardize_lm

    english = ["Mao Zedong (毛泽东) said ＡＢＣ, twice!", "The cat sat on the mat."] * 3
    chinese = ["这本书很好看，我喜欢。", "质量不错 OK"] * 3
    ours = lm_vectorizer(english, max_tokens=50, standardize=lm_corpus_standardizer(english))
    keras_own = keras.layers.TextVectorization(max_tokens=50, standardize="lower_and_strip_punctuation")
    keras_own.adapt(["xxbos " + t for t in english])
    assert ours.get_vocabulary() == keras_own.get_vocabulary()
    assert "毛泽东" in ours.get_vocabulary() and "ＡＢＣ" in ours.get_vocabulary()  # ASCII-only lowercasing, no folding
    assert lm_corpus_standardizer(chinese) is standardize_lm
    assert "书" in lm_vectorizer(chinese, max_tokens=50, standardize=standardize_lm).get_vocabulary()
