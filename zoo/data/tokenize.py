"""Standardizers for ``TextVectorization``: what a text's tokens are, in TensorFlow ops only.

Keras' default, ``"lower_and_strip_punctuation"``, deletes punctuation rather
than splitting on it: ``it<br />the`` becomes ``itbrthe`` and ``you've``
becomes ``youve``, words that no pretrained vector knows. ``"zoo"`` keeps what
the text says, the way GloVe 6B (Stanford tokenizer) was tokenized:

* lower case (Unicode-aware);
* HTML tags and entities removed (``<br />``, ``&amp;``);
* URLs and e-mail addresses become the tokens ``url`` and ``email``;
* contractions split as in GloVe: ``don't`` -> ``do n't``, ``you've`` ->
  ``you 've``, ``john's`` -> ``john 's``;
* every other punctuation mark becomes a token of its own (``fun!`` -> ``fun !``);
  letters, digits and accents of any script are kept (``café`` stays one token);
* scripts written without spaces between words (Chinese Han characters,
  Japanese hiragana and katakana; Thai, Lao, Khmer and Myanmar) become one
  token per character (per code point: a Thai vowel or tone mark is a token
  of its own), while spaced scripts keep their words (``我爱Python`` ->
  ``我 爱 python``);
* full-width forms become their ASCII letters, digits and punctuation
  (``ＡＢＣ１２３！`` -> ``abc123 !``), and the ideographic space a space.

Why characters: without spaces, a Chinese clause was one token ("sequence
length 34", 0.7% of its vocabulary in GloVe, every unseen clause unknown);
characters are what a Chinese reader's tokens are before word segmentation,
and a segmenter (jieba) cannot run inside the exported SavedModel, while
these are TensorFlow string ops. Text without such characters (any English
text) is tokenized exactly as before.

``"zoo_words"`` is the same without the punctuation tokens: the n-gram path's
tokens (a bigram of a word and a comma says little).

The functions are registered Keras objects, so a ``TextVectorization`` that
uses them saves and loads, and they run inside an exported SavedModel, which
then needs only TensorFlow.

Example:

>>> [t.decode() for t in standardize_text(tf.constant(["It's <b>GREAT</b>, isn't it?"])).numpy()]
["it 's  great  ,  is n't it ? "]
"""

import re

import keras

from zoo.backend import require_tensorflow

require_tensorflow("zoo.data.tokenize (the tokenizer's TensorFlow string ops)")

import tensorflow as tf  # noqa: E402

from zoo.errors import ConfigError

# RE2 syntax (tf.strings.regex_replace): no look-around, \pL letters, \pN digits, \pM combining marks.
_TAG = r"<[a-zA-Z/!?][^<>]{0,300}>"
_ENTITY = r"&(?:[a-zA-Z]{2,8}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});"
_URL = r"(?:https?://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]]"  # not a trailing full stop or comma
_EMAIL = r"[\pL\pN._%+-]+@[\pL\pN-]+(?:\.[\pL\pN-]+)+"
_QUOTE_BEFORE = r"(^|[^\pL\pN])'"  # an apostrophe that opens a quote
_QUOTE_AFTER = r"'([^\pL\pN]|$)"  # ... or closes one (dogs' -> dogs ')
_NOT = r"(\pL)n't\b"
_CLITIC = r"(\pL)'(s|ve|re|ll|d|m)\b"
_PUNCTUATION = r"([^\pL\pN\pM\s'])"
# Scripts written without spaces between words: each character is a token (Unicode script properties, as RE2
# names them). Why the Southeast Asian ones too: a Thai clause, like a Chinese one, would otherwise be one token.
_UNSPACED_SCRIPTS = ("Han", "Hiragana", "Katakana", "Thai", "Lao", "Khmer", "Myanmar")
_UNSPACED = "([" + "".join(rf"\p{{{script}}}" for script in _UNSPACED_SCRIPTS) + "])"
# Keras' own "lower_and_strip_punctuation" (keras/src/layers/preprocessing/text_vectorization.py): ASCII
# punctuation deleted, ASCII letters lowercased.
_KERAS_STRIP = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'
_FULL_WIDTH = (0xFF01, 0xFF5E, 0xFEE0)  # ！ ... ～ are ! ... ~ shifted by 0xFEE0
_IDEOGRAPHIC_SPACE = 0x3000


def fold_width(texts):
    """Full-width ASCII forms (``ＡＢＣ１２３！``) as ASCII, the ideographic space as a space (TensorFlow ops).

    Example:

    >>> fold_width(tf.constant(["ＡＢＣ　１２３！"])).numpy()[0].decode()
    'ABC 123!'
    """
    points = tf.strings.unicode_decode(texts, "UTF-8", errors="replace")
    # Why on the flat values: tf.where on a ragged tensor dispatches through the ragged
    # op table and traces ~2,000 graph ops per call (each TextVectorization adapt and
    # every export retraces it); the same where over the flat code points is a few ops.
    if isinstance(points, tf.RaggedTensor):
        points = tf.ragged.map_flat_values(_fold_points, points)
    else:
        points = _fold_points(points)
    return tf.strings.unicode_encode(points, "UTF-8")


