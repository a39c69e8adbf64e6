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
    # Non-ASCII letters stay inside their words; other scripts too.
    ("Café NAÏVE Straße résumé 東京", ["café", "naïve", "straße", "résumé", "東京"]),
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