def _fold_points(points):
    low, high, shift = _FULL_WIDTH
    points = tf.where((points >= low) & (points <= high), points - shift, points)
    return tf.where(points == _IDEOGRAPHIC_SPACE, 32, points)


def split_unspaced(texts):
    """Each character of a script written without spaces (Han, kana, Thai...) as a token of its own (spaces
    around it).

    Example:

    >>> split_unspaced(tf.constant(["我爱Python"])).numpy()[0].decode().split()
    ['我', '爱', 'Python']
    """
    return tf.strings.regex_replace(texts, _UNSPACED, r" \1 ")


def _standardize(texts, keep_punctuation):
    x = tf.strings.lower(fold_width(texts), encoding="utf-8")
    x = tf.strings.regex_replace(x, "[\u2018\u2019\u02bc]", "'")  # typographic apostrophes
    x = tf.strings.regex_replace(x, _TAG, " ")
    x = tf.strings.regex_replace(x, "&(?:amp|#0*38);", " & ")
    x = tf.strings.regex_replace(x, _ENTITY, " ")
    x = tf.strings.regex_replace(x, _URL, " url ")
    x = tf.strings.regex_replace(x, _EMAIL, " email ")
    quote = r" ' " if keep_punctuation else " "
    x = tf.strings.regex_replace(x, _QUOTE_BEFORE, r"\1" + quote)
    x = tf.strings.regex_replace(x, _QUOTE_AFTER, quote + r"\1")
    x = tf.strings.regex_replace(x, _NOT, r"\1 n't")
    x = tf.strings.regex_replace(x, _CLITIC, r"\1 '\2")
    x = tf.strings.regex_replace(x, _PUNCTUATION, r" \1 " if keep_punctuation else " ")
    return split_unspaced(x)


@keras.saving.register_keras_serializable(package="zoo")
def standardize_text(texts):
    """The ``"zoo"`` standardizer: lower case, HTML removed, contractions and punctuation split off."""
    return _standardize(texts, keep_punctuation=True)


@keras.saving.register_keras_serializable(package="zoo")
def standardize_words(texts):
    """The ``"zoo_words"`` standardizer: as ``"zoo"``, without punctuation tokens.

    Example:

    >>> standardize_words(tf.constant(["Don't stop!!"])).numpy()[0].decode().split()
    ['do', "n't", 'stop']
    """
    return _standardize(texts, keep_punctuation=False)


@keras.saving.register_keras_serializable(package="zoo")
def standardize_lm(texts):
    """The language model's ``"lower_and_strip_punctuation"``: Keras' own (ASCII letters lowercased, ASCII
    punctuation deleted), full-width forms folded first and unspaced scripts split into characters after, so a
    Chinese text reaches the language model as the classifier sees it. Text without such characters is
    standardized exactly as Keras does (the committed language models' vocabularies were made that way).

    Example:

    >>> standardize_lm(tf.constant(["Don't STOP, 我们!"])).numpy()[0].decode().split()
    ['dont', 'stop', '我', '们']
    """
    x = tf.strings.regex_replace(tf.strings.lower(fold_width(texts)), _KERAS_STRIP, "")
    return split_unspaced(x)


STANDARDIZERS = {"zoo": standardize_text, "zoo_words": standardize_words,
                 "lower_and_strip_punctuation": standardize_lm}

# The characters of _UNSPACED's scripts, as ranges for Python's re (which has no script properties): those that
# matter in practice. Han and kana: CJK ideographs and their extensions, compatibility ideographs, hiragana,
# katakana and its half-width forms (with a few marks of the Common script, such as U+30FC, that RE2 leaves to the
# letters beside them; the People's Daily corpus is split with these ranges, so they stay). Thai (without the baht
# sign, U+0E3F, of the Common script), Lao, Myanmar and its extensions, Khmer and its symbols.
# tests/data/test_tokenize.py checks them against the TensorFlow ops.
_HAN_KANA_RANGES = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
                    (0xFF66, 0xFF9D), (0x20000, 0x3134F))
_SOUTHEAST_ASIAN_RANGES = ((0x0E01, 0x0E3A), (0x0E40, 0x0E5B), (0x0E81, 0x0EDF), (0x1000, 0x109F), (0x1780, 0x17F9),
                           (0x19E0, 0x19FF), (0xA9E0, 0xA9FE), (0xAA60, 0xAA7F))
UNSPACED_SHARE = 0.3  # is_unspaced: at least this share of the letters


def _char_class(ranges):
    return re.compile("[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in ranges) + "]")


_UNSPACED_CHAR = _char_class(_HAN_KANA_RANGES + _SOUTHEAST_ASIAN_RANGES)
_HAN_KANA_CHAR = _char_class(_HAN_KANA_RANGES)


def unspaced_share(texts, limit=2000, han_or_kana=False):
    """The share of the letters of (up to ``limit`` of) ``texts`` that belong to scripts written without spaces
    (Han, hiragana, katakana, Thai, Lao, Khmer, Myanmar; with ``han_or_kana``, the first three only); 0.0 for
    texts without letters.

    Example:

    >>> unspaced_share(["我爱北京", "good"]), unspaced_share(["ภาษาไทย"])
    (0.5, 1.0)
    >>> unspaced_share(["ภาษาไทย"], han_or_kana=True)
    0.0
    """
    chars = _HAN_KANA_CHAR if han_or_kana else _UNSPACED_CHAR
    unspaced = letters = 0
    for text in list(texts)[:limit]:
        for char in text:
            if char.isalpha():
                letters += 1
                unspaced += chars.match(char) is not None
    return unspaced / letters if letters else 0.0


def unspaced_letters(texts, limit=2000):
    """The letters of (up to ``limit`` of) ``texts`` in scripts written without spaces, in order: the tokens a
    language model must know to read such texts.

    Example:

    >>> unspaced_letters(["我爱Python", "ok"])
    ['我', '爱']
    """
    return [char for text in list(texts)[:limit] for char in text if char.isalpha() and _UNSPACED_CHAR.match(char)]


def token_count(text):
    """About how many tokens zoo's tokenizer makes of ``text``, in plain Python: its whitespace-separated words,
    each character of a script written without spaces counted as one (as :func:`split_unspaced` splits them).

    Why: time estimates that count words by spaces see a Chinese clause as one word (issue "zoo reads
    Chinese"), so they would be wrong by the clause's length.

    Example:

    >>> token_count("我爱Python and tea"), token_count("a great read")
    (5, 3)
    """
    return len(space_unspaced(text).split())


def space_unspaced(text):
    """:func:`split_unspaced` for one Python string: a space either side of each character of a script written
    without spaces.

    Example:

    >>> " ".join(space_unspaced("我爱Python").split())
    '我 爱 Python'
    """
    return _UNSPACED_CHAR.sub(r" \g<0> ", text)


def is_unspaced(texts, limit=2000, han_or_kana=False):
    """Whether ``texts`` are mostly in a script written without spaces (:func:`unspaced_share` >=
    :data:`UNSPACED_SHARE`): then words are not what spaces delimit, and n-gram models use characters. With
    ``han_or_kana``: mostly Chinese or Japanese (what zoo's Chinese vectors and language model can read).

    Why 0.3 of the letters: Chinese or Japanese text with Latin words, product names and numbers mixed in
    (reviews, posts) stays far above it, while English text with a quoted Chinese name stays far below.

    Example:

    >>> is_unspaced(["这本书很好看", "质量不错"]), is_unspaced(["a great read", "poor quality"])
    (True, False)
    """
    return unspaced_share(texts, limit, han_or_kana) >= UNSPACED_SHARE


def standardize_keras(texts):
    """Keras' own ``"lower_and_strip_punctuation"``, op for op (ASCII letters lowercased, ASCII punctuation
    deleted), as a function: without :func:`standardize_lm`'s width folding and character split.

    Example:

    >>> standardize_keras(tf.constant(["Don't STOP, 我们!"])).numpy()[0].decode().split()
    ['dont', 'stop', '我们']
    """
    return tf.strings.regex_replace(tf.strings.lower(texts), _KERAS_STRIP, "")


def lm_corpus_standardizer(texts):
    """The standardizer a language model's pretraining corpus is tokenized with: :func:`standardize_keras` for a
    corpus in spaced scripts, :func:`standardize_lm` for one written without spaces (:func:`is_unspaced`).

    Why: the committed English models' vocabularies and token streams were made with Keras' own standardizer,
    and an English corpus holds a few full-width signs and Han characters (a name in Wikipedia) that
    :func:`standardize_lm` would fold or split, so with it their streams no longer reproduce from their
    ``metadata.json`` (issue "zoo on GPUs": "the v2 artifact still reproduces"). A Chinese corpus is read as the
    classifier reads it. Either way the artifact records ``"lower_and_strip_punctuation"``, which fine-tuning
    reads through :func:`standardize_lm`: the two agree on every text without those characters.

    Example:

    >>> lm_corpus_standardizer(["a great read"]) is standardize_keras, lm_corpus_standardizer(["质量不错"]) is standardize_lm
    (True, True)
    """
    return standardize_lm if is_unspaced(texts) else standardize_keras


def standardizer(name):
    """The ``standardize`` argument of ``TextVectorization`` for a standardizer's name.

    Raises:
        ConfigError: an unknown name.
    """
    if name not in STANDARDIZERS:
        raise ConfigError("standardize", f"`standardize` must be one of {', '.join(STANDARDIZERS)}, got {name!r}")
    return STANDARDIZERS[name]


def standardizer_name(value):
    """The name of a ``TextVectorization``'s ``standardize`` value (a name or one of zoo's functions)."""
    if isinstance(value, str):
        return value
    for name, function in STANDARDIZERS.items():
        if function is value:
            return name
    raise ConfigError("standardize", f"a vectorizer with a standardizer zoo does not know: {value!r}")
